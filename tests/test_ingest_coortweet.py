"""CooRTweet long tables: detected by header, object_id -> repost_of unless mapped elsewhere."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner

from tidings import Workspace
from tidings.cli import cli
from tidings.ingest import detect_format, ingest
from tidings.ingest.coortweet import CoorTweetReader

ROWS = [
    # object_id, account_id, content_id, timestamp_share
    ("obj1", "acc1", "c1", 1623881091),
    ("obj1", "acc2", "c2", 1623881101),
    ("obj2", "acc1", "c3", 1623881200),
]


def write(tmp_path: Path, header: str = "object_id,account_id,content_id,timestamp_share") -> Path:
    f = tmp_path / "shares.csv"
    lines = [header] + [",".join(map(str, r)) for r in ROWS]
    f.write_text("\n".join(lines) + "\n")
    return f


def posts(ws: Workspace) -> dict[str, dict[str, object]]:
    rows = ws.connect().sql("select * from posts").to_arrow_table().to_pylist()
    return {str(r["post_id"]): r for r in rows}


def test_detected_by_header_in_any_column_order(tmp_path: Path) -> None:
    f = write(tmp_path, header="object_id,account_id,content_id,timestamp_share")
    assert detect_format(f).name == "coortweet"
    g = tmp_path / "reordered.csv"
    g.write_text("timestamp_share,content_id,account_id,object_id,extra\n1,c,a,o,x\n")
    assert detect_format(g).name == "coortweet"
    h = tmp_path / "plain.csv"
    h.write_text("post_id,account_id,created_at\n1,a,2021-01-01\n")
    assert detect_format(h).name == "generic-csv"
    # Binary files (a Parquet footer, a stray carriage return) are not CooRTweet, and sniffing
    # them must not fail.
    b = tmp_path / "binary.bin"
    b.write_bytes(b"PAR1\x00\x15\r\x04object_id,account_id,content_id,timestamp_share\n")
    assert not CoorTweetReader.sniff(b, b.read_bytes())
    r = tmp_path / "cr.csv"
    r.write_bytes(b"a,b\rc,d\n1,2\n")
    assert not CoorTweetReader.sniff(r, r.read_bytes())


def test_object_becomes_repost_of(ws: Workspace, tmp_path: Path) -> None:
    res = ingest(ws, [write(tmp_path)])
    assert (res.read, res.stored, res.quarantined) == (3, 3, 0)
    assert res.files[0].label.startswith("CooRTweet")
    got = posts(ws)
    assert set(got) == {"c1", "c2", "c3"}
    for obj, acc, content, ts in ROWS:
        p = got[content]
        assert (p["repost_of"], p["account_id"], p["kind"]) == (obj, acc, "repost")
        assert p["created_at"] == datetime.fromtimestamp(ts, UTC)
        assert p["urls"] == []


def test_map_sends_the_object_elsewhere(ws: Workspace, tmp_path: Path) -> None:
    ingest(ws, [write(tmp_path)], column_map={"urls": "object_id"})
    got = posts(ws)
    assert got["c1"]["urls"] == ["obj1"] and got["c1"]["repost_of"] is None
    assert got["c1"]["kind"] == "post"


def test_cli_says_what_it_chose(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws")
    result = CliRunner().invoke(cli, ["ingest", str(ws.path), str(write(tmp_path))])
    assert result.exit_code == 0, result.output
    assert "read as CooRTweet long table (object_id -> repost_of)" in result.output
    assert "read 3, stored 3, duplicates 0, quarantined 0" in result.output
