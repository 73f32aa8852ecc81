"""The preview's picture: each code in the frame outlined in the colour of its result (green ok,
red refused, amber warning, blue queued while offline), with the product's name and the result
written above it. Drawing only: showing the picture is scanner/window.py's job, so this stays
testable on machines without a display."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import cv2
import numpy as np
import numpy.typing as npt

from scanner.decoder import Decoded
from scanner.results import Feedback

Picture = npt.NDArray[np.uint8]  # BGR
# BGR, as OpenCV draws.
COLOURS = {
    "ok": (0, 200, 0),
    "refused": (0, 0, 230),
    "warning": (0, 170, 255),
    "queued": (230, 140, 0),
}
UNJUDGED = (200, 200, 200)  # decoded, but no result for it yet
FONT = cv2.FONT_HERSHEY_SIMPLEX
LABEL_CHARACTERS = 48


def annotate(frame: Picture, found: Sequence[Decoded], results: Mapping[str, Feedback]) -> Picture:
    """A colour copy of `frame` (grey or BGR) with every decoded code outlined and labelled by
    its result in `results` (keyed by the code's text)."""
    colour_frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR) if frame.ndim == 2 else frame.copy()
    picture: Picture = np.asarray(colour_frame, dtype=np.uint8)
    thickness = max(2, picture.shape[1] // 320)
    for code in found:
        if len(code.corners) < 2:
            continue
        result = results.get(code.text)
        colour = COLOURS.get(result.outcome, UNJUDGED) if result else UNJUDGED
        outline = np.array(code.corners, dtype=np.int32).reshape(-1, 1, 2)
        cv2.polylines(picture, [outline], True, colour, thickness, cv2.LINE_AA)
        if result is not None:
            _label(picture, label_text(result), code.corners, colour)
    return picture


def label_text(result: Feedback) -> str:
    """What is written above a code: the product and the result, in ASCII (OpenCV's fonts have
    no other letters)."""
    what = result.product or result.message
    text = f"{result.outcome.upper()} {what}".strip()
    if len(text) > LABEL_CHARACTERS:
        text = text[: LABEL_CHARACTERS - 3] + "..."
    return text.encode("ascii", "replace").decode("ascii")


def _label(picture: Picture, text: str, corners: Sequence[tuple[int, int]],
           colour: tuple[int, int, int]) -> None:  # fmt: skip
    scale = max(0.5, picture.shape[1] / 1600)
    (width, height), baseline = cv2.getTextSize(text, FONT, scale, 1)
    left = max(0, min(x for x, _ in corners))
    top = min(y for _, y in corners) - height - baseline - 6
    if top < 0:  # no room above the code: write below it
        top = max(y for _, y in corners) + 6
    left = min(left, max(0, picture.shape[1] - width - 4))
    cv2.rectangle(picture, (left, top), (left + width + 4, top + height + baseline + 4), colour, -1)
    cv2.putText(picture, text, (left + 2, top + height + 2), FONT, scale, (0, 0, 0), 1,
                cv2.LINE_AA)  # fmt: skip
