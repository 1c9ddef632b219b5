"""Exports of a coordination network: GraphML and GEXF parse back with the right nodes, edges and
typed attributes; CSV and Parquet hold the same edges; hostile ids are escaped; the CLI works."""

from __future__ import annotations

import csv
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import igraph as ig
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

import coordination_reference as ref
from tidings import Workspace, coordinate, ingest
from tidings.cli import cli
from tidings.coordination import Coordination
from tidings.coordination.export import export_graph

GEXF = "{http://gexf.net/1.3}"


@pytest.fixture(scope="module")
def coordinated_ws(
    demo_collection: Callable[..., Path], tmp_path_factory: pytest.TempPathFactory
) -> Workspace:
    ws = Workspace.init(tmp_path_factory.mktemp("export") / "ws")
    ingest(ws, [demo_collection(n_posts=30_000) / "posts.parquet"], format="parquet")
    coordinate(ws, out=ws.path / "coord")
    return ws


def _best_edges(ws: Workspace) -> pa.Table:
    """What the export should contain: per significant pair, its best-scoring window."""
    edges = pq.read_table(ws.path / "coord" / "edges.parquet")
    best: dict[tuple[str, str], dict[str, object]] = {}
    for row in edges.filter(edges.column("significant")).to_pylist():
        key = (row["account_a"], row["account_b"])
        if key not in best or (row["score"], -row["window_s"]) > (
            best[key]["score"],
            -best[key]["window_s"],  # type: ignore[operator]
        ):
            best[key] = row
    return pa.Table.from_pylist(list(best.values()))


def test_graphml_parses_back_with_counts_and_attributes(
    coordinated_ws: Workspace, tmp_path: Path
) -> None:
    want = _best_edges(coordinated_ws)
    assert want.num_rows > 100  # not vacuous
    result = export_graph(coordinated_ws, tmp_path / "g.graphml", format="graphml")
    g = ig.Graph.Read_GraphML(str(tmp_path / "g.graphml"))
    accounts = set(want.column("account_a").to_pylist()) | set(want.column("account_b").to_pylist())
    assert (g.vcount(), g.ecount()) == (len(accounts), want.num_rows)
    assert (result.nodes, result.edges) == (g.vcount(), g.ecount())
    assert not g.is_directed()
    assert set(g.vs["label"]) == accounts
    by_pair = {tuple(sorted((g.vs[e.source]["label"], g.vs[e.target]["label"]))): e for e in g.es}
    for row in want.to_pylist()[:200]:
        e = by_pair[(row["account_a"], row["account_b"])]
        assert e["score"] == pytest.approx(row["score"])
        assert e["weight"] == row["weight"] and e["window_s"] == row["window_s"]
    communities = pq.read_table(coordinated_ws.path / "coord" / "communities.parquet")
    member = dict(
        zip(
            communities.column("account_id").to_pylist(),
            communities.column("community_id").to_pylist(),
            strict=True,
        )
    )
    assert all(v["community_id"] == member[v["label"]] for v in g.vs)


def test_gexf_parses_back_with_counts_and_typed_attributes(
    coordinated_ws: Workspace, tmp_path: Path
) -> None:
    want = _best_edges(coordinated_ws)
    export_graph(coordinated_ws, tmp_path / "g.gexf", format="gexf")
    root = ET.parse(tmp_path / "g.gexf").getroot()
    graph = root.find(f"{GEXF}graph")
    assert graph is not None and graph.get("defaultedgetype") == "undirected"
    nodes = graph.findall(f"{GEXF}nodes/{GEXF}node")
    edges = graph.findall(f"{GEXF}edges/{GEXF}edge")
    assert len(edges) == want.num_rows
    assert len({n.get("id") for n in nodes}) == len(nodes)
    assert {e.get("source") for e in edges} | {e.get("target") for e in edges} <= {
        n.get("id") for n in nodes
    }
    types = {
        a.get("title"): a.get("type")
        for a in graph.findall(f"{GEXF}attributes[@class='edge']/{GEXF}attribute")
    }
    assert types["score"] == "double" and types["weight"] == "long"
    assert types["significant"] == "boolean"
    weights = sorted(int(e.get("weight", "0")) for e in edges)
    assert weights == sorted(want.column("weight").to_pylist())


def test_csv_and_parquet_hold_the_same_edges(coordinated_ws: Workspace, tmp_path: Path) -> None:
    export_graph(
        coordinated_ws, tmp_path / "e.csv", format="csv", window=60, significant_only=False
    )
    export_graph(
        coordinated_ws, tmp_path / "e.parquet", format="parquet", window=60, significant_only=False
    )
    edges = pq.read_table(coordinated_ws.path / "coord" / "edges.parquet")
    at_60 = edges.filter(pa.compute.equal(edges.column("window_s"), 60))
    with (tmp_path / "e.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    table = pq.read_table(tmp_path / "e.parquet")
    assert len(rows) == table.num_rows == at_60.num_rows
    assert {(r["account_a"], r["account_b"]) for r in rows} == set(
        zip(
            at_60.column("account_a").to_pylist(),
            at_60.column("account_b").to_pylist(),
            strict=True,
        )
    )
    assert {"community_a", "community_b", "score", "w_repost"} <= set(rows[0])


def test_hostile_ids_are_escaped(tmp_path: Path) -> None:
    hostile = ['<script>"a"&b</script>', "x' onload='y", "]]><!--", "مستخدم&<>"]
    posts = []
    for i in range(12):  # the same four accounts repost the same post twelve times
        for j, acc in enumerate(hostile):
            posts.append(
                {"post_id": f"p{i}-{j}", "account_id": acc, "t": i * 7200 + j, "repost_of": f"t{i}"}
            )
    detector = Coordination(windows=(10,), threshold=0.0).fit(ref.posts_table(posts))
    detector.save(tmp_path / "res")
    export_graph(None, tmp_path / "h.graphml", format="graphml", from_dir=tmp_path / "res")
    export_graph(None, tmp_path / "h.gexf", format="gexf", from_dir=tmp_path / "res")
    g = ig.Graph.Read_GraphML(str(tmp_path / "h.graphml"))
    assert set(g.vs["label"]) == set(hostile) and g.ecount() == 6
    nodes = ET.parse(tmp_path / "h.gexf").getroot().iter(f"{GEXF}node")
    assert {n.get("label") for n in nodes} == set(hostile)


def test_cli_coordinate_records_a_run_and_export_finds_it(
    demo_collection: Callable[..., Path], tmp_path: Path
) -> None:
    runner = CliRunner()
    ws_path = tmp_path / "ws"
    runner.invoke(cli, ["init", str(ws_path)], catch_exceptions=False)
    posts = demo_collection(n_posts=30_000) / "posts.parquet"
    runner.invoke(cli, ["ingest", str(ws_path), str(posts), "--format", "parquet"])
    res = runner.invoke(
        cli,
        [
            "coordinate",
            str(ws_path),
            "--out",
            str(tmp_path / "c"),
            "--window",
            "60s",
            "--window",
            "1h",
            "--kinds",
            "repost,text,url",
        ],
        catch_exceptions=False,
    )
    assert res.exit_code == 0, res.output
    assert "results in" in res.output.splitlines()[-1]
    run = Workspace(ws_path).runs("coordinate")[0]
    assert run["status"] == "ok" and run["kind"] == "coordinate"
    assert "Bonferroni" in run["summary"]  # the threshold's reason is recorded
    assert set(pq.read_table(tmp_path / "c" / "edges.parquet").column("window_s").to_pylist()) <= {
        60,
        3600,
    }
    res = runner.invoke(
        cli,
        [
            "export",
            str(ws_path),
            "--run",
            run["run_id"],
            "--format",
            "gexf",
            "--out",
            str(tmp_path / "n.gexf"),
        ],
        catch_exceptions=False,
    )
    assert res.exit_code == 0 and "written as gexf" in res.output
    assert ET.parse(tmp_path / "n.gexf").getroot().tag == f"{GEXF}gexf"


def test_cli_errors_are_one_line(tmp_path: Path) -> None:
    runner = CliRunner()
    Workspace.init(tmp_path / "ws")
    res = runner.invoke(
        cli, ["export", str(tmp_path / "ws"), "--format", "csv", "--out", str(tmp_path / "x.csv")]
    )
    assert res.exit_code == 1
    assert "no coordination run yet" in res.output and "Traceback" not in res.output
    res = runner.invoke(cli, ["coordinate", str(tmp_path / "ws"), "--window", "soon"])
    assert res.exit_code == 1 and "expected a duration" in res.output
    res = runner.invoke(cli, ["coordinate", str(tmp_path / "ws")])
    assert res.exit_code == 1 and "no posts" in res.output
