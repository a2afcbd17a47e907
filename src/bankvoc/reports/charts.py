"""Charts drawn on the server as plain SVG: horizontal bars, lines over months, a donut.

Why hand-written: the PDF engine (WeasyPrint) runs no JavaScript and reads only a subset of SVG
and its CSS, so a chart must be self-contained SVG with every style an attribute (no classes,
no <style>, no script, no external font or image). The chart packages looked at either emit
JavaScript hooks and CSS classes (pygal) or pull in a plotting stack (matplotlib) for three
simple shapes; ~200 lines here keep the output predictable and testable.

Texts are escaped; labels are laid out by an estimate of their width (a CJK character is about
one em, a Latin one about 0.55 em), which is all a legend and an axis need. The fonts are the
ones the page names (Noto Sans CJK SC first), embedded in the PDF by WeasyPrint.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

FONT = "Noto Sans CJK SC, Noto Sans SC, Source Han Sans SC, WenQuanYi Zen Hei, sans-serif"
PALETTE = ("#2f6fb3", "#e07b39", "#3a9a5b", "#c23b3b", "#7d5ba6", "#8c6d3f", "#d16ba5",
           "#5f6b7a", "#b8a62e", "#2aa3a3")
OTHER_COLOUR = "#b0b7c0"
TEXT = "#222222"
MUTED = "#666666"
GRID = "#dddddd"


def _esc(text: str) -> str:
    return escape(text, quote=True)


def text_width(text: str, size: float) -> float:
    """Estimated width of `text` at font size `size` (px)."""
    return sum(size * (1.0 if ord(ch) > 0x2E80 else 0.56) for ch in text)


def clip(text: str, size: float, width: float) -> str:
    """`text` cut with an ellipsis to fit `width`."""
    if text_width(text, size) <= width:
        return text
    out = ""
    for ch in text:
        if text_width(out + ch + "…", size) > width:
            break
        out += ch
    return out + "…"


def number(value: float | None, decimals: int = 1) -> str:
    if value is None or math.isnan(value):
        return "—"
    if float(value).is_integer() and abs(value) >= 1:
        return f"{int(value):,}"
    return f"{value:,.{decimals}f}"


def _svg(width: float, height: float, body: list[str], title: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
            f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="{FONT}" role="img" '
            f'aria-label="{_esc(title)}">'
            f"<title>{_esc(title)}</title>{''.join(body)}</svg>")


def _text(x: float, y: float, text: str, *, size: float = 11, anchor: str = "start",
          fill: str = TEXT, weight: str = "normal") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size:g}" text-anchor="{anchor}" '
            f'fill="{fill}" font-weight="{weight}">{_esc(text)}</text>')


def _nice_max(value: float) -> float:
    """A round axis maximum at or above `value`."""
    if value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power


def bar_chart(items: Sequence[tuple[str, float]], *, title: str, suffix: str = "",
              width: float = 640, bar: float = 18, decimals: int = 1) -> str:
    """Horizontal bars, one per (label, value), in the order given; the value at the bar's end
    with `suffix` (e.g. "%")."""
    if not items:
        return _svg(width, 40, [_text(8, 24, "—", fill=MUTED)], title)
    size = 11.0
    label_width = min(max(text_width(label, size) for label, _ in items) + 10, width * 0.38)
    value_width = max(text_width(number(v, decimals) + suffix, size) for _, v in items) + 12
    plot = width - label_width - value_width - 8
    top, gap = 6.0, 6.0
    height = top + len(items) * (bar + gap) + 4
    peak = max((v for _, v in items), default=0.0) or 1.0
    body: list[str] = []
    for index, (label, value) in enumerate(items):
        y = top + index * (bar + gap)
        length = max(plot * max(value, 0.0) / peak, 0.0)
        colour = PALETTE[index % len(PALETTE)]
        body.append(_text(label_width - 6, y + bar * 0.72, clip(label, size, label_width - 8),
                          size=size, anchor="end"))
        body.append(f'<rect x="{label_width:.1f}" y="{y:.1f}" width="{length:.1f}" '
                    f'height="{bar:.1f}" fill="{colour}"/>')
        body.append(_text(label_width + length + 4, y + bar * 0.72,
                          number(value, decimals) + suffix, size=size, fill=MUTED))
    return _svg(width, height, body, title)


def line_chart(labels: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]], *,
               title: str, suffix: str = "", width: float = 640, height: float = 220,
               decimals: int = 1) -> str:
    """One line per (name, values) over the x `labels` (months); a None value breaks the
    line. A legend above the plot names the series."""
    size = 10.0
    values = [v for _, vs in series for v in vs if v is not None]
    if not labels or not values:
        return _svg(width, 40, [_text(8, 24, "—", fill=MUTED)], title)
    low = min(0.0, min(values))
    high = _nice_max(max(values)) if max(values) > 0 else 1.0
    left = max(text_width(number(high, decimals) + suffix, size) + 10, 36)
    legend_rows = 1 + int(sum(text_width(name, size) + 30 for name, _ in series) // (width - 20))
    top = 10 + legend_rows * 16
    bottom = 26.0
    right = max(12.0, text_width(labels[-1], size) / 2 + 4)
    plot_w, plot_h = width - left - right, height - top - bottom
    step = plot_w / max(len(labels) - 1, 1)

    def y_of(value: float) -> float:
        return top + plot_h * (1 - (value - low) / ((high - low) or 1.0))

    body: list[str] = []
    x, row = 8.0, 0
    for index, (name, _) in enumerate(series):
        span = text_width(name, size) + 30
        if x + span > width - 8 and x > 8:
            x, row = 8.0, row + 1
        colour = PALETTE[index % len(PALETTE)]
        ly = 12 + row * 16
        body.append(f'<rect x="{x:.1f}" y="{ly - 8:.1f}" width="14" height="4" '
                    f'fill="{colour}"/>')
        body.append(_text(x + 18, ly, name, size=size))
        x += span
    for fraction in (0.0, 0.25, 0.5, 0.75, 1.0):
        value = low + (high - low) * fraction
        y = y_of(value)
        body.append(f'<line x1="{left:.1f}" y1="{y:.1f}" x2="{width - right:.1f}" '
                    f'y2="{y:.1f}" stroke="{GRID}" stroke-width="1"/>')
        body.append(_text(left - 4, y + 3.5, number(value, decimals) + suffix, size=size,
                          anchor="end", fill=MUTED))
    every = max(1, math.ceil(len(labels) / 12))
    for index, label in enumerate(labels):
        if index % every == 0 or index == len(labels) - 1:
            body.append(_text(left + index * step, height - 8, label, size=size,
                              anchor="middle", fill=MUTED))
    for index, (_, points) in enumerate(series):
        colour = PALETTE[index % len(PALETTE)]
        runs: list[list[tuple[float, float]]] = [[]]
        for position, point in enumerate(points):
            if point is None:
                runs.append([])
                continue
            runs[-1].append((left + position * step, y_of(point)))
        for run in runs:
            if len(run) > 1:
                path = " ".join(f"{px:.1f},{py:.1f}" for px, py in run)
                body.append(f'<polyline points="{path}" fill="none" stroke="{colour}" '
                            f'stroke-width="2"/>')
            body.extend(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="2.6" fill="{colour}"/>'
                        for px, py in run)
    return _svg(width, height, body, title)


def donut_chart(items: Sequence[tuple[str, float]], *, title: str, width: float = 640,
                radius: float = 80, top_n: int = 8) -> str:
    """Shares of a whole as a donut with a legend (label, share %); beyond `top_n` slices the
    rest is one grey slice."""
    positive = [(label, value) for label, value in items if value > 0]
    total = sum(value for _, value in positive)
    if not positive or total <= 0:
        return _svg(width, 40, [_text(8, 24, "—", fill=MUTED)], title)
    positive.sort(key=lambda item: -item[1])
    if len(positive) > top_n:
        rest = sum(value for _, value in positive[top_n - 1:])
        positive = [*positive[:top_n - 1], ("其他 / other", rest)]
    size = 11.0
    cx, cy = radius + 10, radius + 10
    height = max(2 * radius + 20, 12 + len(positive) * 18)
    body: list[str] = []
    angle = -math.pi / 2
    inner = radius * 0.55
    for index, (label, value) in enumerate(positive):
        colour = OTHER_COLOUR if label == "其他 / other" else PALETTE[index % len(PALETTE)]
        sweep = 2 * math.pi * value / total
        if sweep >= 2 * math.pi - 1e-9:  # one slice: a full ring
            body.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{(radius + inner) / 2:.1f}" '
                        f'fill="none" stroke="{colour}" stroke-width="{radius - inner:.1f}"/>')
        else:
            end = angle + sweep
            large = 1 if sweep > math.pi else 0
            x1, y1 = cx + radius * math.cos(angle), cy + radius * math.sin(angle)
            x2, y2 = cx + radius * math.cos(end), cy + radius * math.sin(end)
            x3, y3 = cx + inner * math.cos(end), cy + inner * math.sin(end)
            x4, y4 = cx + inner * math.cos(angle), cy + inner * math.sin(angle)
            body.append(
                f'<path d="M{x1:.2f},{y1:.2f} A{radius:.1f},{radius:.1f} 0 {large} 1 '
                f'{x2:.2f},{y2:.2f} L{x3:.2f},{y3:.2f} A{inner:.1f},{inner:.1f} 0 {large} 0 '
                f'{x4:.2f},{y4:.2f} Z" fill="{colour}" stroke="#ffffff" stroke-width="1"/>')
            angle = end
        ly = 16 + index * 18
        lx = 2 * radius + 40
        body.append(f'<rect x="{lx:.1f}" y="{ly - 10:.1f}" width="11" height="11" '
                    f'fill="{colour}"/>')
        share = f"{100 * value / total:.1f}%"
        body.append(_text(lx + 16, ly, clip(label, size, width - lx - 80), size=size))
        body.append(_text(width - 8, ly, share, size=size, anchor="end", fill=MUTED))
    body.append(_text(cx, cy + 4, number(total, 0), size=13, anchor="middle", weight="bold"))
    return _svg(width, height, body, title)
