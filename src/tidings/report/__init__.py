"""The HTML report: one self-contained file an analyst reads instead of raw tables.

``write_report(ws)`` summarises the collection (volume, accounts, hashtags, domains, apps,
quarantine) and, when the workspace holds them, the newest coordination and campaign runs. The
file works offline and fetches nothing: plotly.js is inlined from the installed plotly package,
and a Content-Security-Policy forbids any network access. Post text, names and URLs are hostile:
the template escapes every value, and links are shown as text, never as anchors.
"""

from __future__ import annotations

import os
import uuid
from datetime import date, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from .._version import __version__
from ..workspace import Workspace
from . import _charts, _queries

__all__ = ["write_report"]

_MAX_CELL = 240


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return ", ".join(_fmt(v) for v in value)
    s = str(value)
    return s if len(s) <= _MAX_CELL else s[: _MAX_CELL - 1] + "…"


def _cell_class(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, datetime):
        return "time"
    return "num" if isinstance(value, int | float) and not isinstance(value, bool) else ""


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(
            lambda name: resources.files(__package__).joinpath(name).read_text("utf-8")
        ),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["fmt"] = _fmt
    env.filters["cell_class"] = _cell_class
    return env


def _plotly_js() -> Markup:
    js = resources.files("plotly").joinpath("package_data", "plotly.min.js").read_text("utf-8")
    # A literal "</script" would end the inline element early; plotly.min.js has none today.
    return Markup(js.replace("</script", "<\\/script"))


def _context(ws: Workspace) -> dict[str, Any]:
    con = ws.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        s = _queries.summary(con)
        unit, vol = _queries.volume(con, s["first"], s["last"])
        top = _queries.top_accounts(con)
        tags = _queries.hashtags(con)
        doms = _queries.domains(con)
        apps = _queries.apps(con)
        coordination = _queries.coordination(con, ws)
        campaigns = _queries.campaigns(con, ws)
    finally:
        con.close()
    charts: dict[str, dict[str, Any]] = {}
    if vol:
        charts["volume"] = _charts.volume(vol, unit)
    if top:
        charts["accounts"] = _charts.bars(top.column("account_name"), top.column("posts"))
    if tags:
        charts["hashtags"] = _charts.bars(tags.column("hashtag"), tags.column("posts"),
                                          color=_charts.PALETTE[1])  # fmt: skip
    if doms:
        charts["domains"] = _charts.bars(doms.column("domain"), doms.column("posts"),
                                         color=_charts.PALETTE[2])  # fmt: skip
    if apps:
        charts["apps"] = _charts.bars(apps.column("app"), apps.column("posts"),
                                      color=_charts.PALETTE[4])  # fmt: skip
    if coordination is not None and coordination.network:
        charts["network"] = _charts.network(coordination.network)
    if campaigns is not None and campaigns.tables.get("campaigns"):
        charts["timeline"] = _charts.timeline(campaigns.tables["campaigns"])
    return {
        "title": ws.path.resolve().name,
        "workspace": str(ws.path),
        "generated": _queries.now(),
        "version": __version__,
        "s": s,
        "accounts": top,
        "hashtags": tags,
        "domains": doms,
        "apps": apps,
        "coordination": coordination,
        "campaigns": campaigns,
        "q": _queries.quarantine(ws),
        "charts": {name: Markup(_charts.to_json(spec)) for name, spec in charts.items()},
    }


def render(ws: Workspace) -> str:
    """The report of ``ws`` as an HTML string."""
    context = _context(ws)
    return _environment().get_template("template.html").render(plotly_js=_plotly_js(), **context)


def write_report(
    workspace: Workspace | str | os.PathLike[str], out: str | os.PathLike[str] | None = None
) -> Path:
    """Write the HTML report of ``workspace`` and record the run; returns the file's path.

    By default the file is ``runs/<run-id>/report.html`` inside the workspace. It is written
    under a temporary name and renamed, so an interrupted run leaves no half-written report.
    """
    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    target = Path(out) if out is not None else None
    run = ws.start_run(
        "report",
        {"out": str(target) if target else None},
        out_dir=target.parent if target is not None else None,
    )
    try:
        page = render(ws)
        path = target if target is not None else run.out_dir / "report.html"
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
        try:
            tmp.write_text(page, encoding="utf-8")
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
    except BaseException:
        ws.finish_run(run, status="failed")
        raise
    run.summary = {"path": str(path), "bytes": len(page.encode("utf-8"))}
    ws.finish_run(run)
    return path
