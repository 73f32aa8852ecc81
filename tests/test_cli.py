"""The `darutrace` command, run as a user would."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from app.cli import main
from app.db.embedded import EmbeddedPostgres
from models.gs1 import with_check_digit
from tests.conftest import PgServer
from tests.processes import free_port, wait_until_ready

DARUTRACE = str(Path(sys.executable).parent / "darutrace")


@pytest.fixture
def cli_env(
    pg_server: PgServer, database: object, test_database: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[CliRunner]:
    """The CLI pointed at the test database (freshly reset to the demo world)."""
    monkeypatch.setenv("DATABASE_URL", test_database)
    monkeypatch.setenv("DARUTRACE_DATA_DIR", str(pg_server.data_dir))
    yield CliRunner()


def _json_lines(output: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def test_demo_logins_are_json_lines() -> None:
    result = CliRunner().invoke(main, ["demo", "logins"])
    assert result.exit_code == 0
    logins = _json_lines(result.output)
    assert len(logins) == 12
    assert set(logins[0]) == {"username", "password", "role", "organization", "facility_gln"}
    assert {login["role"] for login in logins} >= {"admin", "inspector", "pharmacy", "hospital"}


def test_bootstrap_first_admin_then_devices(cli_env: CliRunner) -> None:
    runner = cli_env
    gln = with_check_digit("626000555500")
    result = runner.invoke(
        main,
        [
            "organizations",
            "create",
            "--gln",
            gln,
            "--name",
            "Provincial FDO",
            "--name-fa",
            "معاونت غذا و دارو",
            "--kind",
            "regulator",
        ],
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        main,
        ["users", "create", "--username", "first-admin", "--role", "admin", "--org", gln],
        input="s3cret-enough\ns3cret-enough\n",
    )
    assert result.exit_code == 0, result.output
    assert _json_lines(result.output)[0]["role"] == "admin"

    result = runner.invoke(
        main,
        [
            "users",
            "create",
            "--username",
            "x",
            "--role",
            "pharmacy",
            "--org",
            gln,
            "--password",
            "long-enough-1",
        ],
    )
    assert result.exit_code != 0
    assert "regulator organisation can be" in result.output

    facility_gln = with_check_digit("626000999961")  # Dr. Razi Pharmacy in the demo world
    result = runner.invoke(
        main, ["devices", "create", "--facility", facility_gln, "--name", "Counter 3"]
    )
    assert result.exit_code == 0, result.output
    device = _json_lines(result.output)[0]
    assert str(device["api_key"]).startswith("dtk_")
    result = runner.invoke(main, ["devices", "revoke", str(device["id"])])
    assert result.exit_code == 0, result.output
    assert _json_lines(result.output)[0]["revoked_at"]
    result = runner.invoke(main, ["devices", "revoke", str(device["id"])])
    assert result.exit_code != 0
    assert "already revoked" in result.output

    result = runner.invoke(
        main, ["devices", "create", "--facility", "1234567890128", "--name", "x"]
    )
    assert result.exit_code != 0
    assert "No facility with GLN 1234567890128" in result.output


def test_organisations_get_company_prefixes_from_the_cli(cli_env: CliRunner) -> None:
    runner = cli_env
    gln = with_check_digit("626000555501")
    create = ["organizations", "create", "--gln", gln, "--name", "Kimia Darou",
              "--name-fa", "کیمیا دارو", "--kind", "manufacturer",
              "--prefix", "6260013", "--prefix", "6260014"]  # fmt: skip
    result = runner.invoke(main, create)
    assert result.exit_code == 0, result.output
    assert _json_lines(result.output)[0]["company_prefixes"] == ["6260013", "6260014"]
    add = ["organizations", "add-prefix", "--gln", gln, "--prefix", "6260015"]
    result = runner.invoke(main, add)
    assert result.exit_code == 0, result.output
    assert _json_lines(result.output)[0]["company_prefixes"] == ["6260013", "6260014", "6260015"]
    taken = ["organizations", "add-prefix", "--gln", gln, "--prefix", "626000991"]
    result = runner.invoke(main, taken)
    assert result.exit_code != 0
    assert "belongs to Sina Darou Pharmaceutical" in result.output
    nobody = ["organizations", "add-prefix", "--gln", "1234567890128", "--prefix", "6260016"]
    result = runner.invoke(main, nobody)
    assert result.exit_code != 0
    assert "No organisation with GLN 1234567890128" in result.output


def test_serve_demo_from_nothing_to_a_working_login(tmp_path: Path) -> None:
    """The README's main command on an empty data directory: initdb, migrate, seed, serve; the
    printed login works; SIGTERM shuts down cleanly and stops the database."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env |= {"DARUTRACE_DATA_DIR": str(tmp_path), "DARUTRACE_PORT": str(port)}
    server = subprocess.Popen(
        [DARUTRACE, "serve", "--demo"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(server, base, output=lambda: server.communicate()[0])
        login = httpx.post(
            f"{base}/api/auth/login",
            json={"username": "fdo-inspector", "password": "fdo-inspector-demo"},
        )
        assert login.status_code == 200
        token = login.json()["access_token"]
        organizations = httpx.get(
            f"{base}/api/organizations", headers={"Authorization": f"Bearer {token}"}
        )
        assert organizations.status_code == 200
        assert len(organizations.json()) == 11
        assert httpx.get(f"{base}/schema/").status_code == 200
        console = httpx.get(f"{base}/console", follow_redirects=True)
        assert console.status_code == 200
        assert 'name="username"' in console.text  # the login page
    finally:
        server.send_signal(signal.SIGTERM)
        output = server.communicate(timeout=30)[0]
    assert server.returncode == 0, output
    assert f"DaruTrace at http://127.0.0.1:{port}" in output
    assert f"Console (open in a browser): http://127.0.0.1:{port}/console" in output
    assert re.search(r"fdo-inspector\s+fdo-inspector-demo\s+inspector", output)
    assert EmbeddedPostgres(tmp_path)._running_port() is None


def _serve(data_dir: Path, *args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DARUTRACE_PORT")}
    env.pop("DARUTRACE_RESOLVER_URL", None)
    env["DARUTRACE_DATA_DIR"] = str(data_dir)
    return subprocess.Popen(
        [DARUTRACE, "serve", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip


def _qr_links(pdf: bytes) -> set[str]:
    import numpy as np
    import pypdfium2 as pdfium

    from scanner.decoder import decode

    found = set()
    for page in pdfium.PdfDocument(pdf):
        image = np.asarray(page.render(scale=300 / 72).to_pil().convert("L"))
        found |= {s.text.removeprefix("]Q1") for s in decode(image) if s.symbology == "]Q1"}
    return found


def test_labels_point_at_the_port_the_server_serves_on(tmp_path: Path) -> None:
    """`serve --port`: the QR codes of the labels API and of `darutrace labels` open this server's
    resolver, not the default port's; DARUTRACE_RESOLVER_URL overrides both."""
    port = free_port()
    server = _serve(tmp_path, "--demo", "--port", str(port))
    base = f"http://127.0.0.1:{port}"
    batch = "06260009991011/AMX2601"
    try:
        wait_until_ready(server, base, output=lambda: server.communicate()[0])
        login = httpx.post(
            f"{base}/api/auth/login",
            json={"username": "sina-darou", "password": "sina-darou-demo"},
        )
        token = login.json()["access_token"]
        pdf = httpx.get(
            f"{base}/api/batches/{batch}/labels.pdf",
            params={"symbology": "qr", "limit": 2},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert pdf.status_code == 200, pdf.text
        links = _qr_links(pdf.content)
        assert len(links) == 2
        assert all(link.startswith(f"{base}/01/06260009991011/") for link in links), links

        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DARUTRACE_PORT")}
        env.pop("DARUTRACE_RESOLVER_URL", None)
        env["DARUTRACE_DATA_DIR"] = str(tmp_path)
        printed = tmp_path / "cli.pdf"
        command = [DARUTRACE, "labels", "--batch", batch, "--symbology", "qr", "--limit", "2"]
        cli = subprocess.run(
            [*command, "-o", str(printed)], env=env, capture_output=True, text=True, timeout=120
        )
        assert cli.returncode == 0, cli.stderr
        assert f"QR codes point to {base}" in cli.stderr
        assert _qr_links(printed.read_bytes()) == links

        env["DARUTRACE_RESOLVER_URL"] = "https://verify.fdo.example"
        cli = subprocess.run(
            [*command, "-o", str(printed)], env=env, capture_output=True, text=True, timeout=120
        )
        assert cli.returncode == 0, cli.stderr
        resolved = _qr_links(printed.read_bytes())
        assert {link.replace("https://verify.fdo.example", base) for link in resolved} == links
    finally:
        server.send_signal(signal.SIGTERM)
        output = server.communicate(timeout=30)[0]
    assert f"DaruTrace at {base}" in output


def test_code_parse_reads_piped_element_strings_with_their_gs_separators() -> None:
    """A scanner in a pipe sends element strings with real GS (0x1D) separators, one code a line:
    GS must not split a code (`str.splitlines()` breaks lines at GS, FS and RS)."""
    gtin = "09506000134352"
    piped = f"]d201{gtin}21ABC123\x1d10LOT1\x1d17280131\r\n\n01{gtin}10LOT2\x1d21XYZ\n"
    result = subprocess.run(
        [DARUTRACE, "code", "parse", "-"], input=piped, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    codes = _json_lines(result.stdout)
    assert [(c["serial"], c["lot"], c["expiry"]) for c in codes] == [
        ("ABC123", "LOT1", "2028-01-31"),
        ("XYZ", "LOT2", None),
    ]


def test_keyboard_wedge_lines_keep_gs_separators() -> None:
    from scanner import keyboard

    typed = ["0109506000134352\x1d21A\x1c\x1e\r\n", "\n", "0109506000134352"]
    assert list(keyboard.codes(typed)) == ["0109506000134352\x1d21A\x1c\x1e", "0109506000134352"]
