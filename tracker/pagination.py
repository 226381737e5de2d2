"""Keyset pagination: a page starts after (or ends before) a row, never at an OFFSET.

``OFFSET 99,950`` makes the database read and throw away 99,950 rows; a keyset
page asks for the 25 rows that sort after the last row shown, which the
indexes answer in the same time on page 1 and page 4,000. The cursor is that
row's id: its sort values are read back from the database, so the URL holds
nothing but a number.

The count is capped: counting every match of 100,000 rows on every page costs
more than the page itself. Past the cap the list says "more than 10,000"; the
dashboard has the exact totals.
"""

from dataclasses import dataclass, replace
from functools import cached_property

from django.db.models import F, Q, QuerySet
from django.db.models.expressions import OrderBy

COUNT_CAP = 10_000


@dataclass(frozen=True)
class Key:
    """One sort column. A nullable column says where its NULLs go (databases differ);
    ``nulls_last=None`` is for columns without NULLs, so the plain order can use an index."""

    path: str
    descending: bool = False
    nulls_last: bool | None = None

    @cached_property
    def order_by(self) -> OrderBy:
        """Made once: Django hashes an expression by inspecting its signature, which
        costs more than the query's other work when done on every request."""
        where = {"nulls_last": True} if self.nulls_last else {}
        if self.nulls_last is False:
            where = {"nulls_first": True}
        column = F(self.path)
        return column.desc(**where) if self.descending else column.asc(**where)

    def reversed(self) -> "Key":
        nulls = None if self.nulls_last is None else not self.nulls_last
        return replace(self, descending=not self.descending, nulls_last=nulls)

    def same(self, value) -> Q:
        return Q(**{f"{self.path}__isnull": True}) if value is None else Q(**{self.path: value})

    def beyond(self, value) -> Q:
        """Rows that sort strictly after ``value`` in this column."""
        if value is None:
            return Q(pk__in=[]) if self.nulls_last else Q(**{f"{self.path}__isnull": False})
        after = Q(**{f"{self.path}__{'lt' if self.descending else 'gt'}": value})
        return after | Q(**{f"{self.path}__isnull": True}) if self.nulls_last else after


def ordering(keys: list[Key]) -> list[OrderBy]:
    return [key.order_by for key in keys]


def _after(keys: list[Key], values: dict) -> Q:
    """(k1 beyond v1) or (k1 = v1 and k2 beyond v2) or ...: the rows after the pivot."""
    condition = Q(pk__in=[])
    for i, key in enumerate(keys):
        clause = key.beyond(values[key.path])
        for earlier in keys[:i]:
            clause &= earlier.same(values[earlier.path])
        condition |= clause
    return condition


def _cursor(value) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**63 else None


@dataclass
class KeysetPage:
    object_list: list
    count: int
    count_capped: bool
    next_after: int | None
    previous_before: int | None

    def has_next(self) -> bool:
        return self.next_after is not None

    def has_previous(self) -> bool:
        return self.previous_before is not None


def page_rows(queryset: QuerySet, keys: list[Key], size: int) -> QuerySet:
    """The first page's query: one row more than the page, to know if there is a next."""
    return queryset.order_by(*ordering(keys))[: size + 1]


def capped_count(queryset: QuerySet) -> QuerySet:
    """The count's query: the ids of at most COUNT_CAP + 1 matches (``.count()`` it)."""
    return queryset.order_by().values("pk")[: COUNT_CAP + 1]


def keyset_page(
    queryset: QuerySet, keys: list[Key], data, size: int, annotations: dict | None = None
) -> KeysetPage:
    """The page of ``queryset`` (ordered by ``keys``) that ``data`` asks for.

    ``data`` holds ``after`` (the id of the row before the page) or ``before``
    (the id of the row after it); neither, or a row that no longer exists, gives
    the first page. The last key must make the order unique (the id). A key that is
    an annotation of ``queryset`` needs it in ``annotations``, to read the cursor
    row's value.
    """
    cursor, backwards = _cursor(data.get("after")), False
    if cursor is None:
        cursor, backwards = _cursor(data.get("before")), True
    paths = [key.path for key in keys]
    pivot = (
        queryset.model._default_manager.annotate(**(annotations or {}))
        .filter(pk=cursor)
        .values(*paths)
        .first()
        if cursor
        else None
    )
    if pivot is None:
        backwards = False
    walk = [key.reversed() for key in keys] if backwards else keys
    beyond = queryset.filter(_after(walk, pivot)) if pivot is not None else queryset
    rows = list(page_rows(beyond, walk, size))
    more = len(rows) > size
    rows = rows[:size]
    if backwards and not more:
        return keyset_page(queryset, keys, {}, size, annotations)  # back at the start
    if backwards:
        rows.reverse()
    more_before = True if backwards else pivot is not None
    more_after = True if backwards else more
    counted = capped_count(queryset).count()
    return KeysetPage(
        object_list=rows,
        count=min(counted, COUNT_CAP),
        count_capped=counted > COUNT_CAP,
        next_after=rows[-1].pk if rows and more_after else None,
        previous_before=rows[0].pk if rows and more_before else None,
    )
