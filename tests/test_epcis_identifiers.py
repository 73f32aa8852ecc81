"""Identifiers of EPCIS events in both forms (app.epcis.identifiers): EPC URNs and GS1 Digital
Link URIs read into GS1 keys, written back in either form, and the answers' GS1-EPC-Format.
Pure: no database."""

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.epcis.identifiers import (
    EPCFormat,
    Identifier,
    IdentifierError,
    company_prefix_length,
    parse_epc,
    render,
    rule_of_thumb,
    to_digital_link,
    to_urn,
)
from app.web.i18n import persian_catalogue
from models.gs1 import with_check_digit
from models.gs1_syntax.linters import CSET_82
from models.translatable import Translatable

# GS1's own examples (Tag Data Standard): company prefix 0614141.
KNOWN = company_prefix_length(["0614141"])
DL = "https://id.gs1.org"

# Each kind: its URN, its canonical Digital Link, and the keys both read as.
ROUND_TRIPS = [
    (
        "urn:epc:id:sgtin:0614141.812345.6789",
        f"{DL}/01/80614141123458/21/6789",
        {"kind": "sgtin", "gtin": "80614141123458", "serial": "6789"},
    ),
    (
        "urn:epc:id:sgtin:0614141.012345.A1-b.2_c",
        f"{DL}/01/00614141123452/21/A1-b.2_c",
        {"kind": "sgtin", "gtin": "00614141123452", "serial": "A1-b.2_c"},
    ),
    (
        "urn:epc:id:sscc:0614141.1234567890",
        f"{DL}/00/106141412345678908",
        {"kind": "sscc", "sscc": "106141412345678908"},
    ),
    (
        "urn:epc:id:sgln:0614141.12345.0",
        f"{DL}/414/0614141123452",
        {"kind": "sgln", "gln": "0614141123452", "extension": None},
    ),
    (
        "urn:epc:id:sgln:0614141.12345.5678",
        f"{DL}/414/0614141123452/254/5678",
        {"kind": "sgln", "gln": "0614141123452", "extension": "5678"},
    ),
    (
        "urn:epc:id:pgln:0614141.12345",
        f"{DL}/417/0614141123452",
        {"kind": "pgln", "gln": "0614141123452"},
    ),
    (
        "urn:epc:class:lgtin:0614141.012345.LOT-2026",
        f"{DL}/01/00614141123452/10/LOT-2026",
        {"kind": "lgtin", "gtin": "00614141123452", "lot": "LOT-2026"},
    ),
    (
        "urn:epc:idpat:sgtin:0614141.012345.*",
        f"{DL}/01/00614141123452",
        {"kind": "gtin", "gtin": "00614141123452"},
    ),
    (
        "urn:epc:id:grai:0614141.12345.400",
        f"{DL}/8003/00614141123452400",
        {"kind": "grai", "grai": "00614141123452", "serial": "400"},
    ),
    (
        "urn:epc:id:giai:0614141.A-17",
        f"{DL}/8004/0614141A-17",
        {"kind": "giai", "giai": "0614141A-17"},
    ),
]


def keys(identifier: Identifier) -> dict[str, object]:
    return {name: value for name, value in dataclasses.asdict(identifier).items() if name != "text"}


def expected_keys(wanted: dict[str, object]) -> dict[str, object]:
    blank = keys(Identifier(kind="other"))
    return {**blank, **wanted}


@pytest.mark.parametrize(("urn", "digital_link", "wanted"), ROUND_TRIPS)
def test_each_kind_reads_the_same_in_both_forms_and_is_written_back_in_either(
    urn: str, digital_link: str, wanted: dict[str, object]
) -> None:
    from_urn, from_dl = parse_epc(urn), parse_epc(digital_link)
    assert keys(from_urn) == keys(from_dl) == expected_keys(wanted)
    assert (from_urn.text, from_dl.text) == (urn, digital_link)
    assert to_digital_link(from_urn) == digital_link
    assert to_urn(from_dl, KNOWN) == urn
    assert to_urn(from_urn, KNOWN) == urn
    assert to_digital_link(from_dl) == digital_link
    assert from_urn.is_class == (wanted["kind"] in ("lgtin", "gtin"))


def test_the_company_prefix_of_a_urn_is_any_length_from_4_to_12_digits() -> None:
    for prefix_length in range(4, 13):
        company_prefix = "0614141123452"[:prefix_length]
        item_reference = "1" + "0614141123452"[prefix_length:12]
        urn = f"urn:epc:id:sgtin:{company_prefix}.{item_reference}.X"
        identifier = parse_epc(urn)
        assert identifier.gtin == "10614141123459"
        assert to_urn(identifier, company_prefix_length([company_prefix])) == urn


# Serial characters an EPC URN escapes, and those a Digital Link escapes as well.
ESCAPES = [
    ("A%2FB", "A/B", "A%2FB"),
    ("say%22hi%22", 'say"hi"', "say%22hi%22"),
    ("100%25", "100%", "100%25"),
    ("a%26b", "a&b", "a%26b"),
    ("%3Cx%3E", "<x>", "%3Cx%3E"),
    ("why%3F", "why?", "why%3F"),
    ("(a)!*+,:;='b'", "(a)!*+,:;='b'", "%28a%29%21%2A%2B%2C%3A%3B%3D%27b%27"),
]


@pytest.mark.parametrize(("in_urn", "serial", "in_dl"), ESCAPES)
def test_escapes_in_serials_are_undone_on_reading_and_redone_in_each_form(
    in_urn: str, serial: str, in_dl: str
) -> None:
    urn = f"urn:epc:id:sgtin:0614141.812345.{in_urn}"
    digital_link = f"{DL}/01/80614141123458/21/{in_dl}"
    assert parse_epc(urn).serial == serial
    assert parse_epc(digital_link).serial == serial
    assert to_digital_link(parse_epc(urn)) == digital_link
    assert to_urn(parse_epc(digital_link), KNOWN) == urn


def test_escapes_are_read_in_lower_case_and_of_characters_that_need_none() -> None:
    identifier = parse_epc("urn:epc:id:sgtin:0614141.812345.a%2fb%41")
    assert identifier.serial == "a/bA"
    assert to_urn(identifier, KNOWN) == "urn:epc:id:sgtin:0614141.812345.a%2FbA"
    assert parse_epc("urn:epc:class:lgtin:0614141.812345.L%2F1").lot == "L/1"
    assert parse_epc("urn:epc:id:sgln:0614141.12345.E%3F").extension == "E?"


@given(st.text(alphabet=sorted(CSET_82), min_size=1, max_size=20))
def test_every_serial_of_gs1_characters_survives_both_forms(serial: str) -> None:
    made = Identifier(kind="sgtin", gtin="80614141123458", serial=serial)
    from_urn = parse_epc(to_urn(made, KNOWN))
    from_dl = parse_epc(to_digital_link(made))
    assert keys(from_urn) == keys(from_dl) == keys(made)
    assert to_digital_link(from_urn) == to_digital_link(made)


def test_digital_link_uris_on_any_host_with_a_stem_and_attributes_read_as_their_keys() -> None:
    for uri in [
        "https://resolver.example.ir/some/stem/01/80614141123458/21/6789",
        "HTTPS://ID.EXAMPLE.ORG/01/80614141123458/21/6789",
        "http://example.com:8080/01/80614141123458/21/6789?17=281231",
        "https://example.com/gtin/80614141123458/ser/6789",
        "https://example.com/01/80614141123458/10/LOT1/21/6789#top",
        "https://example.com/01/80614141123458/22/2A/21/6789",
    ]:
        identifier = parse_epc(uri)
        assert (identifier.kind, identifier.gtin, identifier.serial, identifier.text) == (
            "sgtin", "80614141123458", "6789", uri,
        )  # fmt: skip
        assert to_digital_link(identifier) == f"{DL}/01/80614141123458/21/6789"
    assert parse_epc("https://example.com/01/80614141123458/10/LOT1/21/6789").lot == "LOT1"


def test_the_fast_reading_equals_the_full_one_and_is_as_frozen() -> None:
    fast = parse_epc("urn:epc:id:sgtin:0614141.812345.6789")
    full = Identifier(
        kind="sgtin",
        text="urn:epc:id:sgtin:0614141.812345.6789",
        gtin="80614141123458",
        serial="6789",
    )
    assert fast == full and hash(fast) == hash(full) and repr(fast) == repr(full)
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.serial = "other"  # type: ignore[misc]
    assert keys(parse_epc(f"{DL}/01/80614141123458/21/6789")) == keys(
        parse_epc(f"{DL}/01/80614141123458/21/6789?17=281231")
    )


def message(text: str) -> str:
    with pytest.raises(IdentifierError) as caught:
        parse_epc(text)
    return str(caught.value)


@pytest.mark.parametrize(
    ("text", "wanted"),
    [
        (f"{DL}/01/80614141123459/21/6789", "GTIN: 80614141123459 has a wrong check digit"),
        (f"{DL}/00/106141412345678909", "SSCC: 106141412345678909 has a wrong check digit"),
        (f"{DL}/414/0614141123453", "GLN: 0614141123453 has a wrong check digit: expected 2"),
        (f"{DL}/417/0614141123453", "0614141123453 has a wrong check digit: expected 2"),
        (f"{DL}/01/80614141123459", "has a wrong check digit: expected 8"),
        (f"{DL}/8003/00614141123453400", "has a wrong check digit: expected 2"),
    ],
)  # fmt: skip
def test_a_digital_link_with_a_wrong_check_digit_is_refused_saying_which(
    text: str, wanted: str
) -> None:
    assert message(text).startswith(f"{text}: ")
    assert wanted in message(text)


@pytest.mark.parametrize(
    ("text", "wanted"),
    [
        (
            "urn:epc:id:sgtin:0614141.12345.400",
            "the company prefix and item reference must have 13 digits together, got 12",
        ),
        (
            "urn:epc:id:sgtin:0614141.8123456.400",
            "the company prefix and item reference must have 13 digits together, got 14",
        ),
        (
            "urn:epc:id:sscc:0614141.123456789",
            "the company prefix and serial reference must have 17 digits together, got 16",
        ),
        (
            "urn:epc:id:sgln:0614141.1234.0",
            "the company prefix and location reference must have 12 digits together, got 11",
        ),
        (
            "urn:epc:id:pgln:0614141.123456",
            "the company prefix and party reference must have 12 digits together, got 13",
        ),
        (
            "urn:epc:id:grai:0614141.1234.400",
            "the company prefix and asset type must have 12 digits together, got 11",
        ),
        ("urn:epc:id:sgtin:061.4141812345.4", "the company prefix must have 4 to 12 digits, got 3"),
        (
            "urn:epc:id:sgtin:0614141123452.8.4",
            "the company prefix must have 4 to 12 digits, got 13",
        ),
        (
            "urn:epc:id:sgtin:061414A.812345.400",
            "the company prefix and item reference must be digits 0-9, got '061414A.812345'",
        ),
        (
            "urn:epc:id:sgtin:۰614141.812345.400",
            "the company prefix and item reference must be digits 0-9",
        ),
        ("urn:epc:id:giai:06141X.A1", "the company prefix must be digits 0-9, got '06141X'"),
        (
            "urn:epc:id:sgtin:0614141.812345",
            "this EPC URN is written urn:epc:id:sgtin:CompanyPrefix.ItemReference.Serial, in 3 "
            "parts separated by dots; got 2",
        ),
        (
            "urn:epc:id:sscc:0614141.1234567890.1",
            "this EPC URN is written urn:epc:id:sscc:CompanyPrefix.SerialReference, in 2 parts "
            "separated by dots; got 3",
        ),
        (
            "urn:epc:id:sgtin:0614141.812345.123456789012345678901",
            "AI (21) serial: '123456789012345678901' is too long (20 characters at most)",
        ),
        ("urn:epc:id:sgtin:0614141.812345.", "AI (21) serial has no value"),
        ("urn:epc:id:sgtin:0614141.812345.A/B", "AI (21) serial: an EPC URN writes '/' as %2F"),
        ("urn:epc:id:sgtin:0614141.812345.A?B", "AI (21) serial: an EPC URN writes '?' as %3F"),
        ("urn:epc:id:sgtin:0614141.812345.100%", "AI (21) serial: an EPC URN writes '%' as %25"),
        ("urn:epc:id:sgtin:0614141.812345.%G1", "AI (21) serial: an EPC URN writes '%' as %25"),
        (
            "urn:epc:id:sgtin:0614141.812345.A%20B",
            "AI (21) serial: A B has ' ' at position 2, not a GS1 CSET 82 character",
        ),
        ("urn:epc:class:lgtin:0614141.812345.L&1", "AI (10) lot: an EPC URN writes '&' as %26"),
        (
            f"{DL}/01/0614141123452/21/400",
            "a Digital Link path carries the GTIN as 14 digits, 00614141123452 rather than "
            "0614141123452",
        ),
        (f"{DL}/01/806141411234580/21/400", "is too long (14 characters at most)"),
        (f"{DL}/00/10614141234567890", "is too short"),
        (f"{DL}/01/80614141123458/21/", "the path segment is empty"),
        (f"{DL}/01/80614141123458/21/A%20B", "not a GS1 CSET 82 character"),
        ("", "not a URI: EPCIS names objects by URIs such as urn:epc:id:sgtin:"),
        ("0614141812345", "not a URI"),
        ("urn:uuid:with space", "not a URI"),
    ],
)
def test_a_malformed_urn_or_digital_link_is_refused_with_a_message_to_act_on(
    text: str, wanted: str
) -> None:
    said = message(text)
    assert said.startswith(f"{text or chr(34) * 2}: ")
    assert wanted in said


def test_the_messages_are_translatable() -> None:
    with pytest.raises(IdentifierError) as caught:
        parse_epc("urn:epc:id:sgtin:0614141.12345.400")
    said = caught.value.reason
    assert isinstance(said, Translatable)
    catalogue = persian_catalogue()
    persian = said.render(lambda template: catalogue.get(template, template))
    assert "پیشوند شرکت و" in persian and "مرجع کالا" in persian


@pytest.mark.parametrize(
    "text",
    [
        "urn:uuid:9f5b2c7e-1d3a-4c55-8a7e-0b1c2d3e4f50",
        "urn:epc:id:gdti:0614141.12345.006847",
        "urn:epc:id:sgtin-96:3.0614141.812345.6789",
        "urn:epc:idpat:sgtin:0614141.*.*",
        "urn:example:desadv:123",
        "https://example.com/products/aspirin",
        "https://example.com/01",
        f"{DL}/253/{with_check_digit('061414112345')}006847",
        f"{DL}/01/80614141123458/235/TPX1",
        "https://example.com/",
        "mailto:someone@example.com",
    ],
)
def test_other_uris_are_identifiers_of_kind_other_kept_as_they_came(text: str) -> None:
    identifier = parse_epc(text)
    assert identifier == Identifier(kind="other", text=text)
    assert to_digital_link(identifier) == text
    assert to_urn(identifier, KNOWN) == text
    for fmt in EPCFormat:
        assert render(text, fmt, KNOWN) == text


def test_the_register_s_company_prefixes_set_the_urn_s_split_and_else_the_rule_of_thumb() -> None:
    lengths = company_prefix_length(["62600099", "6260012"])
    assert lengths("6260009991011") == 8
    assert lengths("6260012000017") == 7
    assert lengths("4012345000009") == 7 == rule_of_thumb("4012345000009")
    assert rule_of_thumb("0000012345670") == 12  # a GTIN-8, as the register holds them
    pack = Identifier(kind="sgtin", gtin="06260009991011", serial="S1")
    assert to_urn(pack, lengths) == "urn:epc:id:sgtin:62600099.09101.S1"
    assert to_urn(pack, rule_of_thumb) == "urn:epc:id:sgtin:6260009.099101.S1"
    gtin8 = Identifier(kind="sgtin", gtin="00000012345670", serial="S1")
    assert to_urn(gtin8, rule_of_thumb) == "urn:epc:id:sgtin:000001234567.0.S1"
    assert parse_epc(to_urn(gtin8, rule_of_thumb)).gtin == "00000012345670"
    case = Identifier(kind="sscc", sscc=with_check_digit("06260009999000001"))
    assert to_urn(case, lengths) == "urn:epc:id:sscc:62600099.099000001"
    place = Identifier(kind="sgln", gln=with_check_digit("626000999901"))
    assert to_urn(place, lengths) == "urn:epc:id:sgln:62600099.9901.0"


def test_a_company_prefix_length_that_does_not_fit_the_key_is_refused() -> None:
    identifier = parse_epc("urn:epc:id:giai:0614141.A1")
    with pytest.raises(IdentifierError, match="a company prefix of 12 digits does not fit"):
        to_urn(identifier, lambda key: 12)
    with pytest.raises(IdentifierError, match="a company prefix of 3 digits does not fit"):
        to_urn(parse_epc(f"{DL}/01/80614141123458/21/6789"), lambda key: 3)


def test_gs1_epc_format_header_values_and_its_default() -> None:
    assert EPCFormat.from_header(None) is EPCFormat.ALWAYS_GS1_DIGITAL_LINK
    assert EPCFormat.from_header("") is EPCFormat.ALWAYS_GS1_DIGITAL_LINK
    for value in ("No_Preference", "Always_GS1_Digital_Link", "Always_EPC_URN", "Never_Translates"):
        assert EPCFormat.from_header(value).value == value
    assert EPCFormat.from_header(" always_epc_urn ") is EPCFormat.ALWAYS_EPC_URN
    with pytest.raises(ValueError, match="GS1-EPC-Format: 'URN' is none of No_Preference, "):
        EPCFormat.from_header("URN")


def test_answers_translate_only_what_is_in_the_other_form() -> None:
    urn = "urn:epc:id:sgtin:0614141.812345.A%2FB"
    canonical = f"{DL}/01/80614141123458/21/A%2FB"
    own_host = "https://example.com/stem/01/80614141123458/21/A%2FB?17=281231"
    assert render(urn, EPCFormat.ALWAYS_GS1_DIGITAL_LINK, KNOWN) == canonical
    assert render(urn, EPCFormat.ALWAYS_EPC_URN, KNOWN) == urn
    assert render(own_host, EPCFormat.ALWAYS_GS1_DIGITAL_LINK, KNOWN) == own_host
    assert render(own_host, EPCFormat.ALWAYS_EPC_URN, KNOWN) == urn
    assert render(canonical, EPCFormat.ALWAYS_EPC_URN, rule_of_thumb) == urn
    for kept in (EPCFormat.NO_PREFERENCE, EPCFormat.NEVER_TRANSLATES):
        assert render(urn, kept, KNOWN) == urn
        assert render(own_host, kept, KNOWN) == own_host
    for urn, digital_link, _ in ROUND_TRIPS:
        assert render(urn, EPCFormat.ALWAYS_GS1_DIGITAL_LINK, KNOWN) == digital_link
        assert render(digital_link, EPCFormat.ALWAYS_EPC_URN, KNOWN) == urn
