"""Workspace: layout, settings, engine limits, atomic publish, run records, CLI init."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from tidings import Workspace, WorkspaceError
from tidings.cli import cli


def test_init_creates_layout_and_catalog(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "w")
    for d in ("posts", "accounts", "media", "measurements", "series", "runs"):
        assert (ws.path / d).is_dir()
    assert (ws.path / "catalog.duckdb").is_file()
    assert not list(ws.path.glob(".catalog*tmp"))
    assert ws.datasets() == []


def test_init_refuses_a_non_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "notes.txt").write_text("mine")
    with pytest.raises(WorkspaceError, match="not empty"):
        Workspace.init(tmp_path / "x")
    assert (tmp_path / "x" / "notes.txt").read_text() == "mine"


def test_open_a_non_workspace_says_how_to_create_one(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError, match="tidings init"):
        Workspace(tmp_path)


def test_connections_run_with_explicit_memory_limit_and_temp_dir(ws: Workspace) -> None:
    ws.set("memory_limit", "1GB")
    con = ws.connect()
    ((limit, temp),) = con.sql(
        "select current_setting('memory_limit'), current_setting('temp_directory')"
    ).fetchall()
    assert limit.replace(" ", "") in {"1.0GiB", "953.6MiB", "1GB"}
    assert Path(temp) == ws.path / ".tmp"
    assert con.sql("select count(*) from posts").fetchall() == [(0,)]


def test_publish_rolls_back_files_and_catalog_together(ws: Workspace) -> None:
    with ws.staging() as stage:
        a, b = stage / "a.parquet", stage / "b.parquet"
        a.write_bytes(b"A")
        b.write_bytes(b"B")
        (ws.path / "posts" / "d").mkdir()
        (ws.path / "posts" / "d" / "b.parquet").write_bytes(b"existing")
        moves = {a: ws.path / "posts" / "d" / "a.parquet", b: ws.path / "posts" / "d" / "b.parquet"}
        with pytest.raises(WorkspaceError, match="already exists"), ws.publish(moves) as con:
            con.execute("insert into datasets values ('d', now(), null)")
        assert a.exists(), "the renamed file was moved back"
    assert not (ws.path / "posts" / "d" / "a.parquet").exists()
    assert (ws.path / "posts" / "d" / "b.parquet").read_bytes() == b"existing"
    assert ws.datasets() == []


def test_runs_are_recorded_with_parameters_and_status(ws: Workspace, tmp_path: Path) -> None:
    run = ws.start_run("coordinate", {"window": 60}, out_dir=tmp_path / "out")
    run.summary["edges"] = 12
    ws.finish_run(run)
    (rec,) = ws.runs("coordinate")
    assert rec["run_id"] == run.run_id and rec["status"] == "ok"
    assert '"window": 60' in rec["params"] and '"edges": 12' in rec["summary"]
    assert Path(rec["out_dir"]) == tmp_path / "out"


def test_cli_init_prints_where_and_limits(tmp_path: Path) -> None:
    res = CliRunner().invoke(cli, ["init", str(tmp_path / "w")])
    assert res.exit_code == 0, res.output
    assert "workspace ready" in res.output and "memory_limit" in res.output
    bad = CliRunner().invoke(cli, ["ingest", str(tmp_path / "nope"), "x.csv"])
    assert bad.exit_code == 1
    assert "not a tidings workspace" in bad.output and "Traceback" not in bad.output
