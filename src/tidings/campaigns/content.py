"""Content campaigns: the same content from many accounts, at any distance in time.

An app that posts one centrally chosen text from hundreds of accounts, each copy at a random time
over three hours, links only 3 % of its account pairs within a 60-second window (DESIGN §5). So
no window here: posts are grouped by content key across all time (normalised text, a
near-duplicate cluster, canonical URL, media id), and each key shared by enough accounts is
scored on how its copies are spread:

- **time**: the tightest window holding ``time_share`` of its accounts' first copies, measured on
  the collection's activity clock with the key's own posts taken out (a stock phrase such as
  "good morning everyone" is spread over the whole month; a campaign text over a few hours);
- **app**: how many of its accounts posted it through the same app, against that app's share of
  all posts (one rare app posting for everyone is the app-campaign signature);
- **account creation**: the tightest window of creation dates holding ``creation_share`` of its
  accounts, on the clock of all accounts' creation dates (accounts made in a batch);
- **regularity**: gaps between copies more even than chance (a scheduler);
- the median **share** of each account's posts the key takes is reported as evidence.

Each signal is a surprise (``-log10`` of a bound on its chance probability, see
:mod:`tidings.campaigns.stats`); a key is a campaign when their sum reaches ``min_score`` and
the time signal alone reaches ``min_time_score`` (content many accounts share over the whole
collection, such as an app's "Just posted a photo", is not a campaign however rare the app).
Keys of one kind whose accounts largely coincide (the 30 texts of one app) become one campaign.

Cost: every step is a group-by or a sorted pass over the key's rows, so a key shared by 10^5
accounts costs its rows, never its pairs. Near-duplicate clusters are found without comparing
texts pairwise: each distinct text that at least two accounts posted (the texts the frame
normalises, see :mod:`tidings.campaigns.frame`) gets MinHash LSH band keys
(:class:`tidings.keys.MinHasher`), and texts sharing a band form connected components. A
template's variants repeat across its accounts, so they are among those texts; a variant only
one account wrote is not.
"""

from __future__ import annotations

from typing import Any

import igraph as ig
import numpy as np
import pyarrow as pa

from ..keys import MinHasher
from ..workspace import Workspace
from .frame import PostFrame
from .stats import (
    binomial_surprise,
    gap_cv,
    regularity_surprise,
    scan,
    scan_surprise,
    segment_starts,
)

__all__ = ["CONTENT_KINDS", "ContentCampaigns"]

CONTENT_KINDS = ("identical_text", "near_text", "url", "media")
I64 = np.ndarray[Any, np.dtype[np.int64]]


def components(n: int, a: I64, b: I64) -> I64:
    """Connected-component label of each of ``n`` nodes given edges ``a``-``b``."""
    g = ig.Graph(n=n, edges=np.column_stack([a, b]).tolist() if len(a) else [])
    return np.asarray(g.connected_components().membership, dtype=np.int64)


class ContentCampaigns:
    """Campaigns of identical text, near-duplicate text, URLs and media, with no time window.

    Parameters
    ----------
    kinds:
        Content keys to examine.
    min_accounts:
        Distinct accounts a key needs before it is scored.
    time_share, creation_share:
        Share of a key's accounts the tightest time window (first copies) and creation-date
        window must hold.
    min_score:
        Summed surprise a key needs to be a campaign.
    min_time_score:
        Surprise the time signal alone needs.
    overlap:
        Share of the smaller key's accounts two keys must share to join one campaign.
    corroborate, fast_span_s, min_corroboration:
        Kinds that spread organically in cascades (links, media) need more than a tight time
        window: their core window must be under ``fast_span_s`` seconds, or their other
        signals (app, creation, regularity) must add up to ``min_corroboration``, or their
        accounts must push several such keys together.

    Attributes
    ----------
    keys_:
        Every key shared by ``min_accounts`` accounts, with its spread and signals, and whether
        it is ``corroborated`` and ``flagged``.
    key_campaign_:
        The flagged keys and the campaign (number) each belongs to.
    members_:
        (campaign, account_id, n_posts).
    posts_:
        (campaign, rid): the frame rows of each campaign's posts.
    """

    def __init__(
        self,
        *,
        kinds: tuple[str, ...] = CONTENT_KINDS,
        min_accounts: int = 5,
        time_share: float = 0.8,
        creation_share: float = 0.5,
        min_score: float = 30.0,
        min_time_score: float = 10.0,
        overlap: float = 0.5,
        corroborate: tuple[str, ...] = ("url", "media"),
        fast_span_s: float = 600.0,
        min_corroboration: float = 10.0,
    ) -> None:
        self.kinds = kinds
        self.min_accounts = min_accounts
        self.time_share = time_share
        self.creation_share = creation_share
        self.min_score = min_score
        self.min_time_score = min_time_score
        self.overlap = overlap
        self.corroborate = corroborate
        self.fast_span_s = fast_span_s
        self.min_corroboration = min_corroboration

    def fit(self, posts: PostFrame | Workspace | pa.Table) -> ContentCampaigns:
        frame = PostFrame.of(posts)
        if "near_text" in self.kinds:
            self._near_clusters(frame)
        else:
            frame.con.execute("CREATE OR REPLACE TEMP TABLE cp_near (rid BIGINT, key VARCHAR)")
        self._occurrences(frame)
        self._score(frame)
        self._merge(frame)
        return self

    # -- near-duplicate clusters ----------------------------------------------------------
    def _near_clusters(self, frame: PostFrame) -> None:
        con = frame.con
        # The texts at least two accounts posted (the frame normalised exactly those): each
        # distinct one is hashed once, and texts sharing an LSH band are joined.
        texts = con.sql(
            """
            SELECT text_key, any_value(norm) AS norm, count(*) AS n
            FROM cp_text GROUP BY text_key ORDER BY text_key
            """
        ).to_arrow_table()
        n = texts.num_rows
        if n:
            idx, band = MinHasher().band_keys(texts["norm"])
            order = np.lexsort((idx, band))
            idx, band = idx[order], band[order]
            same = band[1:] == band[:-1]
            label = components(n, idx[:-1][same], idx[1:][same])
        else:
            label = np.zeros(0, np.int64)
        size = np.bincount(label, minlength=int(label.max()) + 1 if n else 0)
        multi = size[label] >= 2 if n else np.zeros(0, bool)
        # A cluster is named after its most posted variant.
        posts_n = texts["n"].to_numpy().astype(np.int64)
        rep = np.full(len(size), -1, np.int64)
        if n:
            order = np.lexsort((-posts_n, label))
            first = np.r_[True, label[order][1:] != label[order][:-1]]
            rep[label[order][first]] = order[first]
        keys_hex = np.array([f"{int(v):016X}" for v in texts["text_key"].to_numpy()], dtype=object)
        near = pa.table(
            {
                "text_key": texts["text_key"].filter(pa.array(multi)),
                "key": pa.array(keys_hex[rep[label[multi]]] if n else [], pa.string()),
            }
        )
        con.register("_near", near)
        con.execute(
            "CREATE OR REPLACE TEMP TABLE cp_near AS "
            "SELECT t.rid, n.key FROM cp_text t JOIN _near n USING (text_key)"
        )
        con.unregister("_near")

    # -- key occurrences ------------------------------------------------------------------
    def _occurrences(self, frame: PostFrame) -> None:
        kinds = ", ".join(f"'{k}'" for k in self.kinds) or "NULL"
        union = f"""
            SELECT * FROM (
                SELECT CASE WHEN k.kk <> 'text' THEN k.kk
                            WHEN n.rid IS NULL THEN 'identical_text' ELSE 'near_text' END AS kind,
                       coalesce(n.key, k.key) AS key, k.rid, k.account_id, k.ts, k.app
                FROM {frame.content_keys()} k
                LEFT JOIN cp_near n ON k.kk = 'text' AND n.rid = k.rid)
            WHERE kind IN ({kinds})
            """
        frame.con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE cp_content AS {union};
            CREATE OR REPLACE TEMP TABLE cp_content_keys AS
                SELECT row_number() OVER (ORDER BY kind, key) - 1 AS kid, kind, key,
                       count(*) AS n_posts, count(DISTINCT account_id) AS n_accounts,
                       min(ts) AS first_ts, max(ts) AS last_ts
                FROM cp_content GROUP BY kind, key
                HAVING count(DISTINCT account_id) >= {self.min_accounts};
            """
        )

    # -- scoring --------------------------------------------------------------------------
    def _score(self, frame: PostFrame) -> None:
        con = frame.con
        rows = con.sql(
            """
            WITH acc AS (
                SELECT k.kid, c.account_id, min(c.ts) AS first_ts, count(*) AS n,
                       arg_min(c.app, c.ts) AS app
                FROM cp_content c JOIN cp_content_keys k USING (kind, key)
                GROUP BY k.kid, c.account_id),
            tot AS (
                SELECT account_id, count(*) AS total FROM cp_stage
                SEMI JOIN (SELECT DISTINCT account_id FROM acc) USING (account_id)
                GROUP BY account_id)
            SELECT acc.kid, acc.account_id, acc.first_ts, acc.n, acc.app, tot.total,
                   a.created_ts
            FROM acc JOIN tot USING (account_id) LEFT JOIN cp_accounts a USING (account_id)
            ORDER BY acc.kid, acc.first_ts, acc.account_id
            """
        ).fetchnumpy()
        keys = con.sql("SELECT * FROM cp_content_keys ORDER BY kid").to_arrow_table()
        n_keys = keys.num_rows
        kid = rows["kid"].astype(np.int64)
        k = np.bincount(kid, minlength=n_keys).astype(np.int64)
        n_total = max(frame.n_posts, 1)
        n_posts_key = keys["n_posts"].to_numpy().astype(np.float64)

        # Time: accounts' first copies on the activity clock, the key's own posts taken out.
        t = rows["first_ts"].astype(np.float64)
        s = scan(frame.clock(t), k, self.time_share)
        has = k >= 2
        lo = np.where(has, s.lo, 0)
        hi = np.where(has, s.lo + s.m - 1, 0)
        in_window = frame.activity_before(t[hi] + 1.0) - frame.activity_before(t[lo])
        width = np.maximum(in_window - s.m, 1.0) / np.maximum(n_total - n_posts_key, 1.0)
        s_time = scan_surprise(k, s.m, width, floor=1.0 / n_total)
        span_core = np.where(has, t[hi] - t[lo], 0.0)

        # App: the most common app among the key's accounts, against its share of all posts.
        app_share_all = dict(
            con.sql(
                f"SELECT app, count(*) / {n_total} FROM cp_stage WHERE app IS NOT NULL GROUP BY app"
            ).fetchall()
        )
        apps = np.asarray(rows["app"], dtype=object)
        top_app, top_n = _top_per_segment(kid, apps, n_keys)
        p0 = np.array([app_share_all.get(a, 1.0) for a in top_app], dtype=np.float64)
        s_app = binomial_surprise(top_n, k, p0)

        # Account creation: on the clock of all accounts' creation dates.
        created = np.asarray(rows["created_ts"], dtype=np.float64)
        known = ~np.isnan(created)
        ckid = kid[known]
        cpts = frame.creation_clock(created[known])
        order = np.lexsort((cpts, ckid))
        kc = np.bincount(ckid, minlength=n_keys).astype(np.int64)
        sc = scan(cpts[order], kc, self.creation_share)
        n_acc_all = max(len(frame.creation_times), 1)
        s_creation = scan_surprise(kc, sc.m, sc.width, floor=1.0 / n_acc_all)
        cr_sorted = created[known][order]
        creation_span = np.where(
            kc >= 2,
            cr_sorted[np.minimum(sc.lo + sc.m - 1, max(len(cr_sorted) - 1, 0))]
            - cr_sorted[np.minimum(sc.lo, max(len(cr_sorted) - 1, 0))]
            if len(cr_sorted)
            else 0.0,
            np.nan,
        )

        # Regularity of the gaps between accounts' first copies.
        cv = gap_cv(t, k)
        s_reg = regularity_surprise(cv, np.maximum(k - 1, 0))

        share = rows["n"].astype(np.float64) / np.maximum(rows["total"].astype(np.float64), 1.0)
        med_share = _median_per_segment(kid, share, n_keys)

        score = s_time + s_app + s_creation + s_reg
        flagged = (score >= self.min_score) & (s_time >= self.min_time_score)
        # Links and media spread organically in cascades, all within a day or so, which the
        # time signal alone cannot tell from a push; they also need something besides time.
        kinds_arr = np.asarray(keys["kind"].to_pylist(), dtype=object)
        corroborated = (
            ~np.isin(kinds_arr, list(self.corroborate))
            | (span_core <= self.fast_span_s)
            | (s_app + s_creation + s_reg >= self.min_corroboration)
        )
        ts = pa.timestamp("us", tz="UTC")
        self.keys_ = keys.select(["kind", "key", "n_posts", "n_accounts"]).append_column(
            "first_seen", pa.array(keys["first_ts"].to_numpy() * 1_000_000, ts)
        )
        for name, col in (
            ("last_seen", pa.array(keys["last_ts"].to_numpy() * 1_000_000, ts)),
            ("core_span_s", pa.array(span_core)),
            ("gap_cv", pa.array(cv)),
            ("top_app", pa.array(top_app, pa.string())),
            ("top_app_accounts", pa.array(top_n.astype(np.int64))),
            ("creation_span_days", pa.array(creation_span / 86400.0)),
            ("account_share", pa.array(med_share)),
            ("s_time", pa.array(s_time)),
            ("s_app", pa.array(s_app)),
            ("s_creation", pa.array(s_creation)),
            ("s_regularity", pa.array(s_reg)),
            ("score", pa.array(score)),
            ("corroborated", pa.array(corroborated)),
            ("flagged", pa.array(flagged)),
        ):
            self.keys_ = self.keys_.append_column(name, col)
        self._rows_kid = kid
        self._rows_account = rows["account_id"]
        self._rows_n = rows["n"].astype(np.int64)

    # -- campaigns ------------------------------------------------------------------------
    def _merge(self, frame: PostFrame) -> None:
        """Flagged keys of one kind whose accounts largely coincide become one campaign."""
        flagged = self.keys_["flagged"].to_numpy(zero_copy_only=False)
        fk = np.flatnonzero(flagged)
        sel = flagged[self._rows_kid]
        r_kid = self._rows_kid[sel]
        r_acc = np.asarray(self._rows_account, dtype=object)[sel]
        r_n = self._rows_n[sel]
        local = np.full(len(flagged), -1, np.int64)
        local[fk] = np.arange(len(fk))
        kinds = np.asarray(self.keys_["kind"].to_pylist(), dtype=object)
        _, acc_idx = np.unique(r_acc.astype(str), return_inverse=True)
        pairs = pa.table({"k": pa.array(local[r_kid]), "a": pa.array(acc_idx.astype(np.int64))})
        con = frame.con
        con.register("_kacc", pairs)
        # Each account links each key to at most 50 others, so a heavy account stays bounded.
        edges = con.sql(
            """
            WITH r AS (
                SELECT k, a, row_number() OVER (PARTITION BY a ORDER BY k) AS j FROM _kacc),
            p AS (
                SELECT x.k AS ka, y.k AS kb, count(*) AS shared
                FROM r x JOIN r y ON x.a = y.a AND y.k > x.k AND y.j <= x.j + 50
                GROUP BY ALL)
            SELECT ka, kb, shared FROM p
            """
        ).fetchnumpy()
        con.unregister("_kacc")
        size = np.bincount(local[r_kid], minlength=len(fk)).astype(np.float64)
        ka = edges["ka"].astype(np.int64)
        kb = edges["kb"].astype(np.int64)
        ok = (edges["shared"] >= self.overlap * np.minimum(size[ka], size[kb])) & (
            kinds[fk[ka]] == kinds[fk[kb]]
        )
        comp = components(len(fk), ka[ok], kb[ok])
        # A component needs a corroborated key, or several keys pushed by the same accounts.
        n_comp = int(comp.max()) + 1 if len(comp) else 0
        corr = self.keys_["corroborated"].to_numpy(zero_copy_only=False)[fk]
        keep_comp = (np.bincount(comp, weights=corr, minlength=n_comp) > 0) | (
            np.bincount(comp, minlength=n_comp) >= 2
        )
        keep = keep_comp[comp] if len(comp) else np.zeros(0, bool)
        final = np.zeros(len(flagged), bool)
        final[fk[keep]] = True
        self.keys_ = self.keys_.set_column(
            self.keys_.schema.get_field_index("flagged"), "flagged", pa.array(final)
        )
        fk, comp = fk[keep], np.unique(comp[keep], return_inverse=True)[1]
        rows_keep = final[self._rows_kid]
        r_kid = self._rows_kid[rows_keep]
        r_acc = np.asarray(self._rows_account, dtype=object)[rows_keep]
        r_n = self._rows_n[rows_keep]
        local = np.full(len(flagged), -1, np.int64)
        local[fk] = np.arange(len(fk))
        # Campaign ids ordered by score, best first.
        score = self.keys_["score"].to_numpy()[fk]
        best = np.full(int(comp.max()) + 1 if len(comp) else 0, -np.inf)
        np.maximum.at(best, comp, score)
        rank = np.argsort(-best, kind="stable")
        remap = np.empty_like(rank)
        remap[rank] = np.arange(len(rank))
        self.key_campaign_ = pa.table(
            {
                "campaign": pa.array(remap[comp] if len(comp) else [], pa.int64()),
                "kind": pa.array(kinds[fk], pa.string()),
                "key": self.keys_["key"].take(pa.array(fk)),
            }
        )
        members = pa.table(
            {
                "campaign": pa.array(remap[comp[local[r_kid]]] if len(r_kid) else [], pa.int64()),
                "account_id": pa.array(r_acc.astype(str) if len(r_acc) else [], pa.string()),
                "n_posts": pa.array(r_n),
            }
        )
        self.members_ = (
            members.group_by(["campaign", "account_id"])
            .aggregate([("n_posts", "sum")])
            .rename_columns(["campaign", "account_id", "n_posts"])
        )
        con.register("_key_campaign", self.key_campaign_)
        self.posts_ = con.sql(
            "SELECT DISTINCT k.campaign, c.rid FROM cp_content c "
            "JOIN _key_campaign k USING (kind, key)"
        ).to_arrow_table()
        con.unregister("_key_campaign")


def _top_per_segment(seg: I64, values: np.ndarray[Any, Any], n: int) -> tuple[list[Any], I64]:
    """Most frequent non-null value per segment and its count (ties: smallest value)."""
    top: list[Any] = [None] * n
    cnt = np.zeros(n, np.int64)
    ok = np.array([v is not None for v in values], dtype=bool)
    if not ok.any():
        return top, cnt
    codes, inv = np.unique(values[ok].astype(str), return_inverse=True)
    s = seg[ok]
    pair = s * len(codes) + inv
    uniq, c = np.unique(pair, return_counts=True)
    us = uniq // len(codes)
    uv = uniq % len(codes)
    order = np.lexsort((uv, -c, us))
    first = np.r_[True, us[order][1:] != us[order][:-1]]
    pick = order[first]
    for segment, code, count in zip(us[pick], uv[pick], c[pick], strict=True):
        top[int(segment)] = str(codes[code])
        cnt[int(segment)] = int(count)
    return top, cnt


def _median_per_segment(seg: I64, values: np.ndarray[Any, Any], n: int) -> np.ndarray[Any, Any]:
    order = np.lexsort((values, seg))
    v = values[order]
    counts = np.bincount(seg, minlength=n)
    starts = segment_starts(counts)
    out = np.full(n, np.nan)
    ok = counts > 0
    lo = starts + (counts - 1) // 2
    hi = starts + counts // 2
    if len(v):
        out[ok] = (v[np.minimum(lo[ok], len(v) - 1)] + v[np.minimum(hi[ok], len(v) - 1)]) / 2
    return out
