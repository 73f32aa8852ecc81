"""The decoder on generated camera frames: rotation, blur, perspective, low contrast, glare, and
a tray of twelve packs in one frame."""

import numpy as np
import pytest

from app.labels.symbols import digital_link_qr, gs1_datamatrix
from app.packs.serials import new_serials
from models.codes import read_code
from models.links import digital_link, element_hri
from scanner.decoder import decode
from scanner.synthetic import CONDITIONS, frame_with

GTIN = "09506000134352"


def _symbol(kind: str, serial: str) -> np.ndarray:
    if kind == "datamatrix":
        return gs1_datamatrix(element_hri(GTIN, serial, "L1"), scale=6)
    return digital_link_qr(digital_link("https://x.ir", GTIN, serial, "L1"), module_pixels=4)


@pytest.mark.parametrize("condition", CONDITIONS)
@pytest.mark.parametrize("kind", ["datamatrix", "qr"])
def test_codes_are_read_under_each_condition(kind: str, condition: str) -> None:
    rng = np.random.default_rng(2026)
    serials = new_serials(10)
    read = 0
    for serial in serials:
        frame = frame_with([_symbol(kind, serial)], 1280, 720, condition, rng)
        read += serial in {read_code(d.text).serial for d in decode(frame)}
    assert read >= 9, f"{kind} {condition}: {read}/10"


def test_a_tray_of_twelve_packs_is_read_in_one_frame() -> None:
    serials = new_serials(12)
    frame = frame_with(
        [_symbol("qr", s) for s in serials], 1280, 720, "clean", np.random.default_rng(1)
    )
    assert {read_code(d.text).serial for d in decode(frame)} == set(serials)
