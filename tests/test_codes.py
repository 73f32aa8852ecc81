"""Reading codes in every real-world form, damaged ones included (models.codes), from the CLI
and the API."""

import json
from typing import Any

import pytest
from click.testing import CliRunner
from litestar.testing import AsyncTestClient

from app.cli import main
from models.codes import read_code
from tests.helpers import headers_for, register_batch

G = "09506000134352"
GS = "\x1d"


@pytest.mark.parametrize(
    "text",
    [
        f"01{G}21A1B2C3D4E5{GS}10LOT123{GS}17271231",
        f"]d201{G}17271231{GS}10LOT123{GS}21A1B2C3D4E5",
        f"]Q301{G}21A1B2C3D4E5{GS}10LOT123{GS}17271231",
        f"(01){G}(21)A1B2C3D4E5(10)LOT123(17)271231",
        f"https://id.example.org/01/{G}/10/LOT123/21/A1B2C3D4E5?17=271231",
        f"https://resolver.example.ir/some/prefix/01/{G}/10/LOT123/21/A1B2C3D4E5?17=271231",
        f"HTTPS://ID.EXAMPLE.ORG/01/{G}/10/LOT123/21/A1B2C3D4E5?17=271231",
        f"]Q1https://id.example.org/01/{G}/10/LOT123/21/A1B2C3D4E5?17=271231",
        f"https://id.example.org/gtin/{G}/lot/LOT123/ser/A1B2C3D4E5?17=271231",
        f"https://id.example.org/01/{G}/10/LOT%31%323/21/A1B2C3D4E5?17=271231",
    ],
)
def test_every_form_reads_the_same_pack(text: str) -> None:
    result = read_code(text)
    assert result.ok, result.error
    assert (result.kind, result.gtin, result.serial, result.lot) == (
        "pack",
        G,
        "A1B2C3D4E5",
        "LOT123",
    )
    assert result.expiry is not None and result.expiry.isoformat() == "2027-12-31"
    assert result.ais["01"] == G
    assert result.warnings == []


def test_other_kinds() -> None:
    assert read_code(G).kind == "product"
    assert read_code("9506000134352").gtin == G  # a GTIN-13 is read as its GTIN-14
    case = read_code("00106141411234567897")
    assert (case.kind, case.sscc) == ("case", "106141411234567897")
    assert read_code("]C100106141411234567897").sscc == "106141411234567897"
    location = read_code("4145901234123457")
    assert (location.kind, location.gln) == ("location", "5901234123457")
    assert read_code(f"01{G}17271200").expiry.isoformat() == "2027-12-31"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (f"01{G[:-1]}3", "check digit"),
        (f"01{G}171313", "AI (17) expiry date"),
        (f"01{G}21ABC{GS}21ABD", "appears twice with different values"),
        ("21ABC", "needs a GTIN"),
        (f"01{G}02{G}", "may not appear in the same code"),
        (f"02{G}3712", "needs an SSCC"),
        ("", "empty code"),
        ("hello", ""),
        ("00106141411234567898", "check digit"),
        (f"01{G}21A B", ""),
    ],
)
def test_invalid_codes_say_what_is_wrong(text: str, words: str) -> None:
    result = read_code(text)
    assert not result.ok
    assert result.error and words in result.error


@pytest.mark.parametrize(
    ("text", "warning"),
    [
        (f"  01{G}21ABC\r\n", "whitespace"),
        (f"۰۱{G}21ABC", "Persian or Arabic-Indic digits"),
        (f"٠١{G}21ABC", "Persian or Arabic-Indic digits"),
        (f"01{G}21ABC^10LOT1", "'^' as the GS separator"),
        (f"01{G}21ABC|10LOT1", "'|' as the GS separator"),
        (f"01{G}21ABC~10LOT1", "'~' as the GS separator"),
        (f"01{G}21ABC<GS>10LOT1", "'<GS>' as the GS separator"),
        (f"01{G}10LOT121ABC", "restored GS separators"),
        (f")01({G})21(ABC", "swapped brackets"),
    ],
)
def test_damaged_input_is_repaired_with_a_warning(text: str, warning: str) -> None:
    result = read_code(text)
    assert result.ok, result.error
    assert result.serial == "ABC"
    assert any(warning in w for w in result.warnings), result.warnings


def test_persian_keyboard_layout_is_mapped_back() -> None:
    # "ABC" typed with Shift on the Persian layout gives these characters.
    result = read_code(f"01{G}21ؤ\u200cژ")
    assert result.ok, result.error
    assert result.serial == "ABC"
    assert "Persian keyboard layout" in result.warnings[0]


def test_lost_separators_that_leave_two_readings_are_not_guessed() -> None:
    result = read_code(f"01{G}10L21A21B")
    assert not result.ok
    assert result.error and "more than one way" in result.error
    assert len(result.candidates) == 2
    settled = read_code(f"01{G}10L21A21B", known=lambda r: r.get("21") == "B")
    assert (settled.lot, settled.serial) == ("L21A", "B")


def test_cli_parses_an_argument_and_stdin_lines() -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["code", "parse", f"(01){G}(21)XYZ(17)280131"])
    assert result.exit_code == 0
    line = json.loads(result.output)
    assert set(line) == {
        "input", "ok", "kind", "identifies", "gtin", "serial", "lot", "expiry", "sscc", "gln",
        "ais", "warnings", "error",
    }  # fmt: skip
    assert (line["serial"], line["expiry"]) == ("XYZ", "2028-01-31")
    result = runner.invoke(
        main, ["code", "parse", "-"], input=f"{G}\nnonsense\n00106141411234567897\n"
    )
    lines = [json.loads(x) for x in result.output.splitlines()]
    assert [x["ok"] for x in lines] == [True, False, True]
    assert [x["kind"] for x in lines] == ["product", None, "case"]
    assert result.exit_code == 1  # one code could not be read


async def test_api_parses_and_asks_the_register_when_separators_were_lost(
    client: AsyncTestClient[Any],
) -> None:
    maker = await headers_for(client, "sina-darou")
    gtin, lot, serials = await register_batch(client, maker, lot="AB21C", count=1)
    lost = f"01{gtin}10{lot}21{serials[0]}"
    pharmacy = await headers_for(client, "razi-pharmacy")
    response = await client.post(
        "/api/codes/parse", json={"codes": [lost, "nonsense", f"(01){gtin}(21)X"]}, headers=pharmacy
    )
    assert response.status_code == 200
    first, second, third = response.json()
    assert (first["ok"], first["lot"], first["serial"]) == (True, lot, serials[0])
    assert "restored GS separators" in first["warnings"][0]
    assert second["ok"] is False and second["error"]
    assert third["serial"] == "X"
    assert (
        await client.post("/api/codes/parse", json={"codes": []}, headers=pharmacy)
    ).status_code == 422
    assert (await client.post("/api/codes/parse", json={"codes": ["x"]})).status_code == 401


def test_gs_substitutes_are_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DARUTRACE_GS_SUBSTITUTES", "#")
    result = CliRunner().invoke(main, ["code", "parse", f"01{G}21ABC#10LOT1"])
    assert json.loads(result.output)["lot"] == "LOT1"
    assert "'#' as the GS separator" in json.loads(result.output)["warnings"][0]
    result = CliRunner().invoke(main, ["code", "parse", f"01{G}21ABC^10LOT1"])
    assert json.loads(result.output)["ok"] is False  # '^' is no longer a substitute here
    assert read_code(f"01{G}21ABC^10LOT1").lot == "LOT1"  # nothing process-wide was changed


@pytest.mark.parametrize("symbology", ["]d2", "]Q3", "]C1", "]e0", "]J1"])
def test_after_a_gs1_symbology_identifier_the_data_is_an_element_string(symbology: str) -> None:
    result = read_code(f"{symbology}24212345")  # AI 242, not a GTIN-8
    assert not result.ok
    assert result.error and "check digit" not in result.error
    assert "AI (242)" in result.error and "needs a GTIN" in result.error
    assert not read_code(f"{symbology}{G}").ok  # 14 digits: no AI "09"
    assert read_code(f"{symbology}01{G}").gtin == G
    assert read_code("]E09506000134352").gtin == G  # EAN-13 carries a bare GTIN


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (f"https://id.example.org/01/{G[1:]}/21/X", "14 digits"),
        (f"https://id.example.org/01/{G}/21/X?17=", "has no value"),
        (f"https://id.example.org/01/{G}/21/X?89=ABC", "no GS1 AI"),
        (f"https://id.example.org/01/{G}/21/X?10=LOT1", "belongs in the Digital Link path"),
        (f"https://id.example.org/01/{G}/21/X/10/LOT1", "order GS1 Digital Link allows"),
    ],
)
def test_digital_links_follow_the_standard(text: str, words: str) -> None:
    result = read_code(text)
    assert not result.ok
    assert result.error and words in result.error, result.error


@pytest.mark.parametrize(
    ("text", "kind", "identifies"),
    [
        ("(253)1234567890128X", "document", "a GDTI (253) document identifier"),
        ("(8003)01234567890128X", "returnable asset", "a GRAI (8003)"),
        ("(8018)123456789012345675", "service relation", "a GSRN (8018)"),
        ("https://id.example.org/253/1231231231232", "document", "a GDTI (253)"),
        ("(91)XXX", "internal", "internal data only"),
        ("]d2400ORDER1", "other", "without an identification key"),
    ],
)
def test_gs1_data_that_is_no_pack_case_or_place_is_valid_data_of_its_kind(
    text: str, kind: str, identifies: str
) -> None:
    result = read_code(text)
    assert result.ok, result.error
    assert (result.kind, result.gtin, result.sscc, result.gln) == (kind, None, None, None)
    assert result.identifies and identifies in result.identifies
    assert not read_code("(253)123456789012").ok  # malformed data is not: too short


@pytest.mark.parametrize(
    "text",
    [
        f"(01){G}(7230)AB123",
        f"(01){G}(21)X(8030)ABC123",
        "(00)106141411234567897(4300)CLINIC(4307)IR(4321)1",
        "(255)12345678901280(8111)1234",
        f"(01){G}(717)AIC1",
    ],
)
def test_every_ai_in_the_dictionary_is_known(text: str) -> None:
    result = read_code(text)
    assert result.ok, result.error


def test_cli_reports_non_pack_gs1_data_as_valid() -> None:
    result = CliRunner().invoke(main, ["code", "parse", "(253)1234567890128X"])
    assert result.exit_code == 0, result.output
    line = json.loads(result.output)
    assert (line["ok"], line["kind"]) == (True, "document")
    assert line["ais"] == {"253": "1234567890128X"}
