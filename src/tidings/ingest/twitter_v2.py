"""Twitter API v2 as twarc2 writes it: response pages, or twarc's "flattened" tweets, one a line.

A page is ``{data, includes: {users, tweets, media, places, polls}, errors, meta, __twarc}``;
a flattened line is one tweet with its expansions inlined (``author``, ``referenced_tweets``
with the referenced tweets themselves, ``attachments.media``, ``geo`` merged with its place).
Both are resolved the same way: a flattened line is first turned back into a one-tweet page.

- ``author_id`` -> the author's ``username`` (``account_name``); every user object -> an account.
- ``referenced_tweets`` -> ``repost_of`` / ``quote_of`` / ``reply_to``; referenced tweets the
  page includes are stored as posts of their own (once per page).
- A retweet's text is ``RT @author: <full text of the original>`` when the original is included
  (the retweet's own copy is cut at 140 characters), with the original's URLs, hashtags and media.
- ``note_tweet.text`` (long tweets) wins over ``text``; media keys -> media URLs (a video's
  preview image, as v1.1 did); ``geo.place_id`` -> the place's ``full_name``; GeoJSON
  coordinates -> ``lat``/``lon``.
- ``withheld.country_codes`` of tweets and users -> ``withheld_in``: a state takedown is itself
  a signal, so it is kept.
- Edited tweets: every version is a tweet with its own id (``edit_history_tweet_ids`` links
  them); each is stored.

Other twarc2 outputs are recognised and named rather than misread: a users page (``twarc2
users``, ``followers``) gives accounts only; tweet counts, list objects and compliance-job
results hold no posts and stop the ingest with a message saying what the file is. Per-record
trouble (a truncated line, bytes that are not UTF-8, a bad date) is quarantined with the line and
the field (``data[3].created_at``); ``errors``-only lines (tweets the API could not return) are
skipped and counted.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, Literal

import orjson
import pyarrow as pa

from .. import schema
from ..errors import InputError
from ._base import Chunk, Problem, Reader
from .twitter_v1 import describe_start, strip_bom

__all__ = ["TwitterV2Reader"]

_BATCH = 20_000
_RT = re.compile(r"RT @(\w+):")
_HINT = "--format twitter-v2 reads twarc2 output (pages or flattened tweets)"
_STRINGS = pa.list_(pa.string())
_POSTS = pa.schema(
    [
        *(f for f in schema.POSTS if f.name not in ("platform", "kind", "dataset")),
        pa.field("_record", pa.int64()),
    ]
)
_ACCOUNTS = pa.schema([f for f in schema.ACCOUNTS if f.name not in ("platform", "dataset")])

Json = dict[str, Any]

# What a record holds, judged by the keys of the objects in it.
_NOT_POSTS = {
    "counts": "tweet counts (twarc2 counts), not tweets",
    "lists": "Twitter list objects (twarc2 lists), not tweets",
    "compliance": "a compliance-job result (tweet or user ids and actions), not tweets",
}


def _object_kind(obj: Any) -> str | None:
    if not isinstance(obj, dict) or "user" in obj:  # v1.1 tweets have `user`, v2 `author_id`
        return None
    if "tweet_count" in obj and ("start" in obj or "end" in obj):
        return "counts"
    if "owner_id" in obj or "member_count" in obj:
        return "lists"
    if "action" in obj and "reason" in obj:
        return "compliance"
    if "username" in obj and "text" not in obj:
        return "users"
    if "text" in obj or "author_id" in obj or "edit_history_tweet_ids" in obj:
        return "tweets"
    return None


def record_kind(obj: Any) -> str | None:
    """``page`` (tweets), ``users``, ``flat`` (one flattened tweet), ``errors`` (errors only),
    one of ``_NOT_POSTS``, or None when ``obj`` is no twarc2 output at all."""
    if not isinstance(obj, dict):
        return None
    if "data" in obj:
        data = obj["data"]
        first = data[0] if isinstance(data, list) and data else data
        kind = _object_kind(first)
        if kind == "tweets":
            return "page"
        if kind is None and data == []:
            return "errors"  # an empty page: nothing matched
        return kind
    if "errors" in obj and "id" not in obj:
        return "errors"
    kind = _object_kind(obj)
    return "flat" if kind == "tweets" else kind


def _flat_as_page(t: Json) -> Json:
    """A flattened tweet back as the page it came from: expansions moved into ``includes``."""
    users: list[Json] = []
    tweets: list[Json] = []
    media: list[Json] = []
    places: list[Json] = []

    def user(u: Any) -> None:
        if isinstance(u, dict) and u.get("id") and u.get("username"):
            users.append(u)

    def expand(tw: Json) -> Json:
        user(tw.get("author"))
        user(tw.get("in_reply_to_user"))
        for m in _dict(tw.get("entities")).get("mentions") or []:
            user(m if isinstance(m, dict) and "name" in m else None)
        attachments = _dict(tw.get("attachments"))
        media.extend(m for m in attachments.get("media") or [] if isinstance(m, dict))
        geo = _dict(tw.get("geo"))
        if geo.get("place_id") and geo.get("full_name"):
            places.append({"id": geo["place_id"], "full_name": geo["full_name"]})
        for ref in tw.get("referenced_tweets") or []:
            # twarc leaves {type, id} alone when the referenced tweet was not returned.
            if isinstance(ref, dict) and len(ref) > 3:
                tweets.append(expand({k: v for k, v in ref.items() if k != "type"}))
        return tw

    expand(t)
    return {
        "data": [t],
        "includes": {"users": users, "tweets": tweets, "media": media, "places": places},
    }


def _time(value: Any) -> datetime | None:
    """ISO 8601 as the v2 API writes it ('2021-09-22T15:21:43.000Z'); None if unreadable."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _full_text(t: Json) -> str | None:
    note = t.get("note_tweet")
    if isinstance(note, dict) and isinstance(note.get("text"), str):
        return str(note["text"])
    text = t.get("text")
    return text if isinstance(text, str) else None


def _dict(value: Any) -> Json:
    """``value`` if it is an object, else an empty one (fields of odd types read as absent)."""
    return value if isinstance(value, dict) else {}


def _strings(items: Any, key: str) -> list[str]:
    if not isinstance(items, list):
        return []
    return [str(x[key]) for x in items if isinstance(x, dict) and x.get(key) is not None]


class _Page:
    """One page's lookups, and the rows it gives."""

    def __init__(self, page: Json) -> None:
        inc = _dict(page.get("includes"))

        def index(name: str, key: str) -> dict[str, Json]:
            items = inc.get(name)
            if not isinstance(items, list):
                return {}
            return {str(x[key]): x for x in items if isinstance(x, dict) and x.get(key)}

        self.users = index("users", "id")
        self.tweets = index("tweets", "id")
        self.media = index("media", "media_key")
        self.places = index("places", "id")

    def content(self, t: Json) -> tuple[str | None, list[str], list[str], list[str], list[str]]:
        """Full text, expanded URLs, hashtags, mentions and media of tweet ``t``."""
        ent = _dict(t.get("entities"))
        links: list[Any] = ent["urls"] if isinstance(ent.get("urls"), list) else []
        # A photo's t.co link is listed among the URLs too; it is media, not a link.
        urls = [
            str(u.get("expanded_url") or u.get("url"))
            for u in links
            if isinstance(u, dict)
            and not u.get("media_key")
            and (u.get("expanded_url") or u.get("url"))
        ]
        keys = _dict(t.get("attachments")).get("media_keys") or []
        media = [self._media_url(str(k)) for k in keys if k]
        return (
            _full_text(t),
            urls,
            _strings(ent.get("hashtags"), "tag"),
            _strings(ent.get("mentions"), "username"),
            media,
        )

    def _media_url(self, key: str) -> str:
        m = self.media.get(key) or {}
        # A video's preview image, like v1.1's media_url for videos; else the key itself.
        return str(m.get("url") or m.get("preview_image_url") or key)

    def post(self, t: Json, record: int, where: str, problems: list[Problem]) -> Json | None:
        raw = orjson.dumps(t).decode()
        created = _time(t.get("created_at"))
        if created is None and t.get("created_at") is not None:
            reason = f"unparseable date {str(t['created_at'])[:60]!r}"
            problems.append(Problem(record, f"{where}.created_at", reason, raw))
            return None
        text, urls, tags, names, media = self.content(t)
        refs = {
            str(r.get("type")): str(r["id"])
            for r in t.get("referenced_tweets") or []
            if isinstance(r, dict) and r.get("id")
        }
        repost_of = refs.get("retweeted")
        original = self.tweets.get(repost_of) if repost_of else None
        if original is not None:
            # The retweet's own text and entities are cut at 140 characters; the original's
            # are whole. Its author's name comes from the page, else from "RT @name:".
            author = (self.users.get(str(original.get("author_id"))) or {}).get("username")
            if not author and text is not None and (m := _RT.match(text)):
                author = m.group(1)
            full, urls, tags, o_names, media = self.content(original)
            names = [str(author), *o_names] if author else o_names
            if author and full is not None:
                text = f"RT @{author}: {full}"
        geo = _dict(t.get("geo"))
        place = self.places.get(str(geo.get("place_id"))) or {}
        point = _dict(geo.get("coordinates"))
        lon = lat = None
        xy = point.get("coordinates")
        if point.get("type", "Point") == "Point" and isinstance(xy, list) and len(xy) == 2:
            lon, lat = (float(v) for v in xy)
        author_id = t.get("author_id")
        return {
            "post_id": str(t["id"]) if t.get("id") is not None else None,
            "account_id": str(author_id) if author_id is not None else None,
            "account_name": (self.users.get(str(author_id)) or {}).get("username"),
            "created_at": created,
            "text": text,
            "lang": t.get("lang"),
            "repost_of": repost_of,
            "reply_to": refs.get("replied_to"),
            "quote_of": refs.get("quoted"),
            "urls": urls,
            "hashtags": tags,
            "mentions": names,
            "media": media,
            "source": t.get("source") if isinstance(t.get("source"), str) else None,
            "place_name": place.get("full_name") or geo.get("full_name"),
            "lat": lat,
            "lon": lon,
            "withheld_in": _strings_of(_dict(t.get("withheld")).get("country_codes")),
            "raw": raw,
            "_record": record,
        }


def _strings_of(value: Any) -> list[str]:
    return [str(v) for v in value if v] if isinstance(value, list) else []


def _account(u: Json) -> Json:
    metrics = _dict(u.get("public_metrics"))
    return {
        "account_id": str(u["id"]),
        "account_name": u.get("username"),
        "display_name": u.get("name"),
        "description": u.get("description") or None,
        "location": u.get("location") or None,
        "created_at": _time(u.get("created_at")),
        "followers": metrics.get("followers_count"),
        "following": metrics.get("following_count"),
        "statuses": metrics.get("tweet_count"),
        "withheld_in": _strings_of(_dict(u.get("withheld")).get("country_codes")),
    }


def _first_record(path: Path) -> tuple[int, Any]:
    """Line number and value of the first line that parses; InputError when none near the top."""
    with path.open("rb") as fh:
        head = fh.read(1 << 16)
        start = strip_bom(head).lstrip()
        if start and not start.startswith((b"{", b"[")):
            raise InputError(str(path), f"not JSON: {describe_start(start)}", line=1, hint=_HINT)
        fh.seek(0)
        first_bad = None
        for n, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                return n, orjson.loads(strip_bom(line) if n == 1 else line)
            except orjson.JSONDecodeError:
                first_bad = first_bad or n
            if n >= 100:
                break
    if first_bad is None:
        raise InputError(str(path), "only blank lines; nothing to ingest")
    raise InputError(str(path), "no line near the top is valid JSON", line=first_bad, hint=_HINT)


class TwitterV2Reader(Reader):
    """twarc2 output: v2 response pages or flattened tweets (users pages give accounts)."""

    name: ClassVar[str] = "twitter-v2"
    label: ClassVar[str] = "Twitter API v2 (twarc2)"
    platform: ClassVar[str | None] = "twitter"
    numbering: ClassVar[Literal["line", "record"]] = "line"

    @classmethod
    def sniff(cls, path: Path, head: bytes) -> bool:
        body = strip_bom(head)
        for line in body.split(b"\n")[:20]:
            if not line.strip():
                continue
            try:
                return record_kind(orjson.loads(line)) is not None
            except orjson.JSONDecodeError:
                # A page is one long line, often longer than the head: judge by how it starts.
                text = line.lstrip()
                return text.startswith((b'{"data"', b'{"includes"', b'{"__twarc"')) or (
                    b'"__twarc"' in body
                )
        return False

    def read(self) -> Iterator[Chunk]:
        file = str(self.path)
        n, first = _first_record(self.path)
        kind = record_kind(first)
        if kind is None:
            keys = ", ".join(list(first)[:8]) if isinstance(first, dict) else type(first).__name__
            hint = _HINT
            if isinstance(first, dict) and "user" in first and "id_str" in first:
                hint = "these are Twitter API v1.1 tweets: use --format twitter-v1"
            raise InputError(file, f"not Twitter API v2 data (keys: {keys})", line=n, hint=hint)
        if kind in _NOT_POSTS:
            raise InputError(file, f"{_NOT_POSTS[kind]}; nothing to ingest", line=n)
        yield from self._records()

    def _records(self) -> Iterator[Chunk]:
        # Ids given so far: a referenced tweet recurs on every line that references it (each
        # flattened retweet carries its original), and is one post, given once.
        self._given: set[str] = set()
        posts: list[Json] = []
        accounts: dict[str, Json] = {}
        problems: list[Problem] = []
        skipped = 0
        with self.path.open("rb") as fh:
            for n, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    obj = orjson.loads(strip_bom(line) if n == 1 else line)
                except orjson.JSONDecodeError as exc:
                    problems.append(_json_problem(n, line, exc))
                    continue
                kind = record_kind(obj)
                if kind == "errors":
                    skipped += 1
                elif kind in ("page", "flat", "users"):
                    page = _flat_as_page(obj) if kind == "flat" else obj
                    self._page(page, kind, n, posts, accounts, problems)
                else:
                    what = _NOT_POSTS.get(kind or "", "not a Twitter API v2 record")
                    problems.append(Problem(n, None, what, line.decode("utf-8", "replace")))
                if len(posts) + len(problems) >= _BATCH:
                    yield _chunk(posts, accounts, problems, skipped)
                    posts, accounts, problems, skipped = [], {}, [], 0
        yield _chunk(posts, accounts, problems, skipped)

    def _page(
        self,
        page: Json,
        kind: str,
        n: int,
        posts: list[Json],
        accounts: dict[str, Json],
        problems: list[Problem],
    ) -> None:
        p = _Page(page)
        data = page.get("data")
        items = data if isinstance(data, list) else [data]
        if kind == "users":
            # A users page: its data are profiles (pinned tweets in includes are not the
            # collection and are not stored).
            for u in items:
                if isinstance(u, dict) and u.get("id"):
                    accounts[str(u["id"])] = _account(u)
            return
        given = self._given
        for i, t in enumerate(items):
            where = f"data[{i}]" if isinstance(data, list) else "data"
            if not isinstance(t, dict):
                problems.append(Problem(n, where, "not a tweet object", orjson.dumps(t).decode()))
                continue
            row = p.post(t, n, where, problems)
            if row is not None:
                posts.append(row)
            given.add(str(t.get("id")))
        # Referenced tweets the page includes are posts too, once per file.
        for j, (tid, t) in enumerate(p.tweets.items()):
            if tid not in given:
                given.add(tid)
                row = p.post(t, n, f"includes.tweets[{j}]", problems)
                if row is not None:
                    posts.append(row)
        for uid, u in p.users.items():
            accounts[uid] = _account(u)


def _json_problem(n: int, line: bytes, exc: orjson.JSONDecodeError) -> Problem:
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as bad:
        shown = line.decode("utf-8", "replace")
        return Problem(n, None, f"invalid UTF-8 at byte {bad.start + 1}", shown)
    stripped = text.rstrip()
    if stripped.startswith("{") and not stripped.endswith("}"):
        return Problem(n, None, "truncated JSON: the line ends before the record does", text)
    return Problem(n, None, f"invalid JSON ({exc.msg})", text)


def _chunk(
    posts: list[Json], accounts: dict[str, Json], problems: list[Problem], skipped: int
) -> Chunk:
    return Chunk(
        posts=pa.Table.from_pylist(posts, schema=_POSTS),
        accounts=pa.Table.from_pylist(list(accounts.values()), schema=_ACCOUNTS),
        problems=problems,
        skipped=skipped,
    )
