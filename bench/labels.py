"""Labels rendered per second into a streamed PDF, and the memory that takes.

uv run python bench/labels.py [COUNT]
"""

from __future__ import annotations

import resource
import sys
import time
from datetime import date

from app.labels.layouts import LAYOUTS
from app.labels.sheet import LabelPack, render
from app.packs.serials import new_serials


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    serials = new_serials(count)
    for symbology in ("datamatrix", "qr", "both"):
        packs = (
            LabelPack("06260009991011", serial, "AMX2601", date(2028, 3, 31),
                      "Amoxicillin 500 mg capsules", "کپسول آموکسی‌سیلین ۵۰۰ میلی‌گرم")
            for serial in serials
        )  # fmt: skip
        started = time.perf_counter()
        size = sum(len(chunk) for chunk in render(packs, LAYOUTS["a4"], symbology, "https://x.ir"))
        elapsed = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"{symbology}: {count:,} labels in {elapsed:.1f} s = {count / elapsed:,.0f} labels/s, "
            f"{size / 1e6:.0f} MB of PDF, peak RSS {peak:.0f} MB"
        )


if __name__ == "__main__":
    main()
