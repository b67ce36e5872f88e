"""Charts drawn on the server as SVG: small functions with no dependencies that return safe markup.

Every chart is a `<figure>` holding an `<svg role="img">` named by its `<title>` and described by its `<desc>`: a
text equivalent that lists every value, so a screen reader hears the numbers the picture shows (the table
beside each chart has them too). The bars and points are presentation only. Colours are attributes (`fill`,
`stroke`), never `style=`: the Content-Security-Policy allows no inline styles. Every label is escaped.

    bar_chart("revenue-months", "Charges and payments by month", ["Jan 2026", "Feb 2026"],
              [Series("Charges", [15000, 30000]), Series("Paid", [12000, 0])], fmt=cents)
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from markupsafe import Markup, escape

Number = int | float | Decimal

#: Okabe–Ito colours: told apart by people with the common colour-vision deficiencies (yellow left out:
#: too pale on white).
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000", "#999999")
#: Line charts also tell series apart by dash pattern, not colour alone.
DASHES = ("", "6 3", "2 3", "8 3 2 3", "1 2", "10 4")

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 64, 12, 12, 34
AXIS_INK, GRID_INK, LABEL_SIZE = "#5b6575", "#d9dee6", 11
#: The widest a bar gets, however few there are.
MAX_BAR = 56


@dataclass(frozen=True)
class Series:
    """One named row of values, one per category (None where there is no value)."""

    name: str
    values: Sequence[Number | None]


def percent(value: Number | None, places: int = 1) -> str:
    """0.125 → '12.5%'; None → '—'."""
    if value is None:
        return "—"
    return f"{float(value) * 100:.{places}f}%"


def bar_chart(chart_id: str, title: str, categories: Sequence[str], series: Sequence[Series], *,
              fmt: Callable[[Number], str] = str, empty: str = "Nothing to show for this period.") -> Markup:
    """Grouped bars: for each category, one bar per series side by side (negative values hang below zero).
    Empty only when there is no category or no value at all: zeros are drawn (a 0% denial rate is news)."""
    values = [_num(v) for s in series for v in s.values if v is not None]
    if not categories or not values:
        return _empty(chart_id, title, empty)
    low, high = min(0.0, *values), max(0.0, *values)
    ticks = _ticks(low, high, integer=_all_integers(series))
    y = _scale(ticks[0], ticks[-1])
    band = _band(categories)
    bar_width = min(band * 0.8 / max(len(series), 1), MAX_BAR)
    group_width = bar_width * len(series)
    labelled = len(series) == 1 and len(categories) <= 12  # few bars: each says its value
    parts = _axes(chart_id, ticks, y, fmt)
    for index, category in enumerate(categories):
        x0 = LEFT + index * band + (band - group_width) / 2
        for number, each in enumerate(series):
            value = each.values[index]
            if value is None:
                continue
            top, bottom = sorted((y(_num(value)), y(0.0)))
            parts.append(_rect(x0 + number * bar_width, top, bar_width * 0.92, bottom - top, _colour(number),
                               f"{category} · {each.name}: {fmt(value)}"))
            if labelled:
                parts.append(f'<text x="{x0 + bar_width * 0.46:.1f}" y="{top - 4:.1f}" text-anchor="middle" '
                             f'font-size="{LABEL_SIZE}" fill="{AXIS_INK}">{escape(fmt(value))}</text>')
    parts += _category_labels(categories, band)
    summary = _summary(categories, series, fmt)
    return _figure(chart_id, title, summary, parts, series)


def stacked_bars(chart_id: str, title: str, categories: Sequence[str], series: Sequence[Series], *,
                 fmt: Callable[[Number], str] = str, total_label: str = "total",
                 empty: str = "Nothing to show for this period.") -> Markup:
    """One bar per category, made of one segment per series (negative values are not drawn; the text
    equivalent and the table still give them)."""
    totals = [sum(max(_num(s.values[i]), 0.0) for s in series) for i in range(len(categories))]
    if not categories or not any(totals):
        return _empty(chart_id, title, empty)
    ticks = _ticks(0.0, max(totals), integer=_all_integers(series))
    y = _scale(ticks[0], ticks[-1])
    band = _band(categories)
    width = min(band * 0.7, MAX_BAR * 2)
    parts = _axes(chart_id, ticks, y, fmt)
    for index, category in enumerate(categories):
        x = LEFT + index * band + (band - width) / 2
        base = 0.0
        for number, each in enumerate(series):
            value = max(_num(each.values[index]), 0.0)
            if not value:
                continue
            top, bottom = y(base + value), y(base)
            parts.append(_rect(x, top, width, bottom - top, _colour(number),
                               f"{category} · {each.name}: {fmt(each.values[index])}", separated=True))
            base += value
    parts += _category_labels(categories, band)
    summary = _summary(categories, series, fmt, total=(total_label, fmt))
    return _figure(chart_id, title, summary, parts, series)


def line_chart(chart_id: str, title: str, categories: Sequence[str], series: Sequence[Series], *,
               fmt: Callable[[Number], str] = str, max_value: Number | None = None,
               empty: str = "Nothing to show for this period.") -> Markup:
    """One line per series across the categories, with a marker at each value; a None breaks the line.
    `max_value` fixes the top of the scale (1 for shares shown with `fmt=percent`)."""
    values = [_num(v) for s in series for v in s.values if v is not None]
    if not categories or not values:
        return _empty(chart_id, title, empty)
    top = float(max_value) if max_value is not None else max(values)
    ticks = _ticks(min(0.0, *values), max(top, *values), integer=_all_integers(series))
    y = _scale(ticks[0], ticks[-1])
    band = _band(categories)
    parts = _axes(chart_id, ticks, y, fmt)
    for number, each in enumerate(series):
        colour, dash = _colour(number), DASHES[number % len(DASHES)]
        run: list[tuple[float, float]] = []
        runs = [run]
        for index, value in enumerate(each.values):
            if value is None:
                run = []
                runs.append(run)
                continue
            run.append((LEFT + (index + 0.5) * band, y(_num(value))))
        for points in runs:
            if len(points) > 1:
                parts.append(f'<polyline points="{" ".join(f"{px:.1f},{py:.1f}" for px, py in points)}" fill="none" '
                             f'stroke="{colour}" stroke-width="2"' + (f' stroke-dasharray="{dash}"' if dash else "")
                             + "/>")
        for index, value in enumerate(each.values):
            if value is not None:
                parts.append(f'<circle cx="{LEFT + (index + 0.5) * band:.1f}" cy="{y(_num(value)):.1f}" r="3.5" '
                             f'fill="{colour}"><title>{escape(categories[index])} · {escape(each.name)}: '
                             f'{escape(fmt(value))}</title></circle>')
    parts += _category_labels(categories, band)
    summary = _summary(categories, series, fmt)
    return _figure(chart_id, title, summary, parts, series, lines=True)


# ---------------------------------------------------------------- pieces


def _num(value: Number | None) -> float:
    return float(value) if value is not None else 0.0


def _all_integers(series: Sequence[Series]) -> bool:
    return all(isinstance(v, int) for s in series for v in s.values if v is not None)


def _colour(number: int) -> str:
    return PALETTE[number % len(PALETTE)]


def _band(categories: Sequence[str]) -> float:
    return (WIDTH - LEFT - RIGHT) / len(categories)


def _ticks(low: float, high: float, *, integer: bool) -> list[float]:
    """Round values for the y axis, from at most `low` to at least `high`, about four steps."""
    span = (high - low) or abs(high) or 1.0
    raw = span / 4
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    if integer:
        step = max(1.0, math.ceil(step))
    start = math.floor(low / step) * step
    end = math.ceil(high / step) * step
    if end == start:
        end = start + step
    count = round((end - start) / step)
    return [start + i * step for i in range(count + 1)]


def _scale(low: float, high: float) -> Callable[[float], float]:
    plot = HEIGHT - TOP - BOTTOM
    return lambda value: TOP + plot - (value - low) / (high - low) * plot


def _axes(chart_id: str, ticks: list[float], y, fmt) -> list[str]:
    parts = []
    for tick in ticks:
        value = int(tick) if float(tick).is_integer() else tick
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
                     f'stroke="{AXIS_INK if tick == 0 else GRID_INK}" stroke-width="1"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y(tick) + 4:.1f}" text-anchor="end" font-size="{LABEL_SIZE}" '
                     f'fill="{AXIS_INK}">{escape(_tick_label(value, fmt))}</text>')
    return parts


def _tick_label(value: Number, fmt) -> str:
    """Axis labels short enough for the margin: $1,500 rather than $1,500.00, 25% rather than 25.0%."""
    text = fmt(value)
    if text.endswith(".00"):
        return text[:-3]
    return text[:-3] + "%" if text.endswith(".0%") else text


def _category_labels(categories: Sequence[str], band: float) -> list[str]:
    """Labels under the bars; when they would crowd, every second (third …) one."""
    widest = max(len(c) for c in categories) * LABEL_SIZE * 0.6 + 6
    every = max(1, math.ceil(widest / band))
    return [f'<text x="{LEFT + (i + 0.5) * band:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" '
            f'font-size="{LABEL_SIZE}" fill="{AXIS_INK}">{escape(c)}</text>'
            for i, c in enumerate(categories) if i % every == 0]


def _rect(x: float, y: float, width: float, height: float, colour: str, tooltip: str, *,
          separated: bool = False) -> str:
    edge = ' stroke="#ffffff" stroke-width="1"' if separated else ""
    return (f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(width, 0):.1f}" height="{max(height, 0):.1f}" '
            f'fill="{colour}"{edge}><title>{escape(tooltip)}</title></rect>')


def _summary(categories: Sequence[str], series: Sequence[Series], fmt, total: tuple[str, Callable] | None = None
             ) -> str:
    """The chart in words: every category with every series' value. With several series, zeros are left out
    (a category of zeros is "none"); a single series says its zeros (a 0% denial rate is a value)."""
    sentences = []
    for index, category in enumerate(categories):
        shown = [(s.name, s.values[index]) for s in series if s.values[index] is not None]
        if len(series) > 1:
            shown = [(name, value) for name, value in shown if _num(value)]
        if not shown:
            sentences.append(f"{category}: none.")
            continue
        text = ", ".join(f"{name} {fmt(value)}" for name, value in shown)
        if total and len(series) > 1:
            text += f" ({total[0]} {total[1](sum(v for _, v in shown))})"
        sentences.append(f"{category}: {text}.")
    return " ".join(sentences)


def _legend(series: Sequence[Series], lines: bool) -> str:
    items = []
    for number, each in enumerate(series):
        colour = _colour(number)
        if lines:
            dash = DASHES[number % len(DASHES)]
            swatch = (f'<line x1="0" x2="18" y1="6" y2="6" stroke="{colour}" stroke-width="2"'
                      + (f' stroke-dasharray="{dash}"' if dash else "") + "/>")
            width = 18
        else:
            swatch, width = f'<rect width="12" height="12" fill="{colour}"/>', 12
        items.append(f'<li><svg width="{width}" height="12" viewBox="0 0 {width} 12" aria-hidden="true" '
                     f'focusable="false">{swatch}</svg>{escape(each.name)}</li>')
    return f'<ul class="chart-legend" aria-hidden="true">{"".join(items)}</ul>'


def _figure(chart_id: str, title: str, summary: str, parts: list[str], series: Sequence[Series], *,
            lines: bool = False) -> Markup:
    chart_id = str(escape(chart_id))
    return Markup(
        f'<figure class="chart" id="{chart_id}">'
        f'<svg class="chart-svg" role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" focusable="false" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{chart_id}-title">{escape(title)}</title><desc id="{chart_id}-desc">{escape(summary)}</desc>'
        + "".join(parts) + "</svg>" + _legend(series, lines) + "</figure>")


def _empty(chart_id: str, title: str, message: str) -> Markup:
    """A chart with nothing to draw still says so, in the picture and in its text equivalent."""
    chart_id = str(escape(chart_id))
    return Markup(
        f'<figure class="chart chart--empty" id="{chart_id}">'
        f'<svg class="chart-svg" role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" '
        f'viewBox="0 0 {WIDTH} 60" focusable="false" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{chart_id}-title">{escape(title)}</title><desc id="{chart_id}-desc">{escape(message)}</desc>'
        f'<text x="{WIDTH / 2:.0f}" y="34" text-anchor="middle" font-size="13" fill="{AXIS_INK}">'
        f'{escape(message)}</text></svg></figure>')
