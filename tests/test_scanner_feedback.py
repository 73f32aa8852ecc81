"""What the person at the scanner sees and hears: every code outlined in the colour of its
result on a real decoded frame (always tested), the preview window on a real X server (Xvfb,
when installed), and the terminal bells for warnings and refusals."""

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from click.testing import CliRunner
from PIL import ImageGrab

from app.cli import main
from app.labels.symbols import digital_link_qr, gs1_datamatrix
from app.packs.serials import new_serials
from models.links import digital_link, element_hri
from scanner.decoder import Decoded, decode
from scanner.outbox import Outbox
from scanner.overlay import COLOURS, UNJUDGED, annotate, label_text
from scanner.results import Feedback
from scanner.session import OUT_OF_SIGHT, ScanSession
from scanner.synthetic import frame_with, square_datamatrix
from scanner.window import PreviewUnavailable, Window

GTIN = "09506000134352"
WIDTH, HEIGHT = 1280, 720


@pytest.fixture(scope="module")
def three_packs() -> tuple[np.ndarray, list[Decoded]]:
    """A camera frame of three packs side by side (square DataMatrix, QR, our DataMatrix)."""
    serials = new_serials(3)
    symbols = [
        square_datamatrix(element_hri(GTIN, serials[0], "L1"), scale=6),
        digital_link_qr(digital_link("https://x.ir", GTIN, serials[1], "L1"), module_pixels=4),
        gs1_datamatrix(element_hri(GTIN, serials[2], "L1"), scale=4),
    ]
    frame = frame_with(symbols, WIDTH, HEIGHT, "rotated", np.random.default_rng(3))
    found = sorted(decode(frame), key=lambda d: min(x for x, _ in d.corners))
    assert [serial in d.text for d, serial in zip(found, serials, strict=True)] == [True] * 3
    return frame, found


def _edge_middle(code: Decoded) -> tuple[int, int]:
    (x1, y1), (x2, y2) = code.corners[0], code.corners[1]
    return (x1 + x2) // 2, (y1 + y2) // 2


def _results(found: list[Decoded]) -> dict[str, Feedback]:
    return {
        found[0].text: Feedback(found[0].text, "ok", "received", "Amoxicillin 500 mg"),
        found[1].text: Feedback(found[1].text, "refused", "the pack is destroyed"),
    }


def test_decoded_positions_are_where_the_codes_are(
    three_packs: tuple[np.ndarray, list[Decoded]],
) -> None:
    _, found = three_packs
    for column, code in enumerate(found):  # frame_with lays three codes out in three columns
        centre = np.mean(np.array(code.corners), axis=0)
        expected = ((column + 0.5) * WIDTH / 3, HEIGHT / 2)
        assert np.hypot(*(centre - expected)) < 20, (column, code.corners)


def test_each_code_is_outlined_in_the_colour_of_its_result(
    three_packs: tuple[np.ndarray, list[Decoded]],
) -> None:
    frame, found = three_packs
    untouched = frame.copy()
    picture = annotate(frame, found, _results(found))
    assert picture.shape == (HEIGHT, WIDTH, 3)
    assert np.array_equal(frame, untouched)  # drawing works on a copy
    expected = [COLOURS["ok"], COLOURS["refused"], UNJUDGED]  # the third has no result yet
    for code, colour in zip(found, expected, strict=True):
        x, y = _edge_middle(code)
        assert np.abs(picture[y, x].astype(int) - colour).max() <= 10, (code.text, picture[y, x])
    # The results are written above the judged codes, on a band of their colour.
    for code, colour in zip(found[:2], expected[:2], strict=True):
        left = min(x for x, _ in code.corners)
        top = min(y for _, y in code.corners)
        band = picture[max(0, top - 40) : top, left : left + 200].reshape(-1, 3)
        assert (np.abs(band.astype(int) - colour).max(axis=1) <= 10).sum() > 500
        assert (band.max(axis=1) < 60).sum() > 50  # the black letters
    above_third = picture[: min(y for _, y in found[2].corners), :].reshape(-1, 3)
    assert not (np.abs(above_third.astype(int) - COLOURS["warning"]).max(axis=1) <= 10).any()


def test_a_warning_is_amber_and_the_label_names_the_product() -> None:
    feedback = Feedback("x", "warning", "already scanned in this session", "Cetirizine 10 mg")
    assert label_text(feedback) == "WARNING Cetirizine 10 mg"
    assert label_text(Feedback("x", "queued", "offline — 3 queued")) == "QUEUED offline ? 3 queued"
    frame = np.full((200, 300), 255, dtype=np.uint8)
    code = Decoded("x", "]d2", "DataMatrix", ((100, 100), (200, 100), (200, 180), (100, 180)))
    picture = annotate(frame, [code], {"x": feedback})
    assert tuple(picture[100, 150]) == COLOURS["warning"]
    assert tuple(picture[140, 150]) == (255, 255, 255)  # the code itself is not covered


@pytest.fixture(scope="module")
def x_display() -> Iterator[str]:
    xvfb_path = shutil.which("Xvfb")
    if xvfb_path is None:
        pytest.skip("Xvfb is not installed (apt-get install xvfb): no display for the window")
    read_end, write_end = os.pipe()
    xvfb = subprocess.Popen(
        [xvfb_path, "-displayfd", str(write_end), "-screen", "0", "1600x1000x24",
         "-nolisten", "tcp"],
        pass_fds=(write_end,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    os.close(write_end)
    with os.fdopen(read_end) as announced:
        number = announced.readline().strip()
    try:
        yield f":{number}"
    finally:
        xvfb.terminate()
        xvfb.wait(timeout=10)


def test_the_preview_window_shows_the_outlined_frame(
    three_packs: tuple[np.ndarray, list[Decoded]], x_display: str
) -> None:
    frame, found = three_packs
    window = Window("DaruTrace test", display=x_display)
    try:
        picture = annotate(frame, found, _results(found))
        deadline = time.monotonic() + 10
        while True:  # until the window manager-less X server has mapped the window
            assert window.show(picture)
            left, top = window.position()
            screen = ImageGrab.grab(xdisplay=x_display).convert("RGB")
            x, y = _edge_middle(found[0])
            shown = screen.getpixel((left + x, top + y))
            if shown == tuple(reversed(COLOURS["ok"])) or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert shown == tuple(reversed(COLOURS["ok"]))  # the screen is RGB, OpenCV BGR
        x, y = _edge_middle(found[1])
        assert screen.getpixel((left + x, top + y)) == tuple(reversed(COLOURS["refused"]))
    finally:
        window.close()
    assert not window.show(picture)  # a closed preview ends the scan


def _scan(args: list[str], tmp_path: Path, **kwargs: object) -> object:
    env = {"DARUTRACE_SCANNER_OUTBOX": str(tmp_path / "outbox.sqlite3"), "DISPLAY": None}
    env |= kwargs.pop("env", {})  # type: ignore[arg-type]
    return CliRunner().invoke(
        main,
        ["scan", "--mode", "receive", "--server", "http://127.0.0.1:9", "--api-key", "k",
         "--no-stop-on-refused", *args],
        env=env, **kwargs,
    )  # fmt: skip


@pytest.fixture
def pack_image(tmp_path: Path) -> Path:
    path = tmp_path / "pack.png"
    code = gs1_datamatrix(element_hri(GTIN, new_serials(1)[0], "L1"), scale=6)
    cv2.imwrite(str(path), frame_with([code], 1280, 720, "clean", np.random.default_rng(1)))
    return path


def test_without_a_display_the_scan_goes_on_without_preview(
    pack_image: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    with pytest.raises(PreviewUnavailable, match="DISPLAY is not set"):
        Window("x")
    auto = _scan(["--source", str(pack_image)], tmp_path)
    assert auto.exit_code == 0, auto.output
    assert "no preview: no display (DISPLAY is not set); scanning without it" in auto.stderr
    assert auto.stdout.startswith("queued")
    asked = _scan(["--source", str(pack_image), "--preview"], tmp_path)
    assert asked.exit_code == 1
    assert "no preview: no display (DISPLAY is not set)" in asked.output


def test_the_scan_command_runs_with_its_preview(
    pack_image: Path, tmp_path: Path, x_display: str
) -> None:
    result = _scan(["--source", str(pack_image), "--preview"], tmp_path, env={"DISPLAY": x_display})
    assert result.exit_code == 0, result.output
    assert "no preview" not in result.stderr
    assert result.stdout.startswith("queued")


def test_warnings_ring_once_and_refusals_twice(tmp_path: Path) -> None:
    pack = f"(01){GTIN}(21){new_serials(1)[0]}(10)L1"
    typed = f"{pack}\n{pack}\nnot a code\n"
    rung = _scan(["--source", "keyboard"], tmp_path, input=typed)
    assert rung.exit_code == 0, rung.output
    lines = rung.stdout.splitlines()
    assert lines[0].startswith("queued ")  # ok and queued scans are silent
    assert lines[1].startswith("\awarning ")
    assert lines[2].startswith("\a\arefused ")
    assert rung.stdout.count("\a") == 3
    quiet = _scan(["--source", "keyboard", "--no-sound"], tmp_path, input=typed)
    assert quiet.exit_code == 0, quiet.output
    assert "\a" not in quiet.stdout
    assert quiet.stdout.splitlines()[2].startswith("refused ")


def test_an_immediately_repeated_scan_says_it_was_already_scanned(tmp_path: Path) -> None:
    """A keyboard-wedge scanner's trigger pulled twice on the same pack: the second scan is seen
    (and not counted again), however soon it follows the first."""
    serial = new_serials(1)[0]
    raw = f"]d201{GTIN}17281231" + "10L1\x1d" + f"21{serial}"
    typed = _scan(["--source", "keyboard", "--no-sound"], tmp_path, input=f"{raw}\n{raw}\n")
    assert typed.exit_code == 0, typed.output
    pack = f"GTIN {GTIN}  SN {serial}  LOT L1  EXP 2028-12-31"
    assert typed.stdout.splitlines() == [
        f"queued   {pack}  offline — 1 queued",
        f"warning  {pack}  already scanned (queued: offline — 1 queued); not counted again",
    ]
    assert "\x1d" not in typed.stdout


def test_the_server_option_says_what_it_is_and_its_default() -> None:
    for command in (["scan", "--help"], ["scan", "sync", "--help"]):
        shown = " ".join(CliRunner().invoke(main, command).output.split())
        assert (
            "--server TEXT The DaruTrace server's URL (or DARUTRACE_SERVER). "
            "[default: http://127.0.0.1:8000]"
        ) in shown


def test_a_missing_source_is_said_to_be_missing(tmp_path: Path) -> None:
    for name in ("pack.png", "door.avi", "folder"):
        missing = _scan(["--source", str(tmp_path / name), "--no-preview"], tmp_path)
        assert missing.exit_code == 1
        assert f"{tmp_path / name}: no such file or folder" in missing.output
    not_an_image = tmp_path / "notes.png"
    not_an_image.write_text("not a picture")
    unreadable = _scan(["--source", str(not_an_image), "--no-preview"], tmp_path)
    assert unreadable.exit_code == 1
    assert f"{not_an_image} is not an image OpenCV can read" in unreadable.output


def _session_at(tmp_path: Path, outcome: str, now: list[float]) -> tuple[ScanSession, list[Any]]:
    """A receiving session whose server answers every pack with `outcome`, on a clock we set."""
    sent: list[dict[str, Any]] = []

    def post(payload: dict[str, Any]) -> tuple[int, Any]:
        sent.append(payload)
        code = payload["codes"][0]
        reason = "" if outcome == "ok" else "received without a recorded shipment"
        return 200, {"action": "receive", "results": [{"code": code, "outcome": outcome,
                     "reason": reason, "status": "active"}]}  # fmt: skip

    outbox = Outbox(tmp_path / f"{outcome}.sqlite3")
    return ScanSession("receive", outbox, post, "key", clock=lambda: now[0]), sent


def test_a_pack_shown_again_within_the_cooldown_is_said_to_be_already_scanned(
    tmp_path: Path,
) -> None:
    """Held in view, or lost by the decoder for a frame or two, a pack says nothing more; taken
    away and shown again before the cooldown is over, it says once that it was already scanned
    — quietly (no bell) when its scan was ok — and is not sent again."""
    now = [0.0]
    session, sent = _session_at(tmp_path, "ok", now)
    pack = f"(01){GTIN}(21){new_serials(1)[0]}"
    frame = 1 / 30

    def seen_until(end: float) -> list[Feedback]:
        feedback = []
        while now[0] < end - 1e-9:
            now[0] += frame
            feedback += session.see([pack])
        return feedback

    assert [f.outcome for f in session.see([pack])] == ["ok"]
    assert seen_until(0.5) == []  # held in view
    now[0] += 2 * frame  # missed in two frames
    assert seen_until(1.0) == []
    now[0] += OUT_OF_SIGHT  # taken away, then shown again
    again = seen_until(1.8)
    assert [(f.outcome, f.message) for f in again] == [
        ("ok", "already scanned (ok: received); not counted again")
    ]
    assert len(sent) == 1
    now[0] += 2.5  # out of sight longer than the cooldown: a re-scan, as before
    assert [f.outcome for f in session.see([pack])] == ["warning"]
    assert len(sent) == 1

    warned, _ = _session_at(tmp_path, "warning", now)
    assert [f.outcome for f in warned.see([pack])] == ["warning"]
    now[0] += 1.0
    assert [(f.outcome, f.message) for f in warned.see([pack])] == [
        ("warning", "already scanned (warning: received without a recorded shipment); not "
         "counted again"),
    ]  # fmt: skip
    now[0] += 1.0
    assert warned.see(["not a code"])[0].outcome == "refused"
    now[0] += 1.0
    assert warned.see(["not a code"]) == []  # answered already; nothing was counted


def _video_of(path: Path, showings: list[tuple[np.ndarray | None, int]]) -> None:
    """A 30 frames-a-second video: each (symbol or None for an empty view, frames) in turn."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30, (640, 480), False)
    for symbol, count in showings:
        view = np.full((480, 640), 255, dtype=np.uint8)
        if symbol is not None:
            h, w = symbol.shape
            view[(480 - h) // 2 : (480 + h) // 2, (640 - w) // 2 : (640 + w) // 2] = symbol
        for _ in range(count):
            writer.write(view)
    writer.release()


def test_a_video_of_a_pack_taken_away_and_shown_again(tmp_path: Path) -> None:
    """Filmed: pack A in view, out of view for two frames (flicker), in view; pack B; pack A
    shown again half a second later. A counts once and says so when it comes back; B once."""
    serials = new_serials(2)
    a, b = (gs1_datamatrix(element_hri(GTIN, s, "L1"), scale=6) for s in serials)
    video = tmp_path / "counter.avi"
    _video_of(video, [(a, 6), (None, 2), (a, 6), (b, 6), (None, 9), (a, 6)])
    filmed = _scan(["--source", str(video), "--no-preview", "--no-sound"], tmp_path)
    assert filmed.exit_code == 0, filmed.output
    first, second = (f"GTIN {GTIN}  SN {s}  LOT L1" for s in serials)
    assert filmed.stdout.splitlines() == [
        f"queued   {first}  offline — 1 queued",
        f"queued   {second}  offline — 2 queued",
        f"queued   {first}  already scanned (queued: offline — 1 queued); not counted again",
    ]
