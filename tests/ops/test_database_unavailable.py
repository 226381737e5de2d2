"""The outage middleware: a database that cannot be reached answers a friendly 503 page.

The real outage (a PostgreSQL cluster stopped under gunicorn) is in test_outage.py; these
tests make the database fail in-process, on SQLite and on PostgreSQL alike.
"""

import sqlite3

import psycopg
import pytest
from django.db import InterfaceError, OperationalError
from django.db.backends.utils import CursorWrapper
from django.test import Client, RequestFactory

from config.middleware import DatabaseUnavailableMiddleware, _close_connections, is_outage
from tests.ops.outage_urls import refused
from tracker.tests.helpers import make_recommendation, make_user

# Internals that must never reach the page.
LEAKS = [
    "Traceback",
    "OperationalError",
    "InterfaceError",
    "psycopg",
    "Connection refused",
    "connection",
    "5432",
    "127.0.0.1",
    "Server Error",
]


def assert_outage_page(response) -> None:
    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/html")
    assert response["Retry-After"] == "10"
    body = response.content.decode()
    assert "<title>Temporarily unavailable · Recommendation Tracker</title>" in body
    assert "The tracker is briefly unavailable" in body
    for leak in LEAKS:
        assert leak not in body, leak


def database_down(monkeypatch) -> None:
    """Every query from now on fails as it does when PostgreSQL is stopped."""

    def refuse(*args, **kwargs):
        raise refused()

    monkeypatch.setattr(CursorWrapper, "execute", refuse)
    monkeypatch.setattr(CursorWrapper, "executemany", refuse)


@pytest.mark.urls("tests.ops.outage_urls")
@pytest.mark.parametrize("path", ["/operational", "/interface"])
def test_a_view_losing_the_database_answers_the_503_page(path, caplog):
    assert_outage_page(Client().get(path))
    # Answered as an outage, not as a crash: one warning line, no traceback in the log.
    assert not [record for record in caplog.records if record.exc_info]
    assert "Database unavailable" in caplog.text


@pytest.mark.urls("tests.ops.outage_urls")
def test_the_503_page_still_gets_the_security_headers():
    # process_exception answers from inside: the response goes out through every middleware.
    response = Client().get("/operational")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.urls("tests.ops.outage_urls")
@pytest.mark.parametrize("path", ["/integrity", "/no-such-table", "/syntax-error"])
def test_other_database_errors_are_bugs_and_stay_500(path, caplog):
    response = Client(raise_request_exception=False).get(path)
    assert response.status_code == 500
    assert "Retry-After" not in response
    # A bug is logged with its traceback, for whoever fixes it.
    assert [record for record in caplog.records if record.exc_info]


def test_what_counts_as_an_outage():
    def postgres(sqlstate):
        error, cause = OperationalError("x"), psycopg.OperationalError("x")
        cause.sqlstate = sqlstate
        error.__cause__ = cause
        return error

    def sqlite(sql_after_lock):
        error = OperationalError("x")
        error.__cause__ = sqlite3.OperationalError("x")
        error.__cause__.sqlite_errorname = sql_after_lock
        return error

    outages = [None, "08006", "08001", "57P01", "57P03", "53300"]
    assert all(is_outage(postgres(code)) for code in outages)
    assert not any(is_outage(postgres(code)) for code in ["42601", "42P01", "22P02", "40001"])
    assert is_outage(sqlite("SQLITE_BUSY")) and is_outage(sqlite("SQLITE_IOERR_READ"))
    assert not is_outage(sqlite("SQLITE_ERROR"))
    assert is_outage(InterfaceError("closed"))
    assert not is_outage(OperationalError("no cause: not known to be an outage"))
    assert not is_outage(ValueError("x")) and not is_outage(None)


def test_the_middleware_catches_what_propagates_to_it():
    def view(request):
        raise refused()

    response = DatabaseUnavailableMiddleware(view)(RequestFactory().get("/"))
    assert_outage_page(response)


def test_the_middleware_leaves_other_responses_alone():
    sentinel = object()
    middleware = DatabaseUnavailableMiddleware(lambda request: sentinel)
    assert middleware(RequestFactory().get("/")) is sentinel
    assert middleware.process_exception(RequestFactory().get("/"), ValueError("x")) is None


@pytest.mark.django_db
def test_a_logged_in_page_with_the_database_down_answers_503(monkeypatch, seed, caplog):
    client = Client(raise_request_exception=False)
    client.force_login(make_user(role="Analyst"))
    database_down(monkeypatch)
    # The session is read in a middleware, the user in the view: 503, not 500.
    for path in ["/", "/recommendations/", "/recommendations/1/", "/dialogues/"]:
        assert_outage_page(client.get(path))
    # One warning line a request, no traceback (Django's 500 record is dropped).
    assert not [record for record in caplog.records if record.exc_info]
    assert caplog.text.count("Database unavailable") == 4


@pytest.mark.django_db
def test_a_write_with_the_database_down_answers_503(monkeypatch, seed):
    recommendation = make_recommendation()
    client = Client(raise_request_exception=False)
    client.force_login(make_user(role="Analyst"))
    database_down(monkeypatch)
    response = client.post(
        f"/recommendations/{recommendation.pk}/notes",
        {"text": "Lost?", "version": recommendation.version},
    )
    assert_outage_page(response)
    monkeypatch.undo()
    assert not recommendation.notes.exists()


@pytest.mark.django_db
def test_the_database_failing_in_another_middleware_answers_503(monkeypatch, settings):
    # Django turns an error raised in a middleware into a 500 at that middleware's own
    # boundary: no try/except around get_response sees it. The 503 must still be answered.
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "tests.ops.outage_urls.session_reading_middleware"]
    client = Client(raise_request_exception=False)
    client.force_login(make_user())
    database_down(monkeypatch)
    response = client.get("/")
    assert_outage_page(response)
    # What the middleware between ours and the error added is kept.
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
def test_the_database_failing_in_the_500_handler_too_answers_503(monkeypatch, settings):
    # With the CSRF token kept in the session, CsrfViewMiddleware reads the session before
    # any view, and Django's 500 handler (requires_csrf_token) reads it again and fails
    # too: the error escapes Django's handlers up to the outermost middleware.
    settings.CSRF_USE_SESSIONS = True
    client = Client(raise_request_exception=False)
    client.force_login(make_user())
    database_down(monkeypatch)
    assert_outage_page(client.get("/"))


class FakeConnection:
    def __init__(self, usable: bool):
        self.connection = object()
        self.in_atomic_block = False
        self.usable = usable
        self.closed = False

    def is_usable(self) -> bool:
        return self.usable

    def close(self) -> None:
        self.closed = True


def test_broken_connections_are_closed_so_the_next_request_reconnects(monkeypatch):
    broken, healthy = FakeConnection(usable=False), FakeConnection(usable=True)
    monkeypatch.setattr(
        "config.middleware.connections.all", lambda initialized_only=False: [broken, healthy]
    )
    _close_connections()
    assert broken.closed
    assert not healthy.closed


def test_postgresql_gives_up_connecting_after_a_few_seconds():
    """A server that stops answering (rather than refusing) must not hold a worker until
    gunicorn kills it: the connection attempt times out, and the request gets the 503."""
    import subprocess
    import sys

    env = {
        "DATABASE_URL": "postgres://nobody@192.0.2.1:5432/x",  # TEST-NET: never answers
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "PATH": "/usr/bin:/bin",
    }
    code = (
        "import django; django.setup(); from django.db import connection; "
        "print(connection.settings_dict['OPTIONS']['connect_timeout'])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "5"
