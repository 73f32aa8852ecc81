"""The sound of a result, as terminal bells: none for ok (a line of packs would ring all day),
one for a warning, two for a refusal. The bells are apart so that terminals, which merge bells
rung together, sound both."""

from __future__ import annotations

import time
from collections.abc import Callable

BELLS = {"warning": 1, "refused": 2}
GAP = 0.2  # seconds between two bells


def ring(outcome: str, write: Callable[[str], object],
         pause: Callable[[float], object] = time.sleep) -> None:  # fmt: skip
    for count in range(BELLS.get(outcome, 0)):
        if count:
            pause(GAP)
        write("\a")
