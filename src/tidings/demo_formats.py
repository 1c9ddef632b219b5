"""Canonical tables written back out in the formats real collections come in.

The demo, the ingest tests and the ingest benchmark need input files that look like what analysts
actually hold, so that the readers are exercised on realistic bytes rather than on our own tables.
Only generated data goes through here.

The JSON is built by DuckDB (``to_json`` over structs, vectorised and multi-threaded), not by
Python dictionaries, and in slices: each slice gathers what it embeds (the reposted original, the
quoted post, the author's profile) with Arrow ``take`` from indexes built once, so no step joins
against the whole table and memory stays bounded by the slice.
"""

from __future__ import annotations

import os
import re
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from . import schema

__all__ = ["write_twitter_v1_jsonl"]

_V1_TIME = "%a %b %d %H:%M:%S +0000 %Y"
_SLICE = 100_000

# Where the official clients' `source` anchors pointed; other apps get a made-up home page.
_APP_HOMES = {
    "Twitter for Android": "http://twitter.com/download/android",
    "Twitter for iPhone": "http://twitter.com/download/iphone",
    "Twitter for iPad": "http://twitter.com/#!/download/ipad",
    "Twitter Web Client": "http://twitter.com",
    "TweetDeck": "https://about.twitter.com/products/tweetdeck",
    "Twitter for Websites": "https://dev.twitter.com/web/overview",
}


def _html_escape(expr: str) -> str:
    return (
        f"replace(replace(replace(replace({expr}, '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), "
        f"'\"', '&quot;')"
    )


def _source_sql(col: str) -> str:
    homes = " ".join(
        f"WHEN {col} = '{app}' THEN '{url}'" for app, url in sorted(_APP_HOMES.items())
    )
    slug = f"regexp_replace(lower({col}), '[^a-z0-9]+', '', 'g')"
    href = f"CASE {homes} ELSE 'https://' || {slug} || '.example.com' END"
    # Very old tweets carry the bare value "web" instead of an anchor; keep it that way.
    return (
        f"CASE WHEN {col} IS NULL OR {col} = 'web' THEN {col} ELSE "
        f"'<a href=\"' || {href} || '\" rel=\"nofollow\">' || {_html_escape(col)} || '</a>' END"
    )


def _v1_time(col: str) -> str:
    # Through epoch microseconds: formats the UTC wall time whatever the session time zone.
    return f"strftime(make_timestamp(epoch_us({col})), '{_V1_TIME}')"


# One JSON user object per account: from `acc` when given, else from the posts.
_USERS_SQL = f"""
SELECT DISTINCT ON (account_id) account_id, replace(CAST(to_json({{
    'id': TRY_CAST(account_id AS UBIGINT), 'id_str': account_id,
    'name': coalesce(display_name, account_name), 'screen_name': account_name,
    'location': coalesce(location, ''), 'url': NULL::VARCHAR, 'description': description,
    'protected': false, 'verified': false,
    'followers_count': coalesce(followers, 0), 'friends_count': coalesce(following, 0),
    'listed_count': 0, 'favourites_count': 0, 'statuses_count': coalesce(statuses, 0),
    'created_at': {_v1_time("created_at")},
    'utc_offset': NULL::INTEGER, 'time_zone': NULL::VARCHAR, 'geo_enabled': false,
    'lang': 'en', 'contributors_enabled': false, 'is_translator': false,
    'profile_image_url': 'http://pbs.twimg.com/profile_images/' || account_id || '/a_normal.png',
    'profile_image_url_https':
        'https://pbs.twimg.com/profile_images/' || account_id || '/a_normal.png',
    'default_profile': true, 'default_profile_image': false,
    'following': NULL::BOOLEAN, 'follow_request_sent': NULL::BOOLEAN,
    'notifications': NULL::BOOLEAN,
    'withheld_in_countries': CASE WHEN len(withheld_in) > 0 THEN withheld_in END
}}) AS VARCHAR), ',"withheld_in_countries":null', '') AS ujs
FROM (
    SELECT * FROM acc
    UNION ALL BY NAME
    SELECT account_id, any_value(account_name) AS account_name,
           min(created_at) - INTERVAL 400 DAY AS created_at, count(*) AS statuses
    FROM posts WHERE account_id NOT IN (SELECT account_id FROM acc) GROUP BY account_id
)
ORDER BY account_id, statuses DESC NULLS LAST
"""

# One tweet object per row of `tw` (no embedded tweets yet). `tw` holds the post, its author's
# user JSON (`ujs`), the author of the post it replies to and, for reposts, the original's author
# and text (the API displayed a retweet as "RT @author: text").
_OBJECT_SQL = f"""
WITH s AS (
    SELECT *, coalesce(CASE
            WHEN repost_of IS NULL OR starts_with(text, 'RT @') THEN text
            WHEN orig_name IS NOT NULL THEN 'RT @' || orig_name || ': ' || orig_text
            END, text, '') AS shown
    FROM tw
), e AS (
    SELECT *, lower(shown) AS low,
        regexp_extract_all(shown, 'https?://t\\.co/[A-Za-z0-9]+') AS tcos,
        length(shown) AS n,
        repost_of IS NULL AND length(shown) > 140 AS long
    FROM s
), ent AS (
    SELECT *, {{
        'hashtags': list_transform(coalesce(hashtags, []), lambda h: {{
            'text': CASE WHEN instr(low, '#' || h) > 0
                THEN substr(shown, instr(low, '#' || h) + 1, length(h)) ELSE h END,
            'indices': CASE WHEN instr(low, '#' || h) > 0
                THEN [instr(low, '#' || h) - 1, instr(low, '#' || h) + length(h)]
                ELSE [0, 0] END}}),
        'trends': []::VARCHAR[],
        'urls': list_transform(range(1, len(coalesce(urls, [])) + 1), lambda i: {{
            'url': coalesce(tcos[i], 'http://t.co/' || substr(md5(post_id || i), 1, 10)),
            'expanded_url': urls[i],
            'display_url': CASE WHEN length(regexp_replace(urls[i], '^https?://', '')) > 26
                THEN left(regexp_replace(urls[i], '^https?://', ''), 25) || '…'
                ELSE regexp_replace(urls[i], '^https?://', '') END,
            'indices': CASE WHEN tcos[i] IS NOT NULL
                THEN [instr(shown, tcos[i]) - 1, instr(shown, tcos[i]) - 1 + length(tcos[i])]
                ELSE [n, n] END}}),
        'user_mentions': list_transform(coalesce(mentions, []), lambda m: {{
            'screen_name': CASE WHEN instr(low, '@' || m) > 0
                THEN substr(shown, instr(low, '@' || m) + 1, length(m)) ELSE m END,
            'name': m, 'id': NULL::UBIGINT, 'id_str': NULL::VARCHAR,
            'indices': CASE WHEN instr(low, '@' || m) > 0
                THEN [instr(low, '@' || m) - 1, instr(low, '@' || m) + length(m)]
                ELSE [0, 0] END}}),
        'symbols': []::VARCHAR[]
    }} AS ent_core,
    CASE WHEN len(media) > 0 THEN CAST(to_json(list_transform(range(1, len(media) + 1),
            lambda i: {{
            'id': md5_number_upper(post_id || media[i]) // 2,
            'id_str': CAST(md5_number_upper(post_id || media[i]) // 2 AS VARCHAR),
            'indices': [n, n],
            'media_url': regexp_replace(media[i], '^https:', 'http:'),
            'media_url_https': media[i],
            'url': 'http://t.co/' || substr(md5(media[i]), 1, 10),
            'display_url': 'pic.twitter.com/' || substr(md5(media[i]), 1, 10),
            'expanded_url': 'http://twitter.com/' || account_name || '/status/' || post_id
                || '/photo/' || i,
            'type': 'photo',
            'sizes': {{'large': {{'w': 1024, 'h': 768, 'resize': 'fit'}},
                      'thumb': {{'w': 150, 'h': 150, 'resize': 'crop'}}}}
        }})) AS VARCHAR) END AS media_js
    FROM e
)
SELECT seq,
    -- The keys real tweets leave out when they do not apply are appended only when they do.
    left(CAST(to_json({{
    'created_at': {_v1_time("created_at")},
    'id': TRY_CAST(post_id AS UBIGINT), 'id_str': post_id,
    'text': CASE WHEN n > 140 THEN left(shown, 139) || '…' ELSE shown END,
    'source': {_source_sql("source")},
    'truncated': long,
    'in_reply_to_status_id': TRY_CAST(reply_to AS UBIGINT),
    'in_reply_to_status_id_str': reply_to,
    'in_reply_to_user_id': TRY_CAST(parent_account_id AS UBIGINT),
    'in_reply_to_user_id_str': parent_account_id,
    'in_reply_to_screen_name': parent_name,
    'geo': CASE WHEN lat IS NOT NULL THEN {{'type': 'Point', 'coordinates': [lat, lon]}} END,
    'coordinates': CASE WHEN lat IS NOT NULL
        THEN {{'type': 'Point', 'coordinates': [lon, lat]}} END,
    'place': CASE WHEN place_name IS NOT NULL THEN {{
        'id': substr(md5(place_name), 1, 16),
        'url': 'https://api.twitter.com/1.1/geo/id/' || substr(md5(place_name), 1, 16) || '.json',
        'place_type': 'city', 'name': split_part(place_name, ',', 1),
        'full_name': place_name, 'country_code': '', 'country': '',
        'bounding_box': {{'type': 'Polygon', 'coordinates': [[
            [coalesce(lon, 0) - 0.1, coalesce(lat, 0) - 0.1],
            [coalesce(lon, 0) + 0.1, coalesce(lat, 0) - 0.1],
            [coalesce(lon, 0) + 0.1, coalesce(lat, 0) + 0.1],
            [coalesce(lon, 0) - 0.1, coalesce(lat, 0) + 0.1]]]}},
        'attributes': {{}}}} END,
    'contributors': NULL::VARCHAR,
    'is_quote_status': quote_of IS NOT NULL,
    'retweet_count': 0, 'favorite_count': 0,
    'favorited': false, 'retweeted': false, 'possibly_sensitive': false,
    'filter_level': 'low', 'lang': coalesce(lang, 'und'),
    'timestamp_ms': CAST(epoch_ms(created_at) AS VARCHAR)
    }}) AS VARCHAR), -1)
    || ',"user":' || ujs
    || ',"entities":' || ent_js
    || CASE WHEN media_js IS NOT NULL
        THEN ',"extended_entities":{{"media":' || media_js || '}}' ELSE '' END
    || CASE WHEN quote_of IS NOT NULL THEN ',"quoted_status_id":'
        || coalesce(CAST(TRY_CAST(quote_of AS UBIGINT) AS VARCHAR), 'null')
        || ',"quoted_status_id_str":' || CAST(to_json(quote_of) AS VARCHAR) ELSE '' END
    || CASE WHEN long THEN ',"extended_tweet":{{"full_text":' || CAST(to_json(shown) AS VARCHAR)
        || ',"display_text_range":[0,' || n || '],"entities":' || ent_js
        || CASE WHEN media_js IS NOT NULL
            THEN ',"extended_entities":{{"media":' || media_js || '}}' ELSE '' END
        || '}}' ELSE '' END
    || CASE WHEN len(withheld_in) > 0
        THEN ',"withheld_in_countries":' || CAST(to_json(withheld_in) AS VARCHAR) ELSE '' END
    || '}}' AS js
FROM (
    SELECT *, left(CAST(to_json(ent_core) AS VARCHAR), -1)
        || CASE WHEN media_js IS NOT NULL THEN ',"media":' || media_js ELSE '' END
        || '}}' AS ent_js
    FROM ent
)
"""


def _lookup(keys: pa.ChunkedArray, values: pa.ChunkedArray) -> pa.Array:
    """Row index in ``values`` of each key (null where absent)."""
    found = pc.index_in(keys, value_set=values)
    found = found.combine_chunks() if isinstance(found, pa.ChunkedArray) else found
    return found.cast(pa.int64())


_NEEDED = [n for n in schema.POSTS.names if n not in ("platform", "kind", "dataset", "raw")]


@dataclass
class _Slice:
    """The ``tw`` rows of one slice, and where each embedded tweet goes."""

    tw: pa.Table
    n: int
    rt_pos: np.ndarray  # top row of each embedded original
    rtq_of: np.ndarray  # embedded original (index into rt_pos) of each quote inside one
    qt_pos: np.ndarray  # top row of each embedded quoted post
    stubs: list[tuple[int, str, str]]  # (top row, id, text) of reposts of absent posts


class _Gatherer:
    """Builds each slice's rows: posts plus the context each needs, taken by index."""

    def __init__(self, posts: pa.Table, users: pa.Table) -> None:
        self.posts = posts.select(_NEEDED)
        ids = posts.column("post_id")
        self.author = _lookup(posts.column("account_id"), users.column("account_id"))
        self.parent = _lookup(posts.column("reply_to"), ids)
        self.original = _lookup(posts.column("repost_of"), ids)
        self.quoted = _lookup(posts.column("quote_of"), ids)
        self.ujs = users.column("ujs")
        # A stream is collected in time order (and so an original comes before its retweets).
        self.order = pc.sort_indices(posts.column("created_at")).cast(pa.int64())

    def rows(self, idx: pa.Array) -> pa.Table:
        p = self.posts
        parent = pc.take(self.parent, idx)
        original = pc.take(self.original, idx)
        cols = {
            "ujs": self.ujs.take(pc.take(self.author, idx)),
            "parent_account_id": p.column("account_id").take(parent),
            "parent_name": p.column("account_name").take(parent),
            "orig_name": p.column("account_name").take(original),
            "orig_text": p.column("text").take(original),
        }
        t = p.take(idx)
        for name, col in cols.items():
            t = t.append_column(name, col)
        return t

    def slice(self, lo: int, hi: int) -> _Slice:
        top = self.order[lo:hi]
        original = pc.take(self.original, top)
        has_rt = original.is_valid()
        rt = pc.filter(original, has_rt)
        rtq = pc.take(self.quoted, rt)
        has_rtq = rtq.is_valid()
        quoted = pc.take(self.quoted, top)
        # A retweet of a quote embeds the quote inside the original, not beside it.
        has_qt = pc.and_(quoted.is_valid(), pc.invert(has_rt))
        parts = [top, rt, pc.filter(rtq, has_rtq), pc.filter(quoted, has_qt)]
        tw = self.rows(pa.concat_arrays(parts))
        repost_of = self.posts.column("repost_of").take(top)
        absent = pc.and_(repost_of.is_valid(), pc.invert(has_rt))
        stub_rows = np.flatnonzero(absent.to_numpy(zero_copy_only=False))
        texts = self.posts.column("text").take(top)
        stubs = [
            (
                i,
                str(repost_of[i].as_py()),
                re.sub(r"^RT @[^:]*: ", "", texts[i].as_py() or ""),
            )
            for i in map(int, stub_rows)
        ]
        return _Slice(
            tw=tw.append_column("seq", pa.array(np.arange(tw.num_rows), pa.int64())),
            n=hi - lo,
            rt_pos=np.flatnonzero(has_rt.to_numpy(zero_copy_only=False)),
            rtq_of=np.flatnonzero(has_rtq.to_numpy(zero_copy_only=False)),
            qt_pos=np.flatnonzero(has_qt.to_numpy(zero_copy_only=False)),
            stubs=stubs,
        )


def _lines(sl: _Slice, objs: pa.Table) -> list[str]:
    """Top-level tweets with what they embed: the reposted original (itself with the post it
    quotes) or the quoted post; a repost of a post not in the table gets its id and text."""
    seq = objs.column("seq").to_numpy()
    if len(seq) > 1 and bool(np.any(np.diff(seq) < 0)):
        objs = objs.take(pc.sort_indices(objs.column("seq")))
    js: list[str] = objs.column("js").to_pylist()
    k = sl.n
    top, k = js[:k], k
    rt, k = js[k : k + len(sl.rt_pos)], k + len(sl.rt_pos)
    rtq, k = js[k : k + len(sl.rtq_of)], k + len(sl.rtq_of)
    qt = js[k:]
    for j, i in enumerate(sl.rtq_of):
        rt[i] = f'{rt[i][:-1]},"quoted_status":{rtq[j]}}}'
    for j, i in enumerate(sl.rt_pos):
        top[i] = f'{top[i][:-1]},"retweeted_status":{rt[j]}}}'
    for j, i in enumerate(sl.qt_pos):
        top[i] = f'{top[i][:-1]},"quoted_status":{qt[j]}}}'
    for i, post_id, text in sl.stubs:
        stub = {"id": int(post_id) if post_id.isdigit() else None, "id_str": post_id, "text": text}
        top[i] = f'{top[i][:-1]},"retweeted_status":{orjson.dumps(stub).decode()}}}'
    return top


def write_twitter_v1_jsonl(
    posts: pa.Table, path: str | os.PathLike[str], *, accounts: pa.Table | None = None
) -> int:
    """Write canonical ``posts`` as Twitter API v1.1 JSONL, one tweet per line, as collected
    from the 2014 streaming API; return the number of tweets written.

    Reposts embed the original as ``retweeted_status`` (its full text, entities and author) and
    show the classic ``RT @name: …`` text cut at 140 characters; quotes embed
    ``quoted_status``; longer tweets get ``extended_tweet``. URLs appear as t.co links (the
    t.co link in the text when there is one) with the expanded URL beside them, ``source`` as
    the HTML anchor the API sent, coordinates in GeoJSON order. User objects come from
    ``accounts`` when given, else from the posts. A repost's text is shown as
    ``RT @author: original text`` whatever the canonical text says, as the API did.
    """
    posts = posts.select(schema.POSTS.names).cast(schema.POSTS)
    acc = accounts if accounts is not None else schema.ACCOUNTS.empty_table()
    acc = acc.select(schema.ACCOUNTS.names).cast(schema.ACCOUNTS)
    con = duckdb.connect(config={"memory_limit": "2GB"})
    written = 0
    try:
        con.execute("SET enable_progress_bar = false")
        con.register("posts", posts)
        con.register("acc", acc)
        users = con.sql(_USERS_SQL).to_arrow_table()
        con.unregister("posts")
        con.unregister("acc")
        gather = _Gatherer(posts, users)

        def objects(lo: int) -> tuple[_Slice, pa.Table]:
            sl = gather.slice(lo, min(lo + _SLICE, posts.num_rows))
            con.register("tw", sl.tw)
            objs = con.sql(_OBJECT_SQL).to_arrow_table()
            con.unregister("tw")
            return sl, objs

        starts = range(0, posts.num_rows, _SLICE)
        with (
            Path(path).open("wb") as fh,
            ThreadPoolExecutor(1) as sql,
            ThreadPoolExecutor(1) as io,
        ):
            # Three stages overlap: DuckDB builds the next slice's objects (without the GIL)
            # while Python assembles this slice's lines and the previous ones go to disk. One
            # slice ahead and one write pending bound the memory.
            ahead: Future[tuple[_Slice, pa.Table]] | None = (
                sql.submit(objects, starts[0]) if starts else None
            )
            pending: Future[int] | None = None
            for k in range(len(starts)):
                assert ahead is not None
                sl, objs = ahead.result()
                ahead = sql.submit(objects, starts[k + 1]) if k + 1 < len(starts) else None
                lines = _lines(sl, objs)
                data = ("\n".join(lines) + "\n").encode()
                if pending is not None:
                    pending.result()
                pending = io.submit(fh.write, data)
                written += len(lines)
            if pending is not None:
                pending.result()
    finally:
        con.close()
    return written
