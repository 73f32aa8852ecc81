"""Decoding symbols in an image with zxing-cpp: the raw bytes (GS kept) and the symbology
identifier, never the display text, so that the shared reader sees what the symbol holds."""

from __future__ import annotations

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
