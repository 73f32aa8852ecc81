"""What a scan's result says to the person at the scanner, the same in a live session and in
`scan sync`: the pack as people read it (product, serial, lot, expiry — never the raw element
string with its GS bytes) and what happened to it ("shipped to …", "received from …",
"dispensed"), or why not."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from models.codes import ReadCode, ReaderConfig, read_code
from scanner.sender import problem_detail

Lookup = Callable[[str], str | None]  # a GTIN or GLN -> its name; raises when offline
# What an accepted scan did, by action; {} is where the packs went.
HAPPENED = {
    "receive": "received",
    "ship": "shipped to {}",
    "return": "returned to {}",
    "dispense": "dispensed",
    "destroy": "destroyed",
    "pack": "packed into case {}",
}


@dataclass(frozen=True)
class Feedback:
    code: str  # the text as scanned: the key of the code's outline in the preview
    outcome: str  # ok | warning | refused | queued
    message: str
    product: str = ""  # the product's registered name, when the server could tell
    subject: str = ""  # what was scanned, as people read it

    def line(self) -> str:
        return f"{self.outcome:8} {self.subject or repr(self.code)}  {self.message}"


def subject(read: ReadCode, product: str = "") -> str:
    """A code as people read it: `Cetirizine 10 mg  SN 4KP7  LOT CTZ9  EXP 2028-12-31`, or
    `case 0626…` for a case's SSCC."""
    if not read.ok:
        return repr(read.input)
    if read.gtin is None:
        return f"{read.kind} {read.sscc or read.gln}"
    parts = [product or f"GTIN {read.gtin}"]
    if read.serial:
        parts.append(f"SN {read.serial}")
    if read.lot:
        parts.append(f"LOT {read.lot}")
    if read.expiry:
        parts.append(f"EXP {read.expiry.isoformat()}")
    return "  ".join(parts)


@dataclass
class Names:
    """Product and site names from the server, each asked once, and never while offline (no
    scan waits on a server that is down)."""

    products: Lookup | None = None
    sites: Lookup | None = None
    online: bool = True
    _known: dict[str, str] = field(default_factory=dict)

    def product(self, gtin: str | None) -> str:
        return self._name(self.products, gtin)

    def site(self, gln: str) -> str:
        name = self._name(self.sites, gln)
        return f"{name} (GLN {gln})" if name else f"GLN {gln}"

    def _name(self, lookup: Lookup | None, key: str | None) -> str:
        if key is None or lookup is None or not self.online:
            return ""
        if key not in self._known:
            try:
                self._known[key] = lookup(key) or ""
            except httpx.TransportError:
                return ""
        return self._known[key]


def event_feedback(
    payload: dict[str, Any], status: int, body: Any, names: Names, reader: ReaderConfig
) -> list[Feedback]:
    """The server's answer to one event: a line per scanned pack or case, and for a case a line
    per pack in it that was not simply ok."""
    results = body.get("results") if isinstance(body, dict) else None
    if not results:  # the event itself was refused (invalid, say): every code with the reason
        reason = problem_detail(body, status)
        return [
            _feedback(code, "refused", reason, names, reader) for code in payload.get("codes", [])
        ]
    happened = _happened(payload, body, names)
    feedback = []
    for result in results:
        feedback.append(_result_feedback(result, happened, names, reader))
        feedback += [
            _result_feedback(issue, happened, names, reader) for issue in result.get("issues", [])
        ]
    return feedback


def _result_feedback(
    result: dict[str, Any], happened: str, names: Names, reader: ReaderConfig
) -> Feedback:
    outcome, reason = result["outcome"], result.get("reason") or ""
    if sender := result.get("received_from"):  # a shipment addressed here: its sender
        happened = f"received from {sender['name']} (GLN {sender['gln']})"
    if result.get("sscc") and "packs" in result:
        counts = ", ".join(f"{n} {each}" for each, n in (result.get("summary") or {}).items() if n)
        if outcome == "refused":
            message = f"{reason}: {result['packs']} packs"
        else:  # the case moved, with its packs
            message = f"{happened}: {result['packs']} packs ({counts or 'none'})"
            message += f"; {reason}" if reason else ""
    elif outcome == "ok":
        message = f"{happened}; {reason}" if reason else happened
    else:
        message = reason or result.get("status") or outcome
    return _feedback(result["code"], outcome, message, names, reader)


def _feedback(
    code: str, outcome: str, message: str, names: Names, reader: ReaderConfig
) -> Feedback:
    read = read_code(code, reader)
    product = names.product(read.gtin) if read.ok else ""
    return Feedback(code, outcome, message, product, subject(read, product))


def _happened(payload: dict[str, Any], body: dict[str, Any], names: Names) -> str:
    action = str(body.get("action") or payload.get("action"))
    where = ""
    if destination := body.get("destination_gln"):
        where = names.site(str(destination))
    elif container := payload.get("container"):
        where = str(container).removeprefix("(00)")
    return HAPPENED.get(action, action).format(where)
