"""Every message of the console has its Persian translation in the catalogue."""

from app.web.messages import untranslated


def test_every_console_message_is_translated_into_persian() -> None:
    missing = untranslated()
    assert not missing, "untranslated (run scripts/messages.py): " + ", ".join(
        f"{text!r} ({where})" for text, where in list(missing.items())[:20]
    )
