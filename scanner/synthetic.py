"""Synthetic camera frames of packs, for the test suite and the benchmarks: codes on a textured
background, rotated, blurred, in perspective, low in contrast, with glare, several per frame."""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt
import zxingcpp

Frame = npt.NDArray[np.uint8]
CONDITIONS = (
    "clean", "rotated", "turned", "blurred", "perspective", "low_contrast", "glare", "inverted",
)  # fmt: skip


def background(width: int, height: int, rng: np.random.Generator) -> Frame:
    """Cardboard-like: a gradient, some lines and noise."""
    gradient = np.linspace(170, 225, width, dtype=np.float32)[None, :].repeat(height, axis=0)
    frame = gradient + rng.normal(0, 3, (height, width))
    for _ in range(6):
        y = int(rng.integers(0, height))
        cv2.line(frame, (0, y), (width, y + int(rng.integers(-40, 40))), 140, 1)
    return np.clip(frame, 0, 255).astype(np.uint8)


def place(frame: Frame, symbol: Frame, center: tuple[int, int], condition: str,
          rng: np.random.Generator) -> None:  # fmt: skip
    """Draw `symbol` (0 = dark) onto `frame` around `center` under `condition`."""
    pad = max(8, min(symbol.shape) // 6)
    patch = cv2.copyMakeBorder(symbol, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=255)
    h, w = patch.shape
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float32)
    angle = rng.uniform(-4, 4)
    if condition == "rotated":
        angle = rng.uniform(15, 35) * rng.choice([-1, 1])
    elif condition == "turned":  # a pack lying sideways or upside down
        angle += rng.choice([90, 180, 270])
    radians = np.deg2rad(angle)
    corners = np.array([[-w / 2, -h / 2], [w / 2, -h / 2], [w / 2, h / 2], [-w / 2, h / 2]],
                       dtype=np.float32)  # fmt: skip
    rotation = np.array([[np.cos(radians), -np.sin(radians)], [np.sin(radians), np.cos(radians)]])
    dst = corners @ rotation.T.astype(np.float32)
    if condition == "perspective":
        dst = dst * np.array([[1.0, 0.8], [1.0, 1.0], [1.0, 1.0], [1.0, 0.8]], dtype=np.float32)
        dst += rng.uniform(-h * 0.05, h * 0.05, dst.shape).astype(np.float32)
    dst += np.array(center, dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(src, dst.astype(np.float32))
    height, width = frame.shape
    warped = cv2.warpPerspective(patch, matrix, (width, height), borderValue=255)
    mask = cv2.warpPerspective(np.full_like(patch, 255), matrix, (width, height))
    np.copyto(frame, warped, where=mask > 0)


def finish(frame: Frame, condition: str, rng: np.random.Generator) -> Frame:
    if condition == "blurred":
        frame = np.asarray(cv2.GaussianBlur(frame, (0, 0), rng.uniform(1.0, 1.6)), dtype=np.uint8)
    elif condition == "low_contrast":
        frame = (frame.astype(np.float32) * 0.35 + 110).astype(np.uint8)
    elif condition == "glare":
        height, width = frame.shape
        yy, xx = np.mgrid[0:height, 0:width]
        cx, cy = rng.uniform(0.3, 0.7) * width, rng.uniform(0.3, 0.7) * height
        glow = 90 * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * (width / 6) ** 2))
        frame = np.clip(frame.astype(np.float32) + glow, 0, 255).astype(np.uint8)
    elif condition == "inverted":  # light on dark, as laser-marked on dark cartons
        frame = 255 - frame
    return frame


def frame_with(symbols: list[Frame], width: int, height: int, condition: str,
               rng: np.random.Generator) -> Frame:  # fmt: skip
    """One frame with `symbols` laid out in a grid (a tray of packs when there are several)."""
    frame = background(width, height, rng)
    columns = int(np.ceil(np.sqrt(len(symbols) * width / height)))
    rows = int(np.ceil(len(symbols) / columns))
    for index, symbol in enumerate(symbols):
        row, column = divmod(index, columns)
        center = (int((column + 0.5) * width / columns), int((row + 0.5) * height / rows))
        place(frame, symbol, center, condition, rng)
    return finish(frame, condition, rng)


def square_datamatrix(hri: str, scale: int) -> Frame:
    """A square GS1 DataMatrix (ECC 200) of `hri` (bracketed element string), the smallest that
    holds it, as packs from other printers carry: GS1 healthcare asks for square symbols, and
    our short element strings would otherwise become rectangular (DMRE) ones."""
    for version in range(1, 25):  # zint's square ECC 200 sizes, 10x10 to 144x144
        try:
            barcode = zxingcpp.create_barcode(
                hri, zxingcpp.BarcodeFormat.DataMatrix, gs1=True, version=version
            )
        except ValueError:  # too small for the content
            continue
        return np.asarray(zxingcpp.write_barcode_to_image(barcode, scale=scale), dtype=np.uint8)
    raise ValueError("too long for a square DataMatrix")
