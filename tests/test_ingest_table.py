"""Generic CSV and Parquet tables: named and mapped columns, values, line numbers, repeats."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tidings import Workspace
from tidings.errors import InputError
from tidings.ingest import detect_format, ingest
from tidings.ingest import table as table_mod


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def posts(ws: Workspace) -> dict[str, dict[str, Any]]:
    rows = ws.connect().sql("select * from posts").to_arrow_table().to_pylist()
    return {r["post_id"]: r for r in rows}


def quarantine(ws: Workspace) -> list[tuple[Any, ...]]:
    with ws.catalog(read_only=True) as con:
        return con.execute(
            "select record, field, reason from quarantine order by record"
        ).fetchall()


def t(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_canonical_columns_values_and_raw(ws: Workspace, tmp_path: Path) -> None:
    f = write(
        tmp_path / "posts.csv",
        "post_id,account_id,account_name,created_at,text,urls,hashtags,lat,lon,note\n"
        '1,a,Ann,2014-06-10T12:00:00Z,hello,"[""http://x.org/1"", """"]",#One Two,33.3,44.4,kept\n'
        "2,b,Bob,2014-06-10 15:00:00+03:00,,http://y.org/2 http://z.org/3,,,,\n"
        "3,c,,1402401600,x,[],,,,\n"
        "4,d,,1402401600000,y,,,,,\n"
        "5,e,,6/10/2014 12:00,z,,,,,\n"
        "6,f,,2014-06-10 12:00,  padded  ,,,,,\n",
    )
    assert detect_format(f).name == "generic-csv"
    res = ingest(ws, [f])
    assert (res.read, res.stored, res.quarantined, res.derived_ids) == (6, 6, 0, 0)
    got = posts(ws)
    noon = t(2014, 6, 10, 12)
    assert {k: p["created_at"] for k, p in got.items()} == dict.fromkeys("123456", noon)
    assert got["1"]["urls"] == ["http://x.org/1"]  # the empty string is never a URL
    assert got["1"]["hashtags"] == ["one", "two"]
    assert (got["1"]["lat"], got["1"]["lon"]) == (33.3, 44.4)
    assert json.loads(got["1"]["raw"]) == {"note": "kept"}  # only what no field took
    assert got["2"]["urls"] == ["http://y.org/2", "http://z.org/3"]
    assert got["2"]["text"] is None and got["3"]["urls"] == []
    assert got["6"]["text"] == "padded"
    assert all(p["platform"] == "unknown" and p["kind"] == "post" for p in got.values())


def test_naive_times_are_read_in_the_given_zone(ws: Workspace, tmp_path: Path) -> None:
    f = write(
        tmp_path / "p.csv",
        "post_id,account_id,created_at\n1,a,2014-06-10 15:00\n2,a,2014-06-10T12:00:00Z\n",
    )
    ingest(ws, [f], timezone="Asia/Baghdad")
    got = posts(ws)
    assert got["1"]["created_at"] == got["2"]["created_at"] == t(2014, 6, 10, 12)


def test_map_renames_and_accounts_come_from_profile_columns(ws: Workspace, tmp_path: Path) -> None:
    f = write(
        tmp_path / "export.csv",
        "name,username,followers,numberstatuses,time,tweets,location\n"
        "Ann A,ann,10,5,1/6/2015 21:07,first,\n"
        "Ann A,ann,12,6,1/6/2015 21:09,second,\n"
        "Bob B,bob,3,1,1/7/2015 08:00,third,\n",
    )
    # `location` is a profile column with no value in the whole file.
    cmap = {
        "account_id": "username",
        "created_at": "time",
        "text": "tweets",
        "display_name": "name",
        "followers": "followers",
        "statuses": "numberstatuses",
    }
    res = ingest(ws, [f], column_map=cmap, platform="twitter")
    assert (res.stored, res.derived_ids, res.accounts) == (3, 3, 2)
    got = sorted(posts(ws).values(), key=lambda p: p["created_at"])
    assert [p["text"] for p in got] == ["first", "second", "third"]
    assert got[0]["created_at"] == t(2015, 1, 6, 21, 7) and got[0]["platform"] == "twitter"
    accounts = ws.connect().sql("select * from accounts order by account_id").to_arrow_table()
    rows = accounts.to_pylist()
    assert [(r["account_id"], r["display_name"], r["followers"], r["statuses"]) for r in rows] == [
        ("ann", "Ann A", 12, 6),
        ("bob", "Bob B", 3, 1),
    ]
    assert {r["location"] for r in rows} == {None}


def test_missing_required_column_names_it_and_the_map(ws: Workspace, tmp_path: Path) -> None:
    f = write(tmp_path / "p.csv", "id,user,when\n1,a,2014-06-10\n")
    with pytest.raises(InputError) as err:
        ingest(ws, [f], column_map={"account_id": "user"})
    msg = str(err.value)
    assert "missing required column 'created_at'" in msg
    assert "--map created_at=when" in msg and "id, user, when" in msg
    with pytest.raises(InputError, match="no column 'usr'"):
        ingest(ws, [f], column_map={"account_id": "usr", "created_at": "when"})
    with pytest.raises(InputError, match="unknown field 'author'"):
        ingest(ws, [f], column_map={"author": "user", "created_at": "when"})
    assert ws.table_files("posts") == []


def test_bad_values_are_quarantined_with_field_and_line(ws: Workspace, tmp_path: Path) -> None:
    f = write(
        tmp_path / "p.csv",
        "post_id,account_id,created_at,lat,followers,kind,lang,text\n"
        "1,a,2014-06-10,91.5,1,R,English,ok\n"  # line 2: latitude out of range
        "2,a,2014-06-10,1,-3,,,ok\n"  # line 3: negative count
        "3,a,2014-13-45,1,1,,,ok\n"  # line 4: no such date
        "4,a,2014-06-10,x,1,,,ok\n"  # line 5: not a number
        "5,a,2014-06-10,,,sideways,,ok\n"  # line 6: unknown kind
        "6,a,2014-06-10,,7.0,Q,Farsi (Persian),ok\n"
        "7,a,2014-06-10,,,r,xx,ok\n",
    )
    res = ingest(ws, [f])
    assert (res.read, res.stored, res.quarantined) == (7, 2, 5)
    q = quarantine(ws)
    assert [(r, fld) for r, fld, _ in q] == [
        (2, "lat"),
        (3, "followers"),
        (4, "created_at"),
        (5, "lat"),
        (6, "kind"),
    ]
    assert "'2014-13-45'" in q[2][2] and "column 'created_at'" in q[2][2]
    got = posts(ws)
    assert (got["6"]["kind"], got["6"]["lang"]) == ("quote", "fa")
    assert (got["7"]["kind"], got["7"]["lang"]) == ("repost", "xx")
    assert any("p.csv:4: field 'created_at'" in line for line in res.files[0].problems)


def test_line_numbers_survive_quoted_newlines_and_blank_lines(
    ws: Workspace, tmp_path: Path
) -> None:
    f = write(
        tmp_path / "p.csv",
        "post_id,account_id,created_at,text\n"
        '1,a,2014-06-10,"two\nlines"\n'  # lines 2-3
        "\n"  # line 4, blank
        '2,a,2014-06-10,"three\nmore\nlines"\n'  # lines 5-7
        "3,a,never,x\n",  # line 8
    )
    res = ingest(ws, [f])
    assert res.stored == 2
    assert [(r, fld) for r, fld, _ in quarantine(ws)] == [(8, "created_at")]
    assert posts(ws)["2"]["text"] == "three\nmore\nlines"


def test_blocks_cut_at_record_boundaries(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Tiny blocks, so quoted newlines and doubled quotes straddle many block edges.
    monkeypatch.setattr(table_mod, "_BLOCK", 50)
    rows = ["post_id,account_id,created_at,text"]
    for i in range(300):
        text = f'"say ""hi"" {i}\nand, then {i}"' if i % 3 == 0 else f"plain {i}"
        created = "not a date" if i == 250 else "2014-06-10"
        rows.append(f"{i},a{i % 7},{created},{text}")
    f = write(tmp_path / "p.csv", "\n".join(rows) + "\n")
    res = ingest(ws, [f])
    assert (res.stored, res.quarantined) == (299, 1)
    got = posts(ws)
    assert got["3"]["text"] == 'say "hi" 3\nand, then 3'
    assert got["4"]["text"] == "plain 4"
    # Row i starts on line 2 + i + (number of multi-line rows before it).
    expected_line = 2 + 250 + sum(1 for i in range(250) if i % 3 == 0)
    assert quarantine(ws)[0][:2] == (expected_line, "created_at")


def test_ragged_row_is_quarantined_rest_stored(ws: Workspace, tmp_path: Path) -> None:
    f = write(
        tmp_path / "p.csv",
        "post_id,account_id,created_at\n1,a,2014-06-10\n2,a,2014-06-10,extra\n3,a,2014-06-10\n",
    )
    res = ingest(ws, [f])
    assert (res.stored, res.quarantined) == (2, 1)
    assert quarantine(ws) == [(3, None, "expected 3 cells as in the header, found 4")]


def test_tab_separated_and_bom(ws: Workspace, tmp_path: Path) -> None:
    f = tmp_path / "p.tsv"
    f.write_bytes("\ufeffpost_id\taccount_id\tcreated_at\n1\ta\t2014-06-10\n".encode())
    res = ingest(ws, [f])
    assert res.stored == 1 and posts(ws)["1"]["account_id"] == "a"


def test_repeated_ids_within_a_file_merge_their_lists(ws: Workspace, tmp_path: Path) -> None:
    # One row per post x shared object, as CooRTweet's german_elections.csv.
    f = write(
        tmp_path / "long.csv",
        "post_id,account_id,created_at,urls,hashtags\n"
        "1,a,2021-08-15,u1,\n"
        "2,b,2021-08-15,u9,\n"
        "1,a,2021-08-15,,h1\n"
        "1,a,2021-08-15,u2,h1\n"
        "2,b,2021-08-15,u9,\n",
    )
    res = ingest(ws, [f])
    assert (res.read, res.stored, res.duplicates) == (5, 2, 3)
    got = posts(ws)
    assert got["1"]["urls"] == ["u1", "u2"] and got["1"]["hashtags"] == ["h1"]
    assert got["2"]["urls"] == ["u9"]
    # Another file repeating an id stored before only counts as a duplicate: stored posts are
    # never rewritten.
    g = write(tmp_path / "later.csv", "post_id,account_id,created_at,urls\n1,a,2021-08-15,u3\n")
    again = ingest(ws, [g])
    assert (again.stored, again.duplicates) == (0, 1)
    assert posts(ws)["1"]["urls"] == ["u1", "u2"]


def test_parquet_with_typed_columns(ws: Workspace, tmp_path: Path) -> None:
    f = tmp_path / "p.parquet"
    table = pa.table(
        {
            "id": pa.array([10, 11, 12], pa.int64()),
            "user": ["a", "b", "c"],
            "ts": pa.array(
                [datetime(2014, 6, 10, 12), datetime(2014, 6, 10, 13), None],
                pa.timestamp("ms"),
            ),
            "urls": pa.array([["http://x"], [], None], pa.list_(pa.string())),
            "score": [1.5, 2.5, 3.5],
        }
    )
    pq.write_table(table, f)
    assert detect_format(f).name == "generic-parquet"
    res = ingest(
        ws,
        [f],
        column_map={"post_id": "id", "account_id": "user", "created_at": "ts"},
        timezone="Asia/Baghdad",
    )
    assert (res.read, res.stored, res.quarantined) == (3, 2, 1)
    got = posts(ws)
    assert got["10"]["created_at"] == t(2014, 6, 10, 9)  # naive Parquet time read in the zone
    assert got["10"]["urls"] == ["http://x"]
    assert json.loads(got["11"]["raw"]) == {"score": 2.5}
    assert quarantine(ws) == [(3, "created_at", "required field is missing or empty")]


def test_canonical_parquet_round_trips(ws: Workspace, tmp_path: Path) -> None:
    from tidings import schema

    rows = [
        {
            "post_id": "1",
            "platform": "twitter",
            "account_id": "a",
            "account_name": "ann",
            "created_at": t(2014, 6, 10, 12),
            "text": "hi #x",
            "lang": "en",
            "kind": "reply",
            "reply_to": "0",
            "urls": ["http://x.org"],
            "hashtags": ["x"],
            "mentions": [],
            "media": [],
            "lat": 1.5,
            "lon": 2.5,
            "withheld_in": ["DE"],
            "dataset": "elsewhere",
            "raw": '{"id": 1}',
        }
    ]
    f = tmp_path / "canonical.parquet"
    pq.write_table(pa.Table.from_pylist(rows, schema=schema.POSTS), f)
    ingest(ws, [f], dataset="here")
    got = posts(ws)["1"]
    expected = dict(rows[0], dataset="here")
    assert {k: got[k] for k in expected} == expected
    assert got["repost_of"] is None and got["source"] is None


def test_stray_quotes_do_not_swallow_the_file(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A quote in an unquoted header cell, and one in an unquoted value: lenient parsers read them
    # as text. Blocks are tiny here so the unbalanced quote outlives many of them.
    monkeypatch.setattr(table_mod, "_BLOCK", 64)
    monkeypatch.setattr(table_mod, "_MAX_CARRY", 512)
    rows = ['post_id,account_id,created_at,te"xt']
    screen = 'a 5" screen'
    rows += [f"{i},a,2014-06-10,{screen if i == 3 else 'plain'}" for i in range(200)]
    f = write(tmp_path / "p.csv", "\n".join(rows) + "\n")
    res = ingest(ws, [f])
    assert (res.read, res.stored, res.quarantined) == (200, 200, 0)
    got = posts(ws)
    assert json.loads(got["3"]["raw"]) == {'te"xt': 'a 5" screen'}
    assert json.loads(got["0"]["raw"]) == {'te"xt': "plain"}
    assert json.loads(got["199"]["raw"]) == {'te"xt': "plain"}


def test_crlf_line_ends(ws: Workspace, tmp_path: Path) -> None:
    f = tmp_path / "excel.csv"
    f.write_bytes(
        b"post_id,account_id,created_at,text\r\n"
        b'1,a,2014-06-10,"two\r\nlines"\r\n'
        b"2,a,2014-06-10,one\r\n"
        b"3,a,someday,x\r\n"
    )
    res = ingest(ws, [f])
    assert (res.stored, res.quarantined) == (2, 1)
    got = posts(ws)
    assert got["2"]["text"] == "one" and got["1"]["text"] == "two\r\nlines"
    assert [(r, fld) for r, fld, _ in quarantine(ws)] == [(5, "created_at")]


def test_a_list_that_is_not_json_is_quarantined(ws: Workspace, tmp_path: Path) -> None:
    f = write(
        tmp_path / "p.csv",
        "post_id,account_id,created_at,urls\n"
        '1,a,2014-06-10,"[""http://x.org"", 7]"\n'
        '2,a,2014-06-10,"[""http://x.org"""\n'
        "3,a,2014-06-10,[]\n",
    )
    res = ingest(ws, [f])
    assert (res.stored, res.quarantined) == (2, 1)
    got = posts(ws)
    assert got["1"]["urls"] == ["http://x.org", "7"] and got["3"]["urls"] == []
    assert [(r, fld) for r, fld, _ in quarantine(ws)] == [(3, "urls")]
    assert "not a JSON array" in quarantine(ws)[0][2]
