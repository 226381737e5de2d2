"""manage.py explain_list: the list's plans for every filter and sort."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from tracker.models import Recommendation
from tracker.tests.helpers import make_user


def _run(*args) -> str:
    out = io.StringIO()
    call_command("explain_list", *args, stdout=out)
    return out.getvalue()


def test_it_explains_the_first_page_and_the_count_of_every_filter_and_sort(seed):
    make_user("boss", is_superuser=True)
    Recommendation.objects.filter(number=1).update(owner=make_user("ana", role="Analyst"))
    table = _run().splitlines()
    rows = [line for line in table[2:] if line.startswith("| `")]
    queries = [row.split("`")[1] for row in rows]
    for expected in ["(no filter)", "status=", "theme=", "actor=", "owner=nobody", "owner=ana",
                     "dialogue=", "overdue=on", "stale=on", "changed_since=", "q=deterrence",
                     "as_of=", "sort=status", "sort=review", "sort=changed"]:  # fmt: skip
        assert any(q.startswith(expected) for q in queries), (expected, queries)
    for sort in ("status", "review", "changed"):  # by the values then
        assert any(q.startswith("as_of=") and q.endswith(f"&sort={sort}") for q in queries)
    for row in rows:
        first, count = (cell.strip() for cell in row.split("|")[2:4])
        if connection.vendor == "postgresql":  # EXPLAIN ANALYZE: the database's own times
            assert float(first) >= 0 and float(count) >= 0, row
        else:
            assert first == count == "n/a", row


def test_a_full_plan_names_the_tables_it_reads(seed):
    make_user("boss", is_superuser=True)
    output = _run("--plans", "status=stalled")
    assert "status=stalled:" in output and "tracker_recommendation" in output


def test_a_bad_query_string_is_refused_with_the_reason(seed):
    make_user("boss", is_superuser=True)
    with pytest.raises(CommandError, match="status"):
        _run("status=no-such-status")


def test_it_needs_a_superuser_for_the_owner_me_filter(seed):
    with pytest.raises(CommandError, match="superuser"):
        _run()
