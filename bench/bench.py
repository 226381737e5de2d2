"""Measure every page's latency and throughput under gunicorn on PostgreSQL.

For each scale: a database ``tracker_bench_<scale>`` (made with ``synthesize``,
10 history entries per recommendation), gunicorn with 2 workers, then for each
page a fixed number of requests at a fixed concurrency from keep-alive
connections. Reports median and p95 latency, requests per second, and each
page's median as a ratio to the Django admin change list (same rows, same page
size) and to a trivial view (/healthz), measured in the same run.
"""

from __future__ import annotations

import argparse
import http.client
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
PASSWORD = "bench-password-not-secret"  # noqa: S105 - a throwaway local database


def manage(db_url: str, *args: str, quiet: bool = True) -> str:
    env = {**os.environ, "DATABASE_URL": db_url, "DJANGO_SETTINGS_MODULE": "config.settings"}
    result = subprocess.run(
        [str(ROOT / ".venv/bin/python"), "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return result.stdout


def prepare(scale: int, reuse: bool) -> str:
    name = f"tracker_bench_{scale}"
    db_url = f"{PG}/{name}"
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and reuse:
            manage(db_url, "migrate", "--no-input")  # an earlier run's data, today's schema
            with psycopg.connect(db_url, autocommit=True) as data:
                data.execute("VACUUM ANALYZE")
            return db_url
        if exists:
            conn.execute(f'DROP DATABASE "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    started = time.monotonic()
    manage(db_url, "migrate", "--no-input")
    manage(db_url, "load_seed")
    manage(
        db_url,
        "synthesize",
        "--dialogues",
        str(max(2, scale // 100)),
        "--recommendations",
        str(scale),
        "--history",
        str(scale * 10),
    )
    manage(
        db_url,
        "shell",
        "-c",
        (
            "from django.contrib.auth.models import User; "
            f"User.objects.create_superuser('bench', '', '{PASSWORD}')"
        ),
    )
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    print(f"  prepared {name} in {time.monotonic() - started:.0f} s", flush=True)
    return db_url


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, db_url: str):
        self.port = free_port()
        env = {
            **os.environ,
            "DATABASE_URL": db_url,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DEBUG": "false",
            "CONN_MAX_AGE": "600",
        }
        self.process = subprocess.Popen(
            [
                str(ROOT / ".venv/bin/gunicorn"),
                "config.wsgi",
                "--workers",
                "2",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                time.sleep(0.3)
        raise SystemExit("gunicorn did not start")

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=30)


def login(port: int) -> dict[str, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request("GET", "/accounts/login/")
    response = conn.getresponse()
    page = response.read().decode()
    csrf = re.search(r"csrftoken=([^;]+)", response.getheader("Set-Cookie")).group(1)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    body = urllib.parse.urlencode(
        {"username": "bench", "password": PASSWORD, "csrfmiddlewaretoken": token}
    )
    conn.request(
        "POST",
        "/accounts/login/",
        body,
        {
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={csrf}",
            "Referer": f"http://127.0.0.1:{port}/accounts/login/",
        },
    )
    response = conn.getresponse()
    response.read()
    session = re.search(r"sessionid=([^;]+)", response.getheader("Set-Cookie")).group(1)
    return {"Cookie": f"csrftoken={csrf}; sessionid={session}", "X-CSRFToken": csrf}


def send(conn: http.client.HTTPConnection, headers: dict, method: str, path: str, body) -> int:
    extra = {"Content-Type": "application/x-www-form-urlencoded"} if body else {}
    conn.request(method, path, body, {**headers, **extra})
    response = conn.getresponse()
    response.read()
    return response.status


def measure(port: int, headers: dict, requests: list[tuple], concurrency: int) -> dict:
    """Send ``requests`` (method, path, body) spread over ``concurrency`` connections.

    A request may carry a fourth item, another (method, path, body) sent just before it
    on the same connection and not timed: a change, to measure a page right after one.
    """
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    queue = list(requests)

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        while True:
            with lock:
                if not queue:
                    return
                method, path, body, *before = queue.pop()
            for method_, path_, body_ in before:  # untimed; its status is counted too
                status = send(conn, headers, method_, path_, body_)
                with lock:
                    statuses[status] = statuses.get(status, 0) + 1
            started = time.perf_counter()
            status = send(conn, headers, method, path, body)
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                statuses[status] = statuses.get(status, 0) + 1

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    latencies.sort()
    return {
        "median": statistics.median(latencies) * 1000,
        "p95": latencies[int(len(latencies) * 0.95) - 1] * 1000,
        "rps": len(latencies) / wall,
        "statuses": statuses,
    }


def pages(db_url: str, count: int) -> dict[str, list[tuple[str, str, str | None]]]:
    with psycopg.connect(db_url) as conn:
        big = conn.execute(
            "SELECT d.slug FROM dialogue_dialogue d JOIN tracker_recommendation r "
            "ON r.dialogue_id = d.id GROUP BY d.slug ORDER BY count(*) DESC LIMIT 1"
        ).fetchone()[0]
        small = conn.execute(
            "SELECT d.slug FROM dialogue_dialogue d JOIN tracker_recommendation r "
            "ON r.dialogue_id = d.id GROUP BY d.slug ORDER BY count(*) LIMIT 1"
        ).fetchone()[0]
        total = conn.execute("SELECT count(*) FROM tracker_recommendation").fetchone()[0]
        detail_ids = [
            row[0]
            for row in conn.execute(
                "SELECT id FROM tracker_recommendation ORDER BY id DESC LIMIT %s", [count]
            )
        ]
        change = (
            "SELECT r.id, r.version, (SELECT s.id FROM tracker_status s WHERE s.id <> r.status_id "
            "ORDER BY s.id LIMIT 1) FROM tracker_recommendation r ORDER BY r.id {} LIMIT %s"
        )
        targets = conn.execute(change.format("ASC"), [count]).fetchall()
        # Other rows, changed just before each dashboard that must be rebuilt.
        rebuilds = conn.execute(change.format("DESC"), [max(4, count // 5)]).fetchall()
        # The list's deep page: 50 rows before the end, in the default order. The
        # list pages by keyset (?after=<id>), so this is where "Next" leads at the end.
        deep = conn.execute(
            "SELECT r.id FROM tracker_recommendation r JOIN dialogue_dialogue d "
            "ON d.id = r.dialogue_id ORDER BY d.date DESC, r.dialogue_id, r.number, r.id "
            "OFFSET %s LIMIT 1",
            [max(0, total - 50)],
        ).fetchone()[0]
    as_of = time.strftime("%Y-%m-%d", time.localtime(time.time() - 2 * 365 * 86400))

    def gets(path: str, n: int = count) -> list:
        return [("GET", path, None)] * n

    return {
        "trivial view (/healthz)": gets("/healthz"),
        "admin change list": gets("/admin/tracker/recommendation/"),
        "dashboard": gets("/"),
        "dashboard as of 2 years ago": gets(f"/?as_of={as_of}"),
        # Every change invalidates the cached dashboard: the first view after one rebuilds it.
        "dashboard, first after a change": [
            ("GET", "/", None, status_change(*target)) for target in rebuilds
        ],
        "list": gets("/recommendations/"),
        "list, status + theme": gets("/recommendations/?status=stalled&theme=china"),
        "list, text search": gets("/recommendations/?q=deterrence"),
        f"list, deep page ({total - 50})": gets(f"/recommendations/?after={deep}"),
        "detail": [("GET", f"/recommendations/{pk}/", None) for pk in detail_ids],
        "dialogue page": gets(f"/dialogues/{small}/"),
        "CSV export (big dialogue)": gets(
            f"/recommendations/export.csv?dialogue={big}", max(4, count // 20)
        ),
        "status change POST": [status_change(*target) for target in targets],
    }


def status_change(pk: int, version: int, to: int) -> tuple[str, str, str]:
    body = {"status": to, "rationale": "Benchmark.", "version": version}
    return ("POST", f"/recommendations/{pk}/status", urllib.parse.urlencode(body))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scales", default="1000,10000,100000")
    parser.add_argument("--requests", type=int, default=100, help="per page")
    # One request in flight per gunicorn worker: the latency a user sees on a server
    # that is busy but not overloaded. More only queues (see the README).
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--output", default=str(ROOT / "bench" / "results.md"))
    args = parser.parse_args()
    scales = [int(s) for s in args.scales.split(",")]

    results: dict[int, dict[str, dict]] = {}
    plans: dict[int, str] = {}
    for scale in scales:
        print(f"scale {scale}", flush=True)
        db_url = prepare(scale, args.reuse)
        server = Server(db_url)
        try:
            headers = login(server.port)
            for name, requests in pages(db_url, args.requests).items():
                if all(len(request) == 3 and request[0] == "GET" for request in requests):
                    measure(server.port, headers, requests[:5], 2)  # warm up
                result = measure(server.port, headers, requests, args.concurrency)
                results.setdefault(scale, {})[name] = result
                print(
                    f"  {name:38} median {result['median']:7.1f} ms  p95 {result['p95']:7.1f} ms"
                    f"  {result['rps']:6.1f} req/s  {result['statuses']}",
                    flush=True,
                )
        finally:
            server.stop()
        manage(db_url, "explain_list")  # once to warm the cache, as the pages were
        plans[scale] = manage(db_url, "explain_list")
    report(results, scales, args)
    Path(args.output).with_name("plans.md").write_text(
        "EXPLAIN ANALYZE of the list's first page and capped count, by `manage.py explain_list`"
        f" ({time.strftime('%Y-%m-%d %H:%M')}), the second of two runs (a warm cache)."
        " Times are the database's own, in ms.\n\n"
        + "\n".join(f"## {scale:,} recommendations\n\n{table}" for scale, table in plans.items())
    )


def _key(name: str) -> str:
    return re.sub(r" \(\d+\)", "", name)


def report(results: dict, scales: list[int], args) -> None:
    versions = subprocess.run(["psql", "--version"], capture_output=True, text=True).stdout.strip()
    lines = [
        f"Measured {time.strftime('%Y-%m-%d %H:%M')} on {platform.node()}: {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {versions}, gunicorn 2 workers, "
        f"{args.requests} requests a page at concurrency {args.concurrency}.",
        "",
        "| page | "
        + " | ".join(f"{s:,}: median / p95 ms, req/s" for s in scales)
        + " | ratio to admin | ratio to floor | growth |",
        "| --- |" + " --- |" * (len(scales) + 3),
    ]
    last = scales[-1]
    names = {}
    for scale in scales:
        for name in results[scale]:
            names.setdefault(_key(name), {})[scale] = results[scale][name]
    admin = names["admin change list"][last]["median"]
    floor = names["trivial view (/healthz)"][last]["median"]
    for name, by_scale in names.items():
        cells = [f"{r['median']:.1f} / {r['p95']:.1f}, {r['rps']:.0f}" for r in by_scale.values()]
        growth = by_scale[last]["median"] / by_scale[scales[0]]["median"]
        lines.append(
            f"| {name} | "
            + " | ".join(cells)
            + f" | {by_scale[last]['median'] / admin:.2f} | {by_scale[last]['median'] / floor:.1f}"
            f" | {growth:.2f}x |"
        )
    lines.append("")
    lines.append(
        f"Ratios are at {last:,} recommendations; growth is the median at {last:,} over "
        f"the median at {scales[0]:,}."
    )
    text = "\n".join(lines) + "\n"
    Path(args.output).write_text(text)
    print(text)


if __name__ == "__main__":
    if not shutil.which("psql"):
        sys.exit("psql is needed (PostgreSQL client)")
    main()
