"""The `darutrace` command."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from app.audit.cli import audit_group
from app.db.backup_cli import backup_command, restore_command
from app.epcis.cli import epcis_group
from app.labels.layouts import LAYOUTS, MAX_LABELS, SYMBOLOGIES
from app.settings import DEFAULT_WORKERS, Settings
from models.roles import OrganizationKind, Role
from scanner.modes import MODES

# The heavy modules (the ORM, the web server, OpenCV, the reader) are imported by the commands
# that use them, so that `darutrace --help` and `darutrace code parse` start at once.
if TYPE_CHECKING:
    import uvicorn
    from sqlmodel.ext.asyncio.session import AsyncSession

    from app.devices import service as devices
    from app.labels.sheet import LabelPack
    from app.organizations.service import OrganizationRecord
    from models.identity import Device
    from scanner.outbox import Outbox, Queued
    from scanner.results import Feedback
    from scanner.window import Window

T = TypeVar("T")


def _with_session(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Start the database (embedded or DATABASE_URL), run `work` in one session, stop."""
    from app.db.database import Database
    from app.errors import ServiceError

    db = Database(Settings.from_env())
    db.start()

    async def run() -> T:
        await db.open_pool()
        try:
            async with db.session() as session:
                return await work(session)
        finally:
            await db.close_pool()

    try:
        return asyncio.run(run())
    except ServiceError as exc:
        raise click.ClickException(exc.detail) from exc
    finally:
        db.stop()


def _print_json(value: object) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, default=str))


@click.group()
def main() -> None:
    """DaruTrace: national drug track-and-trace."""


@main.command()
@click.option("--demo", "with_demo", is_flag=True, help="Seed the demo world and print its logins.")
@click.option("--host", default=None, help="Listen address (DARUTRACE_HOST, default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (DARUTRACE_PORT, default 8000).")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help=f"Worker processes serving the port (DARUTRACE_WORKERS, default {DEFAULT_WORKERS}).",
)
def serve(with_demo: bool, host: str | None, port: int | None, workers: int | None) -> None:
    """Start the database (embedded unless DATABASE_URL), migrate, and serve the API."""
    from concurrent.futures import ThreadPoolExecutor

    from app.db.database import Database

    settings = Settings.from_env().served_at(host, port, workers)
    db = Database(settings)
    # PostgreSQL starts in processes of its own while this one loads the application (a second
    # of imports): the two waits overlap.
    background = ThreadPoolExecutor(1)
    server = background.submit(db.start_server)
    try:
        import uvicorn

        from app import demo, demo_history
        from app.factory import configure_logging, create_app

        server.result()
        db.migrate()
        if with_demo:
            asyncio.run(demo.seed_database(db))
            asyncio.run(demo_history.record_database(db))
        settings.jwt_secret()  # made here once, not raced for by the workers
        app = create_app(settings, db) if settings.workers == 1 else None
        settings.record_server_url()
        url = settings.server_url
        click.echo(f"DaruTrace at {url}  (API docs: {url}/schema)")
        click.echo(f"Console (open in a browser): {url}/console")
        if with_demo:
            click.echo("Demo logins (the console's login page, or POST /api/auth/login):")
            for login in demo.logins():
                click.echo(f"  {login.username:<24} {login.password:<30} {login.role.value}")
            click.echo("Demo scanner keys (X-API-Key): darutrace demo devices")
        options: dict[str, Any] = {
            "host": settings.host,
            "port": settings.port,
            "log_config": None,
            "access_log": False,
            "timeout_graceful_shutdown": 10,
        }
        if app is not None:
            _run_until_signalled(uvicorn.Server(uvicorn.Config(app, **options)))
        else:
            configure_logging(settings)
            click.echo(f"{settings.workers} worker processes")
            _run_workers(settings, db.url, uvicorn.Config(_WORKER_APP, **options))
    finally:
        background.shutdown()  # the server's start, if an import failed meanwhile
        db.stop()


_WORKER_APP = "app.factory:worker_app"
# A worker that does not answer the supervisor's ping for this long is killed and replaced: long
# enough that one busy with a big request (a 100,000-code event) is not taken for hung.
_WORKER_HEALTHCHECK_SECONDS = 60


def _run_workers(settings: Settings, database_url: str, config: uvicorn.Config) -> None:
    """uvicorn's supervisor: it binds the port, spawns the workers (each imports the app and
    runs its startup), replaces any that dies, and on SIGINT/SIGTERM stops them all and waits
    for them to finish their requests and their shutdown before returning."""
    from uvicorn.supervisors import Multiprocess

    # What the workers inherit: the database this process started, and the address served.
    os.environ["DATABASE_URL"] = database_url
    os.environ["DARUTRACE_HOST"] = settings.host
    os.environ["DARUTRACE_PORT"] = str(settings.port)
    config.factory = True
    config.workers = settings.workers
    config.timeout_worker_healthcheck = _WORKER_HEALTHCHECK_SECONDS
    Multiprocess(config, sockets=[config.bind_socket()]).run()


class _Stopped(Exception):
    pass


def _run_until_signalled(server: uvicorn.Server) -> None:
    """uvicorn shuts down gracefully on SIGINT/SIGTERM, then re-raises the signal; we turn that
    into a normal return so that the database is stopped cleanly and the exit status is 0."""

    def stop(signum: int, _: object) -> None:
        raise _Stopped(signum)

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, stop)
    with contextlib.suppress(_Stopped):
        server.run()


main.add_command(audit_group)
main.add_command(backup_command)
main.add_command(restore_command)
main.add_command(epcis_group)


@main.group()
def db() -> None:
    """Database schema migrations."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration."""
    from app.db import migrate
    from app.db.database import Database

    database = Database(Settings.from_env())
    database.start()
    database.stop()
    click.echo(f"database at revision {migrate.head_revision()}")


@db.command("current")
def db_current() -> None:
    """Print the database's revision and the code's head revision."""
    import sqlalchemy as sa

    from app.db import migrate
    from app.db.database import Database

    database = Database(Settings.from_env())
    database.start(run_migrations=False)
    try:
        with sa.create_engine(database.url, poolclass=sa.NullPool).connect() as connection:
            current = migrate.current_revision(connection)
    finally:
        database.stop()
    head = migrate.head_revision()
    state = "up to date" if current == head else "behind: run `darutrace db upgrade`"
    click.echo(f"current {current}  head {head}  ({state})")


@db.command("revision")
@click.option("-m", "--message", required=True)
def db_revision(message: str) -> None:
    """(Developers) autogenerate a migration from the models; review it before committing."""
    from alembic import command

    from app.db import migrate
    from app.db.database import Database

    database = Database(Settings.from_env())
    database.start()
    try:
        number = len(list((migrate.MIGRATIONS_DIR / "versions").glob("[0-9]*.py"))) + 1
        command.revision(
            migrate.alembic_config(database.url),
            message=message,
            autogenerate=True,
            rev_id=f"{number:04d}",
        )
    finally:
        database.stop()


@main.group("organizations")
def organizations_group() -> None:
    """Organisations (to bootstrap: create the regulator, then its first admin)."""


@organizations_group.command("create")
@click.option("--gln", required=True)
@click.option("--name", required=True, help="Name in English.")
@click.option("--name-fa", required=True, help="Name in Persian.")
@click.option("--kind", type=click.Choice([k.value for k in OrganizationKind]), required=True)
@click.option(
    "--prefix",
    "company_prefixes",
    multiple=True,
    help="A GS1 company prefix the organisation holds (4-12 digits; repeat for more).",
)
def organizations_create(
    gln: str, name: str, name_fa: str, kind: str, company_prefixes: tuple[str, ...]
) -> None:
    from app.organizations import service as organizations

    new = organizations.NewOrganization(
        gln, name, name_fa, OrganizationKind(kind), company_prefixes
    )

    async def work(session: AsyncSession) -> OrganizationRecord:
        return await organizations.create(session, new)

    _print_organization(_with_session(work))


@organizations_group.command("add-prefix")
@click.option("--gln", required=True, help="GLN of the organisation.")
@click.option(
    "--prefix",
    "company_prefixes",
    multiple=True,
    required=True,
    help="A GS1 company prefix to add (4-12 digits; repeat for more).",
)
def organizations_add_prefix(gln: str, company_prefixes: tuple[str, ...]) -> None:
    """Give an existing organisation more GS1 company prefixes (it keeps those it holds)."""
    from app.organizations import service as organizations

    async def work(session: AsyncSession) -> OrganizationRecord:
        return await organizations.add_company_prefixes(session, gln, company_prefixes)

    _print_organization(_with_session(work))


def _print_organization(record: OrganizationRecord) -> None:
    o = record.organization
    _print_json(
        {"id": o.id, "gln": o.gln, "name": o.name, "company_prefixes": record.company_prefixes}
    )


@main.group("users")
def users_group() -> None:
    """User accounts."""


@users_group.command("create")
@click.option("--username", required=True)
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--org", "org_gln", required=True, help="GLN of the user's organisation.")
@click.option("--facility", "facility_gln", default=None, help="GLN of the home facility.")
@click.password_option(help="Asked for when not given.")
def users_create(
    username: str, role: str, org_gln: str, facility_gln: str | None, password: str
) -> None:
    """Create a user, the first admin included."""
    from app.users import service as users
    from models.identity import Facility, Organization

    async def work(session: AsyncSession) -> uuid.UUID:
        organization = await _by_gln(session, Organization, org_gln, "organisation")
        facility_id = None
        if facility_gln:
            facility_id = (await _by_gln(session, Facility, facility_gln, "facility")).id
        new = users.NewUser(username, password, Role(role), organization.id, facility_id)
        return (await users.create(session, new)).id

    _print_json({"id": _with_session(work), "username": username, "role": role})


@main.group("devices")
def devices_group() -> None:
    """Scanner devices and their API keys."""


@devices_group.command("create")
@click.option("--facility", "facility_gln", required=True, help="GLN of the device's facility.")
@click.option("--name", required=True)
def devices_create(facility_gln: str, name: str) -> None:
    """Register a device; its API key is printed once and never again."""
    from app.devices import service as devices
    from models.identity import Facility

    async def work(session: AsyncSession) -> devices.IssuedDevice:
        facility = await _by_gln(session, Facility, facility_gln, "facility")
        return await devices.create(session, None, facility.id, name)

    issued = _with_session(work)
    _print_json({"id": issued.device.id, "name": issued.device.name, "api_key": issued.api_key})
    click.echo("Store the API key now: it is not shown again.", err=True)


@devices_group.command("revoke")
@click.argument("device_id", type=click.UUID)
def devices_revoke(device_id: uuid.UUID) -> None:
    """Revoke a device's API key (it stops working at once)."""
    from app.devices import service as devices

    async def work(session: AsyncSession) -> Device:
        return await devices.revoke(session, None, device_id)

    device = _with_session(work)
    _print_json({"id": device.id, "name": device.name, "revoked_at": device.revoked_at})


@main.group("code")
def code_group() -> None:
    """Reading GS1 codes."""


@code_group.command("parse")
@click.argument("text")
def code_parse(text: str) -> None:
    """Read TEXT (or, with `-`, one code per line from standard input) and print one JSON
    object per code. Works without a database."""
    from models.codes import ReaderConfig, read_code
    from scanner import keyboard

    lines = keyboard.codes(sys.stdin) if text == "-" else [text]
    config = ReaderConfig.from_environment()
    failed = False
    for line in lines:
        result = read_code(line, config)
        failed |= not result.ok
        _print_json(result.as_dict())
    sys.exit(1 if failed else 0)


@main.command("labels")
@click.option("--batch", "batch", default=None, metavar="GTIN/LOT", help="The batch to label.")
@click.option("--sscc", "ssccs", multiple=True, help="Case or pallet labels instead (repeatable).")
@click.option("--format", "file_format", type=click.Choice(["pdf"]), default="pdf")
@click.option(
    "--symbology", type=click.Choice(list(SYMBOLOGIES)), default="datamatrix", show_default=True
)
@click.option("--layout", type=click.Choice(list(LAYOUTS)), default="a4", show_default=True)
@click.option("--offset", type=int, default=0, help="Skip this many packs (serial order).")
@click.option("--limit", type=int, default=MAX_LABELS, show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None)
def labels_command(
    batch: str | None,
    ssccs: tuple[str, ...],
    file_format: str,
    symbology: str,
    layout: str,
    offset: int,
    limit: int,
    output: str | None,
) -> None:
    """Print the pack labels of a batch (or case labels for SSCCs) to a PDF, streamed to disk,
    with a progress bar."""
    from app.labels import service as label_service
    from app.labels.sheet import render, render_cases
    from app.packs.commissioning import driver_connection
    from models.gs1 import InvalidKey, validate_sscc

    if ssccs:
        try:
            document = render_cases([validate_sscc(s) for s in ssccs], LAYOUTS[layout])
        except InvalidKey as exc:
            raise click.BadParameter(str(exc), param_hint="--sscc") from exc
        path = output or "cases.pdf"
        with open(path, "wb") as pdf:
            pdf.writelines(document)
        click.echo(path)
        return
    if batch is None:
        raise click.UsageError("Say which labels: --batch GTIN/LOT or --sscc SSCC.")
    gtin, _, lot = batch.partition("/")
    settings = Settings.from_env()

    async def load(session: AsyncSession) -> list[LabelPack]:
        connection = await driver_connection(session)
        return list(await label_service.batch_labels(connection, gtin, lot, offset, limit))

    packs = _with_session(load)
    resolver = settings.labels_resolver()
    if symbology != "datamatrix":
        click.echo(f"QR codes point to {resolver} (DARUTRACE_RESOLVER_URL to change)", err=True)
    path = output or f"{gtin}-{lot}-labels.{file_format}"
    with (
        open(path, "wb") as pdf,
        click.progressbar(
            length=len(packs), label=f"{len(packs):,} labels", file=sys.stderr
        ) as progress,
    ):
        for chunk in render(_counted(packs, progress), LAYOUTS[layout], symbology, resolver):
            pdf.write(chunk)
    click.echo(path)


def _counted(packs: list[LabelPack], progress: Any) -> Iterator[LabelPack]:
    for pack in packs:
        progress.update(1)
        yield pack


SERVER_OPTION = click.option(
    "--server", envvar="DARUTRACE_SERVER", default="http://127.0.0.1:8000", show_default=True,
    help="The DaruTrace server's URL (or DARUTRACE_SERVER).",
)  # fmt: skip


@main.group("scan", invoke_without_command=True)
@click.option("--mode", type=click.Choice(MODES), help="What each scan records.")
@click.option(
    "--source", default="0", show_default=True,
    help="Camera index, video file, stream URL, image file or folder, or `keyboard`.",
)  # fmt: skip
@SERVER_OPTION
@click.option("--api-key", envvar="DARUTRACE_API_KEY", default=None,
              help="The scanner device's key (or DARUTRACE_API_KEY).")  # fmt: skip
@click.option("--destination", default=None, help="GLN the packs go to (ship, return).")
@click.option("--cooldown", type=float, default=2.0, show_default=True,
              help="Seconds out of sight before a code counts as scanned again.")  # fmt: skip
@click.option("--decoder", type=click.Choice(["zxing", "zbar"]), default="zxing",
              show_default=True)  # fmt: skip
@click.option(
    "--stop-on-refused/--no-stop-on-refused", default=None,
    help="Wait for Enter after a refused scan (default: when run at a terminal).",
)  # fmt: skip
@click.option(
    "--preview/--no-preview", default=None,
    help="A window with each code outlined green (ok), red (refused) or amber (warning); "
    "q or Escape stops. Default: when a display exists.",
)  # fmt: skip
@click.option("--sound/--no-sound", default=True, show_default=True,
              help="Ring the terminal bell: once for a warning, twice for a refusal.")  # fmt: skip
@click.pass_context
def scan_group(
    ctx: click.Context,
    mode: str | None,
    source: str,
    server: str,
    api_key: str | None,
    destination: str | None,
    cooldown: float,
    decoder: str,
    stop_on_refused: bool | None,
    preview: bool | None,
    sound: bool,
) -> None:
    """Scan packs from a camera, video, stream, images or a keyboard-wedge scanner: every scan
    is queued in the outbox first, so an outage never stops the scanning. Subcommands: decode,
    status, sync."""
    from models.codes import ReaderConfig
    from scanner import keyboard
    from scanner.capture import SourceError, timed_frames
    from scanner.decoder import decoder_for
    from scanner.live import scan_frames
    from scanner.outbox import fingerprint
    from scanner.results import Names
    from scanner.sender import (
        KeyRefused,
        ServerUnavailable,
        check_key,
        http_client,
        http_post,
        http_product_name,
        http_site_names,
        http_verify,
    )
    from scanner.session import ScanSession
    from scanner.sound import ring

    if ctx.invoked_subcommand is not None:
        return
    if mode is None or api_key is None:
        raise click.UsageError("give --mode and --api-key (or DARUTRACE_API_KEY)")
    client = http_client(server, api_key)
    names = Names(http_product_name(client), http_site_names(client))
    try:
        session = ScanSession(
            mode, _outbox(), http_post(client), fingerprint(api_key), verify=http_verify(client),
            destination_gln=destination, cooldown=cooldown, names=names,
            reader=ReaderConfig.from_environment(),
        )  # fmt: skip
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    try:
        read = decoder_for(decoder)
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from exc
    try:
        owner = check_key(client, session.outbox, session.key_id)
    except ServerUnavailable as exc:
        session.online = False
        click.echo(f"{exc}: scanning offline; every scan is queued", err=True)
    else:
        if isinstance(owner, KeyRefused):
            raise click.ClickException(
                f"this scanner's key was refused (HTTP {owner.status}: {owner.detail}): "
                "fix the key (--api-key or DARUTRACE_API_KEY); nothing was scanned"
            )
        session.facility_id = owner.facility_id
        click.echo(f"scanning as {owner.name}", err=True)
    if stop_on_refused is None:
        stop_on_refused = sys.stdin.isatty()

    def tell(feedback: Feedback) -> None:
        if sound:
            ring(feedback.outcome, lambda bell: click.echo(bell, nl=False))
        click.echo(feedback.line())
        if feedback.outcome == "refused" and stop_on_refused:
            click.pause("Refused: set the pack aside, then press any key to go on.")

    try:
        if source == "keyboard":
            for line in keyboard.codes(sys.stdin):
                for feedback in session.typed(line):
                    tell(feedback)
        else:
            scan_frames(session, timed_frames(source), read, _preview_window(preview, mode), tell)
    except SourceError as exc:
        raise click.ClickException(str(exc)) from exc
    status = session.outbox.status()
    click.echo(f"done: {status.sent} sent, {status.queued} queued", err=True)
    if session.key_refused is not None:  # the scans are safe, but someone must fix the key
        click.echo(session.key_refused.message(status.queued), err=True)
        sys.exit(1)


def _preview_window(wanted: bool | None, mode: str) -> Window | None:
    """The preview window: asked for (it must open), refused, or by default when it can."""
    from scanner.window import PreviewUnavailable, Window

    if wanted is False:
        return None
    try:
        return Window(f"DaruTrace scanner — {mode}")
    except PreviewUnavailable as exc:
        if wanted:
            raise click.ClickException(f"no preview: {exc}") from exc
        click.echo(f"no preview: {exc}; scanning without it", err=True)
        return None


def _outbox() -> Outbox:
    from scanner.outbox import Outbox

    default = Settings.from_env().data_dir / "scanner-outbox.sqlite3"
    return Outbox(Path(os.environ.get("DARUTRACE_SCANNER_OUTBOX") or default))


@scan_group.command("decode")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
def scan_decode(files: tuple[str, ...]) -> None:
    """Decode the codes in image files (no server needed): one JSON line per file."""
    import cv2
    import numpy as np

    from models.codes import ReaderConfig, read_code
    from scanner.decoder import decode

    config = ReaderConfig.from_environment()
    for file in files:
        image = cv2.imread(file, cv2.IMREAD_GRAYSCALE)
        if image is None:
            _print_json({"file": file, "codes": [], "error": "not an image OpenCV can read"})
            continue
        codes = [
            {
                "text": d.text,
                "symbology": d.symbology,
                "parsed": read_code(d.text, config).as_dict(),
            }
            for d in decode(image.astype(np.uint8))
        ]
        _print_json({"file": file, "codes": codes})


@scan_group.command("status")
def scan_status() -> None:
    """How many scans wait in the outbox and how many were sent."""
    status = _outbox().status()
    _print_json({"queued": status.queued, "sent": status.sent, "refused": status.refused})


@scan_group.command("sync")
@SERVER_OPTION
@click.option("--api-key", required=True, envvar="DARUTRACE_API_KEY",
              help="The key the scans were captured under (or DARUTRACE_API_KEY).")  # fmt: skip
def scan_sync(server: str, api_key: str) -> None:
    """Send the scans queued under this key, oldest first, printing each result; each is
    counted once however often it is sent."""
    from collections import Counter

    from models.codes import ReaderConfig
    from scanner.outbox import fingerprint
    from scanner.results import Names, event_feedback
    from scanner.sender import (
        KeyRefused,
        ServerUnavailable,
        check_key,
        http_client,
        http_post,
        http_product_name,
        http_site_names,
        sync,
    )

    client = http_client(server, api_key)
    names = Names(http_product_name(client), http_site_names(client))
    reader = ReaderConfig.from_environment()
    outbox, key_id = _outbox(), fingerprint(api_key)
    try:
        owner = check_key(client, outbox, key_id)
    except ServerUnavailable as exc:
        click.echo(f"{exc}: offline — {outbox.queued_for(key_id, None)} queued", err=True)
        sys.exit(1)
    if isinstance(owner, KeyRefused):
        click.echo(owner.message(outbox.queued_for(key_id, None)), err=True)
        sys.exit(1)
    outcomes = Counter[str]()

    def tell(event: Queued, status: int, body: Any) -> None:
        for feedback in event_feedback(event.payload, status, body, names, reader):
            outcomes[feedback.outcome] += 1
            click.echo(feedback.line())

    result = sync(outbox, http_post(client), key_id, owner.facility_id, on_answer=tell)
    counts = ", ".join(f"{outcomes[each]} {each}" for each in ("ok", "warning", "refused"))
    click.echo(f"this run: {result.sent} events sent ({counts}); {result.remaining} queued")
    if result.other_keys:
        click.echo(
            f"queued under another scanner's key: {result.other_keys} events need that key "
            "(run `darutrace scan sync` with it); they are kept",
            err=True,
        )
    if result.key_refused is not None:
        click.echo(result.key_refused.message(result.remaining), err=True)
        sys.exit(1)
    if not result.online:
        click.echo(f"offline — {result.remaining} queued", err=True)
        sys.exit(1)


@main.group("demo")
def demo_group() -> None:
    """The demo world (public credentials: never on a real deployment)."""


@demo_group.command("seed")
def demo_seed() -> None:
    """Create the demo world (idempotent)."""
    from app import demo

    _with_session(demo.seed)
    click.echo("demo world ready; `darutrace demo logins` lists the logins")


@demo_group.command("logins")
def demo_logins() -> None:
    """The demo users as JSON lines."""
    from app import demo

    for login in demo.logins():
        _print_json(asdict(login))


@demo_group.command("devices")
def demo_devices() -> None:
    """The demo scanner devices and their API keys as JSON lines."""
    from app import demo

    for device in demo.devices():
        _print_json(asdict(device))


async def _by_gln(session: AsyncSession, model: type[T], gln: str, what: str) -> T:
    from sqlmodel import select

    row = (await session.exec(select(model).where(model.gln == gln))).first()  # type: ignore[attr-defined]
    if row is None:
        raise click.ClickException(f"No {what} with GLN {gln}.")
    return row


if __name__ == "__main__":
    sys.exit(main())
