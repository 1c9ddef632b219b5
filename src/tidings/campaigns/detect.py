"""``detect_campaigns``: every campaign detector over a workspace, as one recorded run.

The run reads the workspace's posts and accounts once (:class:`PostFrame`), runs the content,
app, burst and hijack detectors on that frame, gives every campaign a label and its evidence,
and writes (DESIGN §4):

``campaigns.parquet``
    campaign_id, kind, label, key, n_accounts, n_posts, first_seen, last_seen, score; then
    evidence: n_keys, keys, top_text, top_hashtags, top_domains, top_app, app_share, apps,
    example_posts and ``signals`` (the detector's numbers, as JSON).
``campaign_members.parquet``
    campaign_id, account_id, n_posts.
``account_apps.parquet``
    each account's primary app, its share, and the full app mix.
``apps.parquet``
    each client app: posts, accounts, how much of it is shared content, app-campaign score.
``content_keys.parquet``
    every content key shared by enough accounts, with its spread signals (flagged or not).
``bursts.parquet``, ``burst_bins.parquet``
    burst episodes per entity (bombs marked) and the bins examined.
``hijack_bins.parquet``
    per (tag, 10-minute bin): hijacked share, signal counts, push tags and domains, and the
    accounts responsible.
``app_switches.parquet``
    switches to each app per bin, with their surprise.

Kinds: identical_text, near_text, url, media (content), app, app_switch, burst, hijack.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..workspace import Workspace
from .apps import AppProfiles
from .bursts import BurstDetector
from .content import ContentCampaigns
from .frame import PostFrame
from .hijack import HijackDetector
from .labels import collect_evidence, label, shorten
from .stats import poisson_surprise

__all__ = ["CAMPAIGN_COLUMNS", "CampaignResult", "detect_campaigns"]

Progress = Callable[[str], None]

CAMPAIGN_COLUMNS = (
    "campaign_id",
    "kind",
    "label",
    "key",
    "n_accounts",
    "n_posts",
    "first_seen",
    "last_seen",
    "score",
)
_TS = pa.timestamp("us", tz="UTC")
_CAMPAIGNS = pa.schema(
    [
        ("campaign_id", pa.string()),
        ("kind", pa.string()),
        ("label", pa.string()),
        ("key", pa.string()),
        ("n_accounts", pa.int64()),
        ("n_posts", pa.int64()),
        ("first_seen", _TS),
        ("last_seen", _TS),
        ("score", pa.float64()),
        ("n_keys", pa.int64()),
        ("keys", pa.list_(pa.string())),
        ("top_text", pa.string()),
        ("top_hashtags", pa.list_(pa.string())),
        ("top_domains", pa.list_(pa.string())),
        ("top_app", pa.string()),
        ("app_share", pa.float64()),
        ("apps", pa.list_(pa.struct([("app", pa.string()), ("n_posts", pa.int64())]))),
        ("example_posts", pa.list_(pa.string())),
        ("signals", pa.string()),
    ]
)
_MEMBERS = pa.schema(
    [("campaign_id", pa.string()), ("account_id", pa.string()), ("n_posts", pa.int64())]
)
STEPS = ("read posts", "content", "apps", "bursts", "hijacks", "labels", "write")


@dataclass
class CampaignResult:
    """What :func:`detect_campaigns` found and where it wrote it."""

    run_id: str
    out_dir: Path
    campaigns: pa.Table
    members: pa.Table
    tables: dict[str, pa.Table] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        """Campaigns per kind."""
        kinds = self.campaigns["kind"].to_pylist()
        return {k: kinds.count(k) for k in sorted(set(kinds))}


@dataclass
class _Found:
    """A campaign as a detector hands it over, before labels and numbering."""

    kind: str
    key: str
    score: float
    head: str
    keys: list[str]
    signals: dict[str, Any]
    with_text: bool = True


def detect_campaigns(
    workspace: Workspace,
    out: str | os.PathLike[str] | None = None,
    *,
    content: ContentCampaigns | None = None,
    apps: AppProfiles | None = None,
    bursts: BurstDetector | None = None,
    hijack: HijackDetector | None = None,
    progress: Progress | None = None,
) -> CampaignResult:
    """Run every campaign detector on ``workspace`` and write the results to ``out``.

    Each detector can be passed configured (e.g. ``content=ContentCampaigns(min_accounts=10)``);
    the defaults are documented in docs/campaigns.md. The run is recorded in the workspace
    catalog (kind ``campaigns``) with its parameters, timings and counts; ``out`` defaults to
    ``runs/<run-id>/``.
    """
    content = content or ContentCampaigns()
    apps = apps or AppProfiles()
    bursts = bursts or BurstDetector()
    hijack = hijack or HijackDetector()
    detectors = {"content": content, "apps": apps, "bursts": bursts, "hijack": hijack}
    # Only the parameters: a detector passed in already fitted carries its tables too.
    settings = {
        name: {k: v for k, v in vars(det).items() if not k.startswith("_") and not k.endswith("_")}
        for name, det in detectors.items()
    }
    params = json.loads(json.dumps(settings, default=str))
    run = workspace.start_run("campaigns", params, out_dir=out)
    timings: dict[str, float] = {}
    try:
        steps = _steps(timings, progress)
        next(steps)
        frame = PostFrame(workspace.connect())
        next(steps)
        content.fit(frame)
        next(steps)
        apps.fit(frame)
        next(steps)
        bursts.fit(frame)
        next(steps)
        hijack.fit(frame, bursts=bursts)
        next(steps)
        found, posts = _gather(frame, content, apps, bursts, hijack)
        campaigns, members = _assemble(frame, found, posts)
        next(steps)
        tables = {
            "campaigns": campaigns,
            "campaign_members": members,
            "account_apps": apps.account_apps_,
            "apps": apps.apps_,
            "app_switches": apps.switches_,
            "content_keys": content.keys_,
            "bursts": bursts.bursts_,
            "burst_bins": bursts.bins_,
            "hijack_bins": hijack.bins_,
        }
        for name, table in tables.items():
            _write(table, run.out_dir / f"{name}.parquet")
        next(steps, None)
    except BaseException:
        workspace.finish_run(run, status="failed")
        raise
    result = CampaignResult(
        run_id=run.run_id,
        out_dir=run.out_dir,
        campaigns=campaigns,
        members=members,
        tables=tables,
        timings=timings,
    )
    run.summary = {
        "posts": frame.n_posts,
        "campaigns": campaigns.num_rows,
        "by_kind": result.counts(),
        "members": members.num_rows,
        "timings_s": {k: round(v, 3) for k, v in timings.items()},
    }
    workspace.finish_run(run)
    return result


def _steps(timings: dict[str, float], progress: Progress | None) -> Iterator[None]:
    """Advance through STEPS, timing each and telling ``progress`` which one starts."""
    for name in STEPS:
        if progress is not None:
            progress(name)
        t0 = time.perf_counter()
        yield
        timings[name] = time.perf_counter() - t0


def _write(table: pa.Table, path: Path) -> None:
    """Write atomically: a reader never sees half a file."""
    tmp = path.with_name(f".{path.name}.tmp")
    pq.write_table(table, tmp)
    os.replace(tmp, path)


def _gather(
    frame: PostFrame,
    content: ContentCampaigns,
    apps: AppProfiles,
    bursts: BurstDetector,
    hijack: HijackDetector,
) -> tuple[list[_Found], pa.Table]:
    """Every detector's campaigns as ``_Found`` rows plus their posts (campaign, rid)."""
    found: list[_Found] = []
    parts: list[pa.Table] = []

    def add(f: _Found, rids: pa.Array | pa.ChunkedArray) -> None:
        parts.append(
            pa.table({"campaign": pa.array(np.full(len(rids), len(found), np.int64)), "rid": rids})
        )
        found.append(f)

    # Content: one campaign per group of keys.
    keys_tbl = content.keys_.filter(content.keys_["flagged"])
    kc = content.key_campaign_
    signal_cols = (
        "s_time",
        "s_app",
        "s_creation",
        "s_regularity",
        "core_span_s",
        "gap_cv",
        "creation_span_days",
        "account_share",
    )
    cols = {c: keys_tbl[c].to_pylist() for c in ("kind", "key", "score", "n_posts", *signal_cols)}
    pairs = list(zip(cols["kind"], cols["key"], strict=True))
    key_score = dict(zip(pairs, cols["score"], strict=True))
    key_posts = dict(zip(pairs, cols["n_posts"], strict=True))
    key_signals = {kv: {c: _num(cols[c][i]) for c in signal_cols} for i, kv in enumerate(pairs)}
    by_campaign: dict[int, list[tuple[str, str]]] = {}
    for cid, kind, key in zip(
        kc["campaign"].to_pylist(), kc["kind"].to_pylist(), kc["key"].to_pylist(), strict=True
    ):
        by_campaign.setdefault(cid, []).append((kind, key))
    cposts = content.posts_
    camp_col = cposts["campaign"].to_numpy()
    rid_col = cposts["rid"].to_numpy()
    order = np.argsort(camp_col, kind="stable")
    bounds = np.searchsorted(camp_col[order], np.arange(len(by_campaign) + 1))
    for cid in sorted(by_campaign):
        ks = sorted(by_campaign[cid], key=lambda kv: (-key_posts[kv], kv[1]))
        kind, key = ks[0]
        head = {
            "identical_text": "same text",
            "near_text": "near-identical text",
            "url": f"link {key}",
            "media": f"media {key}",
        }[kind]
        if len(ks) > 1:
            unit = {"identical_text": "texts", "near_text": "templates", "url": "links"}
            head += f" ({len(ks)} {unit.get(kind, 'items')})"
        add(
            _Found(
                kind=kind,
                key=key,
                score=max(key_score[kv] for kv in ks),
                head=head,
                keys=[k for _, k in ks[:10]],
                signals=key_signals[(kind, key)],
            ),
            pa.array(rid_col[order[bounds[cid] : bounds[cid + 1]]]),
        )

    # Apps: one campaign per flagged app.
    ap = apps.campaigns_
    app_posts = apps.campaign_posts_
    for i, app in enumerate(ap["app"].to_pylist()):
        rids = app_posts.filter(pa.compute.equal(app_posts["app"], app))["rid"]
        add(
            _Found(
                kind="app",
                key=app,
                score=float(ap["score"][i].as_py()),
                head=f"app {app}: {ap['shared_keys'][i].as_py()} shared keys",
                keys=[app],
                signals={
                    "shared_share": _num(ap["shared_share"][i].as_py()),
                    "share_of_posts": _num(ap["share_of_posts"][i].as_py()),
                    "baseline_shared_share": apps.baseline_shared_share_,
                },
            ),
            rids,
        )
    sw = apps.switches_.filter(apps.switches_["flagged"])
    swm = apps.switch_members_
    for i, to_app in enumerate(sw["to_app"].to_pylist()):
        start = sw["start"][i]
        sel = pa.compute.and_(
            pa.compute.equal(swm["to_app"], to_app), pa.compute.equal(swm["start"], start)
        )
        from_apps = sw["from_apps"][i].as_py()
        add(
            _Found(
                kind="app_switch",
                key=to_app,
                score=float(sw["score"][i].as_py()),
                head=f"{sw['n_accounts'][i].as_py()} accounts switched to app {to_app} "
                f"(from {', '.join(from_apps[:3])})",
                keys=[to_app],
                signals={"expected": _num(sw["expected"][i].as_py())},
                with_text=False,
            ),
            swm.filter(sel)["rid"],
        )

    # Bombs: one campaign per group of merged burst episodes.
    _bomb_posts(frame, bursts)
    bp = frame.con.sql("SELECT bomb_id, rid FROM cp_bomb_posts").to_arrow_table()
    bombs = bursts.bombs_
    for bomb_id in sorted(set(bombs["bomb_id"].to_pylist())):
        eps = bombs.filter(pa.compute.equal(bombs["bomb_id"], bomb_id))
        order_eps = np.argsort(-eps["n_posts"].to_numpy(), kind="stable")
        eps = eps.take(pa.array(order_eps))
        ekind, entity = eps["ekind"][0].as_py(), eps["entity"][0].as_py()
        n_posts = int(eps["n_posts"][0].as_py())
        expected = float(eps["expected"][0].as_py())
        first = eps["first_seen"][0].as_py()
        last = eps["last_seen"][0].as_py()
        hours = (last - first).total_seconds() / 3600
        add(
            _Found(
                kind="burst",
                key=_entity_key(ekind, entity),
                score=float(poisson_surprise(np.array([n_posts]), max(expected, 1.0))[0]),
                head=f"burst of {_entity_display(ekind, entity)}: {n_posts} posts from "
                f"{eps['n_heavy'][0].as_py()} heavy accounts in {hours:.1f} h",
                keys=[
                    _entity_key(k, e)
                    for k, e in zip(
                        eps["ekind"].to_pylist(), eps["entity"].to_pylist(), strict=True
                    )
                ][:10],
                signals={
                    "z": _num(eps["z"][0].as_py()),
                    "expected": expected,
                    "heavy_posts": int(eps["heavy_posts"][0].as_py()),
                },
                with_text=ekind != "text",
            ),
            bp.filter(pa.compute.equal(bp["bomb_id"], bomb_id))["rid"],
        )

    # Hijacks: one campaign per group of hijacked bins.
    hb = hijack.bins_.filter(pa.compute.greater_equal(hijack.bins_["campaign"], 0))
    hp = hijack.posts_
    for cid in sorted(set(hb["campaign"].to_pylist())):
        bins = hb.filter(pa.compute.equal(hb["campaign"], cid))
        tags = bins["tag"].to_pylist()
        jack = bins["n_hijack_posts"].to_numpy()
        per_tag: dict[str, int] = {}
        for t, n in zip(tags, jack, strict=True):
            per_tag[t] = per_tag.get(t, 0) + int(n)
        ranked = sorted(per_tag, key=lambda t: (-per_tag[t], t))
        main = ranked[0]
        mb = bins.filter(pa.compute.equal(bins["tag"], main))
        share = mb["n_hijack_posts"].to_numpy().sum() / max(mb["n_posts"].to_numpy().sum(), 1)
        push = [t for t in _flatten(mb["push_tags"].to_pylist()) if t not in per_tag][:3]
        t0 = mb["bin_start"][0].as_py().strftime("%Y-%m-%d %H:%M")
        t1 = mb["bin_end"][mb.num_rows - 1].as_py().strftime("%H:%M")
        head = f"#{main} hijacked: {share:.0%} of its posts {t0}–{t1} UTC"
        if len(ranked) > 1:
            head += " (also " + " ".join("#" + t for t in ranked[1:4]) + ")"
        if push:
            head += " pushing " + " ".join("#" + t for t in push)
        expected = float(mb["n_posts"].to_numpy().sum() - per_tag[main])
        add(
            _Found(
                kind="hijack",
                key=main,
                score=float(poisson_surprise(np.array([per_tag[main]]), max(expected, 1.0))[0]),
                head=head,
                keys=ranked[:10],
                signals={
                    "hijacked_share": float(share),
                    "bins": int(mb.num_rows),
                    "tags": per_tag,
                },
            ),
            hp.filter(pa.compute.equal(hp["campaign"], cid))["rid"],
        )
    posts = (
        pa.concat_tables(parts)
        if parts
        else pa.table({"campaign": pa.array([], pa.int64()), "rid": pa.array([], pa.int64())})
    )
    return found, posts


def _bomb_posts(frame: PostFrame, bursts: BurstDetector) -> None:
    """``cp_bomb_posts`` (bomb_id, rid): the members' posts carrying the bomb's entities
    between its first and last post."""
    eps = bursts.bombs_.select(["ekind", "entity", "first_seen", "last_seen", "bomb_id"])
    mem = bursts.burst_members_.select(["ekind", "entity", "account_id"])
    con = frame.con
    con.register("_bomb_eps", eps)
    con.register("_bomb_mem", mem)
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE cp_bomb_occ AS
        SELECT e.bomb_id, e.ekind, e.entity, m.account_id,
               CAST(epoch(e.first_seen) AS BIGINT) AS lo, CAST(epoch(e.last_seen) AS BIGINT) AS hi
        FROM _bomb_eps e JOIN _bomb_mem m USING (ekind, entity);
        CREATE OR REPLACE TEMP TABLE cp_bomb_posts AS
        SELECT DISTINCT o.bomb_id, p.rid FROM (
            SELECT 'hashtag' AS ekind, unnest(hashtags) AS entity, rid, account_id, ts
            FROM cp_stage SEMI JOIN (SELECT account_id FROM cp_bomb_occ) USING (account_id)
            UNION ALL
            SELECT 'mention', unnest(mentions), rid, account_id, ts
            FROM cp_stage SEMI JOIN (SELECT account_id FROM cp_bomb_occ) USING (account_id)
            UNION ALL
            SELECT 'url', u.url, s.rid, s.account_id, s.ts
            FROM cp_urls u JOIN cp_stage s USING (rid)
            SEMI JOIN (SELECT account_id FROM cp_bomb_occ) USING (account_id)
            UNION ALL
            SELECT 'text', lpad(to_hex(t.text_key), 16, '0'), s.rid, s.account_id, s.ts
            FROM cp_text t JOIN cp_stage s USING (rid)
            SEMI JOIN (SELECT account_id FROM cp_bomb_occ) USING (account_id)) p
        JOIN cp_bomb_occ o USING (ekind, entity, account_id)
        WHERE p.ts BETWEEN o.lo AND o.hi;
        """
    )
    con.unregister("_bomb_eps")
    con.unregister("_bomb_mem")


def _assemble(frame: PostFrame, found: list[_Found], posts: pa.Table) -> tuple[pa.Table, pa.Table]:
    """Number the campaigns (best score first), label them, attach evidence."""
    ev = collect_evidence(frame, posts)
    order = sorted(
        (i for i in range(len(found)) if i in ev.stats),
        key=lambda i: (-found[i].score, found[i].kind, found[i].key),
    )
    ids = {i: f"C{n + 1:05d}" for n, i in enumerate(order)}
    rows: dict[str, list[Any]] = {name: [] for name in _CAMPAIGNS.names}
    for i in order:
        f = found[i]
        st = ev.stats[i]
        n = max(st["n_posts"], 1)
        apps = st["apps"]
        values: dict[str, Any] = {
            "campaign_id": ids[i],
            "kind": f.kind,
            "label": label(f.kind, f.head, st, with_text=f.with_text),
            "key": f.key,
            "n_accounts": st["n_accounts"],
            "n_posts": st["n_posts"],
            "first_seen": datetime.fromtimestamp(st["first_ts"], UTC),
            "last_seen": datetime.fromtimestamp(st["last_ts"], UTC),
            "score": float(f.score),
            "n_keys": len(f.keys),
            "keys": f.keys,
            "top_text": shorten(st["text"], 160),
            "top_hashtags": [t for t, _ in st["hashtags"]],
            "top_domains": [d for d, _ in st["domains"]],
            "top_app": apps[0][0] if apps else None,
            "app_share": apps[0][1] / n if apps else None,
            "apps": [{"app": a, "n_posts": c} for a, c in apps],
            "example_posts": st["example_posts"],
            "signals": json.dumps(f.signals, sort_keys=True, default=_num),
        }
        for name, v in values.items():
            rows[name].append(v)
    campaigns = pa.table(rows, schema=_CAMPAIGNS)
    m = ev.members
    cid_map = np.full(len(found), -1, np.int64)
    for i in order:
        cid_map[i] = int(ids[i][1:])
    codes = m["campaign"].to_numpy()
    members = pa.table(
        {
            "campaign_id": pa.array([f"C{cid_map[c]:05d}" for c in codes], pa.string()),
            "account_id": m["account_id"],
            "n_posts": m["n_posts"].cast(pa.int64()),
        },
        schema=_MEMBERS,
    )
    members = members.sort_by(
        [("campaign_id", "ascending"), ("n_posts", "descending"), ("account_id", "ascending")]
    )
    return campaigns, members


def _num(v: Any) -> Any:
    """JSON-safe numbers (NaN and infinities become null)."""
    if isinstance(v, float) and not np.isfinite(v):
        return None
    if isinstance(v, np.generic):
        return v.item()
    return v


def _flatten(lists: list[list[str] | None]) -> list[str]:
    seen: dict[str, None] = {}
    for lst in lists:
        for v in lst or []:
            seen.setdefault(v, None)
    return list(seen)


def _entity_key(ekind: str, entity: str) -> str:
    return {"hashtag": "#", "mention": "@", "text": "text:"}.get(ekind, "") + entity


def _entity_display(ekind: str, entity: str) -> str:
    if ekind == "text":
        return "one text"
    return _entity_key(ekind, entity)
