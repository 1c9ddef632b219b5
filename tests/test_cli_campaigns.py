"""`tidings campaigns WS --out DIR`: the files and columns of DESIGN §4, a run record, a summary
line, escaped labels and one-line errors."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from click.testing import CliRunner

from tidings import Workspace, ingest, schema
from tidings.campaigns import CAMPAIGN_COLUMNS
from tidings.cli import cli

T0 = 1_401_580_800


def test_campaigns_command_writes_the_stable_outputs(
    demo_collection: Callable[..., Path], tmp_path: Path
) -> None:
    src = demo_collection(n_posts=100_000)
    ws = Workspace.init(tmp_path / "ws")
    ingest(ws, [src / "posts.parquet"], format="parquet", dataset="demo")
    out = tmp_path / "camp"
    result = CliRunner().invoke(cli, ["campaigns", str(ws.path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    campaigns = pq.read_table(out / "campaigns.parquet")
    members = pq.read_table(out / "campaign_members.parquet")
    assert tuple(campaigns.column_names[: len(CAMPAIGN_COLUMNS)]) == CAMPAIGN_COLUMNS
    assert members.column_names == ["campaign_id", "account_id", "n_posts"]
    for name in ("account_apps", "apps", "content_keys", "bursts", "burst_bins", "hijack_bins"):
        assert (out / f"{name}.parquet").is_file(), name
    assert campaigns.num_rows > 0
    # Every campaign's counts agree with its members.
    per = Counter(members["campaign_id"].to_pylist())
    posts: Counter[str] = Counter()
    ids, counts = members["campaign_id"].to_pylist(), members["n_posts"].to_pylist()
    for cid, n in zip(ids, counts, strict=True):
        posts[cid] += n
    for row in campaigns.to_pylist():
        assert row["n_accounts"] == per[row["campaign_id"]]
        assert row["n_posts"] == posts[row["campaign_id"]]
        assert row["first_seen"] <= row["last_seen"]
        assert row["label"]
    # Ends with one line saying what it found and where it is.
    kinds = Counter(campaigns["kind"].to_pylist())
    run = ws.runs("campaigns")[0]
    counts = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
    last = result.output.strip().splitlines()[-1]
    assert last == (
        f"{campaigns.num_rows:,} campaigns ({counts}) with {members.num_rows:,} memberships "
        f"in {out} (run {run['run_id']})"
    )
    assert run["status"] == "ok" and run["out_dir"] == str(out)


def test_labels_from_the_collection_are_printed_literally(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    app = "[bold red]Relay[/bold red]"
    k, texts = 30, 8
    n_org = 6_000
    accounts = [f"r{a}" for _ in range(texts) for a in range(k)] + [
        f"u{a}" for a in rng.integers(0, 600, n_org)
    ]
    ts = np.concatenate(
        [T0 + t * 86_400 + rng.uniform(0, 3 * 3_600, k) for t in range(texts)]
        + [T0 + rng.uniform(0, 10 * 86_400, n_org)]
    )
    text = [f"the message of day {t} for all of us" for t in range(texts) for _ in range(k)] + [
        f"my own words number {i}" for i in range(n_org)
    ]
    n = len(accounts)
    cols = {
        "post_id": pa.array([f"p{i}" for i in range(n)]),
        "account_id": pa.array(accounts),
        "created_at": pa.array((ts * 1e6).astype(np.int64), schema.POSTS.field("created_at").type),
        "text": pa.array(text),
        "source": pa.array([app] * (k * texts) + ["Twitter for Android"] * n_org),
    }
    pq.write_table(pa.table(cols), tmp_path / "posts.parquet")
    ws = Workspace.init(tmp_path / "ws")
    ingest(ws, [tmp_path / "posts.parquet"], format="parquet")
    result = CliRunner().invoke(cli, ["campaigns", str(ws.path), "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    assert f"app {app}" in result.output


def test_a_directory_that_is_not_a_workspace_gets_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["campaigns", str(tmp_path), "--out", str(tmp_path / "o")])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"error: {tmp_path}: not a tidings workspace (no catalog.duckdb); create one with "
        f"`tidings init {tmp_path}`"
    ]


def test_help_teaches() -> None:
    result = CliRunner().invoke(cli, ["campaigns", "--help"])
    assert result.exit_code == 0
    for words in ("identical_text", "app_switch", "burst", "hijack", "Example:",
                  "tidings campaigns ws --out ws/campaigns", "--min-accounts"):  # fmt: skip
        assert words in result.output, words


def test_an_empty_workspace_gives_empty_tables_with_the_stable_columns(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws")
    out = tmp_path / "o"
    result = CliRunner().invoke(cli, ["campaigns", str(ws.path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    campaigns = pq.read_table(out / "campaigns.parquet")
    assert campaigns.num_rows == 0
    assert tuple(campaigns.column_names[: len(CAMPAIGN_COLUMNS)]) == CAMPAIGN_COLUMNS
    assert pq.read_table(out / "campaign_members.parquet").num_rows == 0
    assert result.output.strip().splitlines()[-1].startswith("0 campaigns (none)")
