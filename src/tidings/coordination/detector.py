"""The coordination detector: actions → windowed pairs → scored edges → communities."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from ..engine import DuckDBEngine, Engine, open_engine
from ..errors import TidingsError
from ..keys import MIN_CHARS, MIN_TAGS, MIN_WORDS, MinHasher
from ..workspace import Workspace
from .actions import KIND_CODES, KINDS, ActionOptions, build_actions, kind_name_sql
from .communities import find_communities, summarize_communities
from .edges import build_edges, edge_table
from .evidence import evidence_table
from .join import build_pairs, drop_pairs, plan_tiers
from .score import Threshold

__all__ = ["DEFAULT_WINDOWS", "HOT_KEY_SCHEMA", "Coordination", "Progress", "parse_window"]

DEFAULT_WINDOWS: tuple[int, ...] = (10, 60, 600, 3600)
"""Windows in seconds: scripted bursts (10 s), the customary minute, staggered pushes (10 min)
and slow campaigns (1 h)."""

Progress = Callable[[str, int, int], None]
"""``progress(stage, done, total)``: called as each stage of a run finishes."""

STAGES = ("actions", "pairs", "edges", "communities", "evidence")

_TABLES = (
    "co_accounts", "co_posts", "co_texts", "co_bands", "co_urls", "co_domains", "co_rare_apps",
    "co_actions", "co_keys", "co_rows_all", "co_hot", "co_pk", "co_windows", "co_edges_out",
    "co_sig_pairs", "co_degree",
)  # fmt: skip
"""Intermediate tables a run leaves on an engine it does not own (dropped at the end)."""

HOT_KEY_SCHEMA = pa.schema(
    [
        ("kind", pa.string()),
        ("key", pa.string()),
        ("rows", pa.int64()),
        ("buckets_bounded", pa.int64()),
        ("max_bucket_rows", pa.int64()),
        ("how", pa.string()),
    ]
)

_UNITS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hr": 3600, "d": 86400}


def parse_window(value: str | int | float) -> int:
    """A window in whole seconds from ``60``, ``"60s"``, ``"10min"``, ``"1h"``, ``"1d"``."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    else:
        m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*", str(value).lower())
        if not m or (m.group(2) and m.group(2) not in _UNITS):
            raise TidingsError(f"window {value!r}: expected a duration like 10s, 60s, 10min, 1h")
        seconds = float(m.group(1)) * _UNITS.get(m.group(2) or "s", 1)
    if seconds < 1 or seconds != int(seconds):
        raise TidingsError(f"window {value!r}: must be a whole number of seconds, at least 1")
    return int(seconds)


class Coordination:
    """Find accounts that act together, at several time scales, scored against chance.

    Parameters
    ----------
    windows:
        Time windows (seconds, or strings such as ``"60s"``, ``"10min"``, ``"1h"``); one pass
        computes all of them. Default: 10 s, 1 min, 10 min, 1 h.
    kinds:
        Action kinds to use (:data:`tidings.coordination.KINDS`); default all.
    min_weight:
        Edges sharing fewer distinct keys than this are not written (significance is decided
        by the score, not by this).
    short_window:
        Windows up to this (default 60 s) are joined in one pass with every kind; longer ones in
        a second pass without the weak kinds (``domain``, ``app``: over minutes or hours a
        shared site or app is expected, and they would multiply the cost).
    hot_cap:
        Rows per (key, bucket of the longest short window) above which a key's fan-out is
        bounded; 0 switches bounding off everywhere (exact and unbounded).
    hot_cap_long:
        The same for the long windows' pass, per bucket of the longest window: a key used 50
        times in an hour already gives 2,500 chance pairs.
    hot_k:
        A bounded row pairs with its ``hot_k`` nearest rows in time (half before, half after).
    alpha:
        Expected number of chance edges the default threshold allows per window.
    threshold:
        A fixed score threshold instead of the one derived from ``alpha``.
    min_text_chars, min_text_words, min_hashtags:
        Length rules for text keys and hashtag sets (:mod:`tidings.keys`).
    app_max_share, app_min_accounts:
        An app is a key when at most ``max(app_min_accounts, app_max_share × accounts)``
        accounts use it: a common app is no evidence of anything.
    num_perm, bands:
        MinHash signature length and LSH bands for near-duplicate text.
    evidence_per_edge:
        Example co-actions kept per account pair.
    evidence_for:
        ``"significant"`` (default): evidence for the pairs with a significant edge, the ones
        worth reading; ``"all"``: for every written edge (at 10M posts, mostly chance pairs).
    seed, resolution:
        Leiden's random seed and modularity resolution.

    Attributes (after :meth:`fit`)
    ------------------------------
    edges_, communities_, community_summary_, evidence_, hot_keys_:
        Arrow tables (the Parquet outputs).
    thresholds_:
        Per window: candidates, alpha, threshold and the reason.
    counts_, timings_:
        Row counts and seconds per stage.
    """

    def __init__(
        self,
        *,
        windows: Sequence[str | int | float] = DEFAULT_WINDOWS,
        kinds: Sequence[str] = KINDS,
        min_weight: int = 2,
        short_window: int = 60,
        hot_cap: int = 200,
        hot_cap_long: int = 50,
        hot_k: int = 20,
        alpha: float = 0.01,
        threshold: float | None = None,
        min_text_chars: int = MIN_CHARS,
        min_text_words: int = MIN_WORDS,
        min_hashtags: int = MIN_TAGS,
        app_max_share: float = 0.01,
        app_min_accounts: int = 50,
        num_perm: int = 64,
        bands: int = 8,
        evidence_per_edge: int = 3,
        evidence_for: str = "significant",
        seed: int = 0,
        resolution: float = 1.0,
    ) -> None:
        self.windows = windows
        self.kinds = kinds
        self.min_weight = min_weight
        self.short_window = short_window
        self.hot_cap = hot_cap
        self.hot_cap_long = hot_cap_long
        self.hot_k = hot_k
        self.alpha = alpha
        self.threshold = threshold
        self.min_text_chars = min_text_chars
        self.min_text_words = min_text_words
        self.min_hashtags = min_hashtags
        self.app_max_share = app_max_share
        self.app_min_accounts = app_min_accounts
        self.num_perm = num_perm
        self.bands = bands
        self.evidence_per_edge = evidence_per_edge
        self.evidence_for = evidence_for
        self.seed = seed
        self.resolution = resolution

    def get_params(self) -> dict[str, Any]:
        """The parameters, as given (for the run record)."""
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in vars(self).items()
                if not k.endswith("_")}  # fmt: skip

    # -- fitting -------------------------------------------------------------------------
    def fit(
        self,
        source: Workspace | pa.Table | str | os.PathLike[str],
        *,
        engine: Engine | str | None = None,
        progress: Progress | None = None,
        **engine_options: Any,
    ) -> Coordination:
        """Run on ``source``: a workspace, a table of canonical posts, or a Parquet path.

        ``engine`` is an :class:`~tidings.engine.Engine`, ``"duckdb"`` (default) or
        ``"spark"``; ``engine_options`` go to its constructor.
        """
        windows = sorted({parse_window(w) for w in self.windows})
        if not windows:
            raise TidingsError("at least one window is needed")
        if self.min_weight < 1:
            raise TidingsError("min_weight must be at least 1")
        if self.evidence_for not in ("significant", "all"):
            raise TidingsError("evidence_for must be 'significant' or 'all'")
        opts = ActionOptions(
            list(self.kinds),
            min_text_chars=self.min_text_chars,
            min_text_words=self.min_text_words,
            min_hashtags=self.min_hashtags,
            app_max_share=self.app_max_share,
            app_min_accounts=self.app_min_accounts,
            hasher=MinHasher(self.num_perm, self.bands),
        )
        eng, owned = _engine_for(source, engine, engine_options)
        self.engine_name_ = eng.name
        self.windows_ = windows
        timings: dict[str, float] = {}
        counts: dict[str, int] = {}
        clock = time.perf_counter()

        def done(stage: str) -> None:
            nonlocal clock
            now = time.perf_counter()
            timings[stage] = round(now - clock, 3)
            clock = now
            if progress is not None:
                progress(stage, STAGES.index(stage) + 1, len(STAGES))

        try:
            counts.update(build_actions(eng, opts))
            if counts["posts"] == 0:
                raise TidingsError("no posts to analyse: ingest a collection first")
            span_us = int(eng.scalar("SELECT max(ts) - min(ts) FROM co_posts") or 0)
            self.span_s_ = max(span_us / 1e6, float(windows[-1]))
            done("actions")
            tiers = plan_tiers(
                windows,
                [KIND_CODES[k] for k in opts.kinds],
                short_s=self.short_window,
                cap=self.hot_cap,
                cap_long=self.hot_cap_long if self.hot_cap > 0 else 0,
                k=self.hot_k,
                weak=[KIND_CODES["domain"], KIND_CODES["app"]],
            )
            counts.update(build_pairs(eng, tiers))
            done("pairs")
            candidates, stats = build_edges(
                eng,
                windows=windows,
                kinds=opts.kinds,
                span_s=self.span_s_,
                min_weight=self.min_weight,
            )
            counts.update(stats)
            self.thresholds_ = [
                Threshold(w, candidates[w], self.alpha, self.threshold) for w in windows
            ]
            self.edges_ = edge_table(eng, windows=windows, thresholds=self.thresholds_)
            counts["candidate_pairs"] = sum(candidates.values())
            counts["edges"] = self.edges_.num_rows
            counts["significant_edges"] = int(sum(self.edges_.column("significant").to_pylist()))
            self.hot_keys_ = _hot_keys(eng, self.hot_k)
            counts["hot_keys"] = self.hot_keys_.num_rows
            done("edges")
            self.communities_, graph = find_communities(
                self.edges_, seed=self.seed, resolution=self.resolution
            )
            sig = self.edges_.filter(self.edges_.column("significant")).select(
                ["account_a", "account_b", "window_s"]
            )
            self.community_summary_ = summarize_communities(
                eng, self.communities_, graph, windows_of=sig
            )
            counts["communities"] = self.community_summary_.num_rows
            counts["community_accounts"] = self.communities_.num_rows
            done("communities")
            self.evidence_ = evidence_table(
                eng,
                windows=windows,
                per_edge=self.evidence_per_edge,
                tiers=tiers,
                significant_only=self.evidence_for == "significant",
            )
            drop_pairs(eng, tiers)
            counts["evidence"] = self.evidence_.num_rows
            done("evidence")
        finally:
            if owned:
                eng.close()
            else:
                for name in _TABLES:
                    eng.drop(name)
        self.counts_ = counts
        self.timings_ = timings
        return self

    # -- output --------------------------------------------------------------------------
    def tables(self) -> dict[str, pa.Table]:
        """The outputs by file stem (``edges``, ``communities``, …)."""
        return {
            "edges": self.edges_,
            "communities": self.communities_,
            "community_summary": self.community_summary_,
            "evidence": self.evidence_,
            "hot_keys": self.hot_keys_,
        }

    def save(self, out_dir: str | os.PathLike[str]) -> dict[str, Path]:
        """Write every output as ``out_dir/<name>.parquet`` (each written, then renamed)."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        files: dict[str, Path] = {}
        for name, table in self.tables().items():
            path = out / f"{name}.parquet"
            tmp = out / f".{name}.parquet.tmp"
            pq.write_table(table, tmp, compression="zstd")
            os.replace(tmp, path)
            files[name] = path
        return files

    def summary(self) -> dict[str, Any]:
        """What the run record keeps: counts, thresholds (with reasons) and timings."""
        return {
            "engine": self.engine_name_,
            "windows_s": self.windows_,
            "span_s": self.span_s_,
            "counts": self.counts_,
            "thresholds": [t.as_dict() for t in self.thresholds_],
            "timings_s": self.timings_,
        }


def _engine_for(
    source: Workspace | pa.Table | str | os.PathLike[str],
    engine: Engine | str | None,
    options: dict[str, Any],
) -> tuple[Engine, bool]:
    """The engine to run on, with a ``posts`` view over ``source``; and whether we own it."""
    if engine is not None and not isinstance(engine, str):
        eng, owned = engine, False
    elif isinstance(source, Workspace):
        eng, owned = open_engine(engine or "duckdb", source, **options), True
    elif (engine or "duckdb") == "duckdb":
        eng, owned = DuckDBEngine(duckdb.connect(config={"threads": os.cpu_count() or 2})), True
    else:
        from ..engine import SparkEngine

        eng, owned = SparkEngine(**options), True
    if isinstance(source, pa.Table):
        eng.register_arrow("posts", source)
    elif isinstance(source, Workspace):
        files = source.table_files("posts")
        if not files:
            raise TidingsError(f"{source.path}: no posts in this workspace; ingest a collection")
        if eng.name != "duckdb" or not isinstance(eng, DuckDBEngine) or not owned:
            eng.register_parquet("posts", files)
    else:
        path = Path(source)
        files = sorted(path.glob("**/*.parquet")) if path.is_dir() else [path]
        if not files:
            raise TidingsError(f"{path}: no Parquet files")
        eng.register_parquet("posts", files)
    return eng, owned


def _hot_keys(engine: Engine, k: int) -> pa.Table:
    how = (
        "'in ' || CAST(h.buckets AS VARCHAR) || ' bucket(s) of ' || CAST(h.bucket_s AS VARCHAR) "
        "|| ' s (' || h.tier || ' windows) it had more than ' || CAST(h.cap AS VARCHAR) "
        f"|| ' rows: each paired only with its {k} nearest rows in time; its co-actions are "
        "also down-weighted by the score (key popularity)'"
    )
    table = engine.arrow(
        f"SELECT {kind_name_sql('h.kind')} AS kind, k.key, k.n AS rows, "
        f"h.buckets AS buckets_bounded, h.max_c AS max_bucket_rows, {how} AS how "
        "FROM co_hot h JOIN co_keys k ON k.kind = h.kind AND k.key_h = h.key_h "
        "ORDER BY k.n DESC, kind, k.key, h.tier DESC"
    )
    return table.cast(HOT_KEY_SCHEMA)
