"""Codes read per second by the shared reader, per form (clean and damaged).

uv run python bench/codes.py [COUNT]
"""

from __future__ import annotations

import sys
import time

from app.packs.serials import new_serials
from models.codes import read_code

GTIN = "06260009991011"


def forms(serial: str) -> dict[str, str]:
    return {
        "element string with GS": f"]d201{GTIN}17280331\x1d10AMX2601\x1d21{serial}",
        "bracketed (HRI)": f"(01){GTIN}(17)280331(10)AMX2601(21){serial}",
        "Digital Link URI": f"https://id.example.ir/01/{GTIN}/10/AMX2601/21/{serial}?17=280331",
        "lost GS (repaired)": f"01{GTIN}1728033110AMX260121{serial}",
        "Persian digits + '^' for GS": f"۰۱{GTIN}17280331^10AMX2601^21{serial}",
    }


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    serials = new_serials(count)
    for name in forms(serials[0]):
        codes = [forms(serial)[name] for serial in serials]
        started = time.perf_counter()
        results = [read_code(code) for code in codes]
        elapsed = time.perf_counter() - started
        assert all(r.ok and r.serial for r in results), name
        print(f"{name}: {count / elapsed:,.0f} codes/s ({elapsed / count * 1e6:.0f} µs a code)")


if __name__ == "__main__":
    main()
