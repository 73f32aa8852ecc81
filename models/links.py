"""Writing a pack's identifiers: the GS1 element string (for DataMatrix) and the GS1 Digital
Link URI (for QR codes that any phone opens)."""

from __future__ import annotations

from datetime import date
from urllib.parse import quote


def yymmdd(day: date) -> str:
    return day.strftime("%y%m%d")


def element_hri(gtin: str, serial: str | None = None, lot: str | None = None,
                expiry: date | None = None) -> str:  # fmt: skip
    """The bracketed element string, fixed-length AIs first (fewest separators in the symbol)."""
    parts = [f"(01){gtin}"]
    if expiry is not None:
        parts.append(f"(17){yymmdd(expiry)}")
    if lot is not None:
        parts.append(f"(10){lot}")
    if serial is not None:
        parts.append(f"(21){serial}")
    return "".join(parts)


def digital_link(base: str, gtin: str, serial: str | None = None, lot: str | None = None,
                 expiry: date | None = None) -> str:  # fmt: skip
    """The canonical GS1 Digital Link URI on our resolver: /01/{gtin}[/10/{lot}][/21/{serial}]
    with the expiry as the `17` query attribute; lot and serial percent-encoded."""
    path = f"/01/{gtin}"
    if lot is not None:
        path += f"/10/{quote(lot, safe='')}"
    if serial is not None:
        path += f"/21/{quote(serial, safe='')}"
    query = f"?17={yymmdd(expiry)}" if expiry is not None else ""
    return base.rstrip("/") + path + query
