"""Views and a middleware that fail as a database outage does, for the 503 tests."""

from django.db import IntegrityError, InterfaceError, OperationalError
from django.urls import path

# What psycopg says when the server is down: none of it may reach the page.
REFUSED = (
    'connection failed: connection to server at "127.0.0.1", port 5432 failed: '
    "Connection refused\n\tIs the server running on that host and accepting TCP/IP connections?"
)


def operational(request):
    raise OperationalError(REFUSED)


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
]
