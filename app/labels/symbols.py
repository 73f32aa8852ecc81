"""The symbols printed on labels, as grey-scale images (numpy arrays, 0 = black):
GS1 DataMatrix holding the element string with FNC1 (zxing-cpp), QR holding the Digital Link URI
(qrcode), GS1-128 holding an SSCC (zxing-cpp)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import qrcode
import zxingcpp
from qrcode.constants import ERROR_CORRECT_M

Image = npt.NDArray[np.uint8]


# The smallest square size that held content of each length so far: a batch's labels all have
# the same shape, so after the first label the search starts where it ends.
_SQUARE_VERSION: dict[int, int] = {}
_SQUARE_SIZES = 24  # zint's square ECC 200 sizes, 10x10 to 144x144 (version 1 to 24)


def _datamatrix(hri: str) -> zxingcpp.Barcode:
    """A square GS1 DataMatrix: GS1 healthcare asks for square symbols, and many pharmacy
    scanners read no other; left to itself the encoder picks a rectangular (DMRE) one for our
    short element strings."""
    start = _SQUARE_VERSION.get(len(hri), 1)
    for version in range(start, _SQUARE_SIZES + 1):
        try:
            barcode = zxingcpp.create_barcode(
                hri, zxingcpp.BarcodeFormat.DataMatrix, gs1=True, version=version
            )
        except ValueError:  # too small for the content
            continue
        _SQUARE_VERSION[len(hri)] = version
        return barcode
    raise ValueError("too long for a square DataMatrix")


def _gs1_128(sscc: str) -> zxingcpp.Barcode:
    return zxingcpp.create_barcode(f"(00){sscc}", zxingcpp.BarcodeFormat.Code128, gs1=True)


def _image(barcode: zxingcpp.Barcode, scale: int, quiet_zones: bool = True) -> Image:
    picture = zxingcpp.write_barcode_to_image(barcode, scale=scale, add_quiet_zones=quiet_zones)
    return np.asarray(picture, dtype=np.uint8)


def gs1_datamatrix(hri: str, scale: int = 4) -> Image:
    return _image(_datamatrix(hri), scale)


def digital_link_qr(uri: str, module_pixels: int = 4) -> Image:
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=module_pixels, border=4)
    code.add_data(uri)
    code.make(fit=True)
    picture = code.make_image(fill_color="black", back_color="white").get_image().convert("L")
    return np.asarray(picture, dtype=np.uint8)


def gs1_128_sscc(sscc: str, scale: int = 2) -> Image:
    return _image(_gs1_128(sscc), scale)


def modules(symbology: str, data: str) -> npt.NDArray[np.bool_]:
    """The symbol's dark modules (True), quiet zone excluded, for drawing as vectors:
    `datamatrix` takes an element string in brackets, `qr` a URI. Both come from zxing-cpp:
    for label sheets its QR encoder (with the full mask selection) is 50 times faster than
    `qrcode`'s (0.1 ms against 5.6 ms a symbol here)."""
    if symbology == "qr":
        barcode = zxingcpp.create_barcode(data, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    else:
        barcode = _datamatrix(data)
    return np.asarray(_image(barcode, 1, quiet_zones=False) < 128)


def gs1_128_bars(sscc: str) -> npt.NDArray[np.bool_]:
    """The dark modules of a GS1-128 symbol holding the SSCC, one row (a linear symbol)."""
    return np.asarray(_image(_gs1_128(sscc), 1, quiet_zones=False)[:1] < 128)
