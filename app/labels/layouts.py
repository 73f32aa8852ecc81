"""Label stock: the sheets and rolls labels are laid out on, and the symbologies they carry.
Plain data, apart from the PDF writer, so that the command line can offer them cheaply."""

from __future__ import annotations

from dataclasses import dataclass

MM = 72 / 25.4  # PDF points per millimetre
MAX_LABELS = 100_000  # per document; the next ones with an offset

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
