"""Bad input to generic tables: one clear line (file, line, field), and nothing stored is lost.

Each case first ingests good data, then the bad input, then checks that the earlier posts are
exactly as they were, through the library and through the CLI.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from click.testing import CliRunner, Result

from tidings import Workspace
from tidings.cli import cli
from tidings.errors import InputError
from tidings.ingest import ingest

GOOD = (
    "post_id,account_id,created_at,text\ng1,a,2014-06-10T12:00:00Z,first\ng2,b,1402401600,second\n"
)


@pytest.fixture
def stored(ws: Workspace, tmp_path: Path) -> pa.Table:
    good = tmp_path / "good.csv"
    good.write_text(GOOD)
    ingest(ws, [good])
    return snapshot(ws)


def snapshot(ws: Workspace, ids: tuple[str, ...] = ("g1", "g2")) -> pa.Table:
    rel = ws.connect().sql(f"select * from posts where post_id in {ids} order by post_id")
    return rel.to_arrow_table()


def quarantine(ws: Workspace) -> list[tuple[Any, ...]]:
    with ws.catalog(read_only=True) as con:
        return con.execute("select file, record, field, reason from quarantine").fetchall()


def run(ws: Workspace, *args: str) -> Result:
    return CliRunner().invoke(cli, ["ingest", str(ws.path), *args])


def assert_one_line_error(result: Result, *parts: str) -> None:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.output
    for part in parts:
        assert part in errors[0], (part, errors[0])


def write_bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


CASES: dict[str, Callable[[Path], Path]] = {
    "empty": lambda d: write_bytes(d / "empty.csv", b""),
    "missing_column": lambda d: write_bytes(
        d / "nouser.csv", b"post_id,created_at\n9,2014-06-10\n"
    ),
    "json_as_csv": lambda d: write_bytes(d / "tweets.json", b'{"id": 1, "text": "x"}\n'),
    "carriage_returns": lambda d: write_bytes(
        d / "mac.csv", b"post_id,account_id,created_at\r9,z,2014-06-10\r"
    ),
    "binary_under_auto": lambda d: write_bytes(
        d / "image.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64)
    ),
}
MESSAGES = {
    "empty": ("empty.csv", "the file is empty"),
    "missing_column": ("nouser.csv:1", "field 'account_id'", "--map account_id=", "post_id"),
    "json_as_csv": ("tweets.json:1", "looks like JSON, not CSV"),
    "binary_under_auto": ("image.png", "not a format tidings can read"),
    "carriage_returns": ("mac.csv:1", "bare carriage return"),
}
FORMATS = {"json_as_csv": "csv"}


@pytest.mark.parametrize("case", sorted(CASES))
def test_file_level_errors(case: str, ws: Workspace, stored: pa.Table, tmp_path: Path) -> None:
    bad = CASES[case](tmp_path)
    fmt = FORMATS.get(case, "auto")
    with pytest.raises(InputError) as err:
        ingest(ws, [bad], format=fmt)
    assert "\n" not in str(err.value)
    for part in MESSAGES[case]:
        assert part in str(err.value)
    result = run(ws, str(bad), "--format", fmt)
    assert_one_line_error(result, *MESSAGES[case])
    assert snapshot(ws).equals(stored)
    assert len(ws.connect().sql("select * from posts").fetchall()) == 2
    assert quarantine(ws) == []


def test_a_bad_file_among_good_ones_stores_none_of_them(
    ws: Workspace, stored: pa.Table, tmp_path: Path
) -> None:
    fine = tmp_path / "fine.csv"
    fine.write_text("post_id,account_id,created_at\nn1,c,2014-06-11\n")
    bad = CASES["missing_column"](tmp_path)
    assert_one_line_error(run(ws, str(fine), str(bad)), "nouser.csv:1", "account_id")
    assert snapshot(ws, ("g1", "g2", "n1")).equals(stored)


def test_unparseable_date_is_quarantined(ws: Workspace, stored: pa.Table, tmp_path: Path) -> None:
    bad = tmp_path / "dates.csv"
    bad.write_text("post_id,account_id,created_at\nn1,c,2014-06-11\nn2,c,last tuesday\n")
    result = run(ws, str(bad))
    assert result.exit_code == 0, result.output
    assert f"{bad}:3: field 'created_at': unparseable date 'last tuesday'" in result.output
    assert "read 2, stored 1, duplicates 0, quarantined 1" in result.output
    assert quarantine(ws)[0][:3] == (str(bad), 3, "created_at")
    assert snapshot(ws).equals(stored)
    assert len(snapshot(ws, ("g1", "g2", "n1", "n2"))) == 3


def test_invalid_utf8_quarantines_only_that_record(
    ws: Workspace, stored: pa.Table, tmp_path: Path
) -> None:
    bad = tmp_path / "bytes.csv"
    bad.write_bytes(
        b"post_id,account_id,created_at,text\n"
        b"n1,c,2014-06-11,fine\n"
        b"n2,c,2014-06-11,broken \xff\xfe bytes\n"
        b'n3,c,2014-06-11,"caf\xc3\xa9"\n'
    )
    res = ingest(ws, [bad])
    assert (res.read, res.stored, res.quarantined) == (3, 2, 1)
    file, record, field, reason = quarantine(ws)[0]
    assert (file, record, field) == (str(bad), 3, "text")
    assert reason == "invalid UTF-8 bytes in column 'text'"
    assert snapshot(ws, ("n3",)).column("text").to_pylist() == ["café"]
    assert snapshot(ws).equals(stored)


def test_invalid_utf8_message_in_the_cli(ws: Workspace, tmp_path: Path) -> None:
    bad = write_bytes(
        tmp_path / "b.csv", b"post_id,account_id,created_at,text\nn2,c,2014-06-11,\xff\n"
    )
    result = run(ws, str(bad))
    assert result.exit_code == 0
    assert f"{bad}:2: field 'text': invalid UTF-8 bytes in column 'text'" in result.output


def test_unknown_time_zone_is_one_line(ws: Workspace, tmp_path: Path) -> None:
    good = write_bytes(tmp_path / "g.csv", GOOD.encode())
    assert_one_line_error(run(ws, str(good), "--timezone", "Mars/Olympus"), "Mars/Olympus")


def test_bad_bytes_beside_a_very_long_post(ws: Workspace, tmp_path: Path) -> None:
    # The block with bad bytes is re-read row by row; a 300 KB post in it must still be stored.
    long_text = "word " * 60_000
    bad = write_bytes(
        tmp_path / "long.csv",
        b"post_id,account_id,created_at,text\n"
        + f"n1,c,2014-06-11,{long_text}\n".encode()
        + b"n2,c,2014-06-11,\xc3\x28\n",
    )
    res = ingest(ws, [bad])
    assert (res.stored, res.quarantined) == (1, 1)
    assert snapshot(ws, ("n1",)).column("text").to_pylist() == [long_text.strip()]
    assert quarantine(ws)[0][1:3] == (3, "text")
