"""Campaign detectors on a generated collection: `tidings campaigns` wall time, CPU and memory.

The input is the demo collection (`tidings.demo`, every planted component on), written once
under bench-data/ with each post's author profile beside it and ingested into a workspace that
is kept for later runs. The benchmark then runs the real command, as a subprocess:

    tidings campaigns WS --out DIR

and reports its wall time, the CPU seconds of the process tree (user + system: the figure least
disturbed by other load on the machine), the peak resident memory of the tree (sampled every
50 ms with psutil), the per-step timings the run recorded in the catalog, and whether the
planted app campaign, bomb and hijack were found (recall of their accounts).

    python benchmarks/campaigns.py --posts 1000000
    python benchmarks/campaigns.py --posts 10000000

Target (issue 5): all campaign detectors on 10M posts in at most 60 s on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import psutil
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
TARGET_S = {10_000_000: 60.0}


def prepare(posts: int, data: Path, seed: int) -> tuple[Path, Path]:
    """A workspace holding the demo collection (and its truth), built once and then reused."""
    base = data / f"campaigns-{posts}-seed{seed}"
    ws_path = base / "ws"
    truth = base / "demo"
    if (ws_path / "catalog.duckdb").is_file() and (truth / "truth").is_dir():
        return ws_path, truth
    from tidings import Workspace, ingest
    from tidings.demo import DemoConfig, generate, write_demo

    base.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    demo = generate(DemoConfig(n_posts=posts, seed=seed))
    write_demo(demo, truth)
    print(f"generated {demo.posts.num_rows:,} posts in {time.perf_counter() - t0:.0f} s")
    del demo
    profiled = base / "posts-profiled.parquet"
    duckdb.sql(
        f"COPY (SELECT p.* EXCLUDE (raw), a.created_at AS account_created_at "
        f"FROM '{truth / 'posts.parquet'}' p "
        f"LEFT JOIN '{truth / 'accounts.parquet'}' a USING (account_id)) "
        f"TO '{profiled}' (FORMAT parquet)"
    )
    t0 = time.perf_counter()
    ws = Workspace.init(ws_path)
    res = ingest(ws, [profiled], format="parquet", dataset="demo")
    print(f"ingested {res.stored:,} posts in {time.perf_counter() - t0:.0f} s")
    profiled.unlink()
    return ws_path, truth


def run(ws_path: Path, out: Path) -> dict[str, float]:
    """`tidings campaigns` as a subprocess: wall, CPU of the tree, peak RSS of the tree."""
    exe = Path(sys.executable).with_name("tidings")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [str(exe), "campaigns", str(ws_path), "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    peak = 0
    ps = psutil.Process(proc.pid)
    while proc.poll() is None:
        try:
            rss = ps.memory_info().rss + sum(c.memory_info().rss for c in ps.children(True))
        except psutil.Error:
            rss = 0
        peak = max(peak, rss)
        time.sleep(0.05)
    wall = time.perf_counter() - t0
    stdout = proc.stdout.read() if proc.stdout else ""
    if proc.returncode != 0:
        raise SystemExit(f"tidings campaigns failed ({proc.returncode}):\n{stdout}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    print(stdout.strip().splitlines()[-1])
    return {"seconds": wall, "cpu_s": cpu, "peak_gb": peak / 2**30}


def quality(out: Path, truth: Path) -> dict[str, float]:
    """Share of each planted group's accounts found in a campaign of the matching kind."""
    labels = pq.read_table(truth / "truth" / "accounts.parquet").to_pylist()
    camps = {
        r["campaign_id"]: r["kind"] for r in pq.read_table(out / "campaigns.parquet").to_pylist()
    }
    members = pq.read_table(out / "campaign_members.parquet").to_pylist()
    kinds = {"app": ("app", "identical_text"), "bomb": ("burst",), "hijack": ("hijack",)}
    found: dict[str, float] = {}
    for label, wanted in kinds.items():
        planted = {r["account_id"] for r in labels if r["label"] == label}
        got = {m["account_id"] for m in members if camps[m["campaign_id"]] in wanted}
        found[f"recall_{label}"] = len(planted & got) / max(len(planted), 1)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=int, default=10_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data", type=Path, default=ROOT / "bench-data")
    args = parser.parse_args()
    ws_path, truth = prepare(args.posts, args.data, args.seed)
    out = ws_path / "bench-campaigns"
    load_before = os.getloadavg()
    figures = run(ws_path, out)
    load_after = os.getloadavg()
    from tidings import Workspace

    summary = Workspace(ws_path).runs("campaigns")[0]["summary"]
    steps = json.loads(summary) if isinstance(summary, str) else summary
    result = {
        "posts": args.posts,
        **{k: round(v, 2) for k, v in figures.items()},
        "posts_per_s": round(args.posts / figures["seconds"]),
        "target_s": TARGET_S.get(args.posts),
        "steps_s": steps["timings_s"],
        "campaigns": steps["by_kind"],
        **{k: round(v, 3) for k, v in quality(out, truth).items()},
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in load_after],
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }
    print(
        f"| {args.posts:,} | {figures['seconds']:.1f} s | {figures['cpu_s']:.0f} s | "
        f"{figures['peak_gb']:.1f} GB | {result['posts_per_s']:,}/s | "
        f"app {result['recall_app']:.2f}, bomb {result['recall_bomb']:.2f}, "
        f"hijack {result['recall_hijack']:.2f} |"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
