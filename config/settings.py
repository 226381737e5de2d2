"""Settings read from the environment; the defaults suit a developer's machine.

Production uses ``config.production``, which refuses weak or missing secrets.
"""

import os
import sys
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    """Read a boolean, failing loudly on anything but the usual spellings."""
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean (use true or false)")


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# The development default is only good on a laptop; config.production rejects it.
SECRET_KEY = os.environ.get("SECRET_KEY", "django-insecure-development-only-not-a-secret")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_filters",
    "template_partials",
    "csp",
    "axes",
    "dialogue",
    "tracker",
]

MIDDLEWARE = [
    # Outermost, so that every response carries the policy: static files (served by
    # whitenoise below) and the outage page included.
    "csp.middleware.CSPMiddleware",
    # Above everything that may touch the database: an outage answers a 503 page, not a 500.
    "config.middleware.DatabaseUnavailableMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "tracker.security.session_lifetime_middleware",
    "tracker.security.refused_permissions_middleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "tracker.security.htmx_session_ended_middleware",
    # Last, as django-axes asks: turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

# In the test suite every request fails on an N+1 query (django-zeal's middleware
# raises); never in production.
TESTING = "pytest" in sys.modules
if TESTING:
    INSTALLED_APPS.append("zeal")
    MIDDLEWARE.append("zeal.middleware.zeal_middleware")
    # Django itself reads these twice in some requests (the admin's change form loads
    # its object's user after the session's; logging out reads the session again).
    ZEAL_ALLOWLIST = [{"model": "auth.User"}, {"model": "sessions.Session"}]

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

# SQLite in the project folder unless DATABASE_URL names another database
# (postgres://... uses psycopg 3).
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A database that stops answering (rather than refusing) must not hold a worker
    # until gunicorn kills it: give up connecting after a few seconds (then a 503).
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", int(os.environ.get("DATABASE_CONNECT_TIMEOUT", "5"))
    )
    # No JIT compilation: it pays off for long analytical queries, not for a web app's.
    # The planner's estimates for the "as of" filters' subqueries pass its thresholds, and
    # compiling took 0.56 s of a 1.07 s count at 100,000 recommendations.
    DATABASES["default"]["OPTIONS"].setdefault("options", "-c jit=off")
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several requests write at once (two analysts, htmx); WAL lets readers go on
    # and the busy timeout makes a writer wait instead of failing at once.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # Tests use a file too, not shared-cache memory: concurrent writers then wait
    # for the lock (busy timeout) as they do in production, instead of failing.
    # TRACKER_TEST_SQLITE names another file, so that two test runs can go side by side.
    DATABASES["default"]["TEST"] = {
        "NAME": os.environ.get("TRACKER_TEST_SQLITE", str(BASE_DIR / "test-db.sqlite3"))
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

AUTHENTICATION_BACKENDS = [
    # django-axes' lockout check first; it never logs anyone in itself.
    "tracker.security.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
    # Last: grants nothing, remembers refused permissions for the 403 log line.
    "tracker.security.RefusedPermissionRecorder",
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Where collectstatic puts the hashed, compressed copies that production serves.
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT") or BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]

# Development and tests serve static files straight from static/ and the apps;
# production serves the collected, hashed copies (config.production).
WHITENOISE_USE_FINDERS = True

FIXTURE_DIRS = [BASE_DIR / "fixtures"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "filters": {"not_an_outage": {"()": "config.middleware.OutageLogFilter"}},
    "loggers": {
        # django-axes narrates every login at INFO; tracker.security already logs each one.
        "axes": {"level": "WARNING"},
        # A database outage is answered with the 503 page and one warning line
        # (config.middleware), not with a traceback a request.
        "django.request": {"filters": ["not_an_outage"]},
    },
}

# --- Security (README "Security and serving"); config.production adds HTTPS. ---

# Every response, in development and tests too. No 'unsafe-inline' and no 'unsafe-eval':
# no inline scripts, styles or style attributes anywhere; htmx is told not to inject its
# indicator styles nor to eval (<meta name="htmx-config"> in base.html).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Sessions end after SESSION_IDLE_MINUTES without a request (saved at most once a
# minute, see tracker.security.session_lifetime_middleware) and SESSION_ABSOLUTE_HOURS
# after the login whatever the activity.
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_IDLE_MINUTES", "60")) * 60
TRACKER_SESSION_TOUCH_SECONDS = 60
TRACKER_SESSION_ABSOLUTE_SECONDS = int(os.environ.get("SESSION_ABSOLUTE_HOURS", "12")) * 3600
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# htmx sends the token from hx-headers (rendered by the server), so no script reads it.
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "tracker.security.csrf_failure"

# Login throttling (django-axes): LOGIN_FAILURE_LIMIT failed logins for one username from
# one address lock that pair out for LOGIN_COOLOFF_MINUTES (every further try restarts
# the wait). Per pair, so nobody elsewhere can lock a real user out.
AXES_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("LOGIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_CALLABLE = "tracker.security.lockout_response"
AXES_CLIENT_IP_CALLABLE = "tracker.security.client_ip"
AXES_USERNAME_CALLABLE = "tracker.security.throttled_username"
AXES_RESET_ON_SUCCESS = True
# Successful logins go to the tracker.security log, not to a table that only grows.
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False  # no banner on every manage.py command
# How many proxies in front append to X-Forwarded-For; 0 reads REMOTE_ADDR only. The
# header is read only from requests that come from these networks (the proxies').
TRACKER_TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))
TRACKER_TRUSTED_PROXY_NETWORKS = env_list(
    "TRUSTED_PROXY_NETWORKS",
    "127.0.0.0/8,::1/128,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7",
)

# Days without any change after which an open recommendation counts as stale.
TRACKER_STALE_DAYS = int(os.environ.get("TRACKER_STALE_DAYS", "90"))
