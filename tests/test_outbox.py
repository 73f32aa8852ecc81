"""The scanner's offline outbox: durable, ordered, and counted exactly once by the server."""

import json
from pathlib import Path
from typing import Any

import cv2
import httpx
import pytest
from click.testing import CliRunner
from litestar import Litestar
from litestar.testing import TestClient

from app.cli import main
from app.db.database import Database
from app.labels.symbols import gs1_datamatrix
from app.state import app_state
from models.links import element_hri
from scanner.outbox import Outbox, fingerprint
from scanner.sender import sync
from tests.helpers import DEVICES, LOGINS

PHARMACY_KEY = DEVICES[LOGINS["razi-pharmacy"].facility_gln].api_key
KEY_ID = fingerprint(PHARMACY_KEY)


def test_scans_survive_a_restart_in_order(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    ids = [outbox.enqueue({"action": "dispense", "codes": [f"code{n}"]}, KEY_ID) for n in range(3)]
    outbox.close()  # as after a crash: nothing but the file remains
    reopened = Outbox(tmp_path / "outbox.sqlite3")
    assert [q.event_id for q in reopened.pending(KEY_ID, None)] == ids
    assert [q.payload["codes"] for q in reopened.pending(KEY_ID, None)] == [
        ["code0"],
        ["code1"],
        ["code2"],
    ]
    assert all(q.payload["event_time"] for q in reopened.pending(KEY_ID, None))
    assert reopened.status().queued == 3


def test_server_down_keeps_everything_queued(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    outbox.enqueue({"action": "dispense", "codes": ["x"]}, KEY_ID)

    def unreachable(_: dict[str, Any]) -> tuple[int, Any]:
        raise httpx.ConnectError("connection refused")

    result = sync(outbox, unreachable, KEY_ID)
    assert (result.online, result.sent, result.remaining) == (False, 0, 1)
    assert sync(outbox, lambda _: (503, {}), KEY_ID).remaining == 1


@pytest.fixture
def server(app: Litestar, database: Database) -> Any:
    app_state(app).db = database
    with TestClient(app) as client:
        yield client


def _post(client: TestClient[Litestar]) -> Any:
    def post(payload: dict[str, Any]) -> tuple[int, Any]:
        response = client.post("/api/events", json=payload, headers={"X-API-Key": PHARMACY_KEY})
        return response.status_code, response.json()

    return post


def test_offline_dispenses_arrive_once_in_order(server: Any, tmp_path: Path) -> None:
    inspector_token = server.post(
        "/api/auth/login", json={"username": "fdo-inspector", "password": "fdo-inspector-demo"}
    ).json()["access_token"]
    inspector = {"Authorization": f"Bearer {inspector_token}"}
    csv = server.get("/api/batches/06260009991011/AMX2601/packs.csv", headers=inspector).text
    serials = [line.split(",")[1] for line in csv.splitlines()[1:]]
    at_razi = [
        s
        for s in serials
        if server.get(f"/api/packs/06260009991011/{s}", headers=inspector).json()["status"]
        == "active"
        and (server.get(f"/api/packs/06260009991011/{s}", headers=inspector).json()["holder"] or {})
        .get("facility", {})
        .get("gln")
        == LOGINS["razi-pharmacy"].facility_gln
    ][:3]
    assert len(at_razi) == 3
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    for serial in at_razi:
        outbox.enqueue(
            {"action": "dispense", "codes": [f"(01)06260009991011(21){serial}"], "offline": True},
            KEY_ID,
        )
    # The first attempt reaches the server but the answer is lost (a crash before mark_sent).
    first = outbox.pending(KEY_ID, None)[0]
    assert _post(server)(first.payload)[0] == 200
    result = sync(outbox, _post(server), KEY_ID)
    assert (result.sent, result.refused, result.remaining, result.online) == (3, 0, 0, True)
    for serial in at_razi:
        history = server.get(f"/api/packs/06260009991011/{serial}/events", headers=inspector)
        dispenses = [h for h in history.json() if h["action"] == "dispense"]
        assert len(dispenses) == 1, history.json()
        assert dispenses[0]["offline"] is True


def test_cli_decodes_images_and_reports_the_outbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    image = tmp_path / "pack.png"
    cv2.imwrite(str(image), gs1_datamatrix(element_hri("09506000134352", "ABC123", "L1"), scale=6))
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), gs1_datamatrix(element_hri("09506000134352"), scale=6) * 0 + 255)
    result = CliRunner().invoke(main, ["scan", "decode", str(image), str(blank)])
    assert result.exit_code == 0, result.output
    first, second = (json.loads(line) for line in result.output.splitlines())
    assert first["codes"][0]["symbology"] == "]d2"
    assert first["codes"][0]["parsed"]["serial"] == "ABC123"
    assert second == {"file": str(blank), "codes": []}
    monkeypatch.setenv("DARUTRACE_SCANNER_OUTBOX", str(tmp_path / "o.sqlite3"))
    Outbox(tmp_path / "o.sqlite3").enqueue({"action": "receive", "codes": ["x"]}, fingerprint("k"))
    status = CliRunner().invoke(main, ["scan", "status"])
    assert json.loads(status.output) == {"queued": 1, "sent": 0, "refused": 0}
    offline = CliRunner().invoke(
        main, ["scan", "sync", "--server", "http://127.0.0.1:9", "--api-key", "k"]
    )
    assert offline.exit_code == 1
    assert "offline — 1 queued" in offline.output


def test_session_counts_a_code_once_and_warns_on_a_rescan(tmp_path: Path) -> None:
    from scanner.session import ScanSession

    sent: list[dict[str, Any]] = []

    def post(payload: dict[str, Any]) -> tuple[int, Any]:
        sent.append(payload)
        result = {"code": payload["codes"][0], "outcome": "ok", "reason": "", "status": "active"}
        return 200, {"results": [result]}

    now = [0.0]
    session = ScanSession(
        "receive", Outbox(tmp_path / "o.sqlite3"), post, KEY_ID, cooldown=2.0, clock=lambda: now[0]
    )
    code = "(01)09506000134352(21)ABC"
    assert [f.outcome for f in session.see([code])] == ["ok"]
    for t in (0.1, 0.2, 0.3):  # the same pack in the next frames
        now[0] = t
        assert session.see([code]) == []
    now[0] = 10.0  # out of sight, then scanned again
    assert [f.outcome for f in session.see([code, "garbage"])] == ["warning", "refused"]
    assert len(sent) == 1
    with pytest.raises(ValueError, match="destination"):
        ScanSession("ship", Outbox(tmp_path / "o.sqlite3"), post, KEY_ID)
