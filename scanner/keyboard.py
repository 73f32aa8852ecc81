"""Codes from a text stream, one per line: a keyboard-wedge scanner typing into the terminal, or
codes piped into `darutrace code parse -`."""

from __future__ import annotations

from collections.abc import Iterable, Iterator


def codes(stream: Iterable[str]) -> Iterator[str]:
    """Each non-blank line of `stream`, without its line end. Lines end at LF (or CRLF) only:
    GS (0x1D), FS and RS — which `str.splitlines()` also breaks at — separate the elements of a
    GS1 element string and belong to the code."""
    for chunk in stream:
        for line in chunk.split("\n"):
            code = line.removesuffix("\r")
            if code.strip():
                yield code
