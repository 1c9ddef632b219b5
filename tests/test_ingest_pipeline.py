"""The shared ingest path: validation, quarantine, derived ids, de-duplication, atomicity."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

import pyarrow as pa
import pytest

from tidings import Workspace
from tidings.ingest import Chunk, Problem, Reader, ReadOptions
from tidings.ingest._pipeline import run_ingest


class ListReader(Reader):
    """A reader over rows given in memory, so the pipeline is tested without any format."""

    name: ClassVar[str] = "list"
    label: ClassVar[str] = "in-memory rows"
    platform: ClassVar[str | None] = "testnet"
    numbering = "line"

    def __init__(self, path: Path, rows: list[dict[str, object]], fail_after: bool = False):
        super().__init__(path, ReadOptions())
        self.rows = rows
        self.fail_after = fail_after

    @classmethod
    def sniff(cls, path: Path, head: bytes) -> bool:
        return False

    def read(self) -> Iterator[Chunk]:
        good = [dict(r, _record=i + 1) for i, r in enumerate(self.rows) if "bad" not in r]
        probs = [
            Problem(i + 1, "created_at", "unparseable date", "x")
            for i, r in enumerate(self.rows)
            if "bad" in r
        ]
        keys = sorted({k for r in good for k in r})
        table = pa.Table.from_pylist([{k: r.get(k) for k in keys} for r in good])
        yield Chunk(posts=table, problems=probs)
        if self.fail_after:
            raise RuntimeError("interrupted")


T0 = datetime(2014, 6, 10, 12, 0, tzinfo=UTC)


def rows() -> list[dict[str, object]]:
    return [
        {
            "post_id": "1",
            "account_id": "a",
            "created_at": T0,
            "text": "hi",
            "urls": ["", "http://x"],
        },
        {"post_id": "2", "account_id": "b", "created_at": T0, "hashtags": ["#WorldCup", " "]},
        {"post_id": "2", "account_id": "b", "created_at": T0},
        {"post_id": "", "account_id": "c", "created_at": T0, "text": "no id"},
        {"post_id": "4", "account_id": "", "created_at": T0},
        {"bad": True},
    ]


def posts(ws: Workspace) -> list[dict[str, object]]:
    con = ws.connect()
    return con.sql("select * from posts order by post_id").to_arrow_table().to_pylist()


def test_validation_dedup_and_derived_ids(ws: Workspace, tmp_path: Path) -> None:
    res = run_ingest(ws, [ListReader(tmp_path / "f", rows())], dataset="d")
    assert (res.read, res.stored, res.duplicates, res.quarantined) == (6, 3, 1, 2)
    assert res.derived_ids == 1
    got = {p["post_id"]: p for p in posts(ws)}
    assert got["1"]["urls"] == ["http://x"]
    assert got["2"]["hashtags"] == ["worldcup"]
    derived = [k for k in got if k.startswith("d")]
    assert len(derived) == 1 and got[derived[0]]["account_id"] == "c"
    assert got["1"]["platform"] == "testnet" and got["1"]["kind"] == "post"
    with ws.catalog(read_only=True) as con:
        q = con.execute("select record, field from quarantine order by record").fetchall()
    assert q == [(5, "account_id"), (6, "created_at")]


def test_reingest_stores_nothing_new(ws: Workspace, tmp_path: Path) -> None:
    run_ingest(ws, [ListReader(tmp_path / "f", rows())], dataset="d")
    again = run_ingest(ws, [ListReader(tmp_path / "f", rows())], dataset="d")
    assert again.stored == 0 and again.duplicates == 4
    assert len(posts(ws)) == 3


def test_failed_ingest_leaves_workspace_unchanged(ws: Workspace, tmp_path: Path) -> None:
    run_ingest(ws, [ListReader(tmp_path / "f", rows())], dataset="d")
    before = sorted(p.name for p in ws.table_files("posts"))
    new = [{"post_id": "9", "account_id": "z", "created_at": T0}]
    with pytest.raises(RuntimeError):
        run_ingest(ws, [ListReader(tmp_path / "g", new, fail_after=True)], dataset="d")
    assert sorted(p.name for p in ws.table_files("posts")) == before
    assert "9" not in {p["post_id"] for p in posts(ws)}
    assert len(posts(ws)) == 3
    assert not any((ws.path / ".staging").iterdir())


def test_stager_writes_in_order_and_reports_writer_errors(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    from tidings import schema
    from tidings.ingest._pipeline import _Stager

    stager = _Stager(tmp_path, "p", schema.POSTS)
    for i in range(5):
        stager.write(pa.Table.from_pylist([{"post_id": str(i), "account_id": "a",
                                            "created_at": T0}], schema=schema.POSTS))  # fmt: skip
    stager.close()
    written = pa.concat_tables(pq.read_table(f) for f in stager.files)
    assert written.column("post_id").to_pylist() == ["0", "1", "2", "3", "4"]

    broken = _Stager(tmp_path, "q", schema.POSTS)
    broken.write(pa.table({"post_id": ["x"], "unexpected": [1]}))  # cannot be cast: fails
    with pytest.raises((ValueError, KeyError, pa.ArrowInvalid)):
        broken.close()
