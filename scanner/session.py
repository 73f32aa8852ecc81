"""A scanning session: each code seen becomes one event in the outbox (or one verification),
once. A code seen in consecutive frames counts once; seen again later in the session it is a
warning, not a new event. Events are queued before they are sent, so the scanner never waits for
the server: with the server down it keeps going and says how many are queued."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import httpx

from models.codes import GS1_DEFAULTS, ReaderConfig, read_code
from scanner.modes import CASE_MODES, MODES
from scanner.outbox import Outbox
from scanner.sender import Post, sync

Verify = Callable[[str], tuple[int, Any]]
ProductName = Callable[[str], str | None]  # GTIN -> the registered name; raises when offline


@dataclass(frozen=True)
class Feedback:
    code: str
    outcome: str  # ok | warning | refused | queued
    message: str
    product: str = ""  # the product's registered name, when the server could tell


@dataclass
class ScanSession:
    mode: str
    outbox: Outbox
    post: Post
    verify: Verify | None = None
    destination_gln: str | None = None
    cooldown: float = 2.0  # seconds a code must be out of sight before it counts as a re-scan
    clock: Callable[[], float] = time.monotonic
    online: bool = True
    product_name: ProductName | None = None
    reader: ReaderConfig = GS1_DEFAULTS  # how damaged codes are read (DARUTRACE_GS_SUBSTITUTES)
    _names: dict[str, str] = field(default_factory=dict)
    _last_seen: dict[str, float] = field(default_factory=dict)
    _counted: set[str] = field(default_factory=set)
    case: str | None = None  # pack mode: the SSCC of the case being filled

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode: one of {', '.join(MODES)}")
        if self.mode in ("ship", "return") and not self.destination_gln:
            raise ValueError(f"{self.mode} needs a destination GLN")

    def see(self, codes: Iterable[str]) -> list[Feedback]:
        """The codes decoded in one frame (or typed once); feedback for the new ones."""
        now = self.clock()
        feedback = []
        for text in codes:
            last = self._last_seen.get(text)
            self._last_seen[text] = now
            if last is not None and now - last < self.cooldown:
                continue  # the same code in consecutive frames
            feedback.append(self._scan(text))
        return feedback

    def _scan(self, text: str) -> Feedback:
        read = read_code(text, self.reader)
        if not read.ok:
            return Feedback(text, "refused", f"cannot read the code: {read.error}")
        if read.sscc is not None and read.gtin is None:
            case = self._case(text, read.sscc)
            if case is not None:
                return case
        elif self.mode == "pack" and self.case is None:
            return Feedback(text, "refused", "scan the case's SSCC label first, then its packs")
        key = f"{read.gtin}/{read.serial or read.sscc}"
        if key in self._counted:
            return Feedback(text, "warning", "already scanned in this session; not counted again")
        self._counted.add(key)
        if self.mode == "verify":
            return self._verify(text)
        payload: dict[str, Any] = {"action": self.mode, "codes": [text], "offline": not self.online}
        if self.mode == "pack":
            payload["container"] = f"(00){self.case}"
        if self.destination_gln:
            payload["destination_gln"] = self.destination_gln
        event_id = self.outbox.enqueue(payload)
        return replace(self._send(text, event_id), product=self._name(read.gtin))

    def _case(self, text: str, sscc: str) -> Feedback | None:
        """A case's SSCC label: in pack mode it opens the case to fill; in receive, ship and
        return it moves the whole case (None: send it like any code); elsewhere it is refused."""
        if self.mode == "pack":
            self.case = sscc
            return Feedback(text, "ok", f"case {sscc} open: scan its packs")
        if self.mode in CASE_MODES:
            return None
        return Feedback(
            text, "refused", f"a case cannot be scanned in {self.mode} mode; scan its packs"
        )

    def _name(self, gtin: str | None) -> str:
        """The product's name, asked once per GTIN and never while offline (no scan waits on
        a server that is down)."""
        if gtin is None or self.product_name is None or not self.online:
            return ""
        if gtin not in self._names:
            try:
                self._names[gtin] = self.product_name(gtin) or ""
            except httpx.TransportError:
                return ""
        return self._names[gtin]

    def _send(self, text: str, event_id: str) -> Feedback:
        result = sync(self.outbox, self.post)
        self.online = result.online
        if not result.online:
            return Feedback(text, "queued", f"offline — {result.remaining} queued")
        answer = self.outbox.answer(event_id)
        if answer is None:
            return Feedback(text, "queued", f"{result.remaining} queued")
        status, body = answer
        results = body.get("results") if isinstance(body, dict) else None
        if results:
            first = results[0]
            if first.get("sscc") and "packs" in first:
                summary = first.get("summary") or {}
                counts = ", ".join(f"{n} {outcome}" for outcome, n in summary.items() if n)
                message = f"case {first['sscc']}: {first['packs']} packs ({counts or 'none'})"
                if first["reason"]:
                    message += f"; {first['reason']}"
                return Feedback(text, first["outcome"], message)
            return Feedback(text, first["outcome"], first["reason"] or first["status"] or "")
        return Feedback(text, "refused", str(body.get("detail", status)))

    def _verify(self, text: str) -> Feedback:
        if self.verify is None:
            return Feedback(text, "warning", "verification needs the server")
        try:
            status, body = self.verify(text)
        except httpx.TransportError:
            return Feedback(text, "warning", "offline: cannot verify now")
        if status != 200:
            return Feedback(text, "refused", str(body.get("detail", status)))
        outcome = "ok" if body["status"] == "active" and not body["reason"] else "warning"
        name = (body.get("product") or {}).get("name", "")
        return Feedback(text, outcome, f"{body['status']} {body['reason']}".strip(), name)
