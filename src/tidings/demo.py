"""A synthetic collection with planted, labelled activity: for the demo, tests and benchmarks.

Real collections cannot be shown or shipped (they hold real propaganda), and their ground truth
is unknown; a generated one can be both. The organic background is realistic enough that
detectors meet real-looking noise (heavy-tailed activity, daily cycles, viral cascades, popular
links, trending tags, several apps, English and Arabic), and the planted activity is written down
as ground truth so that tests can measure recall and precision.

>>> from tidings.demo import DemoConfig, generate, write_demo
>>> demo = generate(DemoConfig(n_posts=20_000, seed=1))          # doctest: +SKIP
>>> write_demo(demo, "demo-data")                                 # doctest: +SKIP

The same config gives the same tables, byte for byte. Generation is vectorised and goes in
blocks of organic posts, so memory is the output table plus one block: 1M posts take about 4 s
and 0.7 GB, 10M about a minute and under 4 GB (2 cores).
"""

from __future__ import annotations

import importlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ._demo import organic, planted
from ._demo.context import DAY, Context, make_context
from ._demo.frame import Frame, Lookup, post_ids, to_posts
from ._demo.organic import trend_curves
from ._demo.population import Population, accounts_table, make_population
from ._demo.series import make_series
from ._demo.vocab import PLACES

__all__ = ["STEPS", "Demo", "DemoConfig", "DemoRun", "Step", "generate", "run_demo", "write_demo"]

BLOCK_POSTS = 500_000
"""Organic posts generated at a time: bounds the generator's working memory."""

ACCOUNTS_PER_POST = 0.062
_TS = pa.timestamp("us", tz="UTC")


@dataclass(frozen=True)
class DemoConfig:
    """What to generate. Every planted component can be switched off (all off: organic only)."""

    n_posts: int = 1_000_000
    """Total posts, planted ones included (organic fills the rest; at least half is organic)."""
    seed: int = 1
    start: str = "2014-06-01"
    """First day (UTC) of the collection."""
    days: int = 30
    coordinated_groups: int = 50
    """Disjoint groups of 5-30 accounts acting together within 10-60 s."""
    app_campaign: bool = True
    """200 accounts post the same 30 texts from one rare app, each copy spread over 3 h."""
    bomb: bool = True
    """~9 fresh accounts post ~900 near-identical posts with one tag and link within ~2 h."""
    hijack: bool = True
    """A pushing group floods the trending tag with off-topic posts for an hour."""
    viral_storm: bool = False
    """One post reposted by 20,000 accounts within 15 minutes (a hot key, not coordination)."""
    series: bool = True
    """A traffic series with a blocking-style drop and a circumvention surge."""
    events_per_group: tuple[int, int] | None = None
    """Events per coordinated group; default 30-60 at 1M posts, scaled by sqrt(n_posts / 1M)."""


@dataclass
class Demo:
    """A generated collection: canonical tables plus the ground truth of what was planted."""

    config: DemoConfig
    posts: pa.Table
    accounts: pa.Table
    series: pa.Table
    truth: dict[str, pa.Table] = field(default_factory=dict)


def _rng(cfg: DemoConfig, *key: int) -> np.random.Generator:
    # One stream per component and per block, so that a block's posts depend on its own key
    # only, not on what was drawn before it.
    return np.random.default_rng([cfg.seed, *key])


def _epoch(day: str) -> int:
    d = datetime.fromisoformat(day)
    return int((d if d.tzinfo else d.replace(tzinfo=UTC)).timestamp())


def _events_per_group(cfg: DemoConfig) -> tuple[int, int]:
    if cfg.events_per_group is not None:
        return cfg.events_per_group
    scale = np.sqrt(cfg.n_posts / 1e6)
    lo = max(3, round(30 * scale))
    return lo, max(lo + 1, round(60 * scale))


def _plant(cfg: DemoConfig, ctx: Context, pop: Population, n_acc: int) -> planted.Plant:
    """Choose the planted accounts among ordinary ones and generate the planted posts."""
    rng = _rng(cfg, 3)
    # Planted accounts look like everyone else: drawn from all but the busiest 1 %.
    ordinary = np.flatnonzero(pop.activity[:n_acc] < np.quantile(pop.activity[:n_acc], 0.99))
    pool = rng.permutation(ordinary)
    cursor = 0

    def take(k: int) -> np.ndarray[Any, Any]:
        nonlocal cursor
        cursor += k
        return np.sort(pool[cursor - k : cursor])

    plant = planted.Plant(first_row=0)
    sizes = rng.integers(5, 31, cfg.coordinated_groups)
    groups = [take(int(s)) for s in sizes]
    app = take(200) if cfg.app_campaign else None
    pushers = take(int(rng.integers(100, 151))) if cfg.hijack else None
    reposters = take(20_000) if cfg.viral_storm else None

    if groups:
        planted.coordinated(ctx, pop, _rng(cfg, 4), plant, groups, _events_per_group(cfg))
    if app is not None:
        # Campaign accounts were registered in a few tight clusters before the campaign.
        cluster = rng.integers(0, 3, len(app))
        day0 = ctx.t0 - np.array([60, 41, 17])[cluster] * DAY
        pop.created[app] = day0 + rng.integers(0, 2 * DAY, len(app))
        planted.app_campaign(ctx, pop, _rng(cfg, 5), plant, app)
    if cfg.bomb:
        fresh = np.arange(n_acc, len(pop))
        span = ctx.t1 - ctx.t0
        pop.created[fresh] = ctx.t0 + int(0.6 * span) - 7 * DAY + rng.integers(0, DAY, len(fresh))
        planted.bomb(ctx, pop, _rng(cfg, 6), plant, fresh)
    if pushers is not None:
        # The group tag is the pushers' own: they use it in their everyday posts too.
        pop.community[pop.community == 0] = -1
        pop.community[pushers] = 0
        tournament = trend_curves(cfg.days)[0]
        hot = np.flatnonzero(tournament >= tournament.max())
        day = int(hot[len(hot) // 2]) if len(hot) else cfg.days // 2
        planted.hijack(ctx, pop, _rng(cfg, 7), plant, pushers, day)
    if reposters is not None:
        fame = pop.followers[:n_acc].astype(np.float64)
        fame[pool[:cursor]] = -1
        planted.viral(ctx, pop, _rng(cfg, 8), plant, int(np.argmax(fame)), reposters)
    return plant


def _truth(
    plant: planted.Plant, frame: Frame, ids: np.ndarray[Any, Any], pop: Population
) -> dict[str, pa.Table]:
    accounts = [
        pa.table(
            {
                "account_id": pop.ids.take(pa.array(acc)),
                "label": pa.repeat(pa.scalar(label), len(acc)),
                "group": pa.repeat(pa.scalar(group), len(acc)),
            }
        )
        for acc, label, group in plant.accounts
    ]
    n_ev = len(plant.events)
    event = np.concatenate(plant.row_event) if plant.row_event else np.zeros(0, np.int64)
    seen: dict[str, int] = {}
    names = []
    for e in plant.events:
        seen[e.group] = seen.get(e.group, 0) + 1
        names.append(f"{e.group}-{seen[e.group]:03d}")
    stats = (
        pa.table({"e": event, "t": frame.t, "acc": frame.acc})
        .group_by("e")
        .aggregate([("t", "min"), ("t", "max"), ("t", "count"), ("acc", "count_distinct")])
        .sort_by("e")
    )
    assert stats.num_rows == n_ev, "every planted event has posts"
    keys = [str(ids[e.key_row]) if e.key_row is not None else e.key for e in plant.events]
    events = pa.table(
        {
            "event_id": pa.array(names, pa.string()),
            "kind": pa.array([e.kind for e in plant.events], pa.string()),
            "group": pa.array([e.group for e in plant.events], pa.string()),
            "start": pa.array(stats["t_min"].to_numpy() * 1_000_000, _TS),
            "end": pa.array(stats["t_max"].to_numpy() * 1_000_000, _TS),
            "key": pa.array(keys, pa.string()),
            "n_posts": stats["t_count"].cast(pa.int64()),
            "n_accounts": stats["acc_count_distinct"].cast(pa.int64()),
        }
    )
    empty_accounts = pa.schema([("account_id", pa.string()), ("label", pa.string()),
                                ("group", pa.string())]).empty_table()  # fmt: skip
    return {
        "accounts": pa.concat_tables(accounts) if accounts else empty_accounts,
        "events": events,
        "posts": pa.table(
            {
                "post_id": pa.array(ids, pa.int64()).cast(pa.string()),
                "event_id": pa.array(names, pa.string()).take(pa.array(event)),
            }
        ),
    }


def generate(config: DemoConfig | None = None, **overrides: Any) -> Demo:
    """Generate a collection; ``overrides`` replace fields of ``config`` (or of the default)."""
    cfg = replace(config or DemoConfig(), **overrides)
    if cfg.n_posts < 1 or cfg.days < 1:
        raise ValueError("n_posts and days must be positive")
    t0 = _epoch(cfg.start)
    ctx = make_context(_rng(cfg, 0), t0=t0, days=cfg.days, n_posts=cfg.n_posts)
    need = 30 * cfg.coordinated_groups + 200 * cfg.app_campaign + 150 * cfg.hijack
    need += 20_001 * cfg.viral_storm
    n_acc = max(round(cfg.n_posts * ACCOUNTS_PER_POST), int(need * 1.5) + 200)
    pop = make_population(
        n_acc + 9 * cfg.bomb,
        _rng(cfg, 1),
        start=t0,
        words=ctx.words,
        en_cdf=ctx.en_cdf,
        ar_cdf=ctx.ar_cdf,
        n_en=ctx.n_en,
        n_common_apps=len(ctx.apps) - 6,
        n_rare_apps=6,
    )
    pop.activity[n_acc:] = 0.0  # the bomb's fresh accounts post nothing but the bomb
    plant = _plant(cfg, ctx, pop, n_acc)

    look = Lookup(
        account_ids=pop.ids,
        account_names=pop.names,
        apps=pa.array(ctx.apps),
        place_names=pa.array([p[0] for p in PLACES]),
        place_lat=np.array([p[1] for p in PLACES]),
        place_lon=np.array([p[2] for p in PLACES]),
    )
    n_planted = plant.n_rows
    n_organic = max(cfg.n_posts - n_planted, cfg.n_posts // 2)
    n_blocks = max(1, -(-n_organic // BLOCK_POSTS))
    bounds = np.linspace(0, n_organic, n_blocks + 1).astype(np.int64)
    tables: list[pa.Table] = []
    per_account = np.zeros(len(pop), np.int64)
    for b in range(n_blocks):
        first, size = n_planted + int(bounds[b]), int(bounds[b + 1] - bounds[b])
        frame = organic.block(ctx, pop, _rng(cfg, 10, b), first, size)
        tables.append(to_posts(frame, post_ids(frame, first), look, _rng(cfg, 11, b)))
        per_account += np.bincount(frame.acc, minlength=len(pop))
        del frame

    truth: dict[str, pa.Table] = {}
    if plant.frames:
        frame = Frame.concat(plant.frames, shift_refs=False)
        ids = post_ids(frame, 0)
        tables.append(to_posts(frame, ids, look, _rng(cfg, 12)))
        per_account += np.bincount(frame.acc, minlength=len(pop))
        truth = _truth(plant, frame, ids, pop)
    else:
        truth = _truth(plant, _empty_frame(), np.zeros(0, np.int64), pop)

    series, series_events = make_series(_rng(cfg, 13), t0, cfg.days)
    if not cfg.series:
        series, series_events = series.slice(0, 0), series_events.slice(0, 0)
    truth["series_events"] = series_events
    truth["events"] = pa.concat_tables([truth["events"], _outage_events(series_events)])
    return Demo(
        config=cfg,
        posts=pa.concat_tables(tables),
        accounts=accounts_table(pop, per_account, _rng(cfg, 14)),
        series=series,
        truth=truth,
    )


def _empty_frame() -> Frame:
    from ._demo.frame import empty_lists

    z = np.zeros(0, np.int64)
    s = pa.array([], pa.string())
    e = empty_lists(0)
    return Frame(z, z, z.astype(np.int8), z, s, e, e, e, e, z.astype(np.int16),
                 z.astype(np.int8), z.astype(np.int16))  # fmt: skip


def _outage_events(series_events: pa.Table) -> pa.Table:
    """The blocking as one event of the collection's ground truth, next to the planted posts."""
    blocking = series_events.filter(pc.equal(series_events["kind"], "blocking"))
    n = min(1, blocking.num_rows)
    return pa.table(
        {
            "event_id": pa.array(["outage-001"][:n], pa.string()),
            "kind": pa.array(["outage"][:n], pa.string()),
            "group": pa.nulls(n, pa.string()),
            "start": blocking["start"].slice(0, n).combine_chunks(),
            "end": blocking["end"].slice(0, n).combine_chunks(),
            "key": blocking["entity"].slice(0, n).combine_chunks(),
            "n_posts": pa.array([0][:n], pa.int64()),
            "n_accounts": pa.array([0][:n], pa.int64()),
        }
    )


def write_demo(demo: Demo, out_dir: str | os.PathLike[str]) -> Path:
    """Write ``posts``, ``accounts``, ``series`` and ``truth/<name>`` as Parquet into ``out_dir``.

    Each file is written under a temporary name and renamed, so a reader never sees half a file.
    """
    out = Path(out_dir)
    (out / "truth").mkdir(parents=True, exist_ok=True)
    files = {
        out / "posts.parquet": demo.posts,
        out / "accounts.parquet": demo.accounts,
        out / "series.parquet": demo.series,
    }
    files.update({out / "truth" / f"{name}.parquet": t for name, t in demo.truth.items()})
    for path, table in files.items():
        tmp = path.with_name(f".{path.name}.tmp")
        pq.write_table(table, tmp, compression="zstd", row_group_size=256 * 1024)
        os.replace(tmp, path)
    return out


# -- the whole pipeline on a generated collection (`tidings demo`) ------------------------------


class StepSkipped(Exception):
    """A demo step whose analysis is not available in this installation."""


@dataclass
class DemoRun:
    """What :func:`run_demo` did: the workspace, the report, and one line per step."""

    workspace: Path
    input_dir: Path
    """Where the generated input and its ground truth (``truth/``) are written."""
    report: Path | None = None
    lines: list[str] = field(default_factory=list)
    demo: Demo | None = None
    results: dict[str, Path] = field(default_factory=dict)
    """Output directory of each analysis step that ran."""


@dataclass(frozen=True)
class Step:
    """One stage of the demo: ``run(state, ws)`` does the work and returns a summary line."""

    name: str
    run: Callable[[DemoRun, Any], str]


def _optional(module: str, name: str) -> Callable[..., Any]:
    """``tidings.<module>.<name>``, or :class:`StepSkipped` while it does not exist yet."""
    try:
        found = getattr(importlib.import_module(f"tidings.{module}"), name, None)
    except ImportError as exc:
        raise StepSkipped(f"tidings.{module} is not available ({exc})") from None
    if not callable(found):
        raise StepSkipped(f"tidings.{module} has no {name}() yet")
    return found  # type: ignore[no-any-return]


def _step_ingest(state: DemoRun, ws: Any) -> str:
    from .errors import InputError
    from .ingest import detect_format, ingest

    assert state.demo is not None
    demo = state.demo
    path = state.input_dir / "tweets.jsonl"
    fmt = ""
    try:
        _optional("demo_formats", "write_twitter_v1_jsonl")(
            demo.posts, path, accounts=demo.accounts
        )
        fmt = detect_format(path).name
    except (StepSkipped, InputError):
        pass
    if "twitter" not in fmt and "v1" not in fmt:
        # Until the Twitter v1.1 reader exists: the same posts as a generic Parquet table, with
        # each author's profile beside the post so that accounts are stored too.
        path.unlink(missing_ok=True)
        path = state.input_dir / "posts.parquet"
        pq.write_table(_profiled_posts(demo), path, compression="zstd")
        fmt = "parquet"
    result = ingest(ws, [path], format=fmt, dataset="demo")
    return (
        f"ingest: read {result.read:,} from {path.name} as {fmt}, stored {result.stored:,}, "
        f"duplicates {result.duplicates:,}, quarantined {result.quarantined:,}; "
        f"accounts {result.accounts:,}"
    )


def _step_coordinate(state: DemoRun, ws: Any) -> str:
    coordinate = _optional("coordination", "coordinate")
    out = ws.path / "results" / "coordination"
    result = coordinate(ws, out=out)
    state.results["coordinate"] = out
    return f"coordinate: {result.summary_line()}"


def _step_campaigns(state: DemoRun, ws: Any) -> str:
    detect_campaigns = _optional("campaigns", "detect_campaigns")
    out = ws.path / "results" / "campaigns"
    detect_campaigns(ws, out=out)
    state.results["campaigns"] = out
    return f"campaigns: results in {out}"


def _step_report(state: DemoRun, ws: Any) -> str:
    from .report import write_report

    state.report = write_report(ws)
    return f"report: {state.report}"


STEPS: list[Step] = [
    # Analyses run between ingest and report, in this order. An analysis module that cannot be
    # imported yet is skipped (and said so), so the demo runs at every stage of development.
    Step("ingest", _step_ingest),
    Step("coordinate", _step_coordinate),
    Step("campaigns", _step_campaigns),
    Step("report", _step_report),
]


def _profiled_posts(demo: Demo) -> pa.Table:
    acc = demo.accounts.select(
        ["account_id", "display_name", "description", "location", "followers", "following",
         "statuses", "created_at"]
    ).rename_columns({"created_at": "account_created_at"})  # fmt: skip
    rows = pc.index_in(demo.posts["account_id"], value_set=acc["account_id"])
    posts = demo.posts.drop_columns(["raw", "withheld_in"])
    for name in acc.column_names[1:]:
        posts = posts.append_column(name, acc[name].take(rows))
    return posts


def run_demo(
    workspace: str | os.PathLike[str] = "demo-workspace",
    *,
    n_posts: int = 300_000,
    seed: int = 1,
    echo: Callable[[str], None] | None = None,
) -> DemoRun:
    """Generate a collection, ingest it, run every available analysis and write the report.

    The generated input (tweets as Twitter v1.1 JSONL) and its ground truth go to
    ``WORKSPACE/demo-input/``. ``echo`` receives each step's summary line as it finishes.
    """
    from .workspace import Workspace

    ws = Workspace.init(workspace)
    state = DemoRun(workspace=ws.path, input_dir=ws.path / "demo-input")

    def say(line: str) -> None:
        state.lines.append(line)
        if echo is not None:
            echo(line)

    t = time.perf_counter()
    state.demo = generate(DemoConfig(n_posts=n_posts, seed=seed))
    write_demo(state.demo, state.input_dir)
    planted_posts = state.demo.truth["posts"].num_rows
    say(
        f"generate: {state.demo.posts.num_rows:,} posts ({planted_posts:,} planted) by "
        f"{state.demo.accounts.num_rows:,} accounts in {time.perf_counter() - t:.1f} s; "
        f"ground truth in {state.input_dir / 'truth'}"
    )
    for step in STEPS:
        t = time.perf_counter()
        try:
            line = step.run(state, ws)
        except StepSkipped as exc:
            say(f"{step.name}: skipped, {exc}")
            continue
        say(f"{line} ({time.perf_counter() - t:.1f} s)")
    return state
