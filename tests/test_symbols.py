"""Every symbol we print decodes back, through the scanner's decoder and the shared reader, to
exactly the pack (or case) it was printed for — over sizes and rotations."""

from datetime import date

import cv2
import numpy as np
import pytest

from app.labels.symbols import digital_link_qr, gs1_128_sscc, gs1_datamatrix, modules
from app.packs.serials import new_serials
from models.codes import read_code
from models.links import digital_link, element_hri
from scanner.decoder import decode

GTIN = "09506000134352"
EXPIRY = date(2027, 12, 31)


def _rotated(image: np.ndarray, degrees: float) -> np.ndarray:
    padded = cv2.copyMakeBorder(image, 60, 60, 60, 60, cv2.BORDER_CONSTANT, value=255)
    height, width = padded.shape
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), degrees, 1.0)
    return cv2.warpAffine(padded, matrix, (width, height), borderValue=255)


def _the_pack(image: np.ndarray) -> tuple[str | None, str | None, str | None, date | None]:
    found = decode(image)
    assert len(found) == 1, found
    result = read_code(found[0].text)
    assert result.ok, result.error
    return result.gtin, result.serial, result.lot, result.expiry


# At 2 pixels a module only right angles read back; printed labels use 3 or more.
@pytest.mark.parametrize(
    ("scale", "degrees"),
    [(2, 0), (2, 90), (2, 180), (2, 270)]
    + [(scale, degrees) for scale in (3, 5) for degrees in (0, 90, 180, 270, 17, -33)],
)
def test_datamatrix_round_trip(scale: int, degrees: float) -> None:
    serial = new_serials(1)[0]
    lot = "LOT-7/A"
    image = gs1_datamatrix(element_hri(GTIN, serial, lot, EXPIRY), scale=scale)
    assert _the_pack(_rotated(image, degrees)) == (GTIN, serial, lot, EXPIRY)
    assert decode(image)[0].symbology == "]d2"  # a GS1 DataMatrix, FNC1 in first position


@pytest.mark.parametrize("module_pixels", [3, 5])
@pytest.mark.parametrize("degrees", [0, 90, 180, 25])
def test_digital_link_qr_round_trip(module_pixels: int, degrees: float) -> None:
    serial = new_serials(1)[0]
    lot = "L 1/2"[:1] + "12%"  # a lot that needs percent-encoding
    uri = digital_link("https://daru.example.ir/", GTIN, serial, lot, EXPIRY)
    assert uri == f"https://daru.example.ir/01/{GTIN}/10/L12%25/21/{serial}?17=271231"
    image = digital_link_qr(uri, module_pixels=module_pixels)
    assert _the_pack(_rotated(image, degrees)) == (GTIN, serial, lot, EXPIRY)


@pytest.mark.parametrize("degrees", [0, 180, 8])
def test_gs1_128_sscc_round_trip(degrees: float) -> None:
    sscc = "106141411234567897"
    found = decode(_rotated(gs1_128_sscc(sscc, scale=3), degrees))
    assert [f.symbology for f in found] == ["]C1"]
    result = read_code(found[0].text)
    assert (result.ok, result.kind, result.sscc) == (True, "case", sscc)


def test_pack_datamatrix_is_square() -> None:
    """GS1 healthcare labels use square DataMatrix, which every pharmacy scanner reads."""
    # The first is our labels' content; left alone, the encoder makes it a 16x36 rectangle.
    for hri in (
        "(01)06260009990014(21)ABCDEFGHJK23(10)AMX2601(17)280331",
        "(01)06260009990014(21)A",
    ):
        rows, columns = modules("datamatrix", hri).shape
        assert rows == columns, (hri, rows, columns)
