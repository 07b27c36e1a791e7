"""Plotly figures as plain JSON data (no plotly.graph_objects needed at build time).

Plotly reads a small HTML subset (``<b>``, ``<br>``) in every text it draws, so strings from the data go
through :func:`esc` first: ``<script>`` then shows as text.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import Any

__all__ = ["PALETTE", "bar", "esc", "heatmap", "histogram", "layout", "lines"]

PALETTE = ("#1f6feb", "#e36209", "#2da44e", "#8250df", "#cf222e", "#0a9396", "#bf8700", "#6e7781")
_FONT = "Hiragino Sans, Hiragino Kaku Gothic ProN, Noto Sans JP, Noto Sans CJK JP, Meiryo, Segoe UI, sans-serif"


def esc(value: Any) -> str:
    """A data string made safe for Plotly's text rendering."""
    return html.escape("" if value is None else str(value), quote=False)


def _num(values: Sequence[Any]) -> list[Any]:
    out = []
    for v in values:
        if v is None:
            out.append(None)
            continue
        try:
            f = float(v)
        except (TypeError, ValueError):
            out.append(None)
            continue
        out.append(None if math.isnan(f) or math.isinf(f) else f)
    return out


def layout(*, x_title: str = "", y_title: str = "", height: int = 380, y_format: str = "",
           x_format: str = "", legend: bool = True, **extra: Any) -> dict[str, Any]:
    """A clean layout shared by every chart."""
    out: dict[str, Any] = {
        "height": height,
        "margin": {"l": 70, "r": 20, "t": 20, "b": 60},
        "font": {"family": _FONT, "size": 13, "color": "#1f2933"},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "xaxis": {"title": {"text": esc(x_title)}, "gridcolor": "#eef1f4", "zeroline": False, "automargin": True},
        "yaxis": {"title": {"text": esc(y_title)}, "gridcolor": "#eef1f4", "zeroline": False, "automargin": True},
        "showlegend": legend,
        "legend": {"orientation": "h", "y": -0.22},
        "hovermode": "closest",
    }
    if y_format:
        out["yaxis"]["tickformat"] = y_format
    if x_format:
        out["xaxis"]["tickformat"] = x_format
    out.update(extra)
    return out


def bar(x: Sequence[Any], ys: dict[str, Sequence[Any]], *, horizontal: bool = False, stacked: bool = False,
        colors: Sequence[str] | None = None, hover_format: str = "", **layout_args: Any) -> dict[str, Any]:
    """Bars: one trace per entry of ``ys`` (name -> values); category labels are escaped."""
    labels = [esc(v) for v in x]
    data = []
    for i, (name, values) in enumerate(ys.items()):
        trace: dict[str, Any] = {
            "type": "bar", "name": esc(name),
            "marker": {"color": (colors or PALETTE)[i % len(colors or PALETTE)]},
        }
        if horizontal:
            trace.update(x=_num(values), y=labels, orientation="h")
        else:
            trace.update(x=labels, y=_num(values))
        if hover_format:
            trace["hovertemplate"] = "%{" + ("y" if horizontal else "x") + "}: %{" + ("x" if horizontal else "y") + ":" + hover_format + "}<extra>" + esc(name) + "</extra>"
        data.append(trace)
    lay = layout(legend=len(ys) > 1, **layout_args)
    if stacked:
        lay["barmode"] = "stack"
    if horizontal:
        lay["yaxis"]["type"] = "category"
        lay["yaxis"]["autorange"] = "reversed"
    else:
        lay["xaxis"]["type"] = "category"
    return {"data": data, "layout": lay}


def lines(series: dict[str, tuple[Sequence[Any], Sequence[Any]]], *, bands: dict[str, tuple[Sequence[Any], Sequence[Any], Sequence[Any]]] | None = None,
          widths: dict[str, float] | None = None, dashed: Sequence[str] = (), **layout_args: Any) -> dict[str, Any]:
    """Lines: ``series`` name -> (x, y); optional ``bands`` name -> (x, low, high) drawn as shaded intervals."""
    data: list[dict[str, Any]] = []
    names = list(series)
    for i, name in enumerate(names):
        color = PALETTE[i % len(PALETTE)]
        if bands and name in bands:
            bx, lo, hi = bands[name]
            xs = list(bx)
            data.append({"type": "scatter", "x": xs + xs[::-1], "y": _num(hi) + _num(lo)[::-1], "fill": "toself",
                         "fillcolor": _rgba(color, 0.15), "line": {"width": 0}, "hoverinfo": "skip",
                         "showlegend": False, "name": esc(name)})
        x, y = series[name]
        data.append({"type": "scatter", "mode": "lines+markers", "name": esc(name), "x": list(x), "y": _num(y),
                     "line": {"color": color, "width": (widths or {}).get(name, 2),
                              "dash": "dash" if name in dashed else "solid"},
                     "marker": {"size": 5}})
    return {"data": data, "layout": layout(legend=len(series) > 1, **layout_args)}


def heatmap(x: Sequence[Any], y: Sequence[Any], z: Sequence[Sequence[Any]], *, colorbar_title: str = "",
            value_format: str = ",.0f", **layout_args: Any) -> dict[str, Any]:
    """A heatmap with rows ``y`` and columns ``x`` (missing cells stay blank)."""
    zz = [_num(row) for row in z]
    data = [{
        "type": "heatmap", "x": [esc(v) for v in x], "y": [esc(v) for v in y], "z": zz,
        "colorscale": "YlGnBu", "reversescale": False, "hoverongaps": False,
        "colorbar": {"title": {"text": esc(colorbar_title)}},
        "hovertemplate": "%{y} · %{x}: %{z:" + value_format + "}<extra></extra>",
    }]
    lay = layout(legend=False, height=max(320, 22 * len(y) + 120), **layout_args)
    lay["xaxis"]["type"] = "category"
    lay["yaxis"]["type"] = "category"
    lay["yaxis"]["autorange"] = "reversed"
    return {"data": data, "layout": lay}


def histogram(edges: Sequence[float], counts: Sequence[Any], *, name: str = "", color: str = PALETTE[0],
              **layout_args: Any) -> dict[str, Any]:
    """Pre-binned counts drawn as touching bars (``edges`` has one more entry than ``counts``)."""
    mids = [(a + b) / 2 for a, b in zip(edges[:-1], edges[1:], strict=True)]
    widths = [b - a for a, b in zip(edges[:-1], edges[1:], strict=True)]
    data = [{"type": "bar", "x": mids, "y": _num(counts), "width": widths, "name": esc(name),
             "marker": {"color": color, "line": {"color": "#ffffff", "width": 1}}}]
    return {"data": data, "layout": layout(legend=False, **layout_args)}


def _rgba(hex_color: str, alpha: float) -> str:
    h = hex_color.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"
