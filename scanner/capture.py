"""Where scans come from: a camera by index, a video file, a network stream (MJPEG over HTTP,
RTSP), image files or folders — all read through OpenCV — or a keyboard-wedge scanner typing
each code and Enter."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

Frame = npt.NDArray[np.uint8]
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"}


class SourceError(RuntimeError):
    pass


def frames(source: str) -> Iterator[Frame]:
    """Grey-scale frames from `source`: a camera index (`0`), a video file or stream URL, an
    image file, or a folder of images (in name order)."""
    return (frame for _, frame in timed_frames(source))


def timed_frames(source: str) -> Iterator[tuple[float | None, Frame]]:
    """The frames of `frames`, each with its time in seconds when `source` is a recorded video
    file: decoded faster or slower than it was filmed, how long a code was out of view is the
    video's time. None for a live source or still images: the time is when it is seen."""
    path = Path(source)
    if _names_a_file(source) and not path.exists():
        raise SourceError(f"{source}: no such file or folder")
    if path.is_dir():
        for image in sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES):
            yield None, _read_image(image)
        return
    if path.suffix.lower() in IMAGE_SUFFIXES:
        yield None, _read_image(path)
        return
    capture = cv2.VideoCapture(int(source) if source.isdigit() else source)
    if not capture.isOpened():
        raise SourceError(f"cannot open {source!r} as a camera, video file or stream")
    rate = capture.get(cv2.CAP_PROP_FPS) if path.is_file() else 0.0
    try:
        for index in itertools.count():
            ok, frame = capture.read()
            if not ok:
                return
            grey = np.asarray(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY), dtype=np.uint8)
            yield (index / rate if rate > 0 else None), grey
    finally:
        capture.release()


def _names_a_file(source: str) -> bool:
    """Not a camera index, a stream URL or an image-sequence pattern (`frame%04d.png`)."""
    return not source.isdigit() and "://" not in source and "%" not in source


def _read_image(path: Path) -> Frame:
    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise SourceError(f"{path} is not an image OpenCV can read")
    return np.asarray(image, dtype=np.uint8)
