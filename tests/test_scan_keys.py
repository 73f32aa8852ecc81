"""Scans are never lost to a key: a key the server refuses (401), or a scanner that may not do
what it scanned (403), keeps every scan queued and says so plainly; each scan is sent only with
the identity it was captured under. End to end: `darutrace scan` and `scan sync` in
subprocesses against the real server, fed by a keyboard-wedge scanner on stdin."""

import json
import os
import sqlite3
import subprocess
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx

from tests.helpers import DEVICES, LOGINS
from tests.scan_server import DARUTRACE, batch_at_hub, live_server, login, scan

__all__ = ["live_server"]  # the fixture

HUB_GLN = LOGINS["darupakhsh"].facility_gln
HUB_KEY = DEVICES[HUB_GLN].api_key
PHARMACY_KEY = DEVICES[LOGINS["razi-pharmacy"].facility_gln].api_key
MAKER_KEY = DEVICES[LOGINS["sina-darou"].facility_gln].api_key
PLANT = f"Sina Darou Plant (GLN {LOGINS['sina-darou'].facility_gln})"  # batch_at_hub ships from it
FIX_THE_KEY = "nothing is lost, {} scans stay queued; fix the key and run `darutrace scan sync`"


def _receive(
    server: str, key: str, outbox: Path, codes: list[str]
) -> subprocess.CompletedProcess[str]:
    return scan(
        ["--mode", "receive", "--source", "keyboard", "--server", server, "--api-key", key,
         "--no-preview", "--no-sound"],
        outbox, "".join(f"{code}\n" for code in codes),
    )  # fmt: skip


def _status(outbox: Path) -> dict[str, int]:
    status: dict[str, int] = json.loads(scan(["status"], outbox).stdout)
    return status


def _sync(server: str, key: str, outbox: Path) -> subprocess.CompletedProcess[str]:
    return scan(["sync", "--server", server, "--api-key", key], outbox)


def _holder(api: httpx.Client, gtin: str, serial: str) -> str | None:
    pack = api.get(f"/api/packs/{gtin}/{serial}", headers=login(api, "fdo-inspector")).json()
    return (pack["holder"] or {}).get("facility", {}).get("gln")


def test_a_refused_key_starts_no_session_and_a_mistyped_one_loses_nothing(
    live_server: str, tmp_path: Path
) -> None:
    api, _, gtin, serials = batch_at_hub(live_server, "885")
    code = f"(01){gtin}(21){serials[0]}"
    outbox = tmp_path / "hub.sqlite3"
    refused = _receive(live_server, "dtk_mistyped", outbox, [code])
    assert refused.returncode == 1
    assert "this scanner's key was refused (HTTP 401: " in refused.stderr
    assert "fix the key (--api-key or DARUTRACE_API_KEY); nothing was scanned" in refused.stderr
    assert _status(outbox)["queued"] == 0

    # With the server out of reach the key cannot be checked: the scans are queued.
    offline = _receive("http://127.0.0.1:9", "dtk_mistyped", outbox, [code])
    assert offline.returncode == 0, offline.stderr
    assert "scanning offline; every scan is queued" in offline.stderr
    assert offline.stdout.startswith(f"queued   GTIN {gtin}  SN {serials[0]}  offline — 1 queued")
    not_sent = _sync(live_server, "dtk_mistyped", outbox)
    assert not_sent.returncode == 1
    assert "this scanner's key was refused (HTTP 401: " in not_sent.stderr
    assert FIX_THE_KEY.format(1) in not_sent.stderr
    assert _status(outbox) == {"queued": 1, "sent": 0, "refused": 0}

    # The key is fixed: the scan made with the mistyped one goes with it.
    fixed = _sync(live_server, HUB_KEY, outbox)
    assert fixed.returncode == 0, fixed.stderr
    assert fixed.stdout.splitlines() == [
        f"ok       Cetirizine 10 mg  SN {serials[0]}  received from {PLANT}",
        "this run: 1 events sent (1 ok, 0 warning, 0 refused); 0 queued",
    ]
    assert _holder(api, gtin, serials[0]) == HUB_GLN


def test_scans_go_only_with_the_key_they_were_captured_under(
    live_server: str, tmp_path: Path
) -> None:
    api, _, gtin, serials = batch_at_hub(live_server, "884")
    codes = [f"(01){gtin}(21){serial}" for serial in serials[:2]]
    outbox = tmp_path / "shared.sqlite3"
    assert _receive("http://127.0.0.1:9", HUB_KEY, outbox, codes).returncode == 0
    # Another scanner's key on the same machine: it sends nothing of the hub's and keeps it.
    other = _sync(live_server, PHARMACY_KEY, outbox)
    assert other.returncode == 0, other.stderr
    assert other.stdout == "this run: 0 events sent (0 ok, 0 warning, 0 refused); 0 queued\n"
    assert "queued under another scanner's key: 2 events need that key" in other.stderr
    assert _status(outbox)["queued"] == 2
    assert _holder(api, gtin, serials[0]) is None  # still in transit: nothing was recorded
    own = _sync(live_server, HUB_KEY, outbox)
    assert own.returncode == 0, own.stderr
    assert own.stdout.splitlines()[-1] == (
        "this run: 2 events sent (2 ok, 0 warning, 0 refused); 0 queued"
    )
    assert [_holder(api, gtin, serial) for serial in serials[:2]] == [HUB_GLN, HUB_GLN]


def _new_hub_device(api: httpx.Client, name: str) -> tuple[str, str]:
    hub_user = login(api, "darupakhsh")
    sites = api.get("/api/facilities", headers=hub_user).json()
    facility_id = next(site["id"] for site in sites if site["gln"] == HUB_GLN)
    device = api.post(
        "/api/devices", json={"facility_id": facility_id, "name": name}, headers=hub_user
    )
    device.raise_for_status()
    return device.json()["id"], device.json()["api_key"]


def test_a_key_revoked_mid_session_keeps_the_scans_for_the_sites_new_key(
    live_server: str, tmp_path: Path
) -> None:
    api, _, gtin, serials = batch_at_hub(live_server, "883")
    codes = [f"(01){gtin}(21){serial}" for serial in serials[:3]]
    device_id, key = _new_hub_device(api, "dock 2")
    outbox = tmp_path / "dock.sqlite3"
    scanner = subprocess.Popen(
        [DARUTRACE, "scan", "--mode", "receive", "--source", "keyboard", "--server",
         live_server, "--api-key", key, "--no-preview", "--no-sound"],
        env=os.environ | {"DARUTRACE_SCANNER_OUTBOX": str(outbox)},
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert scanner.stdin is not None and scanner.stdout is not None
    try:
        scanner.stdin.write(codes[0] + "\n")
        scanner.stdin.flush()
        assert scanner.stdout.readline().startswith("ok       Cetirizine 10 mg")
        api.post(
            f"/api/devices/{device_id}/revoke", headers=login(api, "darupakhsh")
        ).raise_for_status()
        scanner.stdin.write(codes[1] + "\n")
        scanner.stdin.flush()
        line = scanner.stdout.readline()
        assert line.startswith(f"queued   Cetirizine 10 mg  SN {serials[1]}  this scanner's key")
        assert FIX_THE_KEY.format(1) in line
        scanner.stdin.write(codes[2] + "\n")
        scanner.stdin.close()
        assert scanner.stdout.readline().endswith("not sent: the key was refused — 2 queued\n")
        stderr = scanner.stderr.read() if scanner.stderr else ""
        assert scanner.wait(timeout=60) == 1, stderr  # done, but the key needs fixing
    finally:
        scanner.kill()
    assert "done: 1 sent, 2 queued" in stderr
    assert FIX_THE_KEY.format(2) in stderr
    assert _status(outbox) == {"queued": 2, "sent": 1, "refused": 0}

    # The site's new key sends the scans its revoked key captured.
    _, new_key = _new_hub_device(api, "dock 2, new key")
    synced = _sync(live_server, new_key, outbox)
    assert synced.returncode == 0, synced.stderr
    assert synced.stdout.splitlines() == [
        f"ok       Cetirizine 10 mg  SN {serials[1]}  received from {PLANT}",
        f"ok       Cetirizine 10 mg  SN {serials[2]}  received from {PLANT}",
        "this run: 2 events sent (2 ok, 0 warning, 0 refused); 0 queued",
    ]
    assert [_holder(api, gtin, serial) for serial in serials[:3]] == [HUB_GLN] * 3


def test_a_scanner_that_may_not_do_this_keeps_the_scan_queued(
    live_server: str, tmp_path: Path
) -> None:
    _, _, gtin, serials = batch_at_hub(live_server, "882")
    outbox = tmp_path / "maker.sqlite3"
    dispensed = scan(
        ["--mode", "dispense", "--source", "keyboard", "--server", live_server,
         "--api-key", MAKER_KEY, "--no-preview", "--no-sound"],
        outbox, f"(01){gtin}(21){serials[0]}\n",
    )  # fmt: skip
    assert dispensed.returncode == 1, dispensed.stderr
    assert dispensed.stdout.startswith(
        f"queued   Cetirizine 10 mg  SN {serials[0]}  this scanner's key was refused (HTTP 403: "
        "Your role (manufacturer) may not record 'dispense'.): " + FIX_THE_KEY.format(1)
    )
    assert _status(outbox) == {"queued": 1, "sent": 0, "refused": 0}


_PREVIOUS_SCHEMA = """
CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE,
    payload TEXT NOT NULL,
    queued_at TEXT NOT NULL,
    sent_at TEXT,
    status INTEGER,
    response TEXT,
    maybe_delivered INTEGER NOT NULL DEFAULT 0
)
"""


def test_an_outbox_of_the_previous_version_opens_and_gets_its_lost_scans_back(
    live_server: str, tmp_path: Path
) -> None:
    api, _, gtin, serials = batch_at_hub(live_server, "881")
    outbox = tmp_path / "old.sqlite3"
    with sqlite3.connect(outbox) as db:
        db.execute(_PREVIOUS_SCHEMA)
        now = datetime.now(UTC).isoformat()
        for serial, sent_at, status in ((serials[0], None, None), (serials[1], now, 401)):
            event = {"event_id": str(uuid.uuid4()), "event_time": now, "action": "receive",
                     "codes": [f"(01){gtin}(21){serial}"]}  # fmt: skip
            db.execute(
                "INSERT INTO outbox (event_id, payload, queued_at, sent_at, status, response)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (event["event_id"], json.dumps(event), now, sent_at, status,
                 json.dumps({"detail": "Unknown or revoked API key."}) if status else None),
            )  # fmt: skip
    db.close()
    # The scan the previous version filed as refused by a 401 was never recorded: queued again.
    assert _status(outbox) == {"queued": 2, "sent": 0, "refused": 0}
    synced = _sync(live_server, HUB_KEY, outbox)
    assert synced.returncode == 0, synced.stderr
    assert synced.stdout.splitlines()[-1] == (
        "this run: 2 events sent (2 ok, 0 warning, 0 refused); 0 queued"
    )
    assert [_holder(api, gtin, serial) for serial in serials[:2]] == [HUB_GLN, HUB_GLN]
