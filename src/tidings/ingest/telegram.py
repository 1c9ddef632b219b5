"""Telegram Desktop exports (``result.json``): one chat, or a full export with many.

A single-chat export is ``{name, type, id, messages: [...]}``; a full account export nests chats
under ``chats.list`` (and ``left_chats.list``). Exports reach gigabytes for busy channels, so the
file is parsed as a stream of JSON events (ijson's C backend) and only one message is built at a
time.

Mapping: message ``id`` -> ``post_id`` as ``<chat id>:<id>`` (message ids restart in every chat),
``from_id``/``from`` -> account, ``date_unixtime`` (UTC) or else ``date`` (local time of the
exporting machine, read in ``--timezone``) -> ``created_at``, ``text`` (a string, or a list of
strings and entity objects) -> ``text`` with links, ``text_link`` targets, hashtags and mentions
lifted into their lists, ``reply_to_message_id`` -> ``reply_to``, ``photo``/``file`` -> ``media``.
A forward becomes ``kind = repost``; the original's id is not in the export, so ``repost_of``
stays empty and ``forwarded_from`` is kept in ``raw``. Service messages (joins, pins, title
changes) are not posts: they are skipped and counted.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, Literal

import ijson
import orjson
import pyarrow as pa

from .. import schema
from ..errors import InputError
from ._base import Chunk, Problem, Reader, ReadOptions

__all__ = ["TelegramReader"]

_BATCH = 50_000
_CHAT_BASES = ("", "chats.list.item.", "left_chats.list.item.")
_MESSAGE_PREFIXES = {base + "messages.item": base for base in _CHAT_BASES}
_SNIFF = re.compile(rb'^\s*\{.*?("messages"\s*:\s*\[|"chats"\s*:\s*\{\s*"about")', re.DOTALL)
_NOT_INCLUDED = "(File not included"

_POST_COLUMNS = [
    f for f in schema.POSTS if f.name not in ("platform", "dataset", "lang", "withheld_in")
]
_SCHEMA = pa.schema([*_POST_COLUMNS, pa.field("_record", pa.int64())])


def _messages(fh: Any) -> Iterator[tuple[dict[str, Any], Any]]:
    """(chat, message) pairs, building one message object at a time from the event stream."""
    chats: dict[str, dict[str, Any]] = {base: {} for base in _CHAT_BASES}
    events = ijson.parse(fh, use_float=True)
    for prefix, event, value in events:
        base = _MESSAGE_PREFIXES.get(prefix)
        if base is not None and event in ("start_map", "string", "number", "null", "start_array"):
            builder = ijson.ObjectBuilder()
            builder.event(event, value)
            depth = 1 if event in ("start_map", "start_array") else 0
            while depth:
                _, event, value = next(events)
                builder.event(event, value)
                if event in ("start_map", "start_array"):
                    depth += 1
                elif event in ("end_map", "end_array"):
                    depth -= 1
            yield chats[base], builder.value
            continue
        if event == "start_map" and prefix in ("chats.list.item", "left_chats.list.item"):
            chats[prefix + "."] = {}
            continue
        head, _, key = prefix.rpartition(".")
        chat = chats.get(head + "." if head else "")
        if chat is not None and key in ("id", "name", "type") and event in ("string", "number"):
            chat[key] = value


def _entities(message: dict[str, Any]) -> list[Any]:
    spans = message.get("text_entities")
    if isinstance(spans, list) and spans:
        return spans
    text = message.get("text")
    if isinstance(text, list):
        return text
    return [text] if isinstance(text, str) else []


def _text_and_lists(message: dict[str, Any]) -> tuple[str, list[str], list[str], list[str]]:
    parts: list[str] = []
    urls: list[str] = []
    hashtags: list[str] = []
    mentions: list[str] = []
    for span in _entities(message):
        if isinstance(span, str):
            parts.append(span)
            continue
        if not isinstance(span, dict):
            continue
        text = span.get("text")
        text = text if isinstance(text, str) else ""
        parts.append(text)
        kind = span.get("type")
        if kind == "link":
            urls.append(text)
        elif kind == "text_link" and isinstance(span.get("href"), str):
            urls.append(span["href"])
        elif kind == "hashtag":
            hashtags.append(text)
        elif kind == "mention":
            mentions.append(text)
    return "".join(parts), urls, hashtags, mentions


def _media(message: dict[str, Any]) -> list[str]:
    out = []
    for key in ("photo", "file"):
        v = message.get(key)
        if isinstance(v, str) and v and not v.startswith(_NOT_INCLUDED):
            out.append(v)
    return out


class TelegramReader(Reader):
    """Telegram Desktop's JSON export (``result.json``)."""

    name: ClassVar[str] = "telegram"
    label: ClassVar[str] = "Telegram Desktop export (result.json)"
    platform: ClassVar[str | None] = "telegram"
    numbering: ClassVar[Literal["line", "record"]] = "record"

    def __init__(self, path: Path, options: ReadOptions) -> None:
        super().__init__(path, options)
        try:
            self._zone = zoneinfo.ZoneInfo(options.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise InputError(
                str(path),
                f"unknown time zone {options.timezone!r}",
                hint="use an IANA name such as UTC or Asia/Baghdad",
            ) from None

    @classmethod
    def sniff(cls, path: Path, head: bytes) -> bool:
        return _SNIFF.match(head.removeprefix(b"\xef\xbb\xbf")) is not None

    def _time(self, message: dict[str, Any]) -> datetime | None:
        unix = message.get("date_unixtime")
        if unix is not None:
            try:
                return datetime.fromtimestamp(int(unix), UTC)
            except (TypeError, ValueError, OverflowError):
                return None
        date = message.get("date")
        if not isinstance(date, str):
            return None
        try:
            t = datetime.fromisoformat(date)
        except ValueError:
            return None
        return t if t.tzinfo else t.replace(tzinfo=self._zone).astimezone(UTC)

    def _row(
        self, chat: dict[str, Any], message: dict[str, Any], record: int
    ) -> dict[str, Any] | Problem:
        raw = orjson.dumps(message).decode()
        created = self._time(message)
        if created is None and (message.get("date_unixtime") or message.get("date")):
            value = message.get("date_unixtime") or message.get("date")
            return Problem(record, "created_at", f"unparseable date {value!r}", raw)
        chat_id = chat.get("id")
        prefix = f"{chat_id}:" if chat_id is not None else ""
        msg_id = message.get("id")
        reply = message.get("reply_to_message_id")
        account = message.get("from_id")
        name = message.get("from")
        if account is None and chat.get("type") in ("public_channel", "private_channel"):
            # Channel posts of older exports carry no sender: the channel is the author.
            account, name = f"channel{chat_id}", name or chat.get("name")
        text, urls, hashtags, mentions = _text_and_lists(message)
        forwarded = message.get("forwarded_from") is not None or "saved_from" in message
        return {
            "post_id": f"{prefix}{msg_id}" if msg_id is not None else None,
            "account_id": str(account) if account is not None else None,
            "account_name": name if isinstance(name, str) else None,
            "created_at": created,
            "text": text,
            "kind": "repost" if forwarded else None,
            "repost_of": None,
            "reply_to": f"{prefix}{reply}" if reply is not None else None,
            "quote_of": None,
            "urls": urls,
            "hashtags": hashtags,
            "mentions": mentions,
            "media": _media(message),
            "source": message.get("via_bot"),
            "place_name": _place(message),
            "lat": _coord(message, "latitude"),
            "lon": _coord(message, "longitude"),
            "raw": raw,
            "_record": record,
        }

    def read(self) -> Iterator[Chunk]:
        with self.path.open("rb") as fh:
            if not self.sniff(self.path, fh.read(1 << 16)):
                raise InputError(
                    str(self.path),
                    "not a Telegram Desktop export (no top-level messages or chats.list)",
                    hint="export a chat from Telegram Desktop as JSON and give its result.json",
                )
            fh.seek(0)
            rows: list[dict[str, Any]] = []
            problems: list[Problem] = []
            skipped = 0
            record = 0
            try:
                for chat, message in _messages(fh):
                    record += 1
                    if not isinstance(message, dict):
                        problems.append(
                            Problem(record, None, "a message is not a JSON object", str(message))
                        )
                    elif message.get("type", "message") != "message":
                        skipped += 1
                    else:
                        row = self._row(chat, message, record)
                        if isinstance(row, Problem):
                            problems.append(row)
                        else:
                            rows.append(row)
                    if len(rows) + len(problems) + skipped >= _BATCH:
                        yield self._chunk(rows, problems, skipped)
                        rows, problems, skipped = [], [], 0
            except ijson.JSONError as exc:
                raise InputError(
                    str(self.path),
                    f"not valid JSON after message {record} ({exc})",
                    record=record + 1,
                    hint="the export may be truncated; export it again",
                ) from None
            if rows or problems or skipped:
                yield self._chunk(rows, problems, skipped)

    @staticmethod
    def _chunk(rows: list[dict[str, Any]], problems: list[Problem], skipped: int) -> Chunk:
        posts = pa.Table.from_pylist(rows, schema=_SCHEMA) if rows else None
        return Chunk(posts=posts, problems=problems, skipped=skipped)


def _place(message: dict[str, Any]) -> str | None:
    venue = message.get("place_name")
    return venue if isinstance(venue, str) and venue else None


def _coord(message: dict[str, Any], key: str) -> float | None:
    loc = message.get("location_information")
    if isinstance(loc, dict) and isinstance(loc.get(key), int | float):
        return float(loc[key])
    return None
