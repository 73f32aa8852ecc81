"""Decoding symbols in an image with zxing-cpp: the raw bytes (GS kept) and the symbology
identifier, never the display text, so that the shared reader sees what the symbol holds; and
where each symbol lies in the frame, for the preview."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import zxingcpp

Point = tuple[int, int]

# What pharmacy and warehouse packs carry: GS1 DataMatrix and QR (packs), GS1-128 (cases),
# EAN-13 (products).
FORMATS = zxingcpp.barcode_formats_from_str("DataMatrix,QRCode,Code128,EAN13")
# zxing-cpp's other options stay on, each measured with bench/scanning.py: without try_rotate
# (7.8 to 4.1 ms a 1280x720 frame) small DataMatrix turned by 90° or 180° are lost; without
# try_invert (-20 %) light-on-dark codes; without try_downscale (-15 %) large out-of-focus ones
# close to the lens; the GlobalHistogram binarizer loses blurred and low-contrast codes.
READ_OPTIONS: dict[str, Any] = {"formats": FORMATS}


@dataclass(frozen=True)
class Decoded:
    text: str  # the symbology identifier followed by the content, as a scanner transmits it
    symbology: str
    format: str
    corners: tuple[Point, ...] = ()  # the symbol's outline in the frame, in drawing order


def decode(image: npt.NDArray[np.uint8]) -> list[Decoded]:
    found = []
    for result in zxingcpp.read_barcodes(image, **READ_OPTIONS):
        content = bytes(result.bytes).decode("utf-8", errors="replace")
        where = result.position
        corners = (where.top_left, where.top_right, where.bottom_right, where.bottom_left)
        found.append(
            Decoded(
                text=result.symbology_identifier + content,
                symbology=result.symbology_identifier,
                format=str(result.format).rsplit(".", 1)[-1],
                corners=tuple((int(p.x), int(p.y)) for p in corners),
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
        corners = tuple((int(p.x), int(p.y)) for p in symbol.polygon)
        found.append(Decoded(identifier + content, identifier, symbol.type, corners))
    return found


def decoder_for(name: str) -> Callable[[npt.NDArray[np.uint8]], list[Decoded]]:
    if name == "zbar":
        decode_zbar(np.full((8, 8), 255, dtype=np.uint8))  # fail now, clearly, if zbar is absent
        return decode_zbar
    return decode
