"""Bursts ("Twitter bombs"): an entity posted far more than usual, by a few accounts posting a lot.

The 2010 Massachusetts Senate bomb was 9 accounts sending 929 tweets in about 2 hours; a hashtag
game pushed by a troll farm looks the same. Two questions, asked per entity (hashtag, canonical
URL, mention target, normalised-text key):

1. **Is this a burst?** Counts in 1-minute and 10-minute bins are compared with the entity's own
   usual count *at that hour of the day*: the median over days of its hourly count at that hour,
   with the median absolute deviation as the spread (a robust z). A tag that trends every evening
   is not a burst every evening; a tag that did not exist yesterday is, once it has enough posts.
2. **Is it a bomb?** Within a burst episode (flagged bins merged in time), a handful of accounts
   ("heavy" accounts, each posting the entity several times) produce most of the excess. An
   organic trend is many accounts posting once.

State: the only thing the detector keeps is the count of posts per (entity kind, entity, minute,
account), an additive table. :meth:`BurstDetector.partial_fit` adds the counts of new posts, which
costs time proportional to their number, then re-examines only the entities those posts touched.
The baseline of an entity depends on nothing but that entity's own counts (the days it spans,
padded to a minimum), so folding posts in gives exactly what a full recomputation gives.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..workspace import Workspace
from .frame import PostFrame
from .stats import normal_surprise

__all__ = ["ENTITY_KINDS", "BurstDetector"]

ENTITY_KINDS = ("hashtag", "url", "mention", "text")
_STATE_SCHEMA = pa.schema(
    [
        ("ekind", pa.string()),
        ("entity", pa.string()),
        ("minute", pa.int64()),
        ("account_id", pa.string()),
        ("n", pa.int64()),
    ]
)
# Reposts count for tags and links: troll farms bomb with retweets of each other as much as
# with new posts (the heavy-account test, not the post kind, tells a bomb from a cascade). A
# mention counts in original posts only: in a repost it names the author being reposted, which
# a cascade repeats thousands of times, not a target someone chose to write at.
_ENTITY_SQL = {
    "hashtag": "SELECT 'hashtag' AS ekind, unnest(hashtags) AS entity, account_id, ts "
    "FROM cp_stage",
    "url": "SELECT 'url' AS ekind, u.url AS entity, s.account_id, s.ts FROM cp_urls u "
    "JOIN cp_stage s USING (rid)",
    "mention": "SELECT 'mention' AS ekind, unnest(mentions) AS entity, account_id, ts "
    "FROM cp_stage WHERE original",
    "text": "SELECT 'text' AS ekind, lpad(to_hex(t.text_key), 16, '0') AS entity, "
    "s.account_id, s.ts FROM cp_text t JOIN cp_stage s USING (rid)",
}
_MAD_TO_SIGMA = 1.4826


def _select_rank(
    vals: np.ndarray[Any, Any],
    comp: np.ndarray[Any, Any],
    gs: np.ndarray[Any, Any],
    gl: np.ndarray[Any, Any],
    scale_k: float,
    heavy_val: np.ndarray[Any, Any],
    heavy_cnt: np.ndarray[Any, Any],
    rank: np.ndarray[Any, Any],
) -> np.ndarray[Any, Any]:
    """Value of ``rank`` in each group's multiset: its sorted ``vals`` plus ``heavy_cnt`` copies
    of ``heavy_val`` (the days an entity was silent, which are not stored)."""
    g = np.arange(len(gs))
    ins = np.searchsorted(comp, g * scale_k + heavy_val, side="left") - gs
    ins = np.clip(ins, 0, gl)
    out = heavy_val.astype(np.float64).copy()
    below = rank < ins
    above = rank >= ins + heavy_cnt
    n = len(vals)
    if n:
        idx_b = np.clip(gs + rank, 0, n - 1)
        idx_a = np.clip(gs + rank - heavy_cnt, 0, n - 1)
        out = np.where(below, vals[idx_b], out)
        out = np.where(above, vals[idx_a], out)
    return out


def _median_mad(
    group: np.ndarray[Any, Any],
    counts: np.ndarray[Any, Any],
    n_groups: int,
    days: np.ndarray[Any, Any],
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Median and MAD per group over ``days[g]`` values, of which only the non-zero are given."""
    zeros = np.maximum(days - np.bincount(group, minlength=n_groups), 0)
    r_lo = (days - 1) // 2
    r_hi = days // 2
    scale_k = float(counts.max() + 2) if len(counts) else 2.0

    def med_of(vals_in: np.ndarray[Any, Any], heavy: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        order = np.lexsort((vals_in, group))
        v = vals_in[order].astype(np.float64)
        gsorted = group[order]
        gl = np.bincount(gsorted, minlength=n_groups)
        gs = np.zeros(n_groups, np.int64)
        np.cumsum(gl[:-1], out=gs[1:])
        comp = gsorted * scale_k + v
        lo = _select_rank(v, comp, gs, gl, scale_k, heavy, zeros, r_lo)
        hi = _select_rank(v, comp, gs, gl, scale_k, heavy, zeros, r_hi)
        return np.asarray((lo + hi) / 2.0)

    med = med_of(counts.astype(np.float64), np.zeros(n_groups))
    dev = np.abs(counts - med[group])
    mad = med_of(dev, med)
    return med, mad


class BurstDetector:
    """Bursts of entities in 1-minute and 10-minute bins, and the bombs among them.

    Parameters
    ----------
    kinds:
        Entity kinds to watch: any of ``hashtag``, ``url``, ``mention``, ``text``.
    scales:
        Bin widths in minutes. 1 minute pins down when a burst starts; 10 minutes sees a bomb
        that posts a few times a minute for hours.
    min_posts:
        Posts a bin needs before it can be a burst, per scale (a robust z on tiny counts is noise).
    z_min:
        Robust z a bin needs, against the entity's median at that hour of the day.
    min_days:
        Days the baseline covers at least: an entity seen on one day only is compared with that
        day plus silent days, so a brand-new hashtag can burst.
    merge_gap:
        Minutes between flagged bins that still belong to one episode.
    z_extend, extend_hours:
        An episode is flagged by its peak but measured over its whole rise and fall: adjacent
        10-minute bins with a robust z of at least ``z_extend`` join it, up to
        ``extend_hours`` each way.
    heavy_posts:
        Posts of the entity in one episode that make an account "heavy" (a bomb's sender).
    min_accounts:
        Heavy accounts a bomb needs (one account flooding a tag is spam, not a campaign).
    heavy_share:
        Share of the episode's excess posts (over the baseline) the heavy accounts must produce.
    member_posts:
        Posts of the entity in the episode that make an account a member of the bomb.

    Attributes
    ----------
    state_:
        Posts per (ekind, entity, minute, account_id): the additive state.
    bins_:
        Every examined (entity, scale, bin) with its count, baseline, robust z and ``burst``.
    bursts_:
        Burst episodes per entity: span, posts, accounts, baseline, z, heavy accounts, ``bomb``.
    burst_members_:
        Accounts of each bomb episode with their posts of the entity.
    bombs_:
        The bomb episodes with ``bomb_id``: episodes with the same id are one campaign.
    """

    def __init__(
        self,
        *,
        kinds: tuple[str, ...] = ENTITY_KINDS,
        scales: tuple[int, ...] = (1, 10),
        min_posts: dict[int, int] | None = None,
        z_min: float = 5.0,
        min_days: int = 7,
        merge_gap: int = 10,
        z_extend: float = 2.0,
        extend_hours: int = 6,
        heavy_posts: int = 5,
        min_accounts: int = 3,
        heavy_share: float = 0.5,
        member_posts: int = 2,
    ) -> None:
        self.kinds = kinds
        self.scales = scales
        self.min_posts = min_posts if min_posts is not None else {1: 10, 10: 25}
        self.z_min = z_min
        self.min_days = min_days
        self.merge_gap = merge_gap
        self.z_extend = z_extend
        self.extend_hours = extend_hours
        self.heavy_posts = heavy_posts
        self.min_accounts = min_accounts
        self.heavy_share = heavy_share
        self.member_posts = member_posts

    # -- state ----------------------------------------------------------------------------
    def _block_sql(self) -> str:
        union = " UNION ALL ".join(_ENTITY_SQL[k] for k in self.kinds)
        return f"""
            SELECT ekind, entity, ts // 60 AS minute, account_id, count(*)::BIGINT AS n
            FROM ({union}) WHERE entity IS NOT NULL AND entity <> ''
            GROUP BY ALL
            """

    def fit(self, posts: PostFrame | Workspace | pa.Table) -> BurstDetector:
        """Count every post's entities, then find bursts and bombs."""
        frame = PostFrame.of(posts)
        # The counts live beside the posts, in the frame's own database: no copy.
        self._con = _Scoped(frame.con)
        self._con.execute(
            f"CREATE OR REPLACE TEMP TABLE bstate AS SELECT *, 0 AS fold FROM ({self._block_sql()})"
        )
        self._folds = 1
        self._saved = 0
        self._detect(None)
        return self

    def partial_fit(self, posts: PostFrame | Workspace | pa.Table) -> BurstDetector:
        """Fold new posts into the counts and re-examine the entities they touch.

        The posts must be new (not already counted): their counts are added, in time
        proportional to their number, and only the entities they carry are examined again.
        """
        if not hasattr(self, "_con"):
            return self.fit(posts)
        block = PostFrame.of(posts).con.sql(self._block_sql()).to_arrow_table()
        self._con.register("_block", block)
        self._con.execute(f"INSERT INTO bstate SELECT *, {self._folds} AS fold FROM _block")
        self._con.unregister("_block")
        self._folds += 1
        touched = (
            pa.table({"ekind": block["ekind"], "entity": block["entity"]})
            .group_by(["ekind", "entity"])
            .aggregate([])
        )
        self._detect(touched)
        return self

    @property
    def state_(self) -> pa.Table:
        """Posts per (ekind, entity, minute, account_id), summed over every fold."""
        return self._con.sql(
            "SELECT ekind, entity, minute, account_id, sum(n)::BIGINT AS n FROM bstate "
            "GROUP BY ALL ORDER BY ALL"
        ).to_arrow_table()

    def save_state(self, directory: str | Path) -> None:
        """Write the counts of each fold not saved yet as one more Parquet file in
        ``directory``: saving, too, costs what the new posts cost."""
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        seq = len(list(d.glob("counts-*.parquet")))
        for fold in range(self._saved, self._folds):
            block = self._con.sql(
                "SELECT ekind, entity, minute, account_id, n FROM bstate WHERE fold = ?",
                params=[fold],
            ).to_arrow_table()
            tmp = d / f".counts-{seq:06d}.parquet.tmp"
            pq.write_table(block.cast(_STATE_SCHEMA), tmp)
            tmp.rename(d / f"counts-{seq:06d}.parquet")
            seq += 1
        self._saved = self._folds

    @classmethod
    def load_state(cls, directory: str | Path, **params: Any) -> BurstDetector:
        """A detector whose counts are those saved in ``directory``, with bursts re-derived."""
        det = cls(**params)
        det._con = _Scoped(duckdb.connect(config={"preserve_insertion_order": False}))
        files = sorted(Path(directory).glob("counts-*.parquet"))
        det._con.register("_schema", _STATE_SCHEMA.empty_table())
        det._con.execute("CREATE TEMP TABLE bstate AS SELECT *, 0 AS fold FROM _schema")
        det._con.unregister("_schema")
        for i, f in enumerate(files):
            det._con.execute(
                f"INSERT INTO bstate SELECT *, {i} AS fold FROM read_parquet(?)", [str(f)]
            )
        det._folds = det._saved = len(files)
        det._detect(None)
        return det

    # -- detection ------------------------------------------------------------------------
    def _detect(self, touched: pa.Table | None) -> None:
        con = self._con
        if touched is None:
            con.execute("CREATE OR REPLACE TEMP VIEW bscope AS SELECT * FROM bstate")
        else:
            con.register("_touched", touched)
            con.execute("CREATE OR REPLACE TEMP TABLE btouched AS SELECT * FROM _touched")
            con.unregister("_touched")
            con.execute(
                "CREATE OR REPLACE TEMP VIEW bscope AS SELECT s.* FROM bstate s "
                "SEMI JOIN btouched t USING (ekind, entity)"
            )
        bins, episodes, members = self._episodes()
        if touched is None or not hasattr(self, "bins_"):
            self.bins_ = bins
            self.bursts_ = episodes
            self.burst_members_ = members
        else:
            self.bins_ = _replace(self.bins_, bins, touched)
            self.bursts_ = _replace(self.bursts_, episodes, touched)
            self.burst_members_ = _replace(self.burst_members_, members, touched)
        order = pc.sort_indices(
            self.bursts_, [("ekind", "ascending"), ("entity", "ascending"), ("start", "ascending")]
        )
        self.bursts_ = self.bursts_.take(order)
        self._merge_bombs()

    def _episodes(self) -> tuple[pa.Table, pa.Table, pa.Table]:
        con = self._con
        min1 = self.min_posts.get(1, 10)
        conds = " OR ".join(
            f"(scale = {s} AND n >= {self.min_posts.get(s, min1)})" for s in self.scales
        )
        scale_union = " UNION ALL ".join(
            f"SELECT ekind, entity, {s} AS scale, minute // {s} * {s} AS start, "
            f"sum(n) AS n FROM bper_min GROUP BY ALL"
            for s in self.scales
        )
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE bper_min AS
                SELECT ekind, entity, minute, sum(n)::BIGINT AS n FROM bscope GROUP BY ALL;
            CREATE OR REPLACE TEMP TABLE bcand_bins AS
                SELECT * FROM ({scale_union}) WHERE {conds};
            CREATE OR REPLACE TEMP TABLE bcand AS
                SELECT row_number() OVER (ORDER BY ekind, entity) - 1 AS eid, ekind, entity,
                       min(minute) AS first_minute, max(minute) AS last_minute
                FROM bper_min SEMI JOIN bcand_bins USING (ekind, entity)
                GROUP BY ekind, entity;
            """
        )
        cand = con.sql("SELECT * FROM bcand ORDER BY eid").fetchnumpy()
        n_ent = len(cand["eid"])
        if n_ent == 0:
            return _empty_bins(), _empty_episodes(), _empty_members()
        hourly = con.sql(
            "SELECT c.eid, p.minute // 60 AS hour, sum(p.n)::BIGINT AS n FROM bper_min p "
            "JOIN bcand c USING (ekind, entity) GROUP BY ALL"
        ).fetchnumpy()
        first_day = cand["first_minute"].astype(np.int64) // 1440
        last_day = cand["last_minute"].astype(np.int64) // 1440
        days = np.maximum(last_day - first_day + 1, self.min_days)
        heid = hourly["eid"].astype(np.int64)
        hour = hourly["hour"].astype(np.int64)
        group = heid * 24 + hour % 24
        med, mad = _median_mad(
            group, hourly["n"].astype(np.float64), n_ent * 24, np.repeat(days, 24)
        )
        self._med, self._mad = med, mad

        # Distinct accounts per candidate bin, one equi-join per scale (a range join would
        # compare every bin of a busy entity with every one of its rows).
        per_scale = " UNION ALL ".join(
            f"""SELECT c.eid, b.scale, b.start, any_value(b.n) AS n,
                       count(DISTINCT s.account_id) AS accounts
                FROM bcand_bins b JOIN bcand c USING (ekind, entity)
                JOIN (SELECT ekind, entity, account_id, minute // {sc} * {sc} AS start
                      FROM bscope SEMI JOIN bcand USING (ekind, entity)) s
                  USING (ekind, entity, start)
                WHERE b.scale = {sc}
                GROUP BY c.eid, b.scale, b.start"""
            for sc in self.scales
        )
        bins = con.sql(per_scale).fetchnumpy()
        beid = bins["eid"].astype(np.int64)
        scale = bins["scale"].astype(np.int64)
        start = bins["start"].astype(np.int64)
        cnt = bins["n"].astype(np.float64)
        g = beid * 24 + (start // 60) % 24
        frac = scale / 60.0
        expected = med[g] * frac
        sigma = np.maximum.reduce(
            [_MAD_TO_SIGMA * mad[g] * np.sqrt(frac), np.sqrt(expected), np.ones(len(g))]
        )
        z = (cnt - expected) / sigma
        flag = z >= self.z_min
        ekind = cand["ekind"]
        entity = cand["entity"]
        bins_tbl = pa.table(
            {
                "ekind": pa.array(ekind[beid], pa.string()),
                "entity": pa.array(entity[beid], pa.string()),
                "scale_min": pa.array(scale, pa.int64()),
                "start": _ts(start * 60),
                "n_posts": pa.array(cnt.astype(np.int64)),
                "n_accounts": pa.array(bins["accounts"].astype(np.int64)),
                "expected": pa.array(expected),
                "z": pa.array(z),
                "burst": pa.array(flag),
            }
        )
        if not flag.any():
            return bins_tbl, _empty_episodes(), _empty_members()

        # Episodes: flagged bins of one entity, merged when less than merge_gap apart.
        fe, fs, fend = beid[flag], start[flag], start[flag] + scale[flag]
        order = np.lexsort((fs, fe))
        fe, fs, fend = fe[order], fs[order], fend[order]
        big = np.int64(1) << 40
        run_end = np.maximum.accumulate(fend + fe * big)
        new = np.ones(len(fe), bool)
        new[1:] = (fe[1:] != fe[:-1]) | (fs[1:] + fe[1:] * big > run_end[:-1] + self.merge_gap)
        ep_idx = np.cumsum(new) - 1
        n_ep = int(ep_idx[-1]) + 1
        ep_eid = fe[new]
        ep_start = fs[new]
        ep_end = np.zeros(n_ep, np.int64)
        np.maximum.at(ep_end, ep_idx, fend)
        ep_eid, ep_start, ep_end = self._extend(ep_eid, ep_start, ep_end, ekind, entity)
        n_ep = len(ep_eid)
        exp_ep, var_ep = self._expected(ep_eid, ep_start, ep_end)

        episodes = pa.table(
            {
                "ep": pa.array(np.arange(n_ep, dtype=np.int64)),
                "ekind": pa.array(ekind[ep_eid], pa.string()),
                "entity": pa.array(entity[ep_eid], pa.string()),
                "s": pa.array(ep_start),
                "e": pa.array(ep_end),
            }
        )
        con.register("_episodes", episodes)
        per_acc = con.sql(
            """
            SELECT ep.ep, s.account_id, sum(s.n)::BIGINT AS n,
                   min(s.minute) AS first_minute, max(s.minute) AS last_minute
            FROM _episodes ep JOIN bscope s
              ON s.ekind = ep.ekind AND s.entity = ep.entity
             AND s.minute >= ep.s AND s.minute < ep.e
            GROUP BY ALL
            """
        ).fetchnumpy()
        con.unregister("_episodes")
        pe = per_acc["ep"].astype(np.int64)
        n_acc_posts = per_acc["n"].astype(np.float64)
        core = n_acc_posts
        n_posts = np.bincount(pe, weights=core, minlength=n_ep)
        n_accounts = np.bincount(pe, weights=(core > 0), minlength=n_ep)
        heavy = n_acc_posts >= self.heavy_posts
        n_heavy = np.bincount(pe, weights=heavy, minlength=n_ep)
        heavy_n = np.bincount(pe, weights=np.where(heavy, core, 0.0), minlength=n_ep)
        sigma_ep = np.maximum.reduce([np.sqrt(var_ep), np.sqrt(exp_ep), np.ones(n_ep)])
        z_ep = (n_posts - exp_ep) / sigma_ep
        excess = np.maximum(n_posts - exp_ep, 1.0)
        bomb = (n_heavy >= self.min_accounts) & (heavy_n >= self.heavy_share * excess)
        member = (n_acc_posts >= self.member_posts) & bomb[pe]
        first = np.full(n_ep, np.iinfo(np.int64).max)
        last = np.zeros(n_ep, np.int64)
        fm = per_acc["first_minute"].astype(np.int64)
        lm = per_acc["last_minute"].astype(np.int64)
        np.minimum.at(first, pe[member], fm[member])
        np.maximum.at(last, pe[member], lm[member])
        first = np.where(bomb, first, ep_start)
        last = np.where(bomb, last, ep_end - 1)
        ep_tbl = pa.table(
            {
                "ekind": pa.array(ekind[ep_eid], pa.string()),
                "entity": pa.array(entity[ep_eid], pa.string()),
                "start": _ts(ep_start * 60),
                "end": _ts(ep_end * 60),
                "first_seen": _ts(first * 60),
                "last_seen": _ts(last * 60 + 59),
                "n_posts": pa.array(n_posts.astype(np.int64)),
                "n_accounts": pa.array(n_accounts.astype(np.int64)),
                "expected": pa.array(exp_ep),
                "z": pa.array(z_ep),
                "score": pa.array(normal_surprise(z_ep)),
                "n_heavy": pa.array(n_heavy.astype(np.int64)),
                "heavy_posts": pa.array(heavy_n.astype(np.int64)),
                "bomb": pa.array(bomb),
            }
        )
        members = pa.table(
            {
                "ekind": pa.array(ekind[ep_eid[pe[member]]], pa.string()),
                "entity": pa.array(entity[ep_eid[pe[member]]], pa.string()),
                "start": _ts(ep_start[pe[member]] * 60),
                "account_id": pa.array(per_acc["account_id"][member], pa.string()),
                "n_posts": pa.array(n_acc_posts[member].astype(np.int64)),
            }
        )
        return bins_tbl, ep_tbl, members

    def _extend(
        self,
        eid: np.ndarray[Any, Any],
        start: np.ndarray[Any, Any],
        end: np.ndarray[Any, Any],
        ekind: np.ndarray[Any, Any],
        entity: np.ndarray[Any, Any],
    ) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any], np.ndarray[Any, Any]]:
        """Widen each episode over the neighbouring 10-minute bins still above baseline.

        A burst is *flagged* by its peak (z >= z_min with enough posts) but *measured* over
        the whole rise and fall (hysteresis): bins next to it whose robust z is at least
        ``z_extend`` are added, up to ``extend_hours`` each way, so that accounts that started
        early or kept going late are members too. Episodes of one entity that meet merge.
        """
        reach = self.extend_hours * 60
        ext = pa.table(
            {
                "ep": pa.array(np.arange(len(eid), dtype=np.int64)),
                "ekind": pa.array(ekind[eid], pa.string()),
                "entity": pa.array(entity[eid], pa.string()),
                "lo": pa.array(start - reach),
                "hi": pa.array(end + reach),
            }
        )
        self._con.register("_ext", ext)
        rows = self._con.sql(
            """
            SELECT x.ep, p.minute // 10 * 10 AS bin, sum(p.n) AS n
            FROM _ext x JOIN bper_min p
              ON p.ekind = x.ekind AND p.entity = x.entity
             AND p.minute >= x.lo AND p.minute < x.hi
            GROUP BY ALL
            """
        ).fetchnumpy()
        self._con.unregister("_ext")
        ep = rows["ep"].astype(np.int64)
        b = rows["bin"].astype(np.int64)
        g = eid[ep] * 24 + (b // 60) % 24
        expected = self._med[g] / 6.0
        sigma = np.maximum.reduce(
            [_MAD_TO_SIGMA * self._mad[g] * np.sqrt(1 / 6.0), np.sqrt(expected), np.ones(len(g))]
        )
        ok = (rows["n"] - expected) / sigma >= self.z_extend
        above: dict[int, set[int]] = {}
        for e, bin_ in zip(ep[ok].tolist(), b[ok].tolist(), strict=True):
            above.setdefault(e, set()).add(bin_)
        new_start = start.copy()
        new_end = end.copy()
        for e in range(len(eid)):
            bins = above.get(e, set())
            lo = int(start[e]) // 10 * 10
            while lo - 10 in bins or lo - 20 in bins:
                lo -= 10 if lo - 10 in bins else 20
            hi = (int(end[e]) + 9) // 10 * 10
            while hi in bins or hi + 10 in bins:
                hi += 10 if hi in bins else 20
            new_start[e] = max(min(lo, int(start[e])), int(start[e]) - reach)
            new_end[e] = min(max(hi, int(end[e])), int(end[e]) + reach)
        # Merge episodes of one entity that now overlap.
        order = np.lexsort((new_start, eid))
        eid, new_start, new_end = eid[order], new_start[order], new_end[order]
        big = np.int64(1) << 40
        run_end = np.maximum.accumulate(new_end + eid * big)
        first = np.ones(len(eid), bool)
        first[1:] = (eid[1:] != eid[:-1]) | (new_start[1:] + eid[1:] * big > run_end[:-1])
        idx = np.cumsum(first) - 1
        merged_end = np.zeros(int(idx[-1]) + 1 if len(idx) else 0, np.int64)
        np.maximum.at(merged_end, idx, new_end)
        return eid[first], new_start[first], merged_end

    def _expected(
        self, eid: np.ndarray[Any, Any], start: np.ndarray[Any, Any], end: np.ndarray[Any, Any]
    ) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
        """Baseline posts, and their variance, over each episode's minutes [start, end)."""
        h0 = start // 60
        h1 = (end - 1) // 60
        n_hours = h1 - h0 + 1
        ep = np.repeat(np.arange(len(eid)), n_hours)
        hour = np.repeat(h0, n_hours) + (
            np.arange(n_hours.sum()) - np.repeat(np.cumsum(n_hours) - n_hours, n_hours)
        )
        lo = np.maximum(hour * 60, start[ep])
        hi = np.minimum(hour * 60 + 60, end[ep])
        frac = (hi - lo) / 60.0
        g = eid[ep] * 24 + hour % 24
        exp = np.bincount(ep, weights=self._med[g] * frac, minlength=len(eid))
        var = np.bincount(
            ep, weights=(_MAD_TO_SIGMA * self._mad[g]) ** 2 * frac, minlength=len(eid)
        )
        return exp, var

    # -- bombs as campaigns ---------------------------------------------------------------
    def _merge_bombs(self) -> None:
        """Bomb episodes of different entities made of the same posts become one campaign.

        A bomb usually carries a hashtag, a link and a text at once: three episodes, one campaign.
        Two episodes merge when they overlap in time and most of the smaller one's posts come
        from the same accounts in the same minutes as the other's.
        """
        b = self.bursts_.filter(self.bursts_["bomb"])
        n = b.num_rows
        parent = np.arange(n)

        def find(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = int(parent[i])
            return i

        if n > 1:
            eps = b.select(["ekind", "entity", "first_seen", "last_seen", "n_posts"]).append_column(
                "ep", pa.array(np.arange(n, dtype=np.int64))
            )
            self._con.register("_bombs", eps)
            pairs = self._con.sql(
                """
                WITH rows AS (
                    SELECT b.ep, s.minute, s.account_id, sum(s.n) AS n
                    FROM _bombs b JOIN bstate s
                      ON s.ekind = b.ekind AND s.entity = b.entity
                     AND s.minute >= epoch(b.first_seen) // 60
                     AND s.minute <= epoch(b.last_seen) // 60
                    GROUP BY ALL)
                SELECT x.ep AS a, y.ep AS b, sum(least(x.n, y.n)) AS shared
                FROM rows x JOIN rows y USING (minute, account_id)
                WHERE x.ep < y.ep GROUP BY ALL
                """
            ).fetchnumpy()
            self._con.unregister("_bombs")
            sizes = b["n_posts"].to_numpy()
            for a, c, shared in zip(pairs["a"], pairs["b"], pairs["shared"], strict=True):
                if shared >= 0.5 * min(sizes[a], sizes[c]):
                    ra, rc = find(int(a)), find(int(c))
                    if ra != rc:
                        parent[max(ra, rc)] = min(ra, rc)
        roots = np.array([find(i) for i in range(n)], dtype=np.int64)
        self.bombs_ = b.append_column("bomb_id", pa.array(roots))


class _Scoped:
    """A connection whose detector tables get names of their own (``b3_bstate`` for
    ``bstate``), so that several detectors can share one frame's database."""

    _NAMES = re.compile(r"\b(bstate|bscope|btouched|bper_min|bcand_bins|bcand|_block|_episodes|"
                        r"_ext|_bombs|_touched|_schema)\b")  # fmt: skip
    _count = itertools.count()

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con
        self._prefix = f"b{next(self._count)}_"

    def _name(self, text: str) -> str:
        return self._NAMES.sub(lambda m: self._prefix + m.group(1), text)

    def execute(self, sql: str, params: Any = None) -> duckdb.DuckDBPyConnection:
        return self._con.execute(self._name(sql), params)

    def sql(self, sql: str, params: Any = None) -> duckdb.DuckDBPyRelation:
        return self._con.sql(self._name(sql), params=params)

    def register(self, name: str, table: pa.Table) -> None:
        self._con.register(self._name(name), table)

    def unregister(self, name: str) -> None:
        self._con.unregister(self._name(name))


def _replace(old: pa.Table, new: pa.Table, touched: pa.Table) -> pa.Table:
    """``old`` without the rows of touched entities, plus ``new``."""
    con = duckdb.connect()
    con.register("old", old)
    con.register("touched", touched)
    kept = con.sql("SELECT * FROM old ANTI JOIN touched USING (ekind, entity)").to_arrow_table()
    return pa.concat_tables([kept.cast(old.schema), new.cast(old.schema)])


def _ts(seconds: np.ndarray[Any, Any]) -> pa.Array:
    return pa.array(np.asarray(seconds, dtype=np.int64) * 1_000_000, pa.timestamp("us", tz="UTC"))


def _empty_bins() -> pa.Table:
    ts = pa.timestamp("us", tz="UTC")
    return pa.schema(
        [
            ("ekind", pa.string()),
            ("entity", pa.string()),
            ("scale_min", pa.int64()),
            ("start", ts),
            ("n_posts", pa.int64()),
            ("n_accounts", pa.int64()),
            ("expected", pa.float64()),
            ("z", pa.float64()),
            ("burst", pa.bool_()),
        ]
    ).empty_table()


def _empty_episodes() -> pa.Table:
    ts = pa.timestamp("us", tz="UTC")
    return pa.schema(
        [
            ("ekind", pa.string()),
            ("entity", pa.string()),
            ("start", ts),
            ("end", ts),
            ("first_seen", ts),
            ("last_seen", ts),
            ("n_posts", pa.int64()),
            ("n_accounts", pa.int64()),
            ("expected", pa.float64()),
            ("z", pa.float64()),
            ("score", pa.float64()),
            ("n_heavy", pa.int64()),
            ("heavy_posts", pa.int64()),
            ("bomb", pa.bool_()),
        ]
    ).empty_table()


def _empty_members() -> pa.Table:
    return pa.schema(
        [
            ("ekind", pa.string()),
            ("entity", pa.string()),
            ("start", pa.timestamp("us", tz="UTC")),
            ("account_id", pa.string()),
            ("n_posts", pa.int64()),
        ]
    ).empty_table()
