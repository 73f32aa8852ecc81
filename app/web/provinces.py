"""Iran's 31 provinces (ostan): the English name the map's features carry, the Persian name, and
`province()`, which finds the province a free-text name means. Facilities carry their province as
typed, in either language and in any of the common transliterations; the dashboards count per
province, so every spelling has to land on one entry."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class Province:
    name: str  # English, exactly as the `name` of the feature in iran-provinces.json
    name_fa: str
    aliases: tuple[str, ...] = ()  # other spellings, besides variants of case, spacing and order


PROVINCES: tuple[Province, ...] = (
    Province("Alborz", "البرز"),
    Province("Ardabil", "اردبیل", ("Ardebil",)),
    Province("Bushehr", "بوشهر", ("Bushire", "Busher")),
    Province(
        "Chaharmahal and Bakhtiari",
        "چهارمحال و بختیاری",
        (
            "Chahar Mahall and Bakhtiari",
            "Chaharmahal va Bakhtiyari",
            "Chahar Mahal and Bakhtiari",
            "چهار محال و بختیاری",
        ),
    ),
    Province(
        "East Azerbaijan",
        "آذربایجان شرقی",
        ("East Azarbaijan", "Azarbaijan-e Sharqi", "Azarbayjan-e Sharqi", "East Azarbayejan"),
    ),
    Province("Fars", "فارس", ("Pars",)),
    Province("Gilan", "گیلان", ("Guilan",)),
    Province("Golestan", "گلستان"),
    Province("Hamadan", "همدان", ("Hamedan",)),
    Province("Hormozgan", "هرمزگان"),
    Province("Ilam", "ایلام"),
    Province("Isfahan", "اصفهان", ("Esfahan", "Ispahan")),
    Province("Kerman", "کرمان"),
    Province("Kermanshah", "کرمانشاه", ("Kermanshahan", "Bakhtaran")),
    Province("Khuzestan", "خوزستان", ("Khuzistan",)),
    Province(
        "Kohgiluyeh and Boyer-Ahmad",
        "کهگیلویه و بویراحمد",
        (
            "Kohgiluyeh and Buyer Ahmad",
            "Kohgiluyeh va Boyer-Ahmad",
            "Kohkiluyeh and Boyer-Ahmad",
            "کهگیلویه و بویر احمد",
        ),
    ),
    Province("Kurdistan", "کردستان", ("Kordestan", "Kurdestan")),
    Province("Lorestan", "لرستان", ("Luristan", "Lurestan")),
    Province("Markazi", "مرکزی"),
    Province("Mazandaran", "مازندران", ("Mazanderan",)),
    Province("North Khorasan", "خراسان شمالی", ("Khorasan-e Shomali", "Khorasan-e Shemali")),
    Province("Qazvin", "قزوین", ("Ghazvin",)),
    Province("Qom", "قم", ("Ghom",)),
    Province("Razavi Khorasan", "خراسان رضوی", ("Khorasan-e Razavi",)),
    Province("Semnan", "سمنان"),
    Province(
        "Sistan and Baluchestan",
        "سیستان و بلوچستان",
        ("Sistan va Baluchestan", "Sistan and Baluchistan", "Seistan and Baluchistan"),
    ),
    Province("South Khorasan", "خراسان جنوبی", ("Khorasan-e Jonubi", "Khorasan-e Janubi")),
    Province("Tehran", "تهران", ("Teheran",)),
    Province(
        "West Azerbaijan",
        "آذربایجان غربی",
        ("West Azarbaijan", "Azarbaijan-e Gharbi", "Azarbayjan-e Gharbi", "West Azarbayejan"),
    ),
    Province("Yazd", "یزد"),
    Province("Zanjan", "زنجان"),
)

# Words that only say "province" or join two names: "Ostan-e Fars", "Sistan va Baluchestan",
# "استان تهران" and "Sistan and Baluchestan" all mean the same as the bare names.
_FILLER = frozenset({"province", "ostan", "e", "and", "va", "of", "استان", "و"})
_PERSIAN_LETTERS = str.maketrans(
    {"ي": "ی", "ى": "ی", "ك": "ک", "ة": "ه", "آ": "ا", "أ": "ا", "إ": "ا"}
)
_NOT_A_WORD = re.compile(r"[\W_]+")


def _key(name: str) -> str:
    """The words of a name without accents, case, filler or order: "Khorasan-e Razavi",
    "razavi  KHORASAN" and "Razavi Khorasan Province" share one key."""
    folded = unicodedata.normalize("NFKD", name.translate(_PERSIAN_LETTERS).casefold())
    plain = "".join(c for c in folded if not unicodedata.combining(c))
    words = {w for w in _NOT_A_WORD.split(plain) if w and w not in _FILLER}
    return " ".join(sorted(words))


def _index() -> dict[str, Province]:
    index: dict[str, Province] = {}
    for entry in PROVINCES:
        for spelling in (entry.name, entry.name_fa, *entry.aliases):
            key = _key(spelling)
            if index.setdefault(key, entry) is not entry:
                raise ValueError(f"{spelling!r} names both {index[key].name} and {entry.name}")
    return index


_BY_KEY = _index()


def province(name: str) -> Province | None:
    """The province `name` means, in English or Persian, or None when it names none."""
    return _BY_KEY.get(_key(name))
