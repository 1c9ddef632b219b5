"""`tidings demo` end to end at a small size, and `tidings report` on its workspace."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow.parquet as pq
from click.testing import CliRunner

from tidings import Workspace
from tidings.cli import cli


def _number(pattern: str, line: str) -> int:
    m = re.search(pattern, line)
    assert m, line
    return int(m[1].replace(",", ""))


def test_demo_generates_ingests_and_ends_with_the_report_path(tmp_path: Path) -> None:
    ws_dir = tmp_path / "demo-ws"
    result = CliRunner().invoke(
        cli, ["demo", "--workspace", str(ws_dir), "--posts", "20000", "--seed", "3"]
    )
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    report = Path(lines[-1])
    assert report.is_file() and report.suffix == ".html"
    assert report.is_relative_to(ws_dir / "runs")
    generated = next(line for line in lines if line.startswith("generate:"))
    n_posts = _number(r"generate: ([\d,]+) posts", generated)
    ingested = next(line for line in lines if line.startswith("ingest:"))
    stored = _number(r"stored ([\d,]+)", ingested)
    assert stored == n_posts and "quarantined 0" in ingested
    assert any(line.startswith("report:") for line in lines)

    ws = Workspace(ws_dir)
    assert ws.connect().sql("SELECT count(*) FROM posts").fetchall()[0][0] == n_posts
    truth = pq.read_table(ws_dir / "demo-input" / "truth" / "accounts.parquet")
    assert truth.num_rows > 0
    assert ws.runs(kind="report")[0]["out_dir"] == str(report.parent)

    again = CliRunner().invoke(cli, ["report", str(ws_dir), "--out", str(tmp_path / "r.html")])
    assert again.exit_code == 0, again.output
    assert again.output.strip().splitlines()[-1] == str(tmp_path / "r.html")
    assert (tmp_path / "r.html").read_text("utf-8").count("chart-data") > 3


def test_report_on_a_missing_workspace_is_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["report", str(tmp_path / "nope")])
    assert result.exit_code == 1
    assert "not a tidings workspace" in result.output
    assert "Traceback" not in result.output
