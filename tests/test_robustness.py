"""The decoder on generated camera frames: rotation, blur, perspective, low contrast, glare, and
trays of twelve packs in one frame, for QR codes and GS1 DataMatrix (as our labels print them,
rectangular for short content, and square as most pack printers make them)."""

import cv2
import numpy as np
import pytest

from app.labels.symbols import digital_link_qr, gs1_datamatrix
from app.packs.serials import new_serials
from models.codes import read_code
from models.links import digital_link, element_hri
from scanner.decoder import decode
from scanner.synthetic import CONDITIONS, frame_with, square_datamatrix

GTIN = "09506000134352"
KINDS = ["datamatrix", "square-datamatrix", "qr"]


def _symbol(kind: str, serial: str, scale: int = 6) -> np.ndarray:
    if kind == "datamatrix":
        return gs1_datamatrix(element_hri(GTIN, serial, "L1"), scale=scale)
    if kind == "square-datamatrix":
        return square_datamatrix(element_hri(GTIN, serial, "L1"), scale=scale)
    return digital_link_qr(digital_link("https://x.ir", GTIN, serial, "L1"), module_pixels=4)


def _serials_read(frame: np.ndarray) -> set[str | None]:
    return {read_code(d.text).serial for d in decode(frame)}


@pytest.mark.parametrize("condition", CONDITIONS)
@pytest.mark.parametrize("kind", KINDS)
def test_codes_are_read_under_each_condition(kind: str, condition: str) -> None:
    rng = np.random.default_rng(2026)
    serials = new_serials(10)
    read = 0
    for serial in serials:
        frame = frame_with([_symbol(kind, serial)], 1280, 720, condition, rng)
        read += serial in _serials_read(frame)
    assert read >= 9, f"{kind} {condition}: {read}/10"


# Packs in a tray lie side by side (some turned sideways or upside down), not at 15-35° to each
# other: that would make them overlap.
@pytest.mark.parametrize("condition", ["clean", "turned", "blurred", "glare"])
@pytest.mark.parametrize("kind", ["square-datamatrix", "qr"])
def test_a_tray_of_twelve_packs_is_read_in_one_frame(kind: str, condition: str) -> None:
    rng = np.random.default_rng(12)
    for _ in range(3):
        serials = new_serials(12)
        frame = frame_with([_symbol(kind, s) for s in serials], 1280, 720, condition, rng)
        assert _serials_read(frame) == set(serials), f"{kind} tray, {condition}"


def test_a_tray_of_twelve_datamatrix_is_read_at_640x480() -> None:
    """At 4 pixels a module: a tray filling a VGA camera's view."""
    serials = new_serials(12)
    symbols = [_symbol("square-datamatrix", s, scale=4) for s in serials]
    frame = frame_with(symbols, 640, 480, "clean", np.random.default_rng(4))
    assert _serials_read(frame) == set(serials)


@pytest.mark.parametrize("kind", ["square-datamatrix", "qr"])
def test_an_out_of_focus_code_close_to_the_lens_is_read(kind: str) -> None:
    """Large modules, heavily blurred, at 1920x1080: read on a downscaled copy of the frame."""
    serial = new_serials(1)[0]
    if kind == "qr":
        symbol = digital_link_qr(digital_link("https://x.ir", GTIN, serial, "L1"), 15)
    else:
        symbol = _symbol(kind, serial, scale=30)
    frame = frame_with([symbol], 1920, 1080, "clean", np.random.default_rng(30))
    frame = cv2.GaussianBlur(frame, (0, 0), 8)
    assert serial in _serials_read(frame)
