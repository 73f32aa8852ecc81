"""A small PDF writer that streams: objects are written as they are made and only their byte
offsets are kept, so a sheet of 100,000 labels never sits in memory. It knows just what labels
need: filled rectangles (the symbols' modules, drawn as vectors so they print sharp at any
size), Helvetica for Latin text, and an embedded TrueType font for Persian, shaped with
HarfBuzz (joining forms, right-to-left, numbers left-to-right inside)."""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import uharfbuzz as hb

FONT_FILE = Path(__file__).parent / "fonts" / "Vazirmatn-Regular.ttf"
_LTR_RUN = re.compile(r"[0-9A-Za-z۰-۹٠-٩][0-9A-Za-z۰-۹٠-٩.,/%+\-]*")


@dataclass(frozen=True)
class Glyph:
    gid: int
    x: float  # in font units, from the start of the line
    y: float


@cache
def _font() -> tuple[hb.Font, int, list[int]]:
    face = hb.Face(hb.Blob.from_file_path(str(FONT_FILE)))
    font = hb.Font(face)
    widths = [font.get_glyph_h_advance(gid) for gid in range(face.glyph_count)]
    return font, face.upem, widths


@cache
def shape_persian(text: str) -> tuple[list[Glyph], float]:
    """Glyphs in visual order (left to right) and the line's width, in font units: the text is
    an RTL paragraph whose Latin and digit runs read left to right."""
    font, _, _ = _font()
    runs: list[tuple[str, str]] = []
    position = 0
    for match in _LTR_RUN.finditer(text):
        if match.start() > position:
            runs.append(("rtl", text[position : match.start()]))
        runs.append(("ltr", match.group()))
        position = match.end()
    if position < len(text):
        runs.append(("rtl", text[position:]))
    glyphs: list[Glyph] = []
    x = 0.0
    for direction, run in reversed(runs):
        buffer = hb.Buffer()
        buffer.add_str(run)
        buffer.guess_segment_properties()
        buffer.direction = direction
        hb.shape(font, buffer, {})
        for info, pos in zip(buffer.glyph_infos, buffer.glyph_positions, strict=True):
            glyphs.append(Glyph(info.codepoint, x + pos.x_offset, pos.y_offset))
            x += pos.x_advance
    return glyphs, x


class Canvas:
    """Drawing operations for one page (PDF user space: points, origin bottom-left)."""

    def __init__(self) -> None:
        self._ops: list[str] = []

    def rectangles(self, rects: list[tuple[float, float, float, float]]) -> None:
        if rects:
            self._ops.append(
                " ".join(f"{x:.2f} {y:.2f} {w:.2f} {h:.2f} re" for x, y, w, h in rects)
            )
            self._ops.append("f")

    def text(self, x: float, y: float, size: float, value: str) -> None:
        escaped = value.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        safe = escaped.encode("latin-1", "replace").decode("latin-1")
        self._ops.append(f"BT /F1 {size:.1f} Tf {x:.2f} {y:.2f} Td ({safe}) Tj ET")

    def persian(self, x: float, y: float, size: float, text: str, max_width: float) -> None:
        """Persian text ending at `x + max_width` (right-aligned), shrunk to fit."""
        glyphs, width = shape_persian(text)
        _, upem, _ = _font()
        size = min(size, max_width * upem / width) if width else size
        start = x + max_width - width * size / upem
        scale = size / upem
        ops = [f"BT /F2 {size:.2f} Tf"]
        for glyph in glyphs:
            ops.append(
                f"1 0 0 1 {start + glyph.x * scale:.2f} {y + glyph.y * scale:.2f} Tm "
                f"<{glyph.gid:04X}> Tj"
            )
        ops.append("ET")
        self._ops.append(" ".join(ops))

    def content(self) -> bytes:
        return "\n".join(self._ops).encode("latin-1")


class PdfStream:
    """Writes a PDF object by object; `pages()` consumes page canvases and yields bytes."""

    def __init__(self, width: float, height: float) -> None:
        self.width = width
        self.height = height
        self._offsets: dict[int, int] = {}
        self._written = 0
        self._next = 5  # 1 catalog, 2 pages, 3 Latin font, 4 Persian font

    def _object(self, number: int, body: bytes) -> bytes:
        self._offsets[number] = self._written
        chunk = f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
        self._written += len(chunk)
        return chunk

    def _emit(self, data: bytes) -> bytes:
        self._written += len(data)
        return data

    def _stream(self, number: int, data: bytes, extra: str = "") -> bytes:
        packed = zlib.compress(data, 6)
        head = f"<< /Length {len(packed)} /Filter /FlateDecode {extra}>>\nstream\n".encode()
        return self._object(number, head + packed + b"\nendstream")

    def _allocate(self) -> int:
        number = self._next
        self._next += 1
        return number

    def render(self, pages: Iterator[Canvas]) -> Iterator[bytes]:
        yield self._emit(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        yield self._object(
            3, b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
        )
        yield from self._persian_font()
        kids = []
        for canvas in pages:
            content = self._allocate()
            page = self._allocate()
            yield self._stream(content, canvas.content())
            yield self._object(
                page,
                (
                    f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {self.width:.2f} "
                    f"{self.height:.2f}] /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> "
                    f"/Contents {content} 0 R >>"
                ).encode(),
            )
            kids.append(page)
        refs = " ".join(f"{kid} 0 R" for kid in kids)
        yield self._object(2, f"<< /Type /Pages /Kids [{refs}] /Count {len(kids)} >>".encode())
        yield self._object(1, b"<< /Type /Catalog /Pages 2 0 R >>")
        xref_at = self._written
        count = self._next
        lines = [f"xref\n0 {count}\n", "0000000000 65535 f \n"]
        lines += [f"{self._offsets.get(n, 0):010d} 00000 n \n" for n in range(1, count)]
        lines.append(f"trailer\n<< /Size {count} /Root 1 0 R >>\nstartxref\n{xref_at}\n%%EOF\n")
        yield self._emit("".join(lines).encode())

    def _persian_font(self) -> Iterator[bytes]:
        _, upem, widths = _font()
        descendant, descriptor, file = self._allocate(), self._allocate(), self._allocate()
        font_bytes = FONT_FILE.read_bytes()
        yield self._stream(file, font_bytes, f"/Length1 {len(font_bytes)} ")
        yield self._object(
            descriptor,
            (
                f"<< /Type /FontDescriptor /FontName /Vazirmatn /Flags 32 "
                f"/FontBBox [-500 -600 2500 2200] /ItalicAngle 0 /Ascent 1900 /Descent -600 "
                f"/CapHeight 1400 /StemV 80 /FontFile2 {file} 0 R >>"
            ).encode(),
        )
        scaled = " ".join(str(round(w * 1000 / upem)) for w in widths)
        yield self._object(
            descendant,
            (
                f"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /Vazirmatn "
                f"/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> "
                f"/FontDescriptor {descriptor} 0 R /CIDToGIDMap /Identity /W [0 [{scaled}]] >>"
            ).encode(),
        )
        yield self._object(
            4,
            (
                f"<< /Type /Font /Subtype /Type0 /BaseFont /Vazirmatn /Encoding /Identity-H "
                f"/DescendantFonts [{descendant} 0 R] >>"
            ).encode(),
        )
