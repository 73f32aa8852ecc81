"""Random, unguessable serial numbers.

Serials are 12 characters drawn uniformly, by the operating system's CSPRNG (`os.urandom`), from
a 30-character alphabet without look-alikes: the digits 2-9 and the capital letters except I, O
(confused with 1 and 0) and Y, Z (swapped by German-style keyboard layouts). That is
30^12 ≈ 5.3e17 possible serials per GTIN, so with N packs of one product in circulation the
chance that a guessed serial is valid is N / 5.3e17: 1.9e-11 for ten million packs, 1.9e-10 for
a hundred million, far below the EU FMD limit of 1/10,000 and below our target of 1e-9.
"""

from __future__ import annotations

import os

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWX"
LENGTH = 12
SPACE: int = len(ALPHABET) ** LENGTH
# Bytes below this bound map uniformly onto the alphabet (bound = 8 * 30 = 240).
_BOUND = 256 - 256 % len(ALPHABET)


def guess_probability(packs_in_circulation: int) -> float:
    return float(packs_in_circulation / SPACE)


def new_serials(count: int) -> list[str]:
    """`count` fresh serials in ascending order (inserting a primary key in order is several
    times faster than in random order), distinct from each other; uniqueness against the
    register is the database's primary key."""
    import numpy as np  # a third of a second to import: loaded by the first commissioning

    symbols = np.frombuffer(ALPHABET.encode(), dtype=np.uint8)
    needed = count * LENGTH
    drawn = np.empty(0, dtype=np.uint8)
    while drawn.size < needed:
        chunk = np.frombuffer(os.urandom(int((needed - drawn.size) * 1.1) + 64), dtype=np.uint8)
        drawn = np.concatenate([drawn, chunk[chunk < _BOUND]])
    rows = np.sort(symbols[drawn[:needed] % len(ALPHABET)].view(f"S{LENGTH}"))
    if count > 1 and bool(np.any(rows[1:] == rows[:-1])):
        return new_serials(count)  # astronomically rare; draw again rather than reason about it
    text = rows.tobytes().decode("ascii")
    return [text[i : i + LENGTH] for i in range(0, needed, LENGTH)]
