"""Views and a middleware that fail as a database outage does, for the 503 tests."""

import sqlite3

import psycopg
from django.db import IntegrityError, InterfaceError, OperationalError
from django.urls import path

# What psycopg says when the server is down: none of it may reach the page.
REFUSED = (
    'connection failed: connection to server at "127.0.0.1", port 5432 failed: '
    "Connection refused\n\tIs the server running on that host and accepting TCP/IP connections?"
)


def refused() -> OperationalError:
    """Django's error as psycopg's connection failure (no SQLSTATE: no server) causes it."""
    error = OperationalError(REFUSED)
    error.__cause__ = psycopg.OperationalError(REFUSED)
    return error


def operational(request):
    raise refused()


def no_such_table(request):
    """SQLite's OperationalError for a bug, not an outage: must stay a 500."""
    try:
        sqlite3.connect(":memory:").execute("SELECT * FROM no_such_table")
    except sqlite3.OperationalError as error:
        raise OperationalError(str(error)) from error


def syntax_error(request):
    """PostgreSQL's OperationalError with a code outside the outage classes (a bug)."""
    error = OperationalError("invalid syntax")
    cause = psycopg.OperationalError("invalid syntax")
    cause.sqlstate = "42601"
    error.__cause__ = cause
    raise error


def interface(request):
    raise InterfaceError("the connection is closed")


def integrity(request):
    raise IntegrityError('duplicate key value violates unique constraint "secret_name"')


def session_reading_middleware(get_response):
    """Reads the session before any view runs, as a session-lifetime check does."""

    def middleware(request):
        request.session.get("anything")
        return get_response(request)

    return middleware


urlpatterns = [
    path("operational", operational),
    path("interface", interface),
    path("integrity", integrity),
    path("no-such-table", no_such_table),
    path("syntax-error", syntax_error),
]
