"""`darutrace backup FILE` and `darutrace restore FILE` (the work is in app/db/backup.py)."""

from __future__ import annotations

from pathlib import Path

import click

from app.settings import Settings

_FILE = click.Path(dir_okay=False, path_type=Path)


@click.command("backup")
@click.argument("file", type=_FILE)
def backup_command(file: Path) -> None:
    """Write a consistent snapshot of the database to FILE (pg_dump custom format), from
    DATABASE_URL or the embedded server in the data directory, while the API keeps running."""
    from app.db import backup as backups

    try:
        done = backups.backup(Settings.from_env(), file)
    except backups.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"backup of {done.target} written to {done.file}: {done.bytes:,} bytes "
        f"in {done.seconds:.1f} s"
    )


@click.command("restore")
@click.argument("file", type=_FILE)
def restore_command(file: Path) -> None:
    """Load a backup into an empty place: a new embedded server in DARUTRACE_DATA_DIR (empty or
    missing), or the empty database of DATABASE_URL. Never over existing data."""
    from app.db import backup as backups

    try:
        done = backups.restore(Settings.from_env(), file)
    except backups.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"restored {done.file} into {done.target} in {done.seconds:.1f} s")
