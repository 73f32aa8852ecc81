"""Scanning a stream of frames: decode each, count the codes in the session, show the frame
with every code outlined in the colour of its result, then report the new results (after the
preview, so a refusal that waits for the user is on screen while it waits)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from scanner.capture import Frame
from scanner.decoder import Decoded
from scanner.overlay import annotate
from scanner.results import Feedback
from scanner.session import ScanSession
from scanner.window import Window


def scan_frames(
    session: ScanSession,
    frames: Iterable[tuple[float | None, Frame]],  # each with its time in a video, if any
    read: Callable[[Frame], list[Decoded]],
    window: Window | None,
    tell: Callable[[Feedback], None],
) -> None:
    results: dict[str, Feedback] = {}  # each code's latest result, for its outline
    try:
        for at, frame in frames:
            found = read(frame)
            news = session.see([code.text for code in found], at)
            results.update((feedback.code, feedback) for feedback in news)
            if window is not None and not window.show(annotate(frame, found, results)):
                return  # the user closed the preview: that ends the scan
            for feedback in news:
                tell(feedback)
    finally:
        if window is not None:
            window.close()
