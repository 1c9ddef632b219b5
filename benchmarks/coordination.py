"""Coordination benchmark: `tidings coordinate` on generated collections, CNT 1.5.2 side by side.

Every measured step runs as its own subprocess; wall time, CPU time and the peak resident memory
of the whole process tree (sampled every 50 ms with psutil) are reported as a table and as one
JSON file under bench-data/. The collection is the demo generator's (planted groups, app
campaign, bomb, hijack), written once under bench-data/ and reused.

Steps (``--steps``, default all):

- ``exact``: all exact kinds (repost, quote, reply, text, url, domain, hashtag_set, app) at the
  default windows (10 s, 1 min, 10 min, 1 h), scores, communities and evidence, Parquet in,
  Parquet out (the workspace's posts are the generated Parquet file, linked in). Target at 10M
  posts: <= 60 s on 2 cores, and >= 6x faster than CNT's preprocess + co_tweet + co_retweet.
- ``near``: the near-duplicate kind alone (MinHash LSH bands). Target >= 50k posts/s.
- ``storm``: 1M posts plus one post reposted by 20,000 accounts in 15 minutes (all exact kinds,
  edges written at weight >= 1), against the same 1M without it. Target: <= 1e6 edges and <= 30 s
  added, and the post listed in hot_keys.
- ``cnt``: coordination-network-toolkit 1.5.2 installed from PyPI into its own venv under
  bench-data/, fed a CSV of the same posts, timed on preprocess + co_tweet + co_retweet at
  --time_window 60 (its CLI default is 1 s) and --min_edge_weight 1; then parity: our repost
  edges at W = 60 s, weight >= 1, hot-key bounding off, must equal its co_retweet pairs
  (undirected, no self-loops) and our text pairs must contain its co_tweet pairs (checked with
  the default text length rule and without it: CNT also links two-word greetings).

    python benchmarks/coordination.py --posts 1000000
    python benchmarks/coordination.py --posts 10000000              # the acceptance run
    python benchmarks/coordination.py --posts 50000000 --steps exact   # 5 shards of 10M
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench-data"
SHARD = 10_000_000
CNT_VERSION = "1.5.2"
STEPS = ("exact", "near", "storm", "cnt")


# -- measuring ----------------------------------------------------------------------------------
def measure(cmd: list[str], *, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run ``cmd``; wall seconds, CPU seconds and peak RSS (GB) of its process tree."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True)
    peak = 0
    cpu: dict[int, float] = {}
    done = threading.Event()

    def poll() -> None:
        nonlocal peak
        root = psutil.Process(proc.pid)
        while not done.is_set():
            try:
                procs = [root, *root.children(recursive=True)]
                rss = 0
                for p in procs:
                    try:
                        rss += p.memory_info().rss
                        t = p.cpu_times()
                        cpu[p.pid] = t.user + t.system + t.children_user + t.children_system
                    except psutil.NoSuchProcess:
                        continue
                peak = max(peak, rss)
            except psutil.NoSuchProcess:
                return
            time.sleep(0.05)

    watcher = threading.Thread(target=poll, daemon=True)
    watcher.start()
    out, _ = proc.communicate()
    done.set()
    watcher.join()
    wall = time.perf_counter() - start
    if proc.returncode:
        raise SystemExit(f"step failed ({proc.returncode}): {' '.join(cmd)}")
    lines = [ln for ln in out.splitlines() if ln.startswith("{")]
    result = json.loads(lines[-1]) if lines else {}
    result.update(
        wall_s=round(wall, 2), cpu_s=round(sum(cpu.values()), 1), peak_gb=round(peak / 2**30, 2)
    )
    return result


def _self(*args: str) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), *args]


# -- data ---------------------------------------------------------------------------------------
def generate(n_posts: int) -> list[Path]:
    """Parquet files of the collection: one up to 10M posts, shards of 10M beyond."""
    from tidings.demo import DemoConfig, generate, write_demo

    shards = max(1, -(-n_posts // SHARD))
    files = []
    for k in range(shards):
        size = min(SHARD, n_posts - k * SHARD)
        out = DATA / f"demo-{size}-s{k + 1}"
        if not (out / "posts.parquet").exists():
            print(f"generating {size:,} posts (shard {k + 1}/{shards}) in {out}", file=sys.stderr)
            start = f"2014-{6 + k:02d}-01" if k < 6 else f"2015-{k - 5:02d}-01"
            demo = generate(DemoConfig(n_posts=size, seed=k + 1, start=start))
            write_demo(demo, out)
            del demo
        files.append(out / "posts.parquet")
    return files


def workspace_with(files: list[Path], name: str) -> Path:
    """A workspace whose posts are ``files`` (hard-linked in: Parquet in, no ingest step)."""
    from tidings import Workspace

    path = DATA / "ws" / name
    if path.exists():
        shutil.rmtree(path)
    ws = Workspace.init(path)
    target = ws.path / "posts" / "bench"
    target.mkdir(parents=True)
    for i, f in enumerate(files):
        try:
            os.link(f, target / f"part-{i}.parquet")
        except OSError:
            shutil.copy(f, target / f"part-{i}.parquet")
    return ws.path


def add_storm(base: Path, out: Path, n: int = 20_000) -> Path:
    """``base`` plus one original reposted by ``n`` distinct accounts within 15 minutes."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    if out.exists():
        return out
    posts = pq.read_table(base)
    original = posts.filter(pc.is_null(posts.column("repost_of"))).slice(1000, 1)
    target = original.column("post_id")[0].as_py()
    start = original.column("created_at")[0].as_py() + timedelta(hours=1)
    accounts = pc.unique(posts.column("account_id")).slice(0, n)
    rows: dict[str, Any] = {
        "post_id": [f"storm-{i}" for i in range(n)],
        "account_id": accounts,
        "created_at": [start + timedelta(seconds=900 * i / n) for i in range(n)],
        "kind": ["repost"] * n,
        "repost_of": [target] * n,
        "source": ["Twitter for Android"] * n,
    }
    storm = pa.table(
        {f.name: rows.get(f.name, pa.nulls(n, f.type)) for f in posts.schema}, schema=posts.schema
    )
    pq.write_table(pa.concat_tables([posts, storm]), out, compression="zstd")
    return out


# -- our steps (run in a subprocess: `coordination.py _run WS OUT KINDS ...`) --------------------
def run_coordinate(ws: str, out: str, kinds: str, options: str) -> None:
    from tidings import coordinate

    opts = json.loads(options)
    result = coordinate(ws, out=out, kinds=tuple(kinds.split(",")), **opts)
    print(json.dumps({"counts": result.summary["counts"], "timings": result.summary["timings_s"],
                      "thresholds": result.summary["thresholds"]}))  # fmt: skip


def ours(ws: Path, name: str, kinds: tuple[str, ...], **options: Any) -> dict[str, Any]:
    out = DATA / "out" / name
    shutil.rmtree(out, ignore_errors=True)
    return measure(_self("_run", str(ws), str(out), ",".join(kinds), json.dumps(options)))


# -- CNT ----------------------------------------------------------------------------------------
def cnt_python() -> Path:
    venv = DATA / "cnt-venv"
    python = venv / "bin" / "python"
    marker = venv / f".cnt-{CNT_VERSION}"
    if not marker.exists():
        print(f"installing coordination-network-toolkit=={CNT_VERSION} in {venv}", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "-q",
                f"coordination-network-toolkit=={CNT_VERSION}",
            ],
            check=True,
        )
        marker.touch()
    return python


def cnt_csv(files: list[Path], out: Path) -> Path:
    """CNT's CSV (message_id, user_id, username, repost_id, reply_id, message, timestamp, urls)."""
    import duckdb

    if out.exists():
        return out
    listing = ", ".join(f"'{f}'" for f in files)
    duckdb.sql(
        "COPY (SELECT post_id AS message_id, account_id AS user_id, "
        "coalesce(account_name, account_id) AS username, coalesce(repost_of, '') AS repost_id, "
        "coalesce(reply_to, '') AS reply_id, coalesce(text, '') AS message, "
        "CAST(epoch(created_at) AS BIGINT) AS timestamp, "
        "coalesce(array_to_string(urls, ' '), '') AS urls "
        f"FROM read_parquet([{listing}])) TO '{out}' (HEADER, DELIMITER ',')"
    )
    return out


def run_cnt(files: list[Path]) -> dict[str, Any]:
    python = cnt_python()
    csv_path = cnt_csv(files, DATA / f"cnt-{sum(f.stat().st_size for f in files)}.csv")
    db = DATA / "cnt.db"
    for p in DATA.glob("cnt.db*"):
        p.unlink()
    cli = [str(python), "-m", "coordination_network_toolkit", str(db)]
    window_args = ["--time_window", "60", "--min_edge_weight", "1", "--n_cpus", "2"]
    steps = {
        "preprocess": [*cli, "preprocess", "--format", "csv", str(csv_path)],
        **{kind: [*cli, "compute", kind, *window_args] for kind in ("co_tweet", "co_retweet")},
    }
    result: dict[str, Any] = {"version": CNT_VERSION}
    for name, cmd in steps.items():
        print(f"CNT {name}", file=sys.stderr)
        result[name] = measure(cmd)
    result["total_wall_s"] = round(sum(result[s]["wall_s"] for s in steps), 1)
    result["total_cpu_s"] = round(sum(result[s]["cpu_s"] for s in steps), 1)
    result["peak_gb"] = max(result[s]["peak_gb"] for s in steps)
    return result


def cnt_pairs(table: str) -> set[tuple[str, str]]:
    con = sqlite3.connect(DATA / "cnt.db")
    rows = con.execute(f"SELECT user_1, user_2 FROM {table} WHERE user_1 <> user_2").fetchall()
    con.close()
    return {(min(str(a), str(b)), max(str(a), str(b))) for a, b in rows}


def parity(ws: Path) -> dict[str, Any]:
    """Our repost and text pairs at W = 60 s, weight >= 1, bounding off, against CNT's."""
    import pyarrow.parquet as pq

    run = ours(ws, "parity", ("repost", "text"), windows=[60], min_weight=1, hot_cap=0)
    edges = pq.read_table(DATA / "out" / "parity" / "edges.parquet").to_pylist()
    repost = {(e["account_a"], e["account_b"]) for e in edges if e["w_repost"]}
    text = {(e["account_a"], e["account_b"]) for e in edges if e["w_text"]}
    co_retweet, co_tweet = cnt_pairs("co_retweet_network"), cnt_pairs("co_tweet_network")
    # The same with the text length rule off: CNT also links two-word greetings.
    ours(ws, "parity-short", ("text",), windows=[60], min_weight=1, hot_cap=0,
         min_text_chars=1, min_text_words=1)  # fmt: skip
    short = pq.read_table(DATA / "out" / "parity-short" / "edges.parquet").to_pylist()
    text_all = {(e["account_a"], e["account_b"]) for e in short if e["w_text"]}
    return {
        "ours_run": run,
        "text_superset_without_length_rule": text_all >= co_tweet,
        "text_pairs_without_length_rule": len(text_all),
        "repost_pairs": len(repost),
        "cnt_co_retweet_pairs": len(co_retweet),
        "repost_equal": repost == co_retweet,
        "repost_only_ours": len(repost - co_retweet),
        "repost_only_cnt": len(co_retweet - repost),
        "text_pairs": len(text),
        "cnt_co_tweet_pairs": len(co_tweet),
        "text_superset": text >= co_tweet,
        "co_tweet_missing_from_ours": len(co_tweet - text),
    }


# -- main ---------------------------------------------------------------------------------------
def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_run":
        run_coordinate(*sys.argv[2:6])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--steps", default=",".join(STEPS), help=f"any of {', '.join(STEPS)}")
    args = parser.parse_args()
    steps = [s.strip() for s in args.steps.split(",") if s.strip()]
    from tidings.coordination import EXACT_KINDS

    DATA.mkdir(exist_ok=True)
    files = generate(args.posts)
    n = args.posts
    report: dict[str, Any] = {
        "posts": n,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"{psutil.virtual_memory().total / 2**30:.0f} GB RAM, Python {platform.python_version()}",
        "load_before": os.getloadavg(),
    }
    ws = workspace_with(files, f"bench-{n}")
    if "exact" in steps:
        r = ours(ws, f"exact-{n}", EXACT_KINDS)
        r["posts_per_s"] = round(n / r["wall_s"])
        report["exact"] = r
        print(f"exact kinds + communities: {r['wall_s']} s, {r['peak_gb']} GB", file=sys.stderr)
    if "near" in steps:
        r = ours(ws, f"near-{n}", ("near_text",))
        r["posts_per_s"] = round(n / r["wall_s"])
        report["near"] = r
        print(f"near-duplicates: {r['posts_per_s']:,} posts/s", file=sys.stderr)
    if "storm" in steps:
        base_files = generate(1_000_000)
        stormy = add_storm(base_files[0], DATA / "demo-1000000-storm.parquet")
        base = ours(workspace_with(base_files, "storm-base"), "storm-base", EXACT_KINDS,
                    min_weight=1)  # fmt: skip
        hit = ours(workspace_with([stormy], "storm"), "storm", EXACT_KINDS, min_weight=1)
        import pyarrow.parquet as pq

        hot = pq.read_table(DATA / "out" / "storm" / "hot_keys.parquet").to_pylist()
        report["storm"] = {
            "base": base,
            "storm": hit,
            "added_edges": hit["counts"]["edges"] - base["counts"]["edges"],
            "added_s": round(hit["wall_s"] - base["wall_s"], 2),
            "storm_key_in_hot_keys": any(
                h["rows"] >= 20_000 and h["kind"] == "repost" for h in hot
            ),
        }
    if "cnt" in steps:
        report["cnt"] = run_cnt(files)
        report["parity"] = parity(ws)
        if "exact" in report:
            report["speedup_vs_cnt"] = round(
                report["cnt"]["total_wall_s"] / report["exact"]["wall_s"], 1
            )
    report["load_after"] = os.getloadavg()
    path = DATA / f"coordination-{n}.json"
    # Steps run separately add to one file: the last run of each step is kept.
    previous = json.loads(path.read_text()) if path.exists() else {}
    path.write_text(json.dumps({**previous, **report}, indent=2, default=str))
    print(json.dumps(report, default=str))
    print(f"results in {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
