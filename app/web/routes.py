"""The console's own pages: logging in and out, the language switch and the start page."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit

from litestar import Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template

from app.auth import service, sessions
from app.auth.guards import EVERY_ROLE, allow
from app.auth.middleware import PAGE_OPT, PUBLIC_OPT
from app.auth.throttle import LoginAttempt
from app.db.request_session import request_session
from app.dependencies import Caller, Runtime, Session
from app.errors import ServiceError
from app.security.rate_limit import RATE_LIMIT_OPT
from app.web.errors import CONSOLE, LOGIN
from app.web.i18n import LANGUAGE_COOKIE, LANGUAGES
from app.web.templating import page

FORM = Body(media_type=RequestEncodingType.URL_ENCODED)
PAGE = {PAGE_OPT: True}
_YEAR = 365 * 24 * 3600


def _safe_next(target: str | None) -> str:
    """Only a path of this console: never another site (an open redirect)."""
    if not target:
        return CONSOLE
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith(f"{CONSOLE}") or "\\" in target:
        return CONSOLE
    return target


def secure_cookies(request: Request[Any, Any, Any], runtime: Runtime) -> bool:
    return request.url.scheme == "https" or runtime.settings.security.hsts_seconds > 0


@get(LOGIN, opt={PUBLIC_OPT: True, **PAGE}, include_in_schema=False)
async def login_form(
    request: Request[Any, Any, Any],
    next: FromQuery[str | None] = None,
) -> Template:
    return page(request, "login.html", next=_safe_next(next), error=None, username="")


@post(
    LOGIN,
    opt={PUBLIC_OPT: True, RATE_LIMIT_OPT: "login", **PAGE},
    include_in_schema=False,
    status_code=200,
)
async def login(
    request: Request[Any, Any, Any],
    session: Session,
    runtime: Runtime,
    data: Annotated[dict[str, str], FORM],
) -> Response[Any]:
    username = data.get("username", "").strip()
    password = data.get("password", "")
    target = _safe_next(data.get("next"))
    address = request.client.host if request.client else "unknown"
    try:
        if not username or not password:
            raise ServiceError("Enter your username and password.")
        user = await service.authenticate(
            session, LoginAttempt(username, address), password, runtime
        )
    except ServiceError as exc:
        status = exc.status_code if exc.status_code != 400 else 422
        return page(
            request, "login.html", status_code=status, next=target, error=exc.detail,
            username=username,
        )  # fmt: skip
    token = await sessions.open_session(session, user, address)
    return Redirect(
        target,
        cookies=[
            Cookie(
                key=sessions.COOKIE,
                value=token,
                path=CONSOLE,
                httponly=True,
                samesite="lax",
                secure=secure_cookies(request, runtime),
            )
        ],
    )


@post(f"{CONSOLE}/logout", opt=PAGE, guards=[allow(EVERY_ROLE)], include_in_schema=False)
async def logout(request: Request[Any, Any, Any]) -> Response[Any]:
    token = request.cookies.get(sessions.COOKIE)
    if token:
        await sessions.end_session(await request_session(request.scope).connection(), token)
    return Redirect(LOGIN, cookies=[Cookie(key=sessions.COOKIE, value="", path=CONSOLE, max_age=0)])


@get(f"{CONSOLE}/language/{{code:str}}", opt={PUBLIC_OPT: True, **PAGE}, include_in_schema=False)
async def language(code: FromPath[str], next: FromQuery[str | None] = None) -> Response[Any]:
    chosen = code if code in LANGUAGES else LANGUAGES[0]
    return Redirect(
        _safe_next(next),
        cookies=[
            Cookie(key=LANGUAGE_COOKIE, value=chosen, path="/", max_age=_YEAR, samesite="lax")
        ],
    )


@get(CONSOLE, opt=PAGE, guards=[allow(EVERY_ROLE)], include_in_schema=False)
async def home(request: Request[Any, Any, Any], principal: Caller) -> Template:
    return page(request, "home.html")


@get("/", opt={PUBLIC_OPT: True}, include_in_schema=False)
async def root() -> Redirect:
    return Redirect(CONSOLE)


ROUTES = [login_form, login, logout, language, home, root]
