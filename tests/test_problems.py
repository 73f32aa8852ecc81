"""Database errors become problems a client can act on."""

import psycopg
from litestar.testing import RequestFactory

from app.problems import EXCEPTION_HANDLERS


def test_a_deadlock_is_a_503_to_retry_not_a_500() -> None:
    """PostgreSQL rolled the whole request back to break a deadlock: sending it again works."""
    handler = EXCEPTION_HANDLERS[psycopg.OperationalError]
    for error in (psycopg.errors.DeadlockDetected(), psycopg.errors.SerializationFailure()):
        response = handler(RequestFactory().post("/api/events"), error)
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "1"
        assert "Send it again" in response.content["detail"]


def test_other_database_errors_are_ours() -> None:
    handler = EXCEPTION_HANDLERS[psycopg.OperationalError]
    response = handler(RequestFactory().get("/api/alerts"), psycopg.errors.DiskFull())
    assert response.status_code == 500
