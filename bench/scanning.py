"""Scanner figures: decode time per frame (640x480 and 1280x720, one code and trays of 12 QR and
12 square GS1 DataMatrix), detection rate on the generated robustness set, end-to-end frames
per second reading a video through OpenCV and decoding it, the cost of drawing the preview, and
resident memory.

    uv run python bench/scanning.py
"""

from __future__ import annotations

import resource
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from app.labels.symbols import digital_link_qr, gs1_datamatrix
from app.packs.serials import new_serials
from models.codes import read_code
from models.links import digital_link, element_hri
from scanner.capture import frames
from scanner.decoder import decode
from scanner.overlay import annotate
from scanner.session import Feedback
from scanner.synthetic import CONDITIONS, frame_with, square_datamatrix

GTIN = "09506000134352"
RNG = np.random.default_rng(7)


def symbol(kind: str, serial: str, scale: int = 6) -> np.ndarray:
    if kind == "datamatrix":
        return gs1_datamatrix(element_hri(GTIN, serial, "L1"), scale=scale)
    if kind == "square-datamatrix":
        return square_datamatrix(element_hri(GTIN, serial, "L1"), scale=scale)
    return digital_link_qr(digital_link("https://x.ir", GTIN, serial, "L1"), module_pixels=4)


def decode_ms(frame: np.ndarray, repeat: int = 30) -> float:
    started = time.perf_counter()
    for _ in range(repeat):
        decode(frame)
    return (time.perf_counter() - started) / repeat * 1000


def main() -> None:
    for width, height in ((640, 480), (1280, 720)):
        for kind in ("datamatrix", "qr"):
            one = frame_with([symbol(kind, new_serials(1)[0])], width, height, "clean", RNG)
            print(f"decode {width}x{height}, 1 {kind}: {decode_ms(one):.2f} ms/frame")
        # A tray fills the view: DataMatrix modules of 4 pixels at 640x480, 6 at 1280x720.
        for kind, scale in (("qr", 4), ("square-datamatrix", 4 if width == 640 else 6)):
            serials = new_serials(12)
            tray = frame_with([symbol(kind, s, scale) for s in serials], width, height,
                              "clean", RNG)  # fmt: skip
            read = set(serials) & {read_code(d.text).serial for d in decode(tray)}
            print(f"decode {width}x{height}, 12 {kind}: {decode_ms(tray):.2f} ms/frame, "
                  f"{len(read)} of 12 read")  # fmt: skip
    for kind in ("datamatrix", "square-datamatrix", "qr"):
        rates = []
        for condition in CONDITIONS:
            serials = new_serials(40)
            hits = sum(
                serial in {read_code(d.text).serial for d in decode(
                    frame_with([symbol(kind, serial)], 1280, 720, condition, RNG))}
                for serial in serials
            )  # fmt: skip
            rates.append(f"{condition} {hits / 40:.0%}")
        print(f"detection at 1280x720, {kind}: " + ", ".join(rates))
    with tempfile.TemporaryDirectory() as tmp:
        video = Path(tmp, "conveyor.avi")
        writer = cv2.VideoWriter(
            str(video), cv2.VideoWriter_fourcc(*"MJPG"), 30, (1280, 720), False
        )
        for serial in new_serials(60):
            frame = frame_with([symbol("datamatrix", serial)], 1280, 720, "clean", RNG)
            for _ in range(5):
                writer.write(frame)
        writer.release()
        started = time.perf_counter()
        count = seen = 0
        for frame in frames(str(video)):
            count += 1
            seen += len(decode(frame))
        elapsed = time.perf_counter() - started
    print(f"end to end (MJPG 1280x720 read + grey + decode, one core): {count / elapsed:.0f} fps")
    picture = frame_with([symbol("qr", s) for s in new_serials(12)], 1280, 720, "clean", RNG)
    found = decode(picture)
    results = {d.text: Feedback(d.text, "ok", "received", "Amoxicillin 500 mg") for d in found}
    started = time.perf_counter()
    for _ in range(100):
        annotate(picture, found, results)
    drawn = (time.perf_counter() - started) * 10
    print(f"preview drawing, 1280x720 with 12 codes outlined and labelled: {drawn:.2f} ms/frame")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"resident memory (peak): {peak:.0f} MB")


if __name__ == "__main__":
    main()
