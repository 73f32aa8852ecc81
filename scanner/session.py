"""A scanning session: each code seen becomes one event in the outbox (or one verification),
once. A code seen in consecutive frames counts once; seen again later in the session, or typed
again, it is a warning, not a new event. Taken out of view and shown again within the cooldown
(the person checking the scan was seen), it says so once, quietly when the first scan was ok.
Events are queued before they are sent, so the scanner never waits for the server: with the
server down it keeps going and says how many are queued. If the server refuses the scanner's
key, the session stops sending and keeps queuing."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx

from models.codes import GS1_DEFAULTS, ReadCode, ReaderConfig, read_code
from scanner.modes import CASE_MODES, MODES
from scanner.outbox import Outbox
from scanner.results import Feedback, Names, event_feedback, subject
from scanner.sender import KeyRefused, Post, sync

Verify = Callable[[str], tuple[int, Any]]
# A code missing from the frames for less than this is decode flicker (at 30 frames a second a
# frame or two is under 0.1 s), not a pack taken away: no line. Gone longer, a pack shown again
# within the cooldown is told it was already scanned, so the person knows it was seen.
OUT_OF_SIGHT = 0.4  # seconds
QUIET_REPEATS = frozenset({"ok", "queued"})  # first results whose repeat rings no bell


@dataclass
class ScanSession:
    mode: str
    outbox: Outbox
    post: Post
    key_id: str  # the fingerprint of the key every event of this session is captured under
    facility_id: str | None = None  # the key's site, once the server has said it
    verify: Verify | None = None
    destination_gln: str | None = None
    cooldown: float = 2.0  # seconds a code must be out of sight before it counts as a re-scan
    clock: Callable[[], float] = time.monotonic
    names: Names = field(default_factory=Names)
    key_refused: KeyRefused | None = None  # once set, nothing more is sent in this session
    reader: ReaderConfig = GS1_DEFAULTS  # how damaged codes are read (DARUTRACE_GS_SUBSTITUTES)
    _last_seen: dict[str, float] = field(default_factory=dict)
    _counted: dict[str, Feedback] = field(default_factory=dict)  # each pack's first result
    case: str | None = None  # pack mode: the SSCC of the case being filled

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode: one of {', '.join(MODES)}")
        if self.mode in ("ship", "return") and not self.destination_gln:
            raise ValueError(f"{self.mode} needs a destination GLN")

    @property
    def online(self) -> bool:
        return self.names.online

    @online.setter
    def online(self, value: bool) -> None:
        self.names.online = value

    def see(self, codes: Iterable[str], at: float | None = None) -> list[Feedback]:
        """The codes decoded in one frame (`at`: its time in a recorded video, else now);
        feedback for those not in sight just before."""
        now = self.clock() if at is None else at
        feedback = []
        for text in codes:
            last = self._last_seen.get(text)
            self._last_seen[text] = now
            if last is None or now - last >= self.cooldown:
                feedback.extend(self._scan(text))
            elif now - last >= OUT_OF_SIGHT:
                feedback.extend(self._shown_again(text))
        return feedback

    def _shown_again(self, text: str) -> list[Feedback]:
        """A code back in view within the cooldown: its first result, not counted again (a code
        that was never counted, unreadable say, was answered already)."""
        read = read_code(text, self.reader)
        first = self._counted.get(_key(read)) if read.ok else None
        if first is None:
            return []
        outcome = first.outcome if first.outcome in QUIET_REPEATS else "warning"
        return [_already(text, first, outcome)]

    def typed(self, text: str) -> list[Feedback]:
        """A code from a keyboard-wedge scanner: each one is a trigger pulled, so each gets
        feedback, however soon it follows the same code."""
        return self._scan(text)

    def _scan(self, text: str) -> list[Feedback]:
        read = read_code(text, self.reader)
        if not read.ok:
            return [Feedback(text, "refused", f"cannot read the code: {read.error}")]
        if read.sscc is not None and read.gtin is None:
            case = self._case(text, read.sscc)
            if case is not None:
                return [case]
        elif self.mode == "pack" and self.case is None:
            return [Feedback(text, "refused", "scan the case's SSCC label first, then its packs",
                             subject=subject(read))]  # fmt: skip
        key = _key(read)
        if (first := self._counted.get(key)) is not None:
            return [_already(text, first, "warning")]
        feedback = self._verify(text, read) if self.mode == "verify" else self._record(text)
        if not feedback[0].subject:  # queued: named from what the code says
            product = self.names.product(read.gtin)
            feedback[0] = Feedback(text, feedback[0].outcome, feedback[0].message, product,
                                   subject(read, product))  # fmt: skip
        self._counted[key] = feedback[0]
        return feedback

    def _record(self, text: str) -> list[Feedback]:
        payload: dict[str, Any] = {"action": self.mode, "codes": [text], "offline": not self.online}
        if self.mode == "pack":
            payload["container"] = f"(00){self.case}"
        if self.destination_gln:
            payload["destination_gln"] = self.destination_gln
        event_id = self.outbox.enqueue(payload, self.key_id)
        return self._send(text, event_id, payload)

    def _case(self, text: str, sscc: str) -> Feedback | None:
        """A case's SSCC label: in pack mode it opens the case to fill; in receive, ship and
        return it moves the whole case (None: send it like any code); elsewhere it is refused."""
        if self.mode == "pack":
            self.case = sscc
            return Feedback(text, "ok", f"case {sscc} open: scan its packs", subject=f"case {sscc}")
        if self.mode in CASE_MODES:
            return None
        return Feedback(
            text, "refused", f"a case cannot be scanned in {self.mode} mode; scan its packs",
            subject=f"case {sscc}",
        )  # fmt: skip

    def _send(self, text: str, event_id: str, payload: dict[str, Any]) -> list[Feedback]:
        if self.key_refused is not None:
            queued = self.outbox.queued_for(self.key_id, self.facility_id)
            return [Feedback(text, "queued", f"not sent: the key was refused — {queued} queued")]
        result = sync(self.outbox, self.post, self.key_id, self.facility_id)
        self.online = result.online
        if result.key_refused is not None:
            self.key_refused = result.key_refused
            return [Feedback(text, "queued", result.key_refused.message(result.remaining))]
        if not result.online:
            return [Feedback(text, "queued", f"offline — {result.remaining} queued")]
        answer = self.outbox.answer(event_id)
        if answer is None:
            return [Feedback(text, "queued", f"{result.remaining} queued")]
        status, body = answer
        return event_feedback(payload, status, body, self.names, self.reader)

    def _verify(self, text: str, read: ReadCode) -> list[Feedback]:
        if self.verify is None:
            return [Feedback(text, "warning", "verification needs the server")]
        try:
            status, body = self.verify(text)
        except httpx.TransportError:
            return [Feedback(text, "warning", "offline: cannot verify now")]
        if status != 200:
            return [Feedback(text, "refused", str(body.get("detail", status)))]
        outcome = "ok" if body["status"] == "active" and not body["reason"] else "warning"
        name = (body.get("product") or {}).get("name", "")
        message = f"{body['status']} {body['reason']}".strip()
        return [Feedback(text, outcome, message, name, subject(read, name))]


def _key(read: ReadCode) -> str:
    """What a code counts as: a pack (GTIN and serial) or a case (its SSCC)."""
    return f"{read.gtin}/{read.serial or read.sscc}"


def _already(text: str, first: Feedback, outcome: str) -> Feedback:
    message = f"already scanned ({first.outcome}: {first.message}); not counted again"
    return Feedback(text, outcome, message, first.product, first.subject)
