"""What the counter's camera sends: the raw value ZXing gives for a GS1 DataMatrix (its plain
text, each FNC1 as a GS character, no symbology identifier; what the BarcodeDetector ponyfill
returns) is read by the server as the pack, through the counter's own endpoint's twin."""

from __future__ import annotations

import uuid

import zxingcpp

from app.labels.symbols import gs1_datamatrix
from tests.browser import live_server
from tests.helpers import LOGINS
from tests.scan_server import login as api_login
from tests.test_console_counter_browser import _api, _batch, _event, _holder

__all__ = ["live_server"]


def test_a_datamatrix_raw_value_with_gs_separators_receives_the_pack(live_server: str) -> None:
    razi = LOGINS["razi-pharmacy"].facility_gln
    gtin, serials = _batch(live_server, "141", "GSR1", 1)
    _event(_api(live_server), "sina-darou", "ship", [f"(01){gtin}(21){serials[0]}"],
           destination_gln=razi)  # fmt: skip
    label = gs1_datamatrix(f"(01){gtin}(21){serials[0]}(10)GSR1(17)281231")
    (read,) = zxingcpp.read_barcodes(label, text_mode=zxingcpp.TextMode.Plain)
    assert "\x1d" in read.text and not read.text.startswith("]")

    api = _api(live_server)
    body = {"event_id": str(uuid.uuid4()), "action": "receive", "codes": [read.text]}
    answer = api.post("/api/events", json=body, headers=api_login(api, "razi-pharmacy"))
    assert answer.status_code == 200, answer.text
    assert _holder(live_server, gtin, serials[0]) == razi


def test_only_the_counter_may_use_the_camera_and_compile_webassembly(live_server: str) -> None:
    api = _api(live_server)
    counter = api.get("/console/counter/manifest.webmanifest").headers
    other = api.get("/console/login").headers
    assert "script-src 'self' 'wasm-unsafe-eval';" in counter["content-security-policy"]
    assert counter["permissions-policy"].startswith("camera=(self)")
    assert "wasm-unsafe-eval" not in other["content-security-policy"]
    assert other["permissions-policy"].startswith("camera=()")
