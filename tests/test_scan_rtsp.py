"""Network camera sources over RTSP, as IP cameras serve them: an H.264 stream of packs passing
the camera, served live on 127.0.0.1 by a one-client RTSP server, read through the scanner's
OpenCV capture (its bundled FFmpeg is the RTSP client) and scanned by `darutrace scan --source
rtsp://…` receiving 50 packs at a warehouse with the real server.

FFmpeg has no RTSP server for playback (its `rtsp_flags=listen` only receives a pushed stream),
so the server here speaks the RTSP side itself — OPTIONS, DESCRIBE (SDP), SETUP, PLAY — with the
video as RTP interleaved in the RTSP connection (RFC 2326 §10.12); the video is encoded by
libx264 and cut into RTP packets (RFC 6184) by FFmpeg's own RTP muxer, through PyAV."""

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import av
import numpy as np
import pytest

from app.labels.symbols import gs1_datamatrix
from app.packs.serials import new_serials
from models.codes import read_code
from models.links import element_hri
from scanner.capture import frames
from scanner.decoder import decode
from tests.helpers import DEVICES, LOGINS
from tests.scan_server import batch_at_hub, live_server

__all__ = ["live_server"]  # the API served by `darutrace serve`, as a fixture

DARUTRACE = str(Path(sys.executable).parent / "darutrace")
HUB_KEY = DEVICES[LOGINS["darupakhsh"].facility_gln].api_key
GTIN = "09506000134352"
FRAMES_PER_PACK = 3
WIDTH, HEIGHT = 640, 480
SDP = (
    "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=DaruTrace test camera\r\nc=IN IP4 0.0.0.0\r\n"
    "t=0 0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
    "a=fmtp:96 packetization-mode=1\r\na=control:track1\r\n"
)
TIMEOUT = 30  # seconds: no step of the server waits longer for the client


def _pictures(gtin: str, lot: str, serials: list[str]) -> list[np.ndarray]:
    """Grey 640x480 frames: each pack's DataMatrix in view for a few frames, then a blank one."""
    blank = np.full((HEIGHT, WIDTH), 255, dtype=np.uint8)
    pictures = []
    for serial in serials:
        symbol = gs1_datamatrix(element_hri(gtin, serial, lot), scale=6)
        frame = blank.copy()
        h, w = symbol.shape
        top, left = (HEIGHT - h) // 2, (WIDTH - w) // 2
        frame[top : top + h, left : left + w] = symbol
        pictures += [frame] * FRAMES_PER_PACK + [blank]
    return pictures


class _Packets:
    """Where FFmpeg's RTP muxer writes: it flushes once per RTP or RTCP packet."""

    def __init__(self) -> None:
        self.packets: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.packets.append(bytes(data))
        return len(data)


def _rtp_packets(pictures: list[np.ndarray]) -> list[tuple[int, bytes]]:
    """The video as (interleaved channel, packet): RTP on channel 0, RTCP on channel 1."""
    sink = _Packets()
    with av.open(sink, "w", format="rtp", options={"packetsize": "1400"}) as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.options = {"preset": "ultrafast", "tune": "zerolatency", "qp": "18", "g": "4"}
        for index, picture in enumerate(pictures):
            frame = av.VideoFrame.from_ndarray(picture, format="gray").reformat(format="yuv420p")
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    packets = []
    for packet in sink.packets:
        assert packet[0] >> 6 == 2, "not an RTP packet"
        packets.append((1 if 200 <= packet[1] <= 204 else 0, packet))  # RTCP: SR..APP
    assert sum(channel == 0 for channel, _ in packets) > len(pictures)
    return packets


def _request(conn: socket.socket, buffer: bytearray) -> tuple[str, dict[str, str]] | None:
    """The next RTSP request on `conn` (its line and headers), skipping interleaved RTCP the
    client sends back; None when the client hangs up."""
    while True:
        if buffer[:1] == b"$":
            if len(buffer) >= 4 and len(buffer) >= 4 + int.from_bytes(buffer[2:4]):
                del buffer[: 4 + int.from_bytes(buffer[2:4])]
                continue
        elif b"\r\n\r\n" in buffer:
            head, _, rest = bytes(buffer).partition(b"\r\n\r\n")
            buffer[:] = rest
            line, *fields = head.decode().split("\r\n")
            headers = dict(field.split(":", 1) for field in fields)
            return line, {k.strip().lower(): v.strip() for k, v in headers.items()}
        data = conn.recv(65536)
        if not data:
            return None
        buffer += data


def _serve(listener: socket.socket, packets: list[tuple[int, bytes]], log: list[str]) -> None:
    """One client: answer it until PLAY, send the video, then hang up (the camera going away
    ends the scan) — after the client has read everything."""
    conn, _ = listener.accept()
    with conn:
        conn.settimeout(TIMEOUT)
        buffer = bytearray()
        while (request := _request(conn, buffer)) is not None:
            line, headers = request
            method = line.split()[0]
            log.append(method)
            reply = [f"CSeq: {headers.get('cseq', '0')}"]
            body = ""
            status = "200 OK"
            if method == "OPTIONS":
                reply.append("Public: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN")
            elif method == "DESCRIBE":
                reply.append("Content-Type: application/sdp")
                body = SDP
            elif method == "SETUP":
                if "interleaved" in headers.get("transport", ""):
                    reply += ["Transport: RTP/AVP/TCP;unicast;interleaved=0-1", "Session: 1"]
                else:  # RTP over UDP (OpenCV asks for TCP): a client falls back to TCP
                    status = "461 Unsupported Transport"
            elif method == "PLAY":
                reply += ["Session: 1", "Range: npt=0.000-"]
            else:
                status = "405 Method Not Allowed"
            if body:
                reply.append(f"Content-Length: {len(body)}")
            head = "\r\n".join([f"RTSP/1.0 {status}", *reply])
            conn.sendall(f"{head}\r\n\r\n{body}".encode())
            if method == "PLAY":
                for channel, packet in packets:
                    conn.sendall(b"$" + bytes([channel]) + len(packet).to_bytes(2) + packet)
                conn.shutdown(socket.SHUT_WR)
                while conn.recv(65536):  # until the client closes: no reset, nothing lost
                    pass
                return


RtspCamera = Callable[[str, str, list[str]], tuple[str, list[str]]]


@pytest.fixture
def rtsp_camera() -> Iterator[RtspCamera]:
    """IP cameras on 127.0.0.1: `camera(gtin, lot, serials)` makes the video of those packs
    and serves it at the URL it returns to one client; the list it returns next is filled with
    the RTSP methods the client asked, as it is served."""
    servers: list[tuple[socket.socket, threading.Thread]] = []

    def camera(gtin: str, lot: str, serials: list[str]) -> tuple[str, list[str]]:
        packets = _rtp_packets(_pictures(gtin, lot, serials))
        listener = socket.create_server(("127.0.0.1", 0))
        listener.settimeout(TIMEOUT)
        log: list[str] = []
        thread = threading.Thread(target=_serve, args=(listener, packets, log), daemon=True)
        thread.start()
        servers.append((listener, thread))
        return f"rtsp://127.0.0.1:{listener.getsockname()[1]}/stream", log

    yield camera
    for listener, thread in servers:
        thread.join(TIMEOUT + 5)
        listener.close()
        assert not thread.is_alive(), "the RTSP server did not finish"


def test_an_rtsp_stream_is_read_like_a_camera(rtsp_camera: RtspCamera) -> None:
    serials = new_serials(8)
    url, log = rtsp_camera(GTIN, "L7", serials)
    seen = []
    count = 0
    for frame in frames(url):  # OpenCV's FFmpeg gives up on a silent stream after 30 s
        count += 1
        assert frame.shape == (HEIGHT, WIDTH)
        seen += [read_code(d.text).serial for d in decode(frame)]
    assert log[:1] == ["OPTIONS"] and {"DESCRIBE", "SETUP", "PLAY"} <= set(log)
    assert count >= len(serials) * (FRAMES_PER_PACK + 1) - 2  # FFmpeg may hold back the end
    assert set(serials) <= set(seen)


def test_receive_packs_from_an_rtsp_camera_with_the_real_server(
    rtsp_camera: RtspCamera, live_server: str, tmp_path: Path
) -> None:
    api, maker, gtin, serials = batch_at_hub(live_server, "886")
    url, log = rtsp_camera(gtin, "CTZ9", serials)
    received = subprocess.run(
        [DARUTRACE, "scan", "--mode", "receive", "--source", url, "--server", live_server,
         "--api-key", HUB_KEY, "--no-stop-on-refused", "--no-preview"],
        env=os.environ | {"DARUTRACE_SCANNER_OUTBOX": str(tmp_path / "hub.sqlite3")},
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert received.returncode == 0, received.stdout + received.stderr
    assert "PLAY" in log
    # Each pack received once, not once per frame: a live stream under load may lose sight of a
    # pack long enough to say "already scanned … not counted again", which is no receipt.
    receipts = [line for line in received.stdout.splitlines()
                if line.startswith("ok ") and "already scanned" not in line]  # fmt: skip
    assert len(receipts) == 50, received.stdout
    assert "done: 50 sent, 0 queued" in received.stderr
    packs = [api.get(f"/api/packs/{gtin}/{s}", headers=maker).json() for s in serials]
    assert all(p["status"] == "active" for p in packs)
    inspector_token = api.post(
        "/api/auth/login", json={"username": "fdo-inspector", "password": "fdo-inspector-demo"}
    ).json()["access_token"]
    inspector = {"Authorization": f"Bearer {inspector_token}"}
    for serial in serials:
        history = api.get(f"/api/packs/{gtin}/{serial}/events", headers=inspector).json()
        receives = [h for h in history if h["action"] == "receive"]
        assert [r["facility"]["gln"] for r in receives] == [LOGINS["darupakhsh"].facility_gln]
