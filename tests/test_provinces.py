"""The province list and its name matching, against the demo facilities and the vendored map."""

import json
from pathlib import Path

import pytest

from app.demo import WORLD
from app.web.provinces import PROVINCES, province

MAP = Path("app/web/static/vendor/iran-provinces/iran-provinces.json")


def test_all_31_provinces_are_listed_once() -> None:
    assert len(PROVINCES) == 31
    assert len({p.name for p in PROVINCES}) == 31
    assert len({p.name_fa for p in PROVINCES}) == 31


def test_every_demo_facility_province_maps() -> None:
    facilities = [f for org in WORLD for f in org.facilities]
    assert facilities
    for facility in facilities:
        assert province(facility.province) is not None, facility


def test_the_map_has_one_feature_per_province_named_as_the_list_names_it() -> None:
    features = json.loads(MAP.read_text(encoding="utf-8"))["features"]
    names = [f["properties"]["name"] for f in features]
    assert sorted(names) == sorted(p.name for p in PROVINCES)
    for feature in features:
        entry = province(feature["properties"]["name"])
        assert entry is not None
        assert entry.name == feature["properties"]["name"]
        assert entry.name_fa == feature["properties"]["name_fa"]


def test_each_persian_name_maps_to_its_own_province() -> None:
    for entry in PROVINCES:
        assert province(entry.name_fa) is entry
        assert province(f"استان {entry.name_fa}") is entry


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Tehran", "Tehran"),
        ("  tehran ", "Tehran"),
        ("TEHRAN PROVINCE", "Tehran"),
        ("Isfahan", "Isfahan"),
        ("Esfahan", "Isfahan"),
        ("Khorasan Razavi", "Razavi Khorasan"),
        ("Khorasan-e Razavi", "Razavi Khorasan"),
        ("razavi  khorasan", "Razavi Khorasan"),
        ("Fars", "Fars"),
        ("Kohgiluyeh & Boyer-Ahmad", "Kohgiluyeh and Boyer-Ahmad"),
        ("Sistan va Baluchestan", "Sistan and Baluchestan"),
        ("Azarbaijan-e Gharbi", "West Azerbaijan"),
        ("Kordestan", "Kurdistan"),
        ("خراسان\u200cرضوی", "Razavi Khorasan"),  # joined with a zero-width non-joiner
        ("خراسان رضوي", "Razavi Khorasan"),  # Arabic yeh
        ("اذربایجان شرقی", "East Azerbaijan"),  # alef without madda
        ("کهگیلویه و بویر احمد", "Kohgiluyeh and Boyer-Ahmad"),
    ],
)
def test_spelling_variants_map_to_the_canonical_entry(typed: str, expected: str) -> None:
    found = province(typed)
    assert found is not None
    assert found.name == expected


@pytest.mark.parametrize("typed", ["", "  ", "Paris", "Khorasan", "Azerbaijan", "استان"])
def test_names_of_no_single_province_map_to_none(typed: str) -> None:
    assert province(typed) is None
