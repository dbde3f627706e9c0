"""Server-rendered SVG charts (no JavaScript): a trend line, weekday bars, a weekday x hour
heatmap. SVGs scale with ``viewBox`` and ``width: 100%``, so they fit a 360 px screen."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from markupsafe import Markup, escape

from digipersona.kit.words import plural

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _svg(width: int, height: int, label: str, body: list[str]) -> Markup:
    # Every text put into the parts is escaped where it is built; the rest are our numbers.
    return Markup(  # noqa: S704
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(label)}" preserveAspectRatio="xMidYMid meet">'
        f"<title>{escape(label)}</title>{''.join(body)}</svg>"
    )


def trend_line(points: Sequence[dict[str, Any]], *, key: str = "engagements") -> Markup | None:
    """Engagements per day (or week) as a line with dots; ``None`` when nothing is measured."""
    values = [p.get(key) for p in points]
    if not points or all(v is None for v in values):
        return None
    width, height, pad_l, pad_b, pad_t = 640, 220, 44, 28, 12
    top = max(v for v in values if v is not None) or 1
    n = len(points)
    step = (width - pad_l - 10) / max(1, n - 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        x = pad_l + i * step if n > 1 else pad_l + (width - pad_l - 10) / 2
        y = pad_t + (height - pad_t - pad_b) * (1 - v / top)
        return round(x, 1), round(y, 1)

    body = [
        f'<line x1="{pad_l}" y1="{height - pad_b}" x2="{width - 10}" y2="{height - pad_b}" '
        'stroke="#8d8d93"/>',
        f'<text x="{pad_l - 6}" y="{pad_t + 4}" text-anchor="end" font-size="11">{top}</text>',
        f'<text x="{pad_l - 6}" y="{height - pad_b}" text-anchor="end" font-size="11">0</text>',
    ]
    coords = [(i, xy(i, v)) for i, v in enumerate(values) if v is not None]
    if len(coords) > 1:
        path = " ".join(f"{x},{y}" for _, (x, y) in coords)
        body.append(f'<polyline points="{path}" fill="none" stroke="#1f5fbf" stroke-width="2"/>')
    for i, (x, y) in coords:
        label = (
            f"{points[i]['date']}: {values[i]} {key}, {plural(points[i].get('posts', 0), 'post')}"
        )
        body.append(
            f'<circle cx="{x}" cy="{y}" r="3.5" fill="#1f5fbf"><title>{escape(label)}</title>'
            "</circle>"
        )
    # A few date labels: first, middle, last.
    for i in sorted({0, n // 2, n - 1}):
        x, _ = xy(i, 0)
        body.append(
            f'<text x="{x}" y="{height - 8}" text-anchor="middle" font-size="11">'
            f"{escape(str(points[i]['date']))}</text>"
        )
    return _svg(width, height, f"Trend of {key} over time", body)


def weekday_bars(weekdays: Sequence[dict[str, Any]]) -> Markup | None:
    """Median engagement per local weekday, with the number of posts under each bar."""
    medians = [w.get("median_engagement") for w in weekdays]
    if all(m is None for m in medians):
        return None
    width, height, pad_b, pad_t = 640, 200, 40, 16
    top = max(m for m in medians if m is not None) or 1
    slot = width / 7
    body = []
    for i, w in enumerate(weekdays):
        median = w.get("median_engagement")
        x = i * slot + slot * 0.2
        if median is not None:
            h = (height - pad_b - pad_t) * (median / top)
            y = height - pad_b - h
            body.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.6:.1f}" height="{h:.1f}" '
                f'fill="#1f5fbf"><title>{escape(w["weekday"])}: median {median:g}, '
                f"{plural(w['posts'], 'post')}</title></rect>"
            )
            body.append(
                f'<text x="{x + slot * 0.3:.1f}" y="{y - 3:.1f}" text-anchor="middle" '
                f'font-size="11">{median:g}</text>'
            )
        body.append(
            f'<text x="{x + slot * 0.3:.1f}" y="{height - 22}" text-anchor="middle" '
            f'font-size="12">{escape(w["weekday"])}</text>'
            f'<text x="{x + slot * 0.3:.1f}" y="{height - 6}" text-anchor="middle" '
            f'font-size="10" fill="#5b5b60">n={w["posts"]}</text>'
        )
    return _svg(width, height, "Median engagement by weekday (local time)", body)


def heatmap(cells: Sequence[dict[str, Any]]) -> Markup | None:
    """Weekday x hour grid shaded by median engagement; empty cells stay blank."""
    if not cells:
        return None
    width, height, pad_l, pad_t = 640, 200, 34, 16
    cw, ch = (width - pad_l) / 24, (height - pad_t - 4) / 7
    top = max(c["median_engagement"] for c in cells) or 1
    body = []
    for d, name in enumerate(WEEKDAYS):
        body.append(
            f'<text x="{pad_l - 4}" y="{pad_t + d * ch + ch * 0.7:.1f}" text-anchor="end" '
            f'font-size="10">{name}</text>'
        )
    for h in range(0, 24, 3):
        body.append(
            f'<text x="{pad_l + h * cw + cw / 2:.1f}" y="11" text-anchor="middle" '
            f'font-size="10">{h:02d}</text>'
        )
    for c in cells:
        share = c["median_engagement"] / top
        opacity = 0.15 + 0.85 * share
        x, y = pad_l + c["hour"] * cw, pad_t + c["index"] * ch
        body.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{cw - 1:.1f}" height="{ch - 1:.1f}" '
            f'fill="#1f5fbf" fill-opacity="{opacity:.2f}"><title>{escape(c["weekday"])} '
            f"{c['hour']:02d}:00: median {c['median_engagement']:g}, {plural(c['posts'], 'post')}"
            "</title></rect>"
        )
    return _svg(width, height, "Median engagement by weekday and hour (local time)", body)
