"""The console's messages, as Babel extracts them from the code and the templates (`babel.cfg`),
and those the Persian catalogue does not translate yet."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg

from app.web.i18n import persian_catalogue

ROOT = Path(__file__).parents[2]
# `Translatable(...)`: the reader's messages (models/translatable.py).
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None, "Translatable": None}


def extracted() -> dict[str, str]:
    """Each message with the first place it is used (`file:line`)."""
    found: dict[str, str] = {}
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)  # type: ignore[no-untyped-call]
    for filename, line, message, _comments, _context in extract_from_dir(
        ROOT, method_map, options_map, keywords=KEYWORDS
    ):
        for text in message if isinstance(message, tuple) else (message,):
            if text:
                found.setdefault(text, f"{filename}:{line}")
    return found


def untranslated() -> dict[str, str]:
    known = persian_catalogue()
    return {text: where for text, where in extracted().items() if text not in known}


def main() -> None:
    for text, where in sorted(untranslated().items(), key=lambda item: item[1]):
        escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        print(f'#: {where}\nmsgid "{escaped}"\nmsgstr ""\n')


if __name__ == "__main__":
    main()
