"""Client apps: who posts through what, which rare apps post the same content from many accounts,
and which accounts changed app together.

The ISIS Twitter Census profiled the app each supporter account mostly tweeted from; "The Dawn of
Glad Tidings" was one rare client posting the same centrally chosen texts from hundreds of
accounts. Three outputs:

- **Profiles** (:attr:`AppProfiles.account_apps_`): each account's primary app, its share, and
  the full mix.
- **App campaigns** (:attr:`AppProfiles.campaigns_`): an app used by at least ``min_accounts``
  accounts, with at most ``max_app_share`` of all posts (mainstream clients carry everything),
  most of whose posts carry a content key (normalised text, canonical URL, media) that several
  of its accounts posted. The surprise compares that share with how often any post in the
  collection carries such a shared key.
- **Switches** (:attr:`AppProfiles.switches_`): an account switched from app A to app B when it
  posted at least ``switch_run`` times through each and never through A again once it had
  started with B (the phone replaced, the new client adopted). Accounts that mix apps day to
  day never qualify, and no per-post sort is needed: first and last use per (account, app)
  decide. Switches to one app are counted per ``switch_hours`` bin and compared with that app's
  other switches, spread as the collection's activity is spread.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from ..workspace import Workspace
from .frame import PostFrame
from .stats import binomial_surprise, poisson_surprise

__all__ = ["AppProfiles"]


class AppProfiles:
    """Per-account app profiles, app campaigns and coordinated app switches.

    Parameters
    ----------
    min_accounts:
        Accounts an app needs, posting shared keys, to be an app campaign.
    max_app_share:
        Largest share of all posts an app may carry and still be "rare".
    key_accounts:
        Accounts of the app that must post a key for it to count as shared.
    min_shared_share:
        Share of the app's original posts that must carry a shared key.
    min_score:
        Surprise (``-log10 p``) an app campaign or a switch cluster needs.
    switch_run:
        Posts through each of the two apps an account needs for a change to count as a switch.
    switch_hours:
        Width of the bins in which switches to the same app are counted.

    Attributes
    ----------
    account_apps_:
        Per account: primary_app, primary_share, n_posts, n_apps, apps (the mix).
    apps_:
        Per app: posts, accounts, shared content, share of all posts, score, ``campaign``.
    campaigns_, members_, campaign_posts_:
        The app campaigns, their accounts (with posts shared and posted through the app), and
        their posts (app, rid).
    switches_, switch_members_:
        Switches to each app per bin with their surprise and ``flagged``; the accounts of the
        flagged ones with when and from which app they switched.
    baseline_shared_share_:
        Share of all originals that carry a key several accounts posted.
    """

    def __init__(
        self,
        *,
        min_accounts: int = 5,
        max_app_share: float = 0.25,
        key_accounts: int = 3,
        min_shared_share: float = 0.3,
        min_score: float = 10.0,
        switch_run: int = 5,
        switch_hours: int = 6,
    ) -> None:
        self.min_accounts = min_accounts
        self.max_app_share = max_app_share
        self.key_accounts = key_accounts
        self.min_shared_share = min_shared_share
        self.min_score = min_score
        self.switch_run = switch_run
        self.switch_hours = switch_hours

    def fit(self, posts: PostFrame | Workspace | pa.Table) -> AppProfiles:
        frame = PostFrame.of(posts)
        self._profiles(frame)
        self._campaigns(frame)
        self._switches(frame)
        return self

    # -- profiles -------------------------------------------------------------------------
    def _profiles(self, frame: PostFrame) -> None:
        con = frame.con
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE cp_account_app AS
            SELECT account_id, app, count(*)::BIGINT AS n_posts,
                   min(ts) AS first_ts, max(ts) AS last_ts, arg_min(rid, ts) AS first_rid
            FROM cp_stage WHERE app IS NOT NULL GROUP BY ALL
            """
        )
        self.account_apps_ = con.sql(
            """
            SELECT account_id,
                   arg_max(app, n_posts ORDER BY app) AS primary_app,
                   max(n_posts) / sum(n_posts) AS primary_share,
                   sum(n_posts)::BIGINT AS n_posts,
                   count(*)::BIGINT AS n_apps,
                   list({'app': app, 'n_posts': n_posts} ORDER BY n_posts DESC, app) AS apps
            FROM cp_account_app GROUP BY account_id ORDER BY account_id
            """
        ).to_arrow_table()

    # -- app campaigns --------------------------------------------------------------------
    def _campaigns(self, frame: PostFrame) -> None:
        con = frame.con
        con.execute(
            f"""
            CREATE OR REPLACE TEMP VIEW cp_app_keys AS
                SELECT app, account_id, post_id, kk, key FROM {frame.content_keys()};
            CREATE OR REPLACE TEMP TABLE cp_app_shared AS
            WITH within AS (
                SELECT app, kk, key FROM cp_app_keys WHERE app IS NOT NULL GROUP BY ALL
                HAVING count(DISTINCT account_id) >= {self.key_accounts})
            SELECT DISTINCT k.app, k.post_id, k.account_id, k.kk, k.key
            FROM cp_app_keys k JOIN within USING (app, kk, key);
            """
        )
        # How often any original post carries a key several accounts posted, app or not: the
        # rate an app's posts are compared with.
        base = con.sql(
            f"""
            WITH shared AS (
                SELECT kk, key FROM cp_app_keys GROUP BY ALL
                HAVING count(DISTINCT account_id) >= {self.key_accounts})
            SELECT (SELECT count(DISTINCT post_id) FROM cp_app_keys SEMI JOIN shared
                    USING (kk, key)) AS shared,
                   (SELECT count(*) FROM cp_stage WHERE original) AS originals
            """
        ).fetchall()[0]
        p0 = max(float(base[0]) / max(float(base[1]), 1.0), 1e-6)
        total = max(frame.n_posts, 1)
        apps = con.sql(
            """
            WITH a AS (
                SELECT app, count(*) AS n_posts, count(*) FILTER (WHERE original) AS originals,
                       count(DISTINCT account_id) AS n_accounts,
                       min(ts) AS first_ts, max(ts) AS last_ts
                FROM cp_stage WHERE app IS NOT NULL GROUP BY app),
            s AS (
                SELECT app, count(DISTINCT post_id) AS shared_posts,
                       count(DISTINCT account_id) AS shared_accounts,
                       count(DISTINCT (kk, key)) AS shared_keys
                FROM cp_app_shared GROUP BY app)
            SELECT a.*, coalesce(s.shared_posts, 0) AS shared_posts,
                   coalesce(s.shared_accounts, 0) AS shared_accounts,
                   coalesce(s.shared_keys, 0) AS shared_keys
            FROM a LEFT JOIN s USING (app)
            ORDER BY a.n_posts DESC, a.app
            """
        ).to_arrow_table()
        shared = apps["shared_posts"].to_numpy().astype(np.float64)
        originals = apps["originals"].to_numpy().astype(np.float64)
        share_all = apps["n_posts"].to_numpy() / total
        shared_share = shared / np.maximum(originals, 1.0)
        score = binomial_surprise(shared, originals, p0)
        flag = (
            (apps["shared_accounts"].to_numpy() >= self.min_accounts)
            & (share_all <= self.max_app_share)
            & (shared_share >= self.min_shared_share)
            & (score >= self.min_score)
        )
        self.apps_ = (
            apps.append_column("share_of_posts", pa.array(share_all))
            .append_column("shared_share", pa.array(shared_share))
            .append_column("score", pa.array(score))
            .append_column("campaign", pa.array(flag))
        )
        self.baseline_shared_share_ = p0
        flagged = self.apps_.filter(pa.array(flag))
        con.register("_flagged_apps", flagged.select(["app"]))
        self.members_ = con.sql(
            """
            SELECT s.app, s.account_id, count(DISTINCT s.post_id)::BIGINT AS n_shared,
                   any_value(a.n_posts) AS n_posts
            FROM cp_app_shared s SEMI JOIN _flagged_apps USING (app)
            JOIN cp_account_app a USING (app, account_id)
            GROUP BY s.app, s.account_id ORDER BY s.app, s.account_id
            """
        ).to_arrow_table()
        # The campaign's posts: everything its member accounts posted through the app.
        self.campaign_posts_ = con.sql(
            """
            SELECT p.app, p.rid FROM cp_stage p
            SEMI JOIN (SELECT DISTINCT s.app, s.account_id FROM cp_app_shared s
                       SEMI JOIN _flagged_apps USING (app)) m USING (app, account_id)
            """
        ).to_arrow_table()
        con.unregister("_flagged_apps")
        self.campaigns_ = flagged

    # -- switches -------------------------------------------------------------------------
    def _switches(self, frame: PostFrame) -> None:
        con = frame.con
        r = self.switch_run
        bin_s = self.switch_hours * 3600
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE cp_switch AS
            -- an account switched from A to B when it posted at least switch_run times
            -- through each and never through A again once it had started with B
            WITH used AS (SELECT * FROM cp_account_app WHERE n_posts >= {r}),
            moves AS (
                SELECT b.account_id, a.app AS from_app, b.app AS to_app, b.first_ts AS ts,
                       b.first_rid AS rid,
                       row_number() OVER (PARTITION BY b.account_id, b.app
                                          ORDER BY a.last_ts DESC, a.app) AS k
                FROM used a JOIN used b
                  ON a.account_id = b.account_id AND a.app <> b.app AND a.last_ts < b.first_ts)
            SELECT account_id, from_app, to_app, ts, rid FROM moves WHERE k = 1
            """
        )
        sw = con.sql(
            f"""
            SELECT to_app, ts // {bin_s} * {bin_s} AS bin, count(DISTINCT account_id) AS n,
                   list(DISTINCT from_app ORDER BY from_app) AS from_apps
            FROM cp_switch GROUP BY ALL ORDER BY to_app, bin
            """
        ).to_arrow_table()
        totals = con.sql(
            "SELECT to_app, count(DISTINCT account_id) AS total FROM cp_switch GROUP BY ALL"
        ).fetchnumpy()
        tot = dict(zip(totals["to_app"].tolist(), totals["total"].tolist(), strict=True))
        bins = sw["bin"].to_numpy().astype(np.float64)
        share = (frame.activity_before(bins + bin_s) - frame.activity_before(bins)) / max(
            frame.n_posts, 1
        )
        n = sw["n"].to_numpy().astype(np.float64)
        # The app's switches outside this bin, spread as the collection's activity is spread
        # (an app nobody switched to otherwise still expects a tenth of a switch).
        total = np.array([tot[a] for a in sw["to_app"].to_pylist()], dtype=np.float64)
        expected = np.maximum((total - n) * np.clip(share, 0.0, 1.0), 0.1)
        score = poisson_surprise(n, expected)
        flag = (n >= self.min_accounts) & (score >= self.min_score)
        ts = pa.timestamp("us", tz="UTC")
        self.switches_ = pa.table(
            {
                "to_app": sw["to_app"],
                "start": pa.array((bins * 1e6).astype(np.int64), ts),
                "end": pa.array(((bins + bin_s) * 1e6).astype(np.int64), ts),
                "n_accounts": pa.array(n.astype(np.int64)),
                "expected": pa.array(expected),
                "score": pa.array(score),
                "from_apps": sw["from_apps"],
                "flagged": pa.array(flag),
            }
        )
        flagged = self.switches_.filter(self.switches_["flagged"])
        con.register("_sw", flagged.select(["to_app", "start"]))
        self.switch_members_ = con.sql(
            f"""
            SELECT s.to_app, f.start, s.account_id, s.from_app, to_timestamp(s.ts) AS switched_at,
                   s.rid
            FROM cp_switch s JOIN _sw f ON s.to_app = f.to_app
             AND s.ts // {bin_s} * {bin_s} = epoch(f.start)
            ORDER BY ALL
            """
        ).to_arrow_table()
        con.unregister("_sw")
