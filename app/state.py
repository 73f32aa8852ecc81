"""What the running application shares between requests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from litestar import Litestar

from app.auth.cache import PrincipalCache
from app.db.database import Database
from app.epcis.capture import Jobs
from app.facilities.directory import FacilityDirectory
from app.security.rate_limit import RateLimits
from app.settings import Settings


@dataclass
class AppState:
    settings: Settings
    db: Database
    jwt_secret: str
    principals: PrincipalCache
    facilities: FacilityDirectory
    rate_limits: RateLimits
    epcis_jobs: Jobs

    def forget(self) -> None:
        """Drop everything kept in memory between requests: facilities and credentials, each a
        copy of the database. (Rate-limit counts are kept in the database, shared by every
        worker: a worker that starts again does not reset them.)"""
        self.principals.clear()
        self.facilities.clear()

    @property
    def token_ttl(self) -> timedelta:
        return timedelta(minutes=self.settings.token_ttl_minutes)


def app_state(app: Litestar) -> AppState:
    state: AppState = app.state.darutrace
    return state
