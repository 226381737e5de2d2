"""Login throttling hooks, the security log, refused permissions and session lifetime.

Everything here writes to the ``tracker.security`` logger: each login that succeeds, fails
or is locked out (username and address, never the password) and each refused permission
(user, method, path and the permissions that were checked and refused).
"""

import contextvars
import ipaddress
import logging
import time
from collections.abc import Callable

from axes.backends import AxesStandaloneBackend
from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth import SESSION_KEY, logout
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render, resolve_url
from django.views.csrf import csrf_failure as django_csrf_failure
from django.views.defaults import permission_denied as django_permission_denied

log = logging.getLogger("tracker.security")

# Session keys: when the session was last written (for the inactivity timeout) and when
# its user logged in (for the absolute limit). Unix seconds.
SESSION_TOUCHED = "security_touched_at"
SESSION_LOGIN_AT = "security_login_at"


def _address(text: str) -> str | None:
    """An IP address from a header entry or REMOTE_ADDR, without any port; None if it is
    not one (a header is anyone's to write)."""
    text = text.strip()
    if text.startswith("["):  # [2001:db8::1]:443
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:  # 192.0.2.1:443
        text = text.partition(":")[0]
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def _from_trusted_proxy(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return any(ip in ipaddress.ip_network(net) for net in settings.TRACKER_TRUSTED_PROXY_NETWORKS)


def client_ip(request: HttpRequest) -> str | None:
    """The client's address, as the trusted proxies saw it.

    With ``TRACKER_TRUSTED_PROXIES = 0`` (development, tests) it is REMOTE_ADDR: a client
    can write any X-Forwarded-For it likes, so the header is not read. Behind N proxies
    that each append the address they saw, the client is the Nth entry from the right;
    anything further left was written by the client and is ignored. The header is read
    only when the request comes from a proxy's address (``TRUSTED_PROXY_NETWORKS``,
    private and loopback by default): someone reaching an app server directly writes the
    header themselves. An entry that is not an address gives REMOTE_ADDR. Login
    throttling (``AXES_CLIENT_IP_CALLABLE``) and the security log both use this.
    """
    remote = _address(request.META.get("REMOTE_ADDR", ""))
    proxies = settings.TRACKER_TRUSTED_PROXIES
    if proxies <= 0 or remote is None or not _from_trusted_proxy(remote):
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < proxies:
        return remote  # not through all our proxies: trust nothing it says
    return _address(forwarded[-proxies]) or remote


def throttled_username(request: HttpRequest, credentials: dict | None = None) -> str | None:
    """The username django-axes counts a login's failures under (``AXES_USERNAME_CALLABLE``):
    the one given, cut to the length of axes' column. A longer one (no account has one: a
    username holds 150 characters) made the failure's INSERT fail on PostgreSQL, a 500."""
    field = settings.AXES_USERNAME_FORM_FIELD
    username = (credentials or getattr(request, "data", request.POST)).get(field)
    if not isinstance(username, str):
        return username
    return username[: AccessAttempt._meta.get_field("username").max_length]


class LoginThrottleBackend(AxesStandaloneBackend):
    """django-axes' lockout check, first in AUTHENTICATION_BACKENDS.

    Every login over HTTP (our login page and the admin's) passes the request and is
    throttled. ``authenticate()`` without a request (the test client's ``login()``, a
    shell) has no address to throttle by, so it goes on to the next backend instead of
    failing as axes' own backend does. A new way of logging in over HTTP must pass the
    request, or it is not throttled.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


# The permissions refused during the current request, for the 403 log line. None outside
# a request (a shell, a command), where nothing is recorded.
_refused_permissions: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(
    "refused_permissions", default=None
)


class RefusedPermissionRecorder:
    """Last in AUTHENTICATION_BACKENDS: grants nothing, remembers what was refused.

    Django asks each backend in turn and stops at the first that grants a permission
    (superusers never get here), so a check that reaches this backend has been refused
    by all the others.
    """

    def authenticate(self, request, **credentials):
        return None

    def has_perm(self, user_obj, perm: str, obj=None) -> bool:
        refused = _refused_permissions.get()
        if refused is not None and perm not in refused:
            refused.append(perm)
        return False


def refused_permissions_middleware(get_response: Callable) -> Callable:
    def middleware(request: HttpRequest) -> HttpResponse:
        token = _refused_permissions.set([])
        try:
            return get_response(request)
        finally:
            _refused_permissions.reset(token)

    return middleware


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler403: log who was refused what, then Django's page (templates/403.html)."""
    user = getattr(request, "user", None)
    user = user.get_username() if user is not None and user.is_authenticated else "(anonymous)"
    log.warning(
        "permission refused: user=%r ip=%s method=%s path=%r permission=%s",
        user,
        client_ip(request),
        request.method,
        request.path,
        ",".join(_refused_permissions.get() or []) or "(not a permission check)",
    )
    return django_permission_denied(request, exception)


@receiver(user_logged_in, dispatch_uid="tracker.security.logged_in")
def _log_login(sender, request, user, **kwargs) -> None:
    log.info(
        "login succeeded: username=%r ip=%s",
        user.get_username(),
        client_ip(request) if request is not None else None,
    )
    if request is not None and hasattr(request, "session"):
        now = int(time.time())
        request.session[SESSION_LOGIN_AT] = now
        request.session[SESSION_TOUCHED] = now


@receiver(user_login_failed, dispatch_uid="tracker.security.login_failed")
def _log_login_failure(sender, credentials, request=None, **kwargs) -> None:
    # Django has already replaced the password with stars; only the username is read.
    log.warning(
        "login failed: username=%r ip=%s",
        credentials.get("username"),
        client_ip(request) if request is not None else None,
    )


@receiver(user_locked_out, dispatch_uid="tracker.security.locked_out")
def _log_lockout(sender, request, username, ip_address, **kwargs) -> None:
    log.warning("login locked out: username=%r ip=%s", username, ip_address)


def lockout_response(request: HttpRequest, original_response, credentials) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: the login page's own layout saying why and for how long."""
    minutes = max(1, round(get_cool_off(request).total_seconds() / 60))
    return render(
        request,
        "registration/locked_out.html",
        {"minutes": minutes, "failure_limit": settings.AXES_FAILURE_LIMIT},
        status=429,
    )


def session_lifetime_middleware(get_response: Callable) -> Callable:
    """An inactivity timeout without a database write on every request.

    The session (cookie and row) expires SESSION_COOKIE_AGE after it was last saved.
    Saving it on every request (SESSION_SAVE_EVERY_REQUEST) would add a write to every
    page; instead it is saved when the last save is more than
    TRACKER_SESSION_TOUCH_SECONDS old, so it expires after SESSION_COOKIE_AGE of
    inactivity, give or take that interval. A login older than
    TRACKER_SESSION_ABSOLUTE_SECONDS is logged out whatever the activity.
    """

    def middleware(request: HttpRequest) -> HttpResponse:
        session = request.session
        if SESSION_KEY in session:
            now = int(time.time())
            login_at = session.get(SESSION_LOGIN_AT)
            # Every login stamps its session (_log_login); a session without the stamp
            # is from before this check, of unknown age: it logs in again.
            if login_at is None or now - login_at > settings.TRACKER_SESSION_ABSOLUTE_SECONDS:
                logout(request)
                return get_response(request)
            if now - session.get(SESSION_TOUCHED, 0) > settings.TRACKER_SESSION_TOUCH_SECONDS:
                session[SESSION_TOUCHED] = now  # marks it modified: saved with a new expiry
        return get_response(request)

    return middleware


def htmx_session_ended_middleware(get_response: Callable) -> Callable:
    """An htmx request whose session has ended answers 401, not the login redirect.

    htmx would follow the redirect and swap the whole login page into the form's place,
    losing what the user typed; with a 401 the page stays as it is and
    ``static/js/app.js`` says the session ended.
    """

    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        if (
            getattr(request, "htmx", False)
            and response.status_code == 302
            and response.get("Location", "").startswith(resolve_url(settings.LOGIN_URL))
        ):
            ended = HttpResponse(
                "Your session has ended: log in again.",
                status=401,
                content_type="text/plain; charset=utf-8",
            )
            ended["X-Tracker-Error"] = "session-ended"
            return ended
        return response

    return middleware


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: Django's page (templates/403_csrf.html), marked for htmx, whose
    alert then says to reload the page rather than that permission was refused."""
    response = django_csrf_failure(request, reason)
    response["X-Tracker-Error"] = "csrf"
    return response
