"""Hashtag hijacking: a trending tag flooded, within minutes, by accounts that do not belong to it.

In 2014 ISIS accounts stacked #WorldCup, #Brazil2014 and other trending tags onto recruitment
posts, so that people following the football saw them. For every tag among the day's
``n_trending`` most used, each 10-minute bin in which at least ``min_accounts`` accounts post it
is examined, and every original post carrying the tag there is checked for four signals:

- **stacking**: it carries at least ``stack_min`` *other* tags that trend that day;
- **push tag**: it carries a co-tag far more common in this bin than in the tag's other posts
  (the pushing group's own tag, and the other trends it stacks);
- **push domain**: it links to a host far more common in this bin than in the tag's other posts
  (links concentrated on a few domains);
- **far account**: the author's usual hashtags (TF-IDF over accounts; posts with the tag left
  out) have cosine similarity below ``far_cosine`` with the tag's co-tags.

A post with at least ``min_signals`` of them is a hijacking post. A bin is hijacked when such
posts make up ``min_share`` of its posts and come from ``min_accounts`` accounts: the burst is
the flood of hijacking posts itself, which organic traffic does not produce, so a hijack is seen
even when the tag is busy enough that the flood barely moves its total (the tag's robust z from
the burst detector is reported beside it). A tag whose other posts come mostly from the
flooding accounts is theirs (a club's own tag): pushed, not hijacked. Consecutive hijacked bins
make one campaign, and hijacks of several tags by the same accounts at the same time (stacking)
are one campaign; its members are the accounts responsible. Reposts are left out: a cascade
copies one original's tags and link to thousands, which says nothing about who wrote it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import keys
from ..workspace import Workspace
from .bursts import BurstDetector
from .frame import PostFrame

__all__ = ["HijackDetector"]


class HijackDetector:
    """Per (trending tag, 10-minute bin): the hijacked share and the accounts responsible.

    Parameters
    ----------
    n_trending:
        Tags with the most distinct accounts each day that count as trending that day.
    stack_min:
        Other trending tags on one post that make it "stacked".
    lift:
        How many times more common in the bin than in the tag's other posts a co-tag or a
        linked host must be to be a push tag or push domain.
    min_push_posts:
        Posts in the bin a push tag or push domain needs (from at least 3 accounts).
    far_cosine:
        Cosine similarity below which an account's hashtags are "far" from the tag's context.
    min_signals:
        Signals a post needs to be a hijacking post.
    min_share, min_accounts:
        Share of the bin's posts, and accounts, the hijacking posts need for a hijacked bin
        (a bin with fewer accounts posting the tag at all is not examined).
    max_owner_share:
        Largest share of the tag's other posts the flooding accounts may have written: a tag
        mostly theirs (a club's own tag) is pushed, not hijacked.
    merge_gap:
        Minutes between hijacked bins that still make one campaign.

    Attributes
    ----------
    bins_:
        Every examined (tag, bin) with at least one hijacking post: counts, hijacked share,
        signal counts, owner share, push tags and domains, the accounts, ``hijacked`` and the
        ``campaign`` number (-1 when not hijacked).
    members_:
        (campaign, account_id, n_posts) over hijacking posts.
    posts_:
        (campaign, rid) of the hijacking posts.
    """

    def __init__(
        self,
        *,
        n_trending: int = 30,
        stack_min: int = 2,
        lift: float = 5.0,
        min_push_posts: int = 5,
        far_cosine: float = 0.1,
        min_signals: int = 2,
        min_share: float = 0.2,
        min_accounts: int = 10,
        max_owner_share: float = 0.2,
        merge_gap: int = 30,
    ) -> None:
        self.n_trending = n_trending
        self.stack_min = stack_min
        self.lift = lift
        self.min_push_posts = min_push_posts
        self.far_cosine = far_cosine
        self.min_signals = min_signals
        self.min_share = min_share
        self.min_accounts = min_accounts
        self.max_owner_share = max_owner_share
        self.merge_gap = merge_gap

    def fit(
        self, posts: PostFrame | Workspace | pa.Table, *, bursts: BurstDetector | None = None
    ) -> HijackDetector:
        """Find hijacked bins; ``bursts`` (a fitted detector watching hashtags at the 10-minute
        scale), when given, supplies each bin's robust z for the report."""
        frame = PostFrame.of(posts)
        con = frame.con
        zs = pa.table(
            {"tag": pa.array([], pa.string()), "bin": pa.array([], pa.int64()),
             "z": pa.array([], pa.float64())}
        )  # fmt: skip
        if bursts is not None:
            b = bursts.bins_
            sel = b.filter(pc.and_(pc.equal(b["ekind"], "hashtag"), pc.equal(b["scale_min"], 10)))
            zs = pa.table(
                {
                    "tag": sel["entity"],
                    "bin": pc.divide(sel["start"].cast(pa.int64()), 1_000_000),
                    "z": sel["z"],
                }
            )
        con.register("_hz", zs)
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE cp_hz AS SELECT * FROM _hz;
            CREATE OR REPLACE TEMP TABLE cp_tag_occ AS
                SELECT rid, account_id, ts, original, unnest(hashtags) AS tag FROM cp_stage;
            CREATE OR REPLACE TEMP TABLE cp_trending AS
                SELECT day, tag FROM (
                    SELECT day, tag, row_number() OVER (
                        PARTITION BY day ORDER BY accounts DESC, tag) AS r
                    FROM (SELECT ts // 86400 AS day, tag,
                                 count(DISTINCT account_id) AS accounts
                          FROM cp_tag_occ GROUP BY ALL))
                WHERE r <= {self.n_trending};
            -- original posts carrying a tag on a day it trends, in bins where enough accounts
            -- post it to be examined
            CREATE OR REPLACE TEMP TABLE cp_hposts AS
                WITH t AS MATERIALIZED (
                    SELECT o.tag, o.ts // 600 * 600 AS bin, o.rid, o.account_id, o.ts
                    FROM cp_tag_occ o JOIN cp_trending d
                      ON d.tag = o.tag AND d.day = o.ts // 86400
                    WHERE o.original),
                big AS (
                    SELECT tag, bin FROM t GROUP BY ALL
                    HAVING count(DISTINCT account_id) >= {self.min_accounts})
                SELECT * FROM t SEMI JOIN big USING (tag, bin);
            CREATE OR REPLACE TEMP TABLE cp_hcand AS
                SELECT DISTINCT h.tag, h.bin, z.z
                FROM cp_hposts h LEFT JOIN cp_hz z USING (tag, bin);
            """
        )
        con.unregister("_hz")
        self._signals(frame)
        self._bins(frame)
        return self

    def _signals(self, frame: PostFrame) -> None:
        con = frame.con
        host = keys.url_host_sql("u")
        con.execute(
            f"""
            -- every original post with one of the examined tags: the tag's context
            CREATE OR REPLACE TEMP TABLE cp_horg AS
                SELECT o.tag, o.rid, o.account_id FROM cp_tag_occ o
                SEMI JOIN (SELECT DISTINCT tag FROM cp_hposts) USING (tag)
                WHERE o.original;
            CREATE OR REPLACE TEMP TABLE cp_hosts AS
                SELECT rid, list_distinct(list_filter(list_transform(raw_urls,
                    lambda u: {host}), lambda h: h <> '')) AS hosts
                FROM cp_stage SEMI JOIN (SELECT DISTINCT rid FROM cp_horg) USING (rid)
                WHERE len(raw_urls) > 0;
            CREATE OR REPLACE TEMP TABLE cp_hfeat AS
                SELECT h.tag, h.bin, h.rid, 'tag' AS f, x.tag AS v
                FROM cp_hposts h JOIN cp_tag_occ x USING (rid) WHERE x.tag <> h.tag
                UNION ALL
                SELECT h.tag, h.bin, h.rid, 'host', unnest(s.hosts)
                FROM cp_hposts h JOIN cp_hosts s USING (rid);
            CREATE OR REPLACE TEMP TABLE cp_horg_feat AS
                SELECT tag, f, v, count(*) AS n FROM (
                    SELECT g.tag, 'tag' AS f, x.tag AS v
                    FROM cp_horg g JOIN cp_tag_occ x USING (rid) WHERE x.tag <> g.tag
                    UNION ALL
                    SELECT g.tag, 'host', unnest(s.hosts)
                    FROM cp_horg g JOIN cp_hosts s USING (rid))
                GROUP BY ALL;
            -- push features: far more common in the bin than in the tag's other posts
            CREATE OR REPLACE TEMP TABLE cp_hpush AS
                WITH binn AS (SELECT tag, bin, count(*) AS n FROM cp_hposts GROUP BY ALL),
                orgn AS (SELECT tag, count(*) AS n FROM cp_horg GROUP BY ALL),
                inbin AS (
                    SELECT e.tag, e.bin, e.f, e.v, count(*) AS n,
                           count(DISTINCT h.account_id) AS accounts
                    FROM cp_hfeat e JOIN cp_hposts h USING (tag, bin, rid) GROUP BY ALL
                    HAVING count(*) >= {self.min_push_posts})
                SELECT i.tag, i.bin, i.f, i.v, i.n
                FROM inbin i JOIN binn b USING (tag, bin)
                JOIN orgn o USING (tag)
                LEFT JOIN cp_horg_feat g ON g.tag = i.tag AND g.f = i.f AND g.v = i.v
                WHERE i.accounts >= 3
                  AND i.n / b.n >= {self.lift} * (coalesce(g.n, 0) - i.n + 1)
                                   / (o.n - b.n + 1);
            CREATE OR REPLACE TEMP TABLE cp_hsig0 AS
            WITH stack AS (
                SELECT h.tag, h.bin, h.rid, count(t.tag) AS n
                FROM cp_hposts h JOIN cp_tag_occ x USING (rid)
                LEFT JOIN cp_trending t ON t.tag = x.tag AND t.day = h.ts // 86400
                WHERE x.tag <> h.tag GROUP BY ALL),
            pushed AS (
                SELECT e.tag, e.bin, e.rid,
                       bool_or(p.f = 'tag') AS push_tag, bool_or(p.f = 'host') AS push_host
                FROM cp_hfeat e JOIN cp_hpush p USING (tag, bin, f, v) GROUP BY ALL)
            SELECT h.tag, h.bin, h.rid, h.account_id, h.ts,
                   coalesce(s.n, 0) >= {self.stack_min} AS stacked,
                   coalesce(p.push_tag, false) AS push_tag,
                   coalesce(p.push_host, false) AS push_domain
            FROM cp_hposts h
            LEFT JOIN stack s USING (tag, bin, rid)
            LEFT JOIN pushed p USING (tag, bin, rid);
            """
        )
        # Far accounts, only where the other signals already flag enough accounts: TF-IDF cosine
        # of the author's hashtags (posts with the tag left out) with the tag's co-tags.
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE cp_hfar AS
            WITH live AS (
                SELECT tag, bin FROM cp_hsig0 WHERE stacked OR push_tag OR push_domain
                GROUP BY ALL HAVING count(DISTINCT account_id) >= {self.min_accounts}),
            acc AS (SELECT DISTINCT tag, account_id FROM cp_hsig0 SEMI JOIN live USING (tag, bin)),
            df AS (SELECT tag AS v, count(DISTINCT account_id) AS df FROM cp_tag_occ GROUP BY ALL),
            nacc AS (SELECT count(DISTINCT account_id) AS n FROM cp_stage),
            with_tag AS (SELECT DISTINCT a.tag, x.rid FROM acc a JOIN cp_tag_occ x
                         ON x.account_id = a.account_id AND x.tag = a.tag),
            prof AS (
                SELECT a.tag, a.account_id, x.tag AS v, count(*) AS n
                FROM acc a JOIN cp_tag_occ x USING (account_id)
                ANTI JOIN with_tag w ON w.tag = a.tag AND w.rid = x.rid
                GROUP BY ALL),
            w_acc AS (
                SELECT p.tag, p.account_id, p.v, ln(1 + p.n) * ln(nacc.n / df.df) AS w
                FROM prof p JOIN df USING (v), nacc),
            w_tag AS (
                SELECT g.tag, g.v, ln(1 + g.n) * ln(nacc.n / df.df) AS w
                FROM cp_horg_feat g JOIN df USING (v), nacc
                WHERE g.f = 'tag' AND g.tag IN (SELECT tag FROM live)),
            dot AS (
                SELECT a.tag, a.account_id, sum(a.w * t.w) AS d
                FROM w_acc a JOIN w_tag t USING (tag, v) GROUP BY ALL),
            na AS (SELECT tag, account_id, sqrt(sum(w * w)) AS norm FROM w_acc GROUP BY ALL),
            nt AS (SELECT tag, sqrt(sum(w * w)) AS norm FROM w_tag GROUP BY ALL)
            SELECT na.tag, na.account_id,
                   coalesce(dot.d, 0) / nullif(na.norm * nt.norm, 0) AS cosine
            FROM na LEFT JOIN dot USING (tag, account_id) LEFT JOIN nt USING (tag);
            CREATE OR REPLACE TEMP TABLE cp_hsig AS
            SELECT s.*, coalesce(f.cosine < {self.far_cosine}, false) AS far_account
            FROM cp_hsig0 s LEFT JOIN cp_hfar f USING (tag, account_id);
            """
        )

    def _bins(self, frame: PostFrame) -> None:
        con = frame.con
        signals = "(stacked::INT + push_tag::INT + push_domain::INT + far_account::INT)"
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE cp_hjack AS
                SELECT tag, bin, rid, account_id, ts FROM cp_hsig
                WHERE {signals} >= {self.min_signals};
            """
        )
        self.bins_ = con.sql(
            """
            WITH push AS (
                SELECT tag, bin,
                       list(v ORDER BY n DESC, v) FILTER (WHERE f = 'tag') AS push_tags,
                       list(v ORDER BY n DESC, v) FILTER (WHERE f = 'host') AS push_domains
                FROM cp_hpush GROUP BY ALL),
            -- the tag's other traffic (hijacking posts left out), and how much of it comes
            -- from the accounts flooding it
            other AS (SELECT * FROM cp_horg o ANTI JOIN cp_hjack j USING (tag, rid)),
            orgn AS (SELECT tag, count(*) AS n FROM other GROUP BY ALL),
            own AS (
                SELECT j.tag, count(*) AS owned
                FROM (SELECT DISTINCT tag, account_id FROM cp_hjack) j
                JOIN other o ON o.tag = j.tag AND o.account_id = j.account_id
                GROUP BY ALL),
            jack AS (
                SELECT tag, bin, count(*) AS n, count(DISTINCT account_id) AS accounts,
                       list(DISTINCT account_id ORDER BY account_id) AS accounts_list,
                       min(ts) AS first_ts
                FROM cp_hjack GROUP BY ALL),
            sig AS (
                SELECT tag, bin, count(*) AS n_posts,
                       count(*) FILTER (WHERE stacked) AS n_stacked,
                       count(*) FILTER (WHERE push_tag) AS n_push_tag,
                       count(*) FILTER (WHERE push_domain) AS n_push_domain,
                       count(*) FILTER (WHERE far_account) AS n_far_account
                FROM cp_hsig GROUP BY ALL)
            SELECT sig.tag, to_timestamp(sig.bin) AS bin_start,
                   to_timestamp(sig.bin + 600) AS bin_end, c.z, sig.n_posts,
                   coalesce(jack.n, 0) AS n_hijack_posts,
                   coalesce(jack.n, 0) / sig.n_posts AS hijacked_share,
                   coalesce(jack.accounts, 0) AS n_accounts,
                   sig.n_stacked, sig.n_push_tag, sig.n_push_domain, sig.n_far_account,
                   coalesce(own.owned, 0) / greatest(coalesce(orgn.n, 0), 1) AS owner_share,
                   coalesce(push.push_tags, []) AS push_tags,
                   coalesce(push.push_domains, []) AS push_domains,
                   coalesce(jack.accounts_list, []) AS accounts,
                   to_timestamp(jack.first_ts) AS first_seen
            FROM sig JOIN cp_hcand c USING (tag, bin)
            LEFT JOIN jack USING (tag, bin) LEFT JOIN push USING (tag, bin)
            LEFT JOIN own USING (tag) LEFT JOIN orgn USING (tag)
            WHERE jack.n > 0
            ORDER BY sig.tag, sig.bin
            """
        ).to_arrow_table()
        hijacked = (
            (self.bins_["hijacked_share"].to_numpy() >= self.min_share)
            & (self.bins_["n_accounts"].to_numpy() >= self.min_accounts)
            & (self.bins_["owner_share"].to_numpy() <= self.max_owner_share)
        )
        self.bins_ = self.bins_.append_column("hijacked", pa.array(hijacked))
        campaign = self._campaigns(hijacked)
        self.bins_ = self.bins_.append_column("campaign", pa.array(campaign))
        con.register("_hb", self.bins_.select(["tag", "bin_start", "campaign"]))
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE cp_hcamp_posts AS
            SELECT DISTINCT b.campaign, j.rid, j.account_id
            FROM cp_hjack j JOIN _hb b ON b.tag = j.tag AND epoch(b.bin_start) = j.bin
            WHERE b.campaign >= 0
            """
        )
        con.unregister("_hb")
        self.members_ = con.sql(
            "SELECT campaign, account_id, count(*) AS n_posts FROM cp_hcamp_posts "
            "GROUP BY ALL ORDER BY ALL"
        ).to_arrow_table()
        self.posts_ = con.sql("SELECT campaign, rid FROM cp_hcamp_posts").to_arrow_table()

    def _campaigns(self, hijacked: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        """Campaign number of each bin (-1 when not hijacked), best-supported first.

        Hijacked bins of one tag less than ``merge_gap`` apart form an episode; episodes of
        different tags that overlap in time and share most accounts (one group stacking
        several trends) join.
        """
        tags = np.asarray(self.bins_["tag"].to_pylist(), dtype=object)
        starts = self.bins_["bin_start"].to_numpy().astype("datetime64[s]").astype(np.int64)
        accounts = self.bins_["accounts"].to_pylist()
        posts = self.bins_["n_hijack_posts"].to_numpy()
        episode = np.full(len(tags), -1, np.int64)
        ep_lo: list[int] = []
        ep_hi: list[int] = []
        ep_acc: list[set[str]] = []
        ep_posts: list[int] = []
        prev_tag, prev_end = None, -(10**18)
        for i in np.flatnonzero(hijacked):
            if tags[i] != prev_tag or starts[i] > prev_end + self.merge_gap * 60:
                ep_lo.append(int(starts[i]))
                ep_hi.append(int(starts[i]) + 600)
                ep_acc.append(set())
                ep_posts.append(0)
            e = len(ep_lo) - 1
            episode[i] = e
            ep_hi[e] = int(starts[i]) + 600
            ep_acc[e].update(accounts[i])
            ep_posts[e] += int(posts[i])
            prev_tag, prev_end = tags[i], starts[i] + 600
        n = len(ep_lo)
        parent = list(range(n))

        def find(x: int) -> int:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        order = sorted(range(n), key=lambda e: ep_lo[e])
        for ai, a in enumerate(order):
            for b in order[ai + 1 :]:
                if ep_lo[b] > ep_hi[a] + self.merge_gap * 60:
                    break
                small = min(len(ep_acc[a]), len(ep_acc[b]))
                if small and len(ep_acc[a] & ep_acc[b]) >= 0.5 * small:
                    ra, rb = find(a), find(b)
                    if ra != rb:
                        parent[max(ra, rb)] = min(ra, rb)
        roots = [find(e) for e in range(n)]
        support: dict[int, int] = {}
        for e, r in enumerate(roots):
            support[r] = support.get(r, 0) + ep_posts[e]
        ranked = sorted(support, key=lambda r: (-support[r], r))
        number = {r: i for i, r in enumerate(ranked)}
        return np.array(
            [number[roots[e]] if e >= 0 else -1 for e in episode.tolist()], dtype=np.int64
        )
