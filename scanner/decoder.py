"""Decoding symbols in an image with zxing-cpp: the raw bytes (GS kept) and the symbology
identifier, never the display text, so that the shared reader sees what the symbol holds."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import zxingcpp

FORMATS = zxingcpp.barcode_formats_from_str("DataMatrix,QRCode,Code128,EAN13")


@dataclass(frozen=True)
class Decoded:
    text: str  # the symbology identifier followed by the content, as a scanner transmits it
    symbology: str
    format: str


def decode(image: npt.NDArray[np.uint8]) -> list[Decoded]:
    found = []
    for result in zxingcpp.read_barcodes(image, formats=FORMATS):
        content = bytes(result.bytes).decode("utf-8", errors="replace")
        found.append(
            Decoded(
                text=result.symbology_identifier + content,
                symbology=result.symbology_identifier,
                format=str(result.format).rsplit(".", 1)[-1],
            )
        )
    return found


def decode_zbar(image: npt.NDArray[np.uint8]) -> list[Decoded]:
    """The alternative decoder (QR and linear codes only; no DataMatrix). Needs the system's
    zbar library."""
    try:
        from pyzbar import pyzbar
    except ImportError as exc:
        raise RuntimeError(
            "the zbar decoder needs the system zbar library (Debian: apt-get install libzbar0); "
            "the default zxing decoder needs nothing"
        ) from exc
    found = []
    for symbol in pyzbar.decode(image):
        content = bytes(symbol.data).decode("utf-8", errors="replace")
        identifier = "]Q1" if symbol.type == "QRCODE" else "]C0"
        found.append(Decoded(text=identifier + content, symbology=identifier, format=symbol.type))
    return found


def decoder_for(name: str) -> Callable[[npt.NDArray[np.uint8]], list[Decoded]]:
    if name == "zbar":
        decode_zbar(np.full((8, 8), 255, dtype=np.uint8))  # fail now, clearly, if zbar is absent
        return decode_zbar
    return decode
