"""The reader agrees with GS1's reference behaviour: the documented examples of the GS1 Barcode
Syntax Engine's unit tests (src/c-lib/ai.c and dl.c, gs1/gs1-syntax-engine@50657db), read
through models.gs1_syntax (the syntax of AI data alone) and read_code (what a user sees).

Where the engine has an option, the reader takes the setting the issue asks for: convenience
alphas are read, a zero-suppressed GTIN in a Digital Link path is refused, unknown AIs are
refused; an upper- or lower-case scheme is read (the engine reads `https` and `HTTPS` only)."""

import pytest

from models.codes import read_code
from models.gs1_syntax import (
    GS,
    NAMES,
    GS1DataError,
    check_associations,
    compose,
    parse_bracketed,
    parse_element_string,
)
from models.gs1_syntax.dictionary import AIS, KEY_PATHS
from models.gs1_syntax.linters import CHARSET_LINTERS, LINTERS

# test_ai_processAIdata: "^" is FNC1 (GS between fields).
ELEMENT_STRINGS = [
    (False, "^"),  # FNC1 but no AI data
    (False, "^891234"),  # no such AI
    (True, "^991234"),
    (False, "^99~ABC"),  # not CSET 82
    (False, "^99ABC~"),
    (True, "^0112345678901231"),
    (False, "^01A2345678901231"),
    (False, "^011234567890123A"),
    (False, "^0112345678901234"),  # wrong check digit
    (False, "^011234567890123"),  # too short
    (False, "^01123456789012312"),  # no AI "2" after the fixed-length GTIN
    (True, "^0112345678901231^"),  # a superfluous FNC1 is tolerated
    (False, "^011234567890123^"),
    (False, "^01123456789012345^"),
    (False, "^01123456789012345^991234"),
    (True, "^0112345678901231991234"),
    (True, "^0112345678901231^991234"),
    (True, "^2421"),
    (True, "^242123456"),
    (True, "^242123456^10ABC123"),
    (True, "^242123456^"),
    (False, "^2421234567"),  # too long
    (True, "^81111234"),
    (False, "^8111123"),
    (False, "^811112345"),
    (True, "^81111234^10ABC123"),
    (True, "^800112341234512398"),
    (False, "^80011234123451239"),
    (False, "^8001123412345123981"),
    (True, "^800112341234512398^0112345678901231"),
    (True, "^7007211225211231"),  # N6 [N6]
    (True, "^7007211225"),  # without the optional component
    (False, "^70072112252"),
    (False, "^700721122521"),
    (False, "^70072112252212311"),
    (True, "^800302112345678900ABC"),
    (False, "^800302112345678901ABC"),  # check digit of the N13 component
    (True, "^800302112345678900"),
    (True, "^800302112345678900ABCDEFGHIJKLMNOP"),
    (False, "^800302112345678900ABCDEFGHIJKLMNOPQ"),
    (True, "^7230121234567890123456789012345678"),
    (False, "^72301212345678901234567890123456789"),
    (True, "^7230123"),
    (False, "^723012"),
    (True, "^235ABCDEFGHIJKLMNOPQRSTUVWXYZ12"),
    (False, "^235ABCDEFGHIJKLMNOPQRSTUVWXYZ123"),
    (True, "^0112345678901231235XYZ^10BATCH"),
    (False, "^423"),
    (False, "^4235"),
    (True, "^423528"),
    (False, "^4235285"),
    (True, "^423528528"),
    (True, "^423528528528528528"),
    (False, "^4235285285285285285"),
    (True, "^99" + "A" * 90),
    (False, "^99" + "A" * 91),
]


@pytest.mark.parametrize(("valid", "data"), ELEMENT_STRINGS)
def test_element_strings_as_the_syntax_engine_reads_them(valid: bool, data: str) -> None:
    body = data.removeprefix("^").replace("^", GS)
    if valid:
        assert parse_element_string(body)
    else:
        with pytest.raises(GS1DataError):
            parse_element_string(body)


# test_ai_validateAIs (the cases over known AIs): repeats, `ex=`, `req=`, AI 8030's key.
ASSOCIATIONS = [
    (True, "(400)ABC(400)ABC"),
    (True, "(400)ABC(99)DEF(400)ABC"),
    (False, "(400)ABC(400)AB"),
    (False, "(400)ABC(99)DEF(400)XYZ"),
    (False, "(01)12345678901231(02)12345678901231"),
    (False, "(01)12345678901231(255)5412345000150"),
    (False, "(01)12345678901231(37)123"),
    (False, "(21)ABC123(235)XYZ"),
    (False, "(3940)1234(8111)9999"),
    (False, "(3940)1234(3941)9999"),  # "394n", itself excepted
    (False, "(02)12345678901231"),
    (False, "(02)12345678901231(37)123"),
    (True, "(02)12345678901231(37)123(00)123456789012345675"),
    (True, "(91)XXX(02)12345678901231(92)YYY(37)123(93)ZZZ(00)123456789012345675"),
    (False, "(21)ABC123"),
    (True, "(21)ABC123(01)12345678901231"),
    (True, "(21)ABC123(8006)123456789012310510"),
    (False, "(01)12345678901231(250)ABC123"),
    (True, "(01)12345678901231(21)XYZ999(250)ABC123"),
    (False, "(01)12345678901231(3925)12599"),
    (True, "(01)12345678901231(3925)12599(30)123"),
    (True, "(01)12345678901231(3925)12599(3105)654321"),
    (True, "(01)12345678901231(3925)12599(3695)654321"),
    (False, "(8030)DIGSIG"),
    (True, "(8030)DIGSIG(00)123456789012345675"),
    (False, "(8030)DIGSIG(01)12345678901231"),
    (True, "(8030)DIGSIG(01)12345678901231(21)ABC123"),
    (True, "(8030)DIGSIG(253)1234567890128X"),
    (False, "(8030)DIGSIG(8006)123456789012310102"),
    (True, "(8030)DIGSIG(8010)1234567890(8011)123456789012"),
    (True, "(8030)DIGSIG(8018)123456789012345675"),
    (False, "(253)1234567890128(8030)ABC123"),  # a signature needs the serialised GDTI
    (True, "(255)12345678901280(8030)ABC123"),
    (False, "(8003)01234567890128(8030)ABC123"),
]


@pytest.mark.parametrize(("valid", "data"), ASSOCIATIONS)
def test_rules_between_ais_as_the_syntax_engine_applies_them(valid: bool, data: str) -> None:
    if valid:
        check_associations(parse_bracketed(data))
        assert read_code(data).ok, read_code(data).error
    else:
        with pytest.raises(GS1DataError):
            check_associations(parse_bracketed(data))
        assert not read_code(data).ok


# test_dl_parseDLuri: the URI and the element string it carries ("" when it is refused).
DIGITAL_LINKS = [
    ("http://a/00/006141411234567890", "^00006141411234567890"),
    ("HTTPS://a/00/006141411234567890", "^00006141411234567890"),
    ("https://00/006141411234567890", ""),  # no host
    ("http://a/", ""),
    ("http://a/b/", ""),
    ("https://a/01/12312312312333", "^0112312312312333"),
    ("https://a:65535/01/12312312312333", "^0112312312312333"),
    ("https://[2001:db8::1]/01/12312312312333", "^0112312312312333"),
    ("https://[fe80::1%25lo]/01/12312312312333", ""),
    ("https://$a/006141411234567890", ""),
    ("https://a/01/12312312312333<bad", ""),
    ("https://a/01/12312312312333^bad", ""),
    ("https://a/more/stem/00/006141411234567890", "^00006141411234567890"),
    ("https://a/00/faux/00/006141411234567890", "^00006141411234567890"),
    ("https://a/gtin/12312312312333/ser/ABC123", "^011231231231233321ABC123"),
    ("https://a/sscc/006141411234567890", "^00006141411234567890"),
    ("https://a/zzz/12312312312333", ""),
    ("https://a/cps/12312312312333", ""),
    ("https://a/01/2112345678900", ""),  # a GTIN in the path is 14 digits
    ("https://a/01/416000336108", ""),
    ("https://a/01/02345673", ""),
    ("https://a/01/12312312312333/22/TEST/10/ABC/21/XYZ", "^011231231231233322TEST^10ABC^21XYZ"),
    ("https://a/01/12312312312333/235/TEST", "^0112312312312333235TEST"),
    ("https://a/253/1231231231232TEST5678901234567", "^2531231231231232TEST5678901234567"),
    ("https://a/253/1231231231232TEST56789012345678", ""),
    ("https://a/8018/123456789012345675/8019/123", "^8018123456789012345675^8019123"),
    ("https://a/stem/00/006141411234567890/", ""),
    ("https://a/stem/00/006141411234567890?", "^00006141411234567890"),
    ("https://a/stem/00/006141411234567890?99=ABC", "^0000614141123456789099ABC"),
    ("https://a/stem/401/12345678?99=ABC", "^40112345678^99ABC"),
    ("https://a/01/12312312312333?99=", ""),  # an empty query value
    ("https://a/01/12312312312333?99=ABC&999=faux", ""),  # a numeric parameter that is no AI
    ("https://a/01/12312312312333?&&&99=ABC&&&&&&98=XYZ&&&", "^011231231231233399ABC^98XYZ"),
    (
        "https://a/01/12312312312333?singleton1&unknown1=555&99=ABC&98=XYZ&singleton3",
        "^011231231231233399ABC^98XYZ",
    ),
    (
        "https://a/01/12312312312333/22/ABC%2d123?99=ABC&98=XYZ%2f987",
        "^011231231231233322ABC-123^99ABC^98XYZ/987",
    ),
    ("https://a/01/12312312312333/22/ABC+123?99=ABC", "^011231231231233322ABC+123^99ABC"),
    ("https://a/01/12312312312333/22/ABC%2d123?99=ABC&98=XYZ+987", ""),  # "+" is " " in a query
    (
        "https://a/01/12312312312333/22/test/10/abc/21/xyz#fragment",
        "^011231231231233322test^10abc^21xyz",
    ),
    (
        "https://id.gs1.org/01/09520123456788/10/ABC1/21/12345?17=180426",
        "^010952012345678810ABC1^2112345^17180426",
    ),
    ("https://id.gs1.org/01/09520123456788?3103=000195", "^01095201234567883103000195"),
    (
        "https://example.com/01/09520123456788?3103=000195&3922=0299&17=201225",
        "^0109520123456788310300019539220299^17201225",
    ),
    (
        "https://id.gs1.org/00/952012345678912345?02=09520123456788&37=25&10=ABC123",
        "^0095201234567891234502095201234567883725^10ABC123",
    ),
    ("https://id.gs1.org/414/9520123456788/254/32a%2Fb", "^414952012345678825432a/b"),
    (
        "https://example.com/8004/9520614141234567?01=09520123456788",
        "^80049520614141234567^0109520123456788",
    ),
    ("https://example.com/01/09520123456788?10=ABC123", ""),  # a key qualifier in the query
    ("https://id.gs1.org/01/09520123456788/235/XYZ?10=ABC123", "^0109520123456788235XYZ^10ABC123"),
    ("https://id.gs1.org/01/09520123456788/10/ABC123?99=XYZ789&01=09520123456788", ""),
    ("https://id.gs1.org/01/09520123456788/10/ABC123?99=XYZ789&99=XYZ789", ""),
    ("https://example.com/01/09520123456788/89/ABC123?99=XYZ", ""),
    ("https://example.com/01/09520123456788?99=XYZ&89=ABC123", ""),  # an unknown AI
    ("https://a/01//12312312312333", ""),
    ("https://a/01/1231231231233%003", ""),  # an encoded NUL
    ("https://a/01/12312312312333?99=ABC%00DEF", ""),
    ("https://a/01/12312312312333/10/", ""),
    ("https://a/01/12312312312333/99/ABC", ""),  # no key-qualifier path
]


@pytest.mark.parametrize(("uri", "element_string"), DIGITAL_LINKS)
def test_digital_links_as_the_syntax_engine_reads_them(uri: str, element_string: str) -> None:
    result = read_code(uri)
    if element_string:
        assert result.ok, result.error
        expected = element_string.removeprefix("^").replace("^", GS)
        assert compose(list(result.ais.items())) == expected
    else:
        assert not result.ok
        assert result.error


def test_the_dictionary_is_read_whole() -> None:
    assert len(AIS) > 500  # ranges such as 3100-3105 and 91-99 expanded
    assert NAMES.keys() <= AIS.keys()
    assert {"7230", "8030", "4300", "4333", "8111", "7040", "8200", "717"} <= AIS.keys()
    assert not AIS["01"].separator and AIS["21"].separator
    assert AIS["17"].components[0].linters == ("yymmd0",)
    assert ("01", "22", "10", "21") in KEY_PATHS and ("01", "10", "22") not in KEY_PATHS
    assert ("01", "235") in KEY_PATHS and ("01", "22", "235") not in KEY_PATHS


# The linters' own unit tests (src/c-lib/syntax/lint_*.c), the cases over values a component
# can hold (its character set checked first).
LINTER_CASES = [
    ("csumalpha", "22", True),
    ("csumalpha", "33", False),
    ("csumalpha", "!22", True),
    ("csumalpha", "1987654Ad4X4bL5ttr2310c2K", True),
    ("csumalpha", "1987654Ad4X4bL5ttr2310cXK", False),
    ("csumalpha", "12345678901234567890123NT", True),
    ("csumalpha", "12345_abcdefghijklmN3", True),
    ("iban", "FR7630006000011234567890189", True),
    ("iban", "MU43BOMM0101123456789101000MUR", True),
    ("iban", "BE71096123456769", True),
    ("iban", "BE71096123456760", False),
    ("yymmd0", "200131", True),
    ("yymmd0", "200100", True),
    ("yymmd0", "200230", False),
    ("yymmdd", "200100", False),
    ("yymmdd", "990606", True),
    ("iso3166", "004", True),
    ("iso3166", "999", False),
    ("iso3166", "003", False),
    ("iso3166999", "999", True),
    ("iso4217", "978", True),
    ("iso4217", "005", False),
    ("iso3166alpha2", "AD", True),
    ("iso3166alpha2", "AH", False),
    ("pieceoftotal", "0203", True),
    ("pieceoftotal", "0302", False),
    ("pieceoftotal", "0003", False),
    ("posinseqslash", "9/10", True),
    ("posinseqslash", "10/9", False),
    ("posinseqslash", "01/9", False),
    ("cset64", "12=", True),
    ("cset64", "123=", False),
    ("pcenc", "ABC%20", True),
    ("pcenc", "%fg", False),
    ("latitude", "1800000000", True),
    ("latitude", "1800000001", False),
]


@pytest.mark.parametrize(("name", "value", "valid"), LINTER_CASES)
def test_linters_as_the_syntax_engine_defines_them(name: str, value: str, valid: bool) -> None:
    linter = CHARSET_LINTERS["Z"] if name == "cset64" else LINTERS[name]
    problem = linter(value)
    assert (problem is None) == valid, problem
