"""Pack labels: a PDF for a serialized batch, rendered to images, every code decoded back to
exactly the pack it was printed for."""

from pathlib import Path
from typing import Any

import numpy as np
import pypdfium2 as pdfium
import pytest
from click.testing import CliRunner
from litestar.testing import AsyncTestClient

from app.cli import main
from app.labels.pdf import shape_persian
from models.codes import read_code
from models.gs1 import with_check_digit
from scanner.decoder import decode
from tests.conftest import PgServer
from tests.helpers import headers_for, register_batch


def _decoded_packs(pdf_bytes: bytes) -> dict[str, set[tuple[str | None, str | None]]]:
    """symbology → the (serial, lot) of every code found on every page, rendered at 300 dpi."""
    document = pdfium.PdfDocument(pdf_bytes)
    found: dict[str, set[tuple[str | None, str | None]]] = {}
    for page in document:
        image = np.asarray(page.render(scale=300 / 72).to_pil().convert("L"))
        for symbol in decode(image):
            result = read_code(symbol.text)
            assert result.ok, result.error
            found.setdefault(symbol.symbology, set()).add((result.serial, result.lot))
    return found


async def test_a_thousand_labels_decode_back_to_their_packs(client: AsyncTestClient[Any]) -> None:
    maker = await headers_for(client, "sina-darou")
    gtin, lot, serials = await register_batch(client, maker, count=1000)
    response = await client.get(f"/api/batches/{gtin}/{lot}/labels.pdf", headers=maker)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-1.7")
    assert len(pdfium.PdfDocument(response.content)) == 42  # 24 labels a page
    assert _decoded_packs(response.content) == {"]d2": {(s, lot) for s in serials}}


async def test_qr_both_and_roll_layouts(client: AsyncTestClient[Any]) -> None:
    maker = await headers_for(client, "sina-darou")
    gtin, lot, serials = await register_batch(client, maker, count=5)
    both = await client.get(
        f"/api/batches/{gtin}/{lot}/labels.pdf",
        params={"symbology": "both", "layout": "roll"},
        headers=maker,
    )
    assert len(pdfium.PdfDocument(both.content)) == 5
    expected = {(s, lot) for s in serials}
    assert _decoded_packs(both.content) == {"]d2": expected, "]Q1": expected}
    page = await client.get(
        f"/api/batches/{gtin}/{lot}/labels.pdf",
        params={"symbology": "qr", "offset": 2, "limit": 2},
        headers=maker,
    )
    assert _decoded_packs(page.content) == {"]Q1": {(s, lot) for s in serials[2:4]}}


async def test_label_requests_are_checked(client: AsyncTestClient[Any]) -> None:
    maker = await headers_for(client, "sina-darou")
    gtin, lot, _ = await register_batch(client, maker)
    path = f"/api/batches/{gtin}/{lot}/labels.pdf"
    unserialized = await client.get(path, headers=maker)
    assert unserialized.status_code == 422
    assert "serialize it first" in unserialized.json()["detail"]
    bad = await client.get(path, params={"symbology": "aztec"}, headers=maker)
    assert bad.status_code == 422
    assert bad.json()["field"] == "symbology"
    too_many = await client.get(path, params={"limit": 100_001}, headers=maker)
    assert too_many.status_code == 422
    other = await headers_for(client, "zagros-pharmed")
    assert (await client.get(path, headers=other)).status_code == 404
    pharmacy = await headers_for(client, "razi-pharmacy")
    assert (await client.get(path, headers=pharmacy)).status_code == 403


def test_persian_is_shaped_right_to_left_with_numbers_left_to_right() -> None:
    glyphs, width = shape_persian("قرص ۵۰۰")
    assert width > 0
    assert [g.x for g in glyphs] == sorted(g.x for g in glyphs)  # visual order
    digits, _ = shape_persian("۵۰۰")
    assert len(digits) == 3
    # The number keeps its reading order ("500"), drawn first, at the left of the line.
    assert [g.gid for g in glyphs[:3]] == [g.gid for g in digits]


def test_cli_prints_a_batch(
    pg_server: PgServer, database: object, test_database: str, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setenv("DATABASE_URL", test_database)
    monkeypatch.setenv("DARUTRACE_DATA_DIR", str(pg_server.data_dir))
    output = tmp_path / "labels.pdf"
    result = CliRunner().invoke(
        main,
        ["labels", "--batch", "06260009991011/AMX2601", "--symbology", "datamatrix",
         "--output", str(output)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    found = _decoded_packs(output.read_bytes())
    assert len(found["]d2"]) == 120  # the demo batch's packs
    bad = CliRunner().invoke(main, ["labels", "--batch", "06260009991011/NOLOT"])
    assert bad.exit_code != 0
    assert "No batch NOLOT" in bad.output


def test_case_labels_carry_the_sscc_as_gs1_128(tmp_path: Path) -> None:
    output = tmp_path / "cases.pdf"
    ssccs = ["106141411234567897", with_check_digit("00626000999900001")]
    result = CliRunner().invoke(
        main, ["labels", "--layout", "roll", "--output", str(output)]
        + [arg for s in ssccs for arg in ("--sscc", s)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    document = pdfium.PdfDocument(output.read_bytes())
    found = set()
    for page in document:
        for symbol in decode(np.asarray(page.render(scale=300 / 72).to_pil().convert("L"))):
            read = read_code(symbol.text)
            assert (symbol.symbology, read.kind) == ("]C1", "case")
            found.add(read.sscc)
    assert found == set(ssccs)
    bad = CliRunner().invoke(main, ["labels", "--sscc", "106141411234567898"])
    assert bad.exit_code != 0
    assert "check digit" in bad.output
