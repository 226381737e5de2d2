"""A database outage answers a friendly 503 page instead of a 500 with a traceback.

``DatabaseUnavailableMiddleware`` goes at the top of ``MIDDLEWARE``, above everything
that may touch the database, so that it sees every database error of a request,
wherever it happens:

- in a view (the usual place: ``request.user``, the page's queries, a write):
  ``process_exception`` answers the 503 directly, and the response still goes out
  through every other middleware (security headers, CSP);
- in another middleware (a session saved in ``SessionMiddleware``, a CSRF token kept
  in the session, a login throttle): Django turns an exception raised in a middleware
  into a 500 response at that middleware's own boundary, so no ``try``/``except``
  around ``get_response`` ever sees it. The ``got_request_exception`` signal, sent
  while the exception is being handled, marks the request, and ``__call__`` swaps the
  500 for the 503;
- anything that still propagates is caught around ``get_response``: Django's 500
  handler can fail too (with ``CSRF_USE_SESSIONS`` its CSRF check reads the session
  again), and then the error escapes every handler below.

Only errors of the connection count as an outage (``is_outage``): ``InterfaceError``
(connection already closed), and an ``OperationalError`` that PostgreSQL raised without
reaching the server or with a connection, shutdown or resource code (SQLSTATE classes
08, 57P, 53), or that SQLite raised because the file is busy, locked or unreadable. An
``OperationalError`` that is a bug (SQLite's "no such table", a statement PostgreSQL
refused), an ``IntegrityError`` or a ``ProgrammingError`` stays a 500.

Django logs the 500 of an error raised in a middleware before this one swaps it for the
503; ``OutageLogFilter`` (on the ``django.request`` logger) drops that record, so an
outage logs one warning line a request, not a traceback.

Broken connections are closed, so the next request of this process connects afresh
once the database is back; gunicorn needs no restart.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Callable

from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError, connections
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 10
_MARK = "_tracker_database_unavailable"
# PostgreSQL's SQLSTATE classes of a lost or refused connection, a server shutting down,
# or a server out of connections, memory or disk.
POSTGRES_OUTAGE_STATES = ("08", "57P", "53")
# SQLite's error names (and their extended forms) for a file that cannot be used now.
SQLITE_OUTAGE_ERRORS = ("SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_CANTOPEN", "SQLITE_IOERR")


def is_outage(exception: BaseException | None) -> bool:
    """True for a database that cannot be reached or used right now, not for a bug."""
    if isinstance(exception, InterfaceError):
        return True
    if not isinstance(exception, OperationalError):
        return False
    cause = exception.__cause__
    if hasattr(cause, "sqlstate"):  # psycopg: no code when the server was never reached
        return cause.sqlstate is None or cause.sqlstate.startswith(POSTGRES_OUTAGE_STATES)
    if hasattr(cause, "sqlite_errorname"):
        return cause.sqlite_errorname.startswith(SQLITE_OUTAGE_ERRORS)
    return False


class OutageLogFilter(logging.Filter):
    """Drops Django's "Internal Server Error" record of an outage the middleware answers."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and is_outage(record.exc_info[1]))


def _close_connections() -> None:
    """Close the connections that no longer work, so this process's next query
    connects afresh instead of failing on a dead socket until CONN_MAX_AGE runs out.
    A connection that still answers is kept (and a test's transaction with it)."""
    for connection in connections.all(initialized_only=True):
        if connection.connection is None or connection.in_atomic_block:
            continue
        with contextlib.suppress(Exception):  # asking or closing a dead connection may fail
            if not connection.is_usable():
                connection.close()


def database_unavailable_response() -> HttpResponse:
    """The 503 page: a standalone template rendered without the request, so that
    nothing in it can reach the user, the session or any other table."""
    response = HttpResponse(render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def _outage(request: HttpRequest, exception: BaseException) -> HttpResponse:
    # One line, no traceback: during an outage every request logs this.
    logger.warning(
        "Database unavailable (%s: %s) for %s %s",
        type(exception).__name__,
        str(exception).strip().splitlines()[0] if str(exception).strip() else "",
        request.method,
        request.path,
    )
    _close_connections()
    return database_unavailable_response()


@receiver(got_request_exception, dispatch_uid="tracker_database_unavailable")
def _mark_database_error(sender, request: HttpRequest | None = None, **kwargs) -> None:
    """Sent while Django handles an exception it will answer with a 500."""
    exception = sys.exc_info()[1]
    if request is not None and is_outage(exception):
        setattr(request, _MARK, exception)


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            response = self.get_response(request)
        except (OperationalError, InterfaceError) as exception:
            if not is_outage(exception):
                raise
            return _outage(request, exception)
        exception = getattr(request, _MARK, None)
        if exception is not None and response.status_code == 500:
            outage = _outage(request, exception)
            # Keep what the middleware between here and the error added (CSP,
            # X-Frame-Options...), but not the 500's body headers.
            for header, value in response.items():
                if header.lower() not in {"content-type", "content-length", "cache-control"}:
                    outage.headers.setdefault(header, value)
            return outage
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if is_outage(exception):
            return _outage(request, exception)
        return None
