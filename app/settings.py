"""Settings read from the environment (`DARUTRACE_…`, plus the conventional `DATABASE_URL`)."""

from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass, field, replace
from pathlib import Path

import platformdirs

from app.security.config import SecuritySettings
from models.reader_config import ReaderConfig

_SERVER_URL = "server-url"
# Worker processes of `darutrace serve` (DARUTRACE_WORKERS, `--workers`): see the README's
# figures for why this is the default on a 2-core machine.
DEFAULT_WORKERS = 2


def _env(name: str, default: str) -> str:
    return os.environ.get(f"DARUTRACE_{name}", default)


@dataclass(frozen=True)
class Settings:
    database_url: str | None
    data_dir: Path
    host: str
    port: int
    token_ttl_minutes: int
    log_level: str
    jwt_secret_override: str | None
    auth_cache_seconds: float = 10.0
    workers: int = DEFAULT_WORKERS
    resolver_url: str = ""
    reader: ReaderConfig = field(default_factory=ReaderConfig)
    security: SecuritySettings = field(default_factory=SecuritySettings)

    @property
    def resolver(self) -> str:
        """Where the server's Digital Link QR codes point: DARUTRACE_RESOLVER_URL, else itself."""
        return self.resolver_url or self.server_url

    @property
    def server_url(self) -> str:
        """The address of a server listening on `host`:`port`. A server listening on every
        interface is reached by the machine's name, not by 0.0.0.0."""
        host = socket.gethostname() if self.host in ("0.0.0.0", "::", "") else self.host  # noqa: S104
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"

    def served_at(self, host: str | None, port: int | None, workers: int | None = None) -> Settings:
        """These settings for a server started on `host`:`port` with `workers` processes (given
        on the command line)."""
        return replace(
            self, host=host or self.host, port=port or self.port, workers=workers or self.workers
        )

    def record_server_url(self) -> None:
        """Note where the server serves, for the commands that print labels beside it."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        path = self.data_dir / _SERVER_URL
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        tmp.write_text(self.server_url + "\n")
        tmp.replace(path)

    def labels_resolver(self) -> str:
        """Where labels printed from the command line point: DARUTRACE_RESOLVER_URL, else the
        server last started on this data directory, else the configured host and port."""
        if self.resolver_url:
            return self.resolver_url
        path = self.data_dir / _SERVER_URL
        recorded = path.read_text().strip() if path.exists() else ""
        return recorded or self.server_url

    @classmethod
    def from_env(cls) -> Settings:
        data_dir = os.environ.get("DARUTRACE_DATA_DIR") or platformdirs.user_data_dir("darutrace")
        return cls(
            database_url=os.environ.get("DATABASE_URL") or None,
            data_dir=Path(data_dir).expanduser().resolve(),
            host=_env("HOST", "127.0.0.1"),
            port=int(_env("PORT", "8000")),
            token_ttl_minutes=int(_env("TOKEN_TTL_MINUTES", "480")),
            log_level=_env("LOG_LEVEL", "INFO").upper(),
            jwt_secret_override=os.environ.get("DARUTRACE_JWT_SECRET") or None,
            auth_cache_seconds=float(_env("AUTH_CACHE_SECONDS", "10")),
            workers=_workers(_env("WORKERS", str(DEFAULT_WORKERS))),
            resolver_url=_env("RESOLVER_URL", ""),
            reader=ReaderConfig.from_environment(),
            security=SecuritySettings.from_env(),
        )

    def jwt_secret(self) -> str:
        """The signing key: from the environment, or generated once and kept in the data directory
        so that tokens survive a restart."""
        if self.jwt_secret_override:
            return self.jwt_secret_override
        path = self.data_dir / "jwt-secret"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            write_secret_once(path, secrets.token_urlsafe(48))
        return path.read_text().strip()


def _workers(text: str) -> int:
    workers = int(text)
    if workers < 1:
        raise ValueError(f"DARUTRACE_WORKERS must be 1 or more, not {text!r}")
    return workers


def write_secret_once(path: Path, value: str) -> None:
    """Create `path` (mode 0600) holding `value`, unless it exists: the first of several racing
    processes wins and the others read its value, never a half-written file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value)
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
