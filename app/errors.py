"""Errors the services raise; the app turns each into an RFC 9457 problem with its status."""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    status_code = 400
    title = "Bad request"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class InvalidInput(ServiceError):
    status_code = 422
    title = "Invalid input"


class NotFound(ServiceError):
    status_code = 404
    title = "Not found"


class Conflict(ServiceError):
    status_code = 409
    title = "Conflict"


class UnsupportedMediaType(ServiceError):
    status_code = 415
    title = "Unsupported media type"


class Forbidden(ServiceError):
    status_code = 403
    title = "Forbidden"


class Unauthorized(ServiceError):
    status_code = 401
    title = "Unauthorized"


class TooManyRequests(ServiceError):
    """Sent with `Retry-After: <retry_after>` (seconds)."""

    status_code = 429
    title = "Too many requests"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail, retry_after=retry_after)
