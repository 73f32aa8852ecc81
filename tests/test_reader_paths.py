"""Every path that reads codes reads them alike: the server (with its settings' ReaderConfig),
`darutrace code parse` and `darutrace scan` (with DARUTRACE_GS_SUBSTITUTES), and the events
API refuses well-formed GS1 data that is no pack or case, saying what it is."""

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from litestar.testing import AsyncTestClient

from app.cli import main
from app.db.database import Database
from app.factory import create_app
from models.codes import ReaderConfig
from tests.helpers import event, facility_gln, headers_for, register_batch

G = "09506000134352"


def _scan(tmp_path: Path, typed: str, env: dict[str, str | None]) -> Any:
    return CliRunner().invoke(
        main,
        ["scan", "--mode", "receive", "--server", "http://127.0.0.1:9", "--api-key", "k",
         "--no-stop-on-refused", "--no-sound", "--source", "keyboard", "--cooldown", "0"],
        input=typed,
        env={"DARUTRACE_SCANNER_OUTBOX": str(tmp_path / "outbox.sqlite3"), "DISPLAY": None}
        | env,
    )  # fmt: skip


def test_the_scanner_reads_the_gs_substitutes_of_the_environment(tmp_path: Path) -> None:
    typed = f"01{G}21ABC#10LOT1\n"
    configured = _scan(tmp_path, typed, {"DARUTRACE_GS_SUBSTITUTES": "# ^"})
    assert configured.exit_code == 0, configured.output
    assert configured.stdout.startswith("queued "), configured.stdout  # read, then queued
    default = _scan(tmp_path, typed, {"DARUTRACE_GS_SUBSTITUTES": None})
    assert default.stdout.startswith("refused "), default.stdout  # '#' is no separator here
    assert "cannot read the code" in default.stdout


def test_reader_config_from_the_environment() -> None:
    assert ReaderConfig.from_environment({}) == ReaderConfig()
    assert ReaderConfig.from_environment({"DARUTRACE_GS_SUBSTITUTES": " # ^ "}).gs_substitutes == (
        "#",
        "^",
    )
    assert ReaderConfig.from_environment({"DARUTRACE_GS_SUBSTITUTES": ""}).gs_substitutes == ()


async def test_the_server_reads_codes_with_its_configured_substitutes(
    database: Database,
) -> None:
    settings = dataclasses.replace(database.settings, reader=ReaderConfig(gs_substitutes=("#",)))
    async with AsyncTestClient(create_app(settings, database)) as client:
        maker = await headers_for(client, "sina-darou")
        gtin, lot, serials = await register_batch(client, maker, count=1)
        code = f"01{gtin}21{serials[0]}#10{lot}"
        parsed = await client.post("/api/codes/parse", json={"codes": [code]}, headers=maker)
        assert (parsed.json()[0]["serial"], parsed.json()[0]["lot"]) == (serials[0], lot)
        pharmacy = facility_gln("razi-pharmacy")
        shipped = await event(client, maker, "ship", [code], destination_gln=pharmacy)
        assert shipped.status_code == 200, shipped.text
        assert shipped.json()["results"][0]["outcome"] == "ok"


@pytest.mark.parametrize(
    ("code", "what"),
    [
        ("(253)1234567890128X", "a GDTI (253) document identifier"),
        ("(8018)123456789012345675", "a GSRN (8018)"),
        ("(91)INTERNAL", "internal data only"),
    ],
)
async def test_events_refuse_gs1_data_that_is_no_pack_or_case(
    client: AsyncTestClient[Any], code: str, what: str
) -> None:
    pharmacy = await headers_for(client, "razi-pharmacy")
    response = await event(client, pharmacy, "dispense", [code])
    result = response.json()["results"][0]
    assert result["outcome"] == "refused"
    assert result["reason"].startswith("not a pack or case code: it is "), result["reason"]
    assert what in result["reason"]
    malformed = (await event(client, pharmacy, "dispense", ["(253)12345"])).json()
    assert malformed["results"][0]["reason"].startswith("cannot read the code")
