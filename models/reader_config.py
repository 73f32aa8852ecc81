"""How this installation reads codes (models.codes), apart from the reader so that settings can
hold it without loading the GS1 syntax dictionary: `darutrace --help` stays quick."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_GS_SUBSTITUTES = ("<GS>", "^", "|", "~")


@dataclass(frozen=True)
class ReaderConfig:
    """How this installation reads damaged codes: what keyboard-wedge scanners send instead of
    the GS separator."""

    gs_substitutes: tuple[str, ...] = DEFAULT_GS_SUBSTITUTES

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> ReaderConfig:
        """DARUTRACE_GS_SUBSTITUTES: space-separated (set but empty: none)."""
        raw = (os.environ if environ is None else environ).get("DARUTRACE_GS_SUBSTITUTES")
        if raw is None:
            return cls()
        return cls(gs_substitutes=tuple(raw.split()))


GS1_DEFAULTS = ReaderConfig()
