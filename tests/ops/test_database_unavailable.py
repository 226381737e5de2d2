"""The outage middleware: a database that cannot be reached answers a friendly 503 page.

The real outage (a PostgreSQL cluster stopped under gunicorn) is in test_outage.py; these
tests make the database fail in-process, on SQLite and on PostgreSQL alike.
"""

import pytest
from django.db import OperationalError
from django.db.backends.utils import CursorWrapper
from django.test import Client, RequestFactory

from config.middleware import DatabaseUnavailableMiddleware, _close_connections
from tests.ops.outage_urls import REFUSED
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
        raise OperationalError(REFUSED)

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
def test_other_database_errors_are_bugs_and_stay_500():
    response = Client(raise_request_exception=False).get("/integrity")
    assert response.status_code == 500
    assert "Retry-After" not in response


def test_the_middleware_catches_what_propagates_to_it():
    def view(request):
        raise OperationalError(REFUSED)

    response = DatabaseUnavailableMiddleware(view)(RequestFactory().get("/"))
    assert_outage_page(response)


def test_the_middleware_leaves_other_responses_alone():
    sentinel = object()
    middleware = DatabaseUnavailableMiddleware(lambda request: sentinel)
    assert middleware(RequestFactory().get("/")) is sentinel
    assert middleware.process_exception(RequestFactory().get("/"), ValueError("x")) is None


@pytest.mark.django_db
def test_a_logged_in_page_with_the_database_down_answers_503(monkeypatch, seed):
    client = Client(raise_request_exception=False)
    client.force_login(make_user(role="Analyst"))
    database_down(monkeypatch)
    # The session and the user are read inside the view (login_required): 503, not 500.
    for path in ["/", "/recommendations/", "/recommendations/1/", "/dialogues/"]:
        assert_outage_page(client.get(path))


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
