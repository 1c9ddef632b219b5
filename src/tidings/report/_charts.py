"""Chart specifications (plotly.js ``data`` + ``layout``) for the report.

Plotly renders labels as a small HTML dialect (``<b>``, ``<br>``, ``<a href>``), so a hashtag or
account name straight from a post could become markup, or a link. Every label taken from the
data goes through :func:`label`: ``&``, ``<`` and ``>`` are escaped, which plotly shows as the
literal characters (it decodes no other named entity, so quotes are left as they are: outside a
tag they are plain text).
"""

from __future__ import annotations

import html
import json
from typing import Any

from ._queries import Table

PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
    "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#393b79", "#ad494a",
)  # fmt: skip

_BASE_LAYOUT: dict[str, Any] = {
    "margin": {"l": 60, "r": 20, "t": 30, "b": 40},
    "font": {"family": "system-ui, sans-serif", "size": 12},
    "paper_bgcolor": "rgba(0,0,0,0)",
    "plot_bgcolor": "#fafafa",
}


def label(value: Any, limit: int = 60) -> str:
    """A data value as a safe plotly label: shortened, then ``&<>`` escaped."""
    s = "" if value is None else str(value)
    if len(s) > limit:
        s = s[: limit - 1] + "…"
    return html.escape(s, quote=False)


def to_json(spec: dict[str, Any]) -> str:
    """JSON that can sit inside a ``<script>`` element: no ``<``, ``>`` or ``&`` survive."""
    text = json.dumps(spec, ensure_ascii=False, default=str, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def layout(**extra: Any) -> dict[str, Any]:
    return {**_BASE_LAYOUT, **extra}


def volume(table: Table, unit: str) -> dict[str, Any]:
    """Stacked posts per time bucket, one band per kind of post."""
    kinds: dict[str, tuple[list[str], list[int]]] = {}
    for bucket, kind, n in table.rows:
        xs, ys = kinds.setdefault(kind, ([], []))
        xs.append(bucket)
        ys.append(n)
    data = [
        {
            "type": "scatter",
            "mode": "lines",
            "stackgroup": "one",
            "name": label(kind),
            "x": xs,
            "y": ys,
            "line": {"width": 0.5, "color": PALETTE[i % len(PALETTE)]},
        }
        for i, (kind, (xs, ys)) in enumerate(sorted(kinds.items()))
    ]
    return {
        "data": data,
        "layout": layout(
            height=320,
            xaxis={"type": "date", "title": {"text": f"time (UTC, per {unit})"}},
            yaxis={"title": {"text": f"posts per {unit}"}},
            legend={"orientation": "h", "y": 1.12},
        ),
    }


def bars(labels: list[Any], values: list[Any], *, color: str = PALETTE[0]) -> dict[str, Any]:
    """Horizontal bars, biggest on top."""
    shown = [label(v, 40) for v in labels]
    return {
        "data": [
            {
                "type": "bar",
                "orientation": "h",
                "x": list(reversed(values)),
                "y": list(reversed(shown)),
                "marker": {"color": color},
                "hovertemplate": "%{y}: %{x:,}<extra></extra>",
            }
        ],
        "layout": layout(
            height=max(220, 22 * len(values) + 60),
            margin={"l": 220, "r": 20, "t": 10, "b": 30},
            yaxis={"type": "category", "automargin": True},
        ),
    }


def timeline(table: Table) -> dict[str, Any]:
    """Each campaign as a bar from first to last post, coloured by kind."""
    kinds = sorted(set(table.column("kind")))
    names = [
        label(f"{cid} {lab or ''}", 40)
        for cid, lab in zip(table.column("campaign_id"), table.column("label"), strict=True)
    ]
    data = []
    for i, kind in enumerate(kinds):
        xs: list[Any] = []
        ys: list[Any] = []
        for row in table.rows:
            rec = dict(zip(table.columns, row, strict=True))
            if rec["kind"] != kind:
                continue
            name = label(f"{rec['campaign_id']} {rec['label'] or ''}", 40)
            xs += [rec["first_seen"], rec["last_seen"], None]
            ys += [name, name, None]
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": label(kind),
                "x": xs,
                "y": ys,
                "line": {"width": 6, "color": PALETTE[i % len(PALETTE)]},
                "connectgaps": False,
            }
        )
    return {
        "data": data,
        "layout": layout(
            height=max(240, 24 * len(table.rows) + 80),
            margin={"l": 220, "r": 20, "t": 10, "b": 40},
            xaxis={"type": "date", "title": {"text": "time (UTC)"}},
            yaxis={
                "type": "category",
                "automargin": True,
                "categoryorder": "array",
                "categoryarray": list(reversed(names)),  # strongest on top
            },
        ),
    }


def network(net: dict[str, Any]) -> dict[str, Any]:
    """The largest communities as a node-link chart (SVG, so it needs no WebGL; edges as one
    gapped line)."""
    ex: list[float | None] = []
    ey: list[float | None] = []
    for a, b in net["edges"]:
        ex += [net["x"][a], net["x"][b], None]
        ey += [net["y"][a], net["y"][b], None]
    order = {c: i for i, c in enumerate(dict.fromkeys(net["community"]))}
    colors = [PALETTE[order[c] % len(PALETTE)] for c in net["community"]]
    axis = {"visible": False}
    return {
        "data": [
            {
                "type": "scatter",
                "mode": "lines",
                "x": ex,
                "y": ey,
                "line": {"width": 0.5, "color": "rgba(120,120,120,0.4)"},
                "hoverinfo": "skip",
                "showlegend": False,
            },
            {
                "type": "scatter",
                "mode": "markers",
                "x": net["x"],
                "y": net["y"],
                "text": [
                    f"{label(n, 30)} (community {label(c, 20)})"
                    for n, c in zip(net["label"], net["community"], strict=True)
                ],
                "hoverinfo": "text",
                "marker": {"size": 7, "color": colors},
                "showlegend": False,
            },
        ],
        "layout": layout(
            height=480, xaxis=axis, yaxis=axis, margin={"l": 10, "r": 10, "t": 10, "b": 10}
        ),
    }
