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

Only ``OperationalError`` (cannot connect, server gone, connection killed) and
``InterfaceError`` (connection already closed) count as an outage: an
``IntegrityError`` or a ``ProgrammingError`` is a bug and stays a 500.

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

OUTAGE_ERRORS = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 10
_MARK = "_tracker_database_unavailable"


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
    if request is not None and isinstance(exception, OUTAGE_ERRORS):
        setattr(request, _MARK, exception)


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            response = self.get_response(request)
        except OUTAGE_ERRORS as exception:
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
        if isinstance(exception, OUTAGE_ERRORS):
            return _outage(request, exception)
        return None
