"""The Litestar application."""

from __future__ import annotations

import gc
import hashlib
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import CacheControlHeader, State
from litestar.logging.config import (
    LoggingConfig,
    StructLoggingConfig,
    default_structlog_processors,
)
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.structlog import StructlogConfig, StructlogPlugin
from litestar.static_files import create_static_files_router
from openapi_ui_bundles import swagger_ui
from structlog.typing import EventDict

from app.access_log.middleware import AccessLogMiddleware
from app.access_log.pages import ROUTES as ACCESS_LOG_PAGES
from app.access_log.routes import AccessLogController
from app.alerts.pages import ROUTES as ALERT_PAGES
from app.alerts.routes import AlertController
from app.audit.sealer import Sealer
from app.auth.cache import PrincipalCache
from app.auth.invalidation import CredentialChanges
from app.auth.middleware import PUBLIC_OPT, CredentialsMiddleware
from app.auth.routes import AuthController
from app.catalog.product_page import ROUTES as PRODUCT_PAGES
from app.catalog.registration_pages import ROUTES as REGISTRATION_PAGES
from app.catalog.routes import BatchController, ProductController
from app.codes.pages import ROUTES as SEARCH_PAGES
from app.codes.routes import CodeController
from app.containers.pages import ROUTES as CASE_PAGES
from app.containers.routes import ContainerController
from app.db.database import Database
from app.db.request_session import RequestSessionMiddleware, log_response
from app.dependencies import DEPENDENCIES
from app.devices.pages import ROUTES as DEVICE_PAGES
from app.devices.routes import DeviceController
from app.epcis.capture import Jobs
from app.epcis.export_routes import ROUTES as EPCIS_EXPORTS
from app.epcis.routes import EpcisController
from app.events.pages import ROUTES as COUNTER_PAGES
from app.events.routes import EventController
from app.facilities.admin_pages import ROUTES as FACILITY_ADMIN_PAGES
from app.facilities.directory import FacilityDirectory
from app.facilities.pages import ROUTES as FACILITY_PAGES
from app.facilities.routes import FacilityController
from app.health import health, ready
from app.indicators.pages import ROUTES as INDICATOR_PAGES
from app.indicators.routes import IndicatorController
from app.inventory.pages import ROUTES as INVENTORY_PAGES
from app.inventory.routes import InventoryController
from app.json_body import StrictJsonRequest
from app.openapi_problems import document_problems
from app.organizations.pages import ROUTES as ORGANIZATION_PAGES
from app.organizations.routes import OrganizationController
from app.packs.pages import ROUTES as PACK_PAGES
from app.packs.routes import PackController, VerifyController
from app.packs.serialization_pages import ROUTES as SERIALIZATION_PAGES
from app.problems import EXCEPTION_HANDLERS
from app.recalls.notice_pages import ROUTES as NOTICE_PAGES
from app.recalls.pages import ROUTES as RECALL_PAGES
from app.recalls.routes import RecallController
from app.resolver.routes import description as resolver_description
from app.resolver.routes import pack_page
from app.security.headers import SwaggerPage, security_headers
from app.security.rate_limit import RateLimitMiddleware, RateLimits
from app.settings import Settings
from app.state import AppState, app_state
from app.trace.pages import ROUTES as BATCH_PAGES
from app.trace.routes import TraceController
from app.users.pages import ROUTES as USER_PAGES
from app.users.routes import UserController
from app.web import routes as console
from app.web.errors import CONSOLE
from app.web.templating import STATIC, template_config

SWAGGER_ASSETS = "/schema/assets"


@asynccontextmanager
async def running(app: Litestar) -> AsyncIterator[None]:
    """From start to shutdown. A start remembers nothing from an earlier run of the same app
    object (the tests restart one app over a database refilled each time)."""
    state = app_state(app)
    state.forget()
    db = state.db
    await db.open_pool()
    sealer = Sealer(db)
    sealer.start()
    changes = CredentialChanges(db.conninfo, state.principals, db.connection_lost)
    try:
        await changes.start()
        state.epcis_jobs.resume(db)
        # What start-up made (modules, the app, its routes) lives as long as the process: out of
        # the collector's sight, a full collection no longer walks it. Measured: the first
        # 10,000-EPC document read in 37 ms before, 13 ms after (bench/epcis.py).
        gc.freeze()
        yield
    finally:
        await state.epcis_jobs.stop()
        await changes.stop()
        await sealer.stop()
        await db.close_pool()


def create_app(settings: Settings, db: Database) -> Litestar:
    """`db` must be started (server up, migrations applied); the app opens and closes its pool."""
    directory = FacilityDirectory()
    state = AppState(
        settings=settings,
        db=db,
        jwt_secret=settings.jwt_secret(),
        principals=PrincipalCache(ttl=settings.auth_cache_seconds),
        facilities=directory,
        rate_limits=RateLimits(settings.security),
        epcis_jobs=Jobs(directory, settings.reader),
    )

    app = Litestar(
        route_handlers=[
            health,
            ready,
            AuthController,
            OrganizationController,
            FacilityController,
            UserController,
            DeviceController,
            AccessLogController,
            ProductController,
            BatchController,
            RecallController,
            AlertController,
            EventController,
            VerifyController,
            PackController,
            CodeController,
            TraceController,
            InventoryController,
            ContainerController,
            IndicatorController,
            EpcisController,
            *EPCIS_EXPORTS,
            pack_page,
            resolver_description,
            *console.ROUTES,
            *PACK_PAGES,
            *SEARCH_PAGES,
            *CASE_PAGES,
            *PRODUCT_PAGES,
            *FACILITY_PAGES,
            *ALERT_PAGES,
            *ORGANIZATION_PAGES,
            *FACILITY_ADMIN_PAGES,
            *USER_PAGES,
            *DEVICE_PAGES,
            *ACCESS_LOG_PAGES,
            *BATCH_PAGES,
            *RECALL_PAGES,
            *REGISTRATION_PAGES,
            *SERIALIZATION_PAGES,
            *INVENTORY_PAGES,
            *NOTICE_PAGES,
            *COUNTER_PAGES,
            *INDICATOR_PAGES,
            create_static_files_router(
                path="/static",
                directories=[STATIC],
                opt={PUBLIC_OPT: True},
                include_in_schema=False,
                cache_control=CacheControlHeader(max_age=3600),
            ),
            create_static_files_router(
                path=SWAGGER_ASSETS,
                directories=[swagger_ui.static_path],
                opt={PUBLIC_OPT: True},
                include_in_schema=False,
            ),
        ],
        dependencies=DEPENDENCIES,
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=[
            RequestSessionMiddleware(),
            DefineMiddleware(
                CredentialsMiddleware, exclude_from_auth_key=PUBLIC_OPT, exclude="^/schema"
            ),
            AccessLogMiddleware(),  # before the rate limit: refused callers are logged too
            RateLimitMiddleware(),
        ],
        request_class=StrictJsonRequest,
        request_max_body_size=settings.security.max_body_bytes,
        cors_config=_cors(settings),
        csrf_config=_csrf(state.jwt_secret),
        template_config=template_config(),
        lifespan=[running],
        before_send=[log_response, security_headers],
        openapi_config=_openapi(),
        plugins=[StructlogPlugin(_logging(settings))],
        state=State({"darutrace": state}),
    )
    document_problems(app, PUBLIC_OPT)
    return app


def worker_app() -> Litestar:
    """The application of one process of `darutrace serve --workers N` (uvicorn calls this in
    each worker it spawns). The parent has started the database and migrated it, and hands the
    worker its URL as DATABASE_URL, with the address served as DARUTRACE_HOST and _PORT."""
    settings = Settings.from_env()
    db = Database(settings)
    db.start_server()
    return create_app(settings, db)


def configure_logging(settings: Settings) -> None:
    """The application's log lines for a process that does not build the application (the
    parent of the workers, which reports them starting and stopping)."""
    config = _logging(settings).structlog_logging_config
    config.configure()
    assert config.standard_lib_logging_config is not None
    config.standard_lib_logging_config.configure()


def _cors(settings: Settings) -> CORSConfig | None:
    """Cross-origin calls only from the origins named in DARUTRACE_CORS_ORIGINS (none by
    default). Credentials are headers (bearer token, API key), never cookies."""
    origins = list(settings.security.cors_origins)
    if not origins:
        return None
    return CORSConfig(
        allow_origins=origins,
        allow_methods=["GET", "POST", "PATCH"],
        allow_headers=["Authorization", "X-API-Key", "Content-Type"],
        expose_headers=["Retry-After", "Content-Disposition"],
        max_age=600,
    )


def _csrf(secret: str) -> CSRFConfig:
    """The console's forms and htmx requests carry the token of the `csrftoken` cookie (a form
    field or the `X-CSRFToken` header). Only the console: the API takes no cookie to forge."""
    return CSRFConfig(
        secret=hashlib.sha256(f"csrf:{secret}".encode()).hexdigest(),
        cookie_path=CONSOLE,
        # Everything but the console's pages: the API, the resolver, static files, health.
        exclude=[
            "^/api/",
            "^/epcis/",
            "^/schema",
            "^/01/",
            "^/static/",
            "^/health",
            "^/ready",
            "^/[.]well",
        ],
    )


def _openapi() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="DaruTrace",
        version="0.1.0",
        description="National drug track-and-trace: identities, packs, events, verification.",
        path="/schema",
        render_plugins=[
            SwaggerPage(
                path="/",
                js_url=f"{SWAGGER_ASSETS}/swagger-ui-bundle.js",
                css_url=f"{SWAGGER_ASSETS}/swagger-ui.css",
                standalone_preset_js_url=f"{SWAGGER_ASSETS}/swagger-ui-standalone-preset.js",
                favicon=f"<link rel='icon' href='{SWAGGER_ASSETS}/favicon-32x32.png'>",
            )
        ],
        components=Components(
            security_schemes={
                "BearerToken": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT"),
                "ApiKey": SecurityScheme(
                    type="apiKey", name="X-API-Key", security_scheme_in="header"
                ),
            }
        ),
        security=[{"BearerToken": []}, {"ApiKey": []}],
    )


def _process_id(_: object, __: str, event: EventDict) -> EventDict:
    event["pid"] = os.getpid()
    return event


def _logging(settings: Settings) -> StructlogConfig:
    """One JSON object per log line, from our loggers, Litestar's, uvicorn's and Alembic's alike,
    each naming the process that wrote it (with several workers, their lines interleave).
    Requests are logged without headers or bodies, which carry passwords, tokens and API keys."""
    json_lines = {
        "()": "structlog.stdlib.ProcessorFormatter",
        "processors": [
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.JSONRenderer(),
        ],
        "foreign_pre_chain": [
            _process_id,
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
        ],
    }
    return StructlogConfig(
        structlog_logging_config=StructLoggingConfig(
            standard_lib_logging_config=LoggingConfig(
                formatters={"standard": json_lines},
                log_exceptions="never",
                root={"level": settings.log_level, "handlers": ["queue_listener"]},
                loggers={
                    "alembic": {"level": "WARNING", "propagate": True},
                    "uvicorn.access": {"level": "WARNING", "propagate": True},
                },
            ),
            processors=[_process_id, *default_structlog_processors(as_json=True)],
            log_exceptions="never",
            pretty_print_tty=False,
        ),
        # One line per request comes from `log_response` (cheaper than Litestar's two).
        enable_middleware_logging=False,
    )
