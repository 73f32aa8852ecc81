"""Pack labels: the 2D code(s) and the human-readable GTIN, SN, LOT, EXP and product name in
Persian and English, laid out on A4 sheets or one label per page for label-roll printers."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from itertools import islice

import numpy as np
import numpy.typing as npt

from app.labels.pdf import MM, Canvas, PdfStream
from app.labels.symbols import modules
from models.links import digital_link, element_hri

SYMBOLOGIES = ("datamatrix", "qr", "both")


@dataclass(frozen=True)
class Layout:
    name: str
    page_width: float
    page_height: float
    label_width: float
    label_height: float
    columns: int
    rows: int

    @property
    def per_page(self) -> int:
        return self.columns * self.rows

    def origin(self, index: int) -> tuple[float, float]:
        """Bottom-left corner of the index-th label on a page (labels fill rows, top first)."""
        margin_x = (self.page_width - self.columns * self.label_width) / 2
        margin_y = (self.page_height - self.rows * self.label_height) / 2
        row, column = divmod(index, self.columns)
        return (
            margin_x + column * self.label_width,
            self.page_height - margin_y - (row + 1) * self.label_height,
        )


LAYOUTS = {
    # 3 × 8 labels of 70 × 37 mm on A4 (the common "24 per sheet" stock).
    "a4": Layout("a4", 210 * MM, 297 * MM, 70 * MM, 37 * MM, 3, 8),
    # One 60 × 40 mm label per page, for roll printers.
    "roll": Layout("roll", 60 * MM, 40 * MM, 60 * MM, 40 * MM, 1, 1),
}


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
    rects = []
    for r in range(rows):
        row = dark[r]
        c = 0
        while c < columns:
            if row[c]:
                start = c
                while c < columns and row[c]:
                    c += 1
                rects.append(
                    (x + start * module, y + (rows - 1 - r) * module, (c - start) * module, module)
                )
            else:
                c += 1
    canvas.rectangles(rects)
