"""gunicorn's settings: ``gunicorn -c config/gunicorn.py config.wsgi``.

Each can be set from the environment; the defaults suit one app server behind a load
balancer that ends TLS on the same host or network.
"""

import multiprocessing
import os
from pathlib import Path

# PORT alone (most platforms set it), or a full GUNICORN_BIND ("unix:/run/app.sock").
bind = os.environ.get("GUNICORN_BIND") or f"0.0.0.0:{os.environ.get('PORT', '8000')}"

# Sync workers: each serves one request at a time, so 2 per core plus one keeps the CPU
# busy while others wait on PostgreSQL. WEB_CONCURRENCY overrides (a small container, or
# a machine shared with PostgreSQL).
workers = int(os.environ.get("WEB_CONCURRENCY") or multiprocessing.cpu_count() * 2 + 1)

# The slowest page (a 10,000-row CSV export) takes about 2 s; a worker stuck for 30 s is
# killed and replaced. graceful_timeout lets requests in flight finish on a restart.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30

# A worker is replaced after this many requests (jittered so they don't all restart
# together): a slow leak in any library cannot grow for ever.
max_requests = 2000
max_requests_jitter = 200

# Import Django once in the master, before forking: workers start faster and share the
# memory. No database connection is opened at import, so none is shared between workers.
# A code change therefore needs a restart, not a HUP.
preload_app = True

# Access and error logs to stdout/stderr, for the platform to collect. %(M)s: milliseconds.
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
access_log_format = '%(h)s %(t)s "%(r)s" %(s)s %(b)s %(M)sms "%(f)s" "%(a)s"'

# The proxies whose X-Forwarded-Proto gunicorn believes for wsgi.url_scheme. Django
# reads the header itself (SECURE_PROXY_SSL_HEADER in config.production), and client
# addresses for login throttling come from X-Forwarded-For (TRUSTED_PROXY_COUNT), read
# only from requests that come from TRUSTED_PROXY_NETWORKS.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# The worker heartbeat file on tmpfs: a slow or full disk must not get workers killed.
# (gunicorn makes it with mkstemp, so a shared directory is safe.)
SHM = "/dev/shm"  # noqa: S108
if Path(SHM).is_dir():
    worker_tmp_dir = SHM
