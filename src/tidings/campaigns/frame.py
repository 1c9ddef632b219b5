"""The posts every campaign detector reads, prepared once per run.

Detectors share one DuckDB connection and a few slim temp tables built here, so that text is
normalised and URLs canonicalised once per run rather than once per detector:

``cp_posts`` (a view)
    rid (row id), post_id, account_id, ts (epoch seconds), original (not a repost), app,
    text_key (64-bit hash of the :mod:`tidings.keys` normalised text, or NULL), ck (the cheap
    key, below), text (originals only), hashtags, mentions, raw_urls, media.
``cp_urls``
    rid, url: the canonical URLs of posts (:func:`tidings.keys.canonical_url_sql`).
``cp_text``
    rid, norm, text_key: the normalised texts that were computed.

**Why a cheap key first.** The full normaliser (Unicode classes, Arabic folding, URL and
mention removal) costs several regular-expression passes per text: about 100 s for the 6.5M
originals of a 10M-post collection on 2 cores, more than the whole campaign budget. Yet only
texts that at least two accounts posted can ever be part of a campaign. So each original first
gets a *cheap key*, one pass that drops RT prefixes, URLs, mentions and every character except
Latin letters and the Arabic letters that normalisation never folds. Two texts with the same
normalised text always have the same cheap key (the cheap key only throws away more), so
normalising just the texts whose cheap key two accounts share loses no identical-text group,
and costs a few percent of the full pass. (Texts in other scripts all have the empty cheap
key, so they are all normalised: correct, only slower.) URLs get the same treatment: a cheap key
(host and path, lower-cased, without query or fragment) is coarser than the canonical URL, and
only URLs whose cheap key two accounts share are canonicalised.

The frame also holds the collection's *activity clock*: posts per minute, so that "these copies
were close in time" is measured against how busy the collection was then (daily cycles, gaps in
collection) rather than against the wall clock.
"""

from __future__ import annotations

from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from .. import keys
from ..workspace import Workspace

__all__ = ["PostFrame"]

F64 = np.ndarray[Any, np.dtype[np.float64]]

_WS = (
    r" \t\n\r\f\x{0B}\x{85}\x{A0}\x{1680}\x{2000}-\x{200B}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}"
)
# Arabic letters that tidings.keys' folding leaves alone (the folded ones are dropped, so that
# spelling variants meet). Other scripts are dropped entirely: coarser, so still safe.
_KEEP = "a-zءبتثجحخدذرزسشصضطظعغفقلمن"
_CHEAP = (
    rf"^([{_WS}]*rt[{_WS}]+@[a-z0-9_]+:?)+"
    rf"|(https?://|www\.)[^{_WS}]+"
    r"|@[a-z0-9_]+"
    rf"|[^{_KEEP}@]+"
    r"|@"
)
_SCHEME = r"^[a-z][a-z0-9+.\-]*://(www\.)?"
_URL_IN_TEXT = rf"https?://[^{_WS}]+"


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class PostFrame:
    """Posts prepared for the campaign detectors (see the module doc for the tables).

    Hashtags, mentions and URLs are used as the canonical columns give them (lower-case, no
    ``#`` or ``@``), except in a dataset where no post has any of them as a list: that dataset
    came from a table without entity columns (a CSV export), so they are taken from the text.

    >>> frame = PostFrame.of(workspace)                  # doctest: +SKIP
    >>> frame.con.sql("select count(*) from cp_posts")   # doctest: +SKIP
    """

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        *,
        relation: str = "posts",
        accounts: str | None = "accounts",
    ) -> None:
        self.con = con
        # A dataset whose posts never carry hashtags, mentions or URLs as lists came from a
        # table without those columns (a CSV export): take them from the text instead.
        # One post with a list answers for its dataset: stop at the first (LIMIT 1).
        names = [r[0] for r in con.sql(f"SELECT DISTINCT dataset FROM {relation}").fetchall()]
        has: dict[str, list[bool]] = {}
        for column in ("hashtags", "mentions", "urls"):
            has[column] = [
                bool(
                    con.sql(
                        f"SELECT 1 FROM {relation} WHERE dataset IS NOT DISTINCT FROM ? "
                        f"AND len({column}) > 0 LIMIT 1",
                        params=[name],
                    ).fetchall()
                )
                for name in names
            ]
        con.register(
            "_cp_datasets",
            pa.table(
                {
                    "dataset": pa.array(names, pa.string()),
                    "has_tags": pa.array(has["hashtags"], pa.bool_()),
                    "has_mentions": pa.array(has["mentions"], pa.bool_()),
                    "has_urls": pa.array(has["urls"], pa.bool_()),
                }
            ),
        )
        con.execute("CREATE OR REPLACE TEMP TABLE cp_datasets AS SELECT * FROM _cp_datasets")
        con.unregister("_cp_datasets")
        flags = tuple(
            v
            for column in ("hashtags", "mentions", "urls")
            for v in (all(has[column]), any(has[column]))
        )
        text = "coalesce(p.text, '')"
        tags = self._entity(
            "hashtags",
            f"list_distinct(list_transform(regexp_extract_all({text}, "
            r"'#([\p{L}\p{N}_]+)', 1), lambda x: lower(x)))",
            "has_tags",
            flags[0:2],
        )
        mentions = self._entity(
            "mentions",
            f"list_distinct(list_transform(regexp_extract_all({text}, "
            r"'@([A-Za-z0-9_]+)', 1), lambda x: lower(x)))",
            "has_mentions",
            flags[2:4],
        )
        raw_urls = self._entity(
            "urls", f"regexp_extract_all({text}, '{_URL_IN_TEXT}')", "has_urls", flags[4:6]
        )
        mixed = any(f[0] != f[1] for f in (flags[0:2], flags[2:4], flags[4:6]))
        join = "JOIN cp_datasets d ON d.dataset IS NOT DISTINCT FROM p.dataset" if mixed else ""
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE cp_stage_rows AS
            WITH p AS (
                SELECT p.post_id, p.account_id,
                       CAST(epoch(p.created_at) AS BIGINT) AS ts,
                       coalesce(p.kind, 'post') <> 'repost' AS original,
                       {keys.app_key_sql("p.source")} AS app,
                       {tags} AS hashtags, {mentions} AS mentions,
                       list_filter({raw_urls}, lambda u: trim(u) <> '') AS raw_urls,
                       list_filter(p.media, lambda x: trim(x) <> '') AS media,
                       p.text
                FROM {relation} p {join}),
            c AS MATERIALIZED (
                SELECT *, CASE WHEN original
                    THEN regexp_replace(lower(text), {_sql_string(_CHEAP)}, '', 'g') END AS cheap
                FROM p)
            SELECT post_id, account_id, ts, original, app,
                   -- a text with no letter the cheap key keeps (another script) gets the
                   -- empty key, which every such text shares: they are all normalised
                   CASE WHEN original AND text IS NOT NULL THEN hash(cheap) END AS ck,
                   CASE WHEN original THEN text END AS text,
                   hashtags, mentions, raw_urls, media
            FROM c
            """
        )
        # The table's row id is the post's id within the run: numbering rows costs a pass.
        con.execute(
            "CREATE OR REPLACE TEMP VIEW cp_stage AS SELECT rowid AS rid, * FROM cp_stage_rows"
        )
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE cp_text (rid BIGINT, norm VARCHAR, text_key UBIGINT);
            CREATE OR REPLACE TEMP TABLE cp_norm_wanted AS
                SELECT ck FROM cp_stage WHERE ck IS NOT NULL GROUP BY ck
                HAVING count(DISTINCT account_id) >= 2;
            """
        )
        self.normalize("SELECT rid FROM cp_stage SEMI JOIN cp_norm_wanted USING (ck)")
        self._keys_built = False
        con.execute(
            """
            CREATE OR REPLACE TEMP VIEW cp_posts AS
            SELECT s.rid, s.post_id, s.account_id, s.ts, s.original, s.app, t.text_key,
                   s.ck, s.text, s.hashtags, s.mentions, s.raw_urls, s.media
            FROM cp_stage s LEFT JOIN cp_text t USING (rid)
            """
        )
        self._urls()
        row = con.sql("SELECT count(*), min(ts), max(ts) FROM cp_stage").fetchall()[0]
        self.n_posts: int = int(row[0])
        self.t_min: int = int(row[1]) if row[1] is not None else 0
        self.t_max: int = int(row[2]) if row[2] is not None else 0
        self._minute0 = self.t_min // 60
        counts = con.sql(
            f"SELECT ts // 60 - {self._minute0} AS m, count(*) AS n FROM cp_stage GROUP BY ALL"
        ).fetchnumpy()
        per_minute = np.zeros(int(self.t_max // 60 - self._minute0) + 2, np.float64)
        np.add.at(per_minute, counts["m"].astype(np.int64), counts["n"].astype(np.float64))
        self._cum = np.concatenate([[0.0], np.cumsum(per_minute)])
        self._accounts(accounts)

    def _accounts(self, relation: str | None) -> None:
        """``cp_accounts`` (account_id, created_ts) and the sorted creation times of all
        accounts, the clock account-creation clustering is measured on. Empty when the
        collection has no account profiles."""
        source = (
            f"SELECT account_id, min(CAST(epoch(created_at) AS BIGINT)) AS created_ts "
            f"FROM {relation} WHERE created_at IS NOT NULL GROUP BY account_id"
            if relation is not None
            else "SELECT NULL::VARCHAR AS account_id, NULL::BIGINT AS created_ts LIMIT 0"
        )
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE cp_accounts AS {source}")
        created = self.con.sql("SELECT created_ts FROM cp_accounts ORDER BY 1").fetchnumpy()
        self.creation_times = created["created_ts"].astype(np.float64)

    @staticmethod
    def _entity(column: str, from_text: str, flag: str, all_any: tuple[bool, ...]) -> str:
        """The list column as given, or taken from the text where the dataset has none."""
        every, some = all_any
        if every:
            return f"coalesce(p.{column}, [])"
        if not some:
            return from_text
        return f"CASE WHEN d.{flag} THEN coalesce(p.{column}, []) ELSE {from_text} END"

    def normalize(self, rids_sql: str) -> None:
        """Add to ``cp_text`` the normalised text of the posts ``rids_sql`` selects (a query
        returning a ``rid`` column), skipping those already there and those too short."""
        # The wanted rows are materialised first: otherwise the optimiser pushes the length
        # filter, normaliser and all, below the semi-join and normalises every text.
        self.con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE cp_norm_rows AS
                SELECT s.rid, s.text FROM cp_stage s SEMI JOIN ({rids_sql}) w USING (rid)
                ANTI JOIN cp_text t USING (rid)
                WHERE s.text IS NOT NULL;
            CREATE OR REPLACE TEMP TABLE cp_norm_new AS
                SELECT rid, {keys.normalize_text_sql("text")} AS norm FROM cp_norm_rows;
            INSERT INTO cp_text
                SELECT rid, norm, md5_number_upper(norm) FROM cp_norm_new
                WHERE {keys.long_enough_sql("norm")};
            DROP TABLE cp_norm_rows;
            DROP TABLE cp_norm_new;
            """
        )

    def _urls(self) -> None:
        cheap = (
            f"rtrim(regexp_replace(lower(split_part(split_part(trim(u), '#', 1), '?', 1)), "
            f"{_sql_string(_SCHEME)}, ''), '/')"
        )
        # Shares repeat links (reposts, popular pages): the keys are computed per distinct
        # spelling. A cheap key counts as shared when its spellings' accounts add up to two (an
        # account posting two spellings counts twice: more candidates, never fewer).
        self.con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE cp_url_raw AS
                SELECT rid, unnest(raw_urls) AS u, account_id FROM cp_stage;
            CREATE OR REPLACE TEMP TABLE cp_url_map AS
                WITH spelling AS (
                    SELECT u, count(DISTINCT account_id) AS accounts FROM cp_url_raw GROUP BY u),
                cheap AS (SELECT u, accounts, {cheap} AS cu FROM spelling),
                wanted AS (SELECT cu FROM cheap GROUP BY cu HAVING sum(accounts) >= 2)
                SELECT u, {keys.canonical_url_sql("u")} AS url
                FROM cheap SEMI JOIN wanted USING (cu);
            CREATE OR REPLACE TEMP TABLE cp_urls AS
                SELECT DISTINCT r.rid, m.url FROM cp_url_raw r JOIN cp_url_map m USING (u)
                WHERE m.url IS NOT NULL;
            DROP TABLE cp_url_raw;
            """
        )

    def content_keys(self) -> str:
        """``cp_keys``: one row per (original post, content key it carries), built on first
        use: kk (text, url, media), key (hex text key, canonical URL, media id), rid,
        account_id, ts, app, post_id. The content and app detectors both group on it."""
        if not self._keys_built:
            self.con.execute(
                """
                CREATE OR REPLACE TEMP TABLE cp_keys AS
                SELECT 'text' AS kk, lpad(to_hex(t.text_key), 16, '0') AS key, s.rid,
                       s.account_id, s.ts, s.app, s.post_id
                FROM cp_text t JOIN cp_stage s USING (rid)
                UNION ALL
                SELECT 'url', u.url, s.rid, s.account_id, s.ts, s.app, s.post_id
                FROM cp_urls u JOIN cp_stage s USING (rid) WHERE s.original
                UNION ALL
                SELECT 'media', m, rid, account_id, ts, app, post_id
                FROM (SELECT unnest(media) AS m, * FROM cp_stage WHERE original)
                """
            )
            self._keys_built = True
        return "cp_keys"

    # -- construction ---------------------------------------------------------------------
    @classmethod
    def of(
        cls, source: Workspace | pa.Table | PostFrame, *, accounts: pa.Table | None = None
    ) -> PostFrame:
        """A frame over a workspace's posts and accounts, an Arrow table of canonical posts
        (and optionally accounts), or the frame itself."""
        if isinstance(source, PostFrame):
            return source
        if isinstance(source, Workspace):
            return cls(source.connect())
        con = duckdb.connect(config={"preserve_insertion_order": False})
        con.register("_frame_posts", source)
        if accounts is not None:
            con.register("_frame_accounts", accounts)
        return cls(
            con,
            relation="_frame_posts",
            accounts="_frame_accounts" if accounts is not None else None,
        )

    # -- the activity clock ---------------------------------------------------------------
    def activity_before(self, ts: F64) -> F64:
        """Posts in the collection before each time (linear within a minute)."""
        rel = np.asarray(ts, dtype=np.float64) / 60.0 - self._minute0
        rel = np.clip(rel, 0.0, len(self._cum) - 2.0)
        i = np.floor(rel).astype(np.int64)
        frac = rel - i
        return np.asarray(self._cum[i] + frac * (self._cum[i + 1] - self._cum[i]))

    def clock(self, ts: F64) -> F64:
        """Position of each time on the activity clock: the share of all posts before it."""
        return self.activity_before(ts) / max(self.n_posts, 1)

    def creation_clock(self, ts: F64) -> F64:
        """Share of all accounts created before each time (NaN where ``ts`` is NaN)."""
        n = max(len(self.creation_times), 1)
        out = np.searchsorted(self.creation_times, ts, side="right") / n
        return np.where(np.isnan(ts), np.nan, out)
