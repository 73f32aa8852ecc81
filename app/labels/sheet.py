"""Pack labels: the 2D code(s) and the human-readable GTIN, SN, LOT, EXP and product name in
Persian and English, laid out on A4 sheets or one label per page for label-roll printers."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from itertools import islice

import numpy as np
import numpy.typing as npt

from app.labels.layouts import MM, SYMBOLOGIES, Layout
from app.labels.pdf import Canvas, PdfStream
from app.labels.symbols import gs1_128_bars, modules
from models.gs1 import validate_sscc
from models.links import digital_link, element_hri


@dataclass(frozen=True)
class LabelPack:
    gtin: str
    serial: str
    lot: str
    expiry: date
    name: str
    name_fa: str


def render(
    packs: Iterable[LabelPack], layout: Layout, symbology: str, resolver: str
) -> Iterator[bytes]:
    """The PDF, in pieces, page by page."""
    if symbology not in SYMBOLOGIES:
        raise ValueError(f"symbology: one of {', '.join(SYMBOLOGIES)}")
    stream = PdfStream(layout.page_width, layout.page_height)
    return stream.render(_pages(iter(packs), layout, symbology, resolver))


def render_cases(ssccs: Iterable[str], layout: Layout) -> Iterator[bytes]:
    """Case and pallet labels: the SSCC as GS1-128 bars and in human-readable form."""
    stream = PdfStream(layout.page_width, layout.page_height)
    return stream.render(_case_pages(iter(ssccs), layout))


def _case_pages(ssccs: Iterator[str], layout: Layout) -> Iterator[Canvas]:
    while page := list(islice(ssccs, layout.per_page)):
        canvas = Canvas()
        for index, sscc in enumerate(page):
            x, y = layout.origin(index)
            pad = 3 * MM
            bars = gs1_128_bars(validate_sscc(sscc))[0]
            module = (layout.label_width - 2 * pad) / len(bars)
            height = layout.label_height - 2 * pad - 7 * MM
            canvas.rectangles(
                [
                    (x + pad + start * module, y + pad + 7 * MM, length * module, height)
                    for start, length in _runs(bars)
                ]
            )
            readable = f"(00) {sscc[0]} {sscc[1:8]} {sscc[8:17]} {sscc[17]}"
            canvas.text(x + pad, y + pad + 1.5 * MM, 9, readable)
        yield canvas


def _pages(
    packs: Iterator[LabelPack], layout: Layout, symbology: str, resolver: str
) -> Iterator[Canvas]:
    while page := list(islice(packs, layout.per_page)):
        canvas = Canvas()
        for index, pack in enumerate(page):
            x, y = layout.origin(index)
            _label(canvas, x, y, layout, pack, symbology, resolver)
        yield canvas


def _label(
    canvas: Canvas,
    x: float,
    y: float,
    layout: Layout,
    pack: LabelPack,
    symbology: str,
    resolver: str,
) -> None:
    pad = 2.5 * MM
    height = layout.label_height - 2 * pad
    kinds = ["datamatrix", "qr"] if symbology == "both" else [symbology]
    side = min(height - 7 * MM, (layout.label_width * 0.55) / len(kinds))
    left = x + pad
    for kind in kinds:
        data = (
            element_hri(pack.gtin, pack.serial, pack.lot, pack.expiry)
            if kind == "datamatrix"
            else digital_link(resolver, pack.gtin, pack.serial, pack.lot, pack.expiry)
        )
        _symbol(canvas, left, y + pad, side, modules(kind, data))
        left += side + 1.5 * MM
    text_x = left + 0.5 * MM
    top = y + layout.label_height - pad
    width = x + layout.label_width - pad - text_x
    canvas.persian(x + pad, top - 4.2 * MM, 8, pack.name_fa, layout.label_width - 2 * pad)
    lines = [
        pack.name[:30],
        f"GTIN {pack.gtin}",
        f"SN {pack.serial}",
        f"LOT {pack.lot}",
        f"EXP {pack.expiry.isoformat()}",
    ]
    size = min(6.5, width / (0.55 * max(len(line) for line in lines)))
    for number, line in enumerate(lines):
        canvas.text(text_x, top - 8 * MM - number * (size + 1.6), size, line)


def _symbol(canvas: Canvas, x: float, y: float, side: float, dark: npt.NDArray[np.bool_]) -> None:
    rows, columns = dark.shape
    module = side / max(rows, columns)
    canvas.rectangles(
        [
            (x + start * module, y + (rows - 1 - r) * module, length * module, module)
            for r in range(rows)
            for start, length in _runs(dark[r])
        ]
    )


def _runs(row: npt.NDArray[np.bool_]) -> list[tuple[int, int]]:
    """(start, length) of each run of dark modules in a row: one rectangle a run."""
    runs = []
    cells = row.tolist()
    column, count = 0, len(cells)
    while column < count:
        if cells[column]:
            start = column
            while column < count and cells[column]:
                column += 1
            runs.append((start, column - start))
        else:
            column += 1
    return runs
