"""Telegram Desktop result.json: single-chat and full exports, entity spans, service messages."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tidings import Workspace
from tidings.errors import InputError
from tidings.ingest import detect_format, ingest


def message(i: int, **extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": i,
        "type": "message",
        "date": "2021-03-01T10:00:00",
        "date_unixtime": str(1614592800 + i * 60),
        "from": "Relay Desk",
        "from_id": "channel777",
        "text": f"plain message {i}",
        "text_entities": [{"type": "plain", "text": f"plain message {i}"}],
    }
    base.update(extra)
    return base


def single_chat() -> dict[str, Any]:
    return {
        "name": "Relay Desk",
        "type": "public_channel",
        "id": 777,
        "messages": [
            {
                "id": 1,
                "type": "service",
                "date": "2021-03-01T09:59:00",
                "date_unixtime": "1614592740",
                "actor": "Relay Desk",
                "actor_id": "channel777",
                "action": "create_channel",
                "title": "Relay Desk",
                "text": "",
                "text_entities": [],
            },
            message(2),
            # Text as a list of strings and entity objects (older exports have no text_entities).
            {
                "id": 3,
                "type": "message",
                "date": "2021-03-01T10:03:00",
                "date_unixtime": "1614592980",
                "from": "Relay Desk",
                "from_id": "channel777",
                "text": [
                    "read ",
                    {"type": "link", "text": "https://example.org/a"},
                    " and ",
                    {"type": "text_link", "text": "this", "href": "https://example.net/b"},
                    " ",
                    {"type": "hashtag", "text": "#Harvest"},
                    " ",
                    {"type": "mention", "text": "@Other_Desk"},
                    {"type": "bold", "text": "!"},
                ],
            },
            message(
                4,
                forwarded_from="Far Away Channel",
                reply_to_message_id=2,
                photo="photos/photo_4@01-03-2021_10-04-00.jpg",
                width=640,
                height=480,
            ),
            message(
                5,
                file="(File not included. Change data exporting settings to download.)",
                media_type="video_file",
            ),
            message(6, file="files/report.pdf"),
            {"id": 7, "type": "service", "date": "2021-03-01T10:07:00", "action": "pin_message"},
            message(8, date_unixtime="not-a-time"),
        ],
    }


def full_export() -> dict[str, Any]:
    chat_a = {
        "name": "Group A",
        "type": "private_supergroup",
        "id": 100,
        "messages": [
            message(1, from_id="user1", **{"from": "Ann"}),
            message(2, from_id="user2", **{"from": "Bob"}),
        ],
    }
    chat_b = {
        "name": "Group B",
        "type": "private_group",
        "id": 200,
        "messages": [message(1, from_id="user1", **{"from": "Ann"})],
    }
    old_channel = {
        "name": "Old Channel",
        "type": "public_channel",
        "id": 300,
        # An older export: no from_id, local `date` only, text as a plain string.
        "messages": [{"id": 9, "type": "message", "date": "2016-05-01T12:30:00", "text": "hi"}],
    }
    return {
        "about": "Here is the data you requested.",
        "personal_information": {"user_id": 1, "first_name": "X"},
        "chats": {"about": "This page lists all chats from this export.", "list": [chat_a, chat_b]},
        "left_chats": {"about": "Chats you left.", "list": [old_channel]},
    }


def write(path: Path, doc: dict[str, Any]) -> Path:
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def posts(ws: Workspace) -> dict[str, dict[str, Any]]:
    rows = ws.connect().sql("select * from posts").to_arrow_table().to_pylist()
    return {r["post_id"]: r for r in rows}


def test_single_chat_export(ws: Workspace, tmp_path: Path) -> None:
    f = write(tmp_path / "result.json", single_chat())
    assert detect_format(f).name == "telegram"
    res = ingest(ws, [f])
    # 8 messages: 2 service (skipped, not quarantined), 1 bad date, 5 stored.
    assert (res.read, res.stored, res.skipped, res.quarantined) == (8, 5, 2, 1)
    got = posts(ws)
    assert set(got) == {"777:2", "777:3", "777:4", "777:5", "777:6"}
    p2 = got["777:2"]
    assert p2["platform"] == "telegram" and p2["account_id"] == "channel777"
    assert p2["account_name"] == "Relay Desk" and p2["kind"] == "post"
    assert p2["created_at"] == datetime.fromtimestamp(1614592800 + 120, UTC)
    p3 = got["777:3"]
    assert p3["text"] == "read https://example.org/a and this #Harvest @Other_Desk!"
    assert p3["urls"] == ["https://example.org/a", "https://example.net/b"]
    assert p3["hashtags"] == ["harvest"] and p3["mentions"] == ["other_desk"]
    p4 = got["777:4"]
    assert p4["kind"] == "repost" and p4["repost_of"] is None
    assert p4["reply_to"] == "777:2"
    assert p4["media"] == ["photos/photo_4@01-03-2021_10-04-00.jpg"]
    assert json.loads(p4["raw"])["forwarded_from"] == "Far Away Channel"
    assert got["777:5"]["media"] == []  # a "file not included" note is not media
    assert got["777:6"]["media"] == ["files/report.pdf"]
    with ws.catalog(read_only=True) as con:
        q = con.execute("select record, field, reason from quarantine").fetchall()
    assert q == [(8, "created_at", "unparseable date 'not-a-time'")]


def test_full_export_ids_are_unique_across_chats(ws: Workspace, tmp_path: Path) -> None:
    f = write(tmp_path / "result.json", full_export())
    res = ingest(ws, [f], timezone="Asia/Baghdad")
    assert (res.read, res.stored, res.quarantined) == (4, 4, 0)
    got = posts(ws)
    assert set(got) == {"100:1", "100:2", "200:1", "300:9"}
    assert got["100:1"]["account_id"] == got["200:1"]["account_id"] == "user1"
    old = got["300:9"]
    # No from_id in an old channel export: the channel is the author; `date` is local time.
    assert old["account_id"] == "channel300" and old["account_name"] == "Old Channel"
    assert old["created_at"] == datetime(2016, 5, 1, 9, 30, tzinfo=UTC)
    again = ingest(ws, [f], timezone="Asia/Baghdad")
    assert again.stored == 0 and again.duplicates == 4


def test_large_export_streams_in_chunks(ws: Workspace, tmp_path: Path) -> None:
    n = 120_000
    doc = {"name": "Big", "type": "public_channel", "id": 5, "messages": []}
    f = tmp_path / "result.json"
    # Written by hand so the test does not hold a 120k-message dict twice.
    with f.open("w", encoding="utf-8") as fh:
        fh.write(json.dumps(doc)[:-2])
        for i in range(1, n + 1):
            fh.write(("," if i > 1 else "") + json.dumps(message(i)))
        fh.write("]}")
    res = ingest(ws, [f])
    assert res.stored == n
    count = ws.connect().sql("select count(distinct post_id) from posts").fetchall()
    assert count == [(n,)]


def test_truncated_export_is_refused_and_stores_nothing(ws: Workspace, tmp_path: Path) -> None:
    f = write(tmp_path / "result.json", single_chat())
    f.write_bytes(f.read_bytes()[:-400])
    with pytest.raises(InputError, match="not valid JSON") as err:
        ingest(ws, [f], format="telegram")
    assert str(f) in str(err.value)
    assert ws.table_files("posts") == []


def test_json_that_is_not_an_export_is_refused(ws: Workspace, tmp_path: Path) -> None:
    f = tmp_path / "other.json"
    f.write_text('{"data": [1, 2, 3]}')
    with pytest.raises(InputError, match="not a Telegram Desktop export"):
        ingest(ws, [f], format="telegram")


def test_cli_summary_counts_skipped_service_messages(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from tidings.cli import cli

    ws = Workspace.init(tmp_path / "ws")
    f = write(tmp_path / "result.json", single_chat())
    result = CliRunner().invoke(cli, ["ingest", str(ws.path), str(f)])
    assert result.exit_code == 0, result.output
    assert "read as Telegram Desktop export (result.json)" in result.output
    assert "read 8, stored 5, duplicates 0, quarantined 1" in result.output
    assert "skipped 2 records that are not posts" in result.output
    assert f"{f}, record 8: field 'created_at': unparseable date 'not-a-time'" in result.output
