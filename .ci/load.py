"""Load test: wrk against gunicorn on PostgreSQL, logged in, on a page mix; zero errors.

Run by .ci/load (and .ci/run). Makes a database (migrate, the seed, ``synthesize``),
logs an analyst in through the login page, checks every path answers 200, then runs
``wrk --latency`` with .ci/load.lua rotating over the paths with the session cookie.
Fails on any socket error, timeout or answer other than 200; prints requests per
second and the latency percentiles, and drops the database.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.ops.servers import (  # noqa: E402 - after the path is set
    GUNICORN_CONFIG,
    Client,
    Gunicorn,
    manage,
    new_secret_key,
)

USERNAME, PASSWORD = "load-analyst", "Load-test-password-7"
CREATE_USER = (
    "from django.contrib.auth.models import Group, User; "
    f"u = User.objects.create_user('{USERNAME}', password='{PASSWORD}'); "
    "u.groups.add(Group.objects.get(name='Analyst'))"
)


def prepare(pg: str, name: str, args) -> str:
    with psycopg.connect(f"{pg}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    db_url = f"{pg}/{name}"
    started = time.monotonic()
    manage(db_url, "migrate", "--no-input")
    manage(db_url, "load_seed")
    manage(
        db_url,
        "synthesize",
        "--dialogues",
        str(args.dialogues),
        "--recommendations",
        str(args.recommendations),
        "--history",
        str(args.history),
    )
    manage(db_url, "shell", "-c", CREATE_USER)
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    print(f"== prepared {name} in {time.monotonic() - started:.0f} s", flush=True)
    return db_url


def paths(db_url: str) -> list[str]:
    """A third dashboard, a third list views, a third detail pages, interleaved."""
    with psycopg.connect(db_url) as conn:
        ids = [row[0] for row in conn.execute("SELECT id FROM tracker_recommendation")]
        statuses = [row[0] for row in conn.execute("SELECT slug FROM tracker_status")]
        dialogue = conn.execute(
            "SELECT slug FROM dialogue_dialogue ORDER BY date DESC, id LIMIT 1"
        ).fetchone()[0]
    rng = random.Random(7)  # noqa: S311 - a repeatable sample, not a secret
    lists = [
        "/recommendations/",
        f"/recommendations/?after={rng.choice(ids)}",  # a later page (keyset cursor)
        "/recommendations/?sort=review",
        f"/recommendations/?status={rng.choice(statuses)}",
        f"/recommendations/?dialogue={dialogue}",
        "/recommendations/?owner=me&sort=review",
    ]
    details = [f"/recommendations/{pk}/" for pk in rng.sample(ids, 30)]
    mix = []
    for n, detail in enumerate(details):
        mix += ["/", lists[n % len(lists)], detail]
    return mix


def run_wrk(port: int, cookie: str, mix: list[str], args) -> tuple[str, dict]:
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write("\n".join(mix) + "\n")
    try:
        command = [
            "wrk",
            "--threads",
            str(args.threads),
            "--connections",
            str(args.connections),
            "--duration",
            f"{args.duration}s",
            "--timeout",
            f"{args.timeout}s",
            "--latency",
            "--script",
            str(ROOT / ".ci" / "load.lua"),
            "--header",
            f"Cookie: {cookie}",
            f"http://127.0.0.1:{port}",
            "--",
            f.name,
        ]
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=args.duration + 120
        )
    finally:
        os.unlink(f.name)
    output = result.stdout + result.stderr
    match = re.search(r"^LOAD-RESULT (\{.*\})$", output, re.MULTILINE)
    if result.returncode != 0 or not match:
        raise SystemExit(f"wrk failed ({result.returncode}):\n{output}")
    return output, json.loads(match.group(1))


def problems(output: str, figures: dict) -> list[str]:
    """Every error wrk saw, from its own report and from the script's count."""
    found = []
    if m := re.search(r"Socket errors: (.*)", output):
        found.append(f"socket errors: {m.group(1)}")
    if m := re.search(r"Non-2xx or 3xx responses: (\d+)", output):
        found.append(f"{m.group(1)} answers other than 2xx or 3xx")
    for kind in ("connect", "read", "write", "timeout", "status"):
        if figures[kind]:
            found.append(f"{figures[kind]} {kind} errors")
    if figures["non200"]:
        found.append(f"{figures['non200']} answers other than 200 (e.g. {figures['bad_status']})")
    if not figures["requests"]:
        found.append("no requests completed")
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=30, help="seconds (30)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (2)")
    parser.add_argument("--timeout", type=int, default=10, help="wrk's per-request timeout, s")
    parser.add_argument(
        "--workers",
        type=int,
        default=None if GUNICORN_CONFIG.exists() else 2,
        help="gunicorn workers (default: config/gunicorn.py's, else 2)",
    )
    parser.add_argument("--dialogues", type=int, default=50)
    parser.add_argument("--recommendations", type=int, default=2000)
    parser.add_argument("--history", type=int, default=20000)
    parser.add_argument("--db", default="tracker_load", help="database to make and drop")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument("--output", help="also write the figures, as Markdown, to this file")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    pg = os.environ.get("LOAD_PG", "postgres://postgres@127.0.0.1:5432")

    db_url = prepare(pg, args.db, args)
    options = ["--workers", str(args.workers)] if args.workers else []
    server = Gunicorn(db_url, secret_key=new_secret_key(), options=options)
    try:
        server.wait_ready()
        workers = len(server.workers())
        client = Client(server.port)
        client.login(USERNAME, PASSWORD)
        mix = paths(db_url)
        for path in sorted(set(mix)):  # each page works before we time anything
            status = client.get(path).status
            if status != 200:
                raise SystemExit(f"{path} answered {status} before the load")
        cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items() if v.strip('"'))
        print(
            f"== wrk: {args.duration} s, {args.connections} connections, {args.threads} threads, "
            f"{len(set(mix))} paths; gunicorn {workers} workers",
            flush=True,
        )
        output, figures = run_wrk(server.port, cookie, mix, args)
        print(output.replace("LOAD-RESULT", "figures:"), flush=True)
        found = problems(output, figures)
        # Still logged in, still serving: the run did not end in a lockout or a crash.
        after = client.get("/")
        if after.status != 200:
            found.append(f"after the run the dashboard answered {after.status}")
        if server.process.poll() is not None:
            found.append("gunicorn died")
    finally:
        log = server.log()
        server.stop()
        if not args.keep:
            with psycopg.connect(f"{pg}/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{args.db}" WITH (FORCE)')

    seconds = figures["duration_us"] / 1e6
    line = (
        f"{figures['requests'] / seconds:.0f} req/s ({figures['requests']} requests in "
        f"{seconds:.0f} s); latency p50 {figures['p50_us'] / 1000:.0f} ms, "
        f"p90 {figures['p90_us'] / 1000:.0f} ms, p99 {figures['p99_us'] / 1000:.0f} ms, "
        f"max {figures['max_us'] / 1000:.0f} ms; errors: {len(found)}"
    )
    context = (
        f"Measured {time.strftime('%Y-%m-%d %H:%M')} on {os.cpu_count()} cores, Python "
        f"{platform.python_version()}: wrk {args.duration} s, {args.connections} connections, "
        f"gunicorn {workers} workers, {args.recommendations:,} recommendations, "
        f"{args.history:,} history entries."
    )
    print(f"== {context}\n== {line}")
    if args.output:
        Path(args.output).write_text(f"{context}\n\n{line}\n")
    if found:
        print("== load test FAILED:\n  " + "\n  ".join(found), file=sys.stderr)
        print(f"gunicorn's log (end):\n{log}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
