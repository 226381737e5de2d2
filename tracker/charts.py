"""Geometry for the dashboard's server-side SVG charts (no chart library, no CDN).

Templates draw what these functions compute; colours come from the status
stylesheet classes, so no inline styles are needed.
"""

from __future__ import annotations

import datetime
from collections import Counter
from dataclasses import dataclass, field

from tracker.models import Status


@dataclass
class Segment:
    status: Status
    count: int
    y: float
    height: float

    @property
    def count_text(self) -> str:
        """The count with grouped digits: a cheap stand-in for ``floatformat:"0g"`` on
        the 240 segments of a trend."""
        return f"{self.count:,}"


@dataclass
class Column:
    day: datetime.date
    total: int
    x: float
    width: float
    label: str
    segments: list[Segment] = field(default_factory=list)


@dataclass
class Trend:
    width: int
    height: int
    left: int  # where the plot starts; the tick labels end just before
    plot_top: int
    plot_bottom: int
    columns: list[Column]
    ticks: list[tuple[int, float]]  # (value, y)
    statuses: list[Status]


def trend_chart(
    trend: dict[datetime.date, Counter], statuses: list[Status], width: int = 720, height: int = 260
) -> Trend:
    """Stacked columns, one per month end, in the vocabulary's order from the bottom."""
    left, right, top, bottom = 64, 24, 12, height - 28  # left: room for "100,000"
    plot_height = bottom - top
    peak = max((sum(counts.values()) for counts in trend.values()), default=0) or 1
    step = (width - left - right) / max(len(trend), 1)
    columns = []
    for index, (day, counts) in enumerate(trend.items()):
        column = Column(
            day=day,
            total=sum(counts.values()),
            x=round(left + index * step + step * 0.15, 2),
            width=round(step * 0.7, 2),
            label=day.strftime("%b %y"),
        )
        y = bottom
        for status in statuses:
            count = counts.get(status.pk, 0)
            if not count:
                continue
            segment_height = plot_height * count / peak
            y -= segment_height
            column.segments.append(Segment(status, count, round(y, 2), round(segment_height, 2)))
        columns.append(column)
    ticks = [(round(peak * share), round(bottom - plot_height * share, 2)) for share in (0, 0.5, 1)]
    # Label every column when there is room, else every third.
    every = 1 if len(columns) <= 12 else 3
    for index, column in enumerate(columns):
        if (len(columns) - 1 - index) % every:
            column.label = ""
    return Trend(width, height, left, top, bottom, columns, ticks, statuses)


@dataclass
class Bar:
    item: object
    count: int
    url: str
    percent: float


def bars(items: list[tuple[object, int, str]]) -> list[Bar]:
    """Each (item, count, link) with its bar length in percent of the largest count."""
    peak = max((count for _, count, _ in items), default=0) or 1
    return [Bar(item, count, url, round(100 * count / peak, 1)) for item, count, url in items]
