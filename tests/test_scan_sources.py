"""Network camera sources: an IP camera's MJPEG stream (multipart/x-mixed-replace JPEG frames
over HTTP), served live by a local HTTP server, read through the same OpenCV capture as a
camera, and scanned by `darutrace scan --source http://…`."""

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from app.cli import main
from app.labels.symbols import digital_link_qr
from app.packs.serials import new_serials
from models.codes import read_code
from models.links import digital_link, element_hri
from scanner.capture import frames
from scanner.decoder import decode
from scanner.synthetic import frame_with, square_datamatrix

GTIN = "09506000134352"
FRAMES_PER_PACK = 3


def _stream_frames(serials: list[str]) -> list[bytes]:
    """JPEG frames of packs passing one by one (DataMatrix and QR in turn), 640x480."""
    rng = np.random.default_rng(8)
    jpegs = []
    for index, serial in enumerate(serials):
        if index % 2:
            symbol = digital_link_qr(digital_link("https://x.ir", GTIN, serial, "L1"), 4)
        else:
            symbol = square_datamatrix(element_hri(GTIN, serial, "L1"), scale=5)
        frame = frame_with([symbol], 640, 480, "clean", rng)
        ok, jpeg = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 90])
        assert ok
        jpegs += [jpeg.tobytes()] * FRAMES_PER_PACK
    return jpegs


@pytest.fixture
def mjpeg_camera() -> Iterator[tuple[str, list[str]]]:
    """An IP camera on 127.0.0.1: GET /stream sends the frames as they are made, then hangs
    up (the camera going away ends the scan)."""
    serials = new_serials(8)
    jpegs = _stream_frames(serials)

    class Camera(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path != "/stream":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
            self.end_headers()
            for jpeg in jpegs:
                self.wfile.write(
                    b"--frame\r\nContent-Type: image/jpeg\r\n"
                    + f"Content-Length: {len(jpeg)}\r\n\r\n".encode()
                    + jpeg
                    + b"\r\n"
                )
                self.wfile.flush()

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Camera)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/stream", serials
    finally:
        server.shutdown()
        server.server_close()


def test_an_mjpeg_stream_is_read_like_a_camera(mjpeg_camera: tuple[str, list[str]]) -> None:
    url, serials = mjpeg_camera
    seen = []
    count = 0
    for frame in frames(url):
        count += 1
        assert frame.shape == (480, 640)
        seen += [read_code(d.text).serial for d in decode(frame)]
    assert count >= len(serials) * FRAMES_PER_PACK - 1  # FFmpeg may hold back the last one
    assert set(serials) <= set(seen)


def test_the_scan_command_scans_an_mjpeg_stream(
    mjpeg_camera: tuple[str, list[str]], tmp_path: Path
) -> None:
    url, serials = mjpeg_camera
    result = CliRunner().invoke(
        main,
        ["scan", "--mode", "receive", "--source", url, "--server", "http://127.0.0.1:9",
         "--api-key", "k", "--no-stop-on-refused", "--no-preview"],
        env={"DARUTRACE_SCANNER_OUTBOX": str(tmp_path / "outbox.sqlite3")},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    queued = [line for line in result.stdout.splitlines() if line.startswith("queued")]
    assert len(queued) == len(serials)  # each pack once, though it was in view for 3 frames
    assert all(serial in "".join(queued) for serial in serials)
    assert "done: 0 sent, 8 queued" in result.stderr
