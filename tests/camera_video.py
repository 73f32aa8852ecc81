"""A fake camera's video for Chromium (`--use-file-for-fake-video-capture`): real labels
(`app/labels`: GS1 DataMatrix and Digital Link QR) laid out several to a frame on a grey desk,
written as Y4M (YUV 4:2:0), the uncompressed format Chromium's file capture reads."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from app.labels.symbols import digital_link_qr, gs1_datamatrix


def label_images(packs: list[tuple[str, str, str]]) -> list[npt.NDArray[np.uint8]]:
    """Even packs as a DataMatrix (element string), odd ones as a Digital Link QR."""
    images = []
    for index, (gtin, serial, lot) in enumerate(packs):
        if index % 2 == 0:
            images.append(gs1_datamatrix(f"(01){gtin}(21){serial}(17)281231(10){lot}", scale=6))
        else:
            uri = f"https://id.gs1.org/01/{gtin}/10/{lot}/21/{serial}?17=281231"
            images.append(digital_link_qr(uri, module_pixels=5))
    return images


def frame_of(images: list[npt.NDArray[np.uint8]], width: int, height: int) -> npt.NDArray[np.uint8]:
    """The labels in a grid, each on its own white patch of a grey frame."""
    frame = np.full((height, width), 150, np.uint8)
    columns = 4
    cell_w, cell_h = width // columns, height // max(1, -(-len(images) // columns))
    for index, image in enumerate(images):
        row, column = divmod(index, columns)
        side = min(cell_w, cell_h) - 20
        scale = min(1.0, side / max(image.shape))
        label = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
        y = row * cell_h + (cell_h - label.shape[0]) // 2
        x = column * cell_w + (cell_w - label.shape[1]) // 2
        frame[y : y + label.shape[0], x : x + label.shape[1]] = label
    return frame


def write_y4m(path: Path, frame: npt.NDArray[np.uint8], count: int, fps: int = 30) -> Path:
    """`count` frames of one grey picture (the camera held still over the labels)."""
    height, width = frame.shape
    yuv = cv2.cvtColor(cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR), cv2.COLOR_BGR2YUV_I420)
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(count):
            out.write(b"FRAME\n")
            out.write(yuv.tobytes())
    return path
