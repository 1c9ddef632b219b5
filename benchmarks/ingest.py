"""Ingest throughput and peak memory: `tidings ingest` on generated collections.

The input is the demo collection (`tidings.demo`) written once under bench-data/ as a generic
CSV (DuckDB COPY: lists as JSON arrays or space-separated, as exports have them) and as Twitter
API v1.1 JSONL (`tidings.demo_formats`). Each format is ingested by the real command, as a
subprocess, into a fresh workspace; wall time and the peak resident memory of the whole process
tree (sampled every 50 ms with psutil) are reported as a table and as one JSON line.

    python benchmarks/ingest.py --rows 1000000
    python benchmarks/ingest.py --rows 10000000 --formats csv,v1-jsonl --keep-data
    python benchmarks/ingest.py --rows 1000000 --compare-json-parsers   # v1.1 parse options

Targets (issue 3): generic CSV >= 300k rows/s, v1.1 JSONL >= 100k tweets/s on 2 cores, and 10M
rows within 4 GB peak. For reference, coordination-network-toolkit 1.5.2 preprocesses its CSV at
about 45k rows/s on the same machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import duckdb
import msgspec.inspect as mi
import psutil

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {"csv": 300_000, "v1-jsonl": 100_000}
UNITS = {"csv": "rows", "v1-jsonl": "tweets"}
PEAK_LIMIT_GB = 4.0


@dataclass
class Result:
    format: str
    rows: int
    stored: int
    seconds: float
    rows_per_s: float
    peak_gb: float
    cpu_s: float
    """User + system CPU of the ingest process tree: the figure least disturbed by other load."""
    target_rows_per_s: int
    input_gb: float


def generate(rows: int, data: Path, formats: list[str], seed: int) -> dict[str, Path]:
    """The demo collection in each format, generated once and reused while the files exist."""
    data.mkdir(parents=True, exist_ok=True)
    paths = {"csv": data / f"posts-{rows}.csv", "v1-jsonl": data / f"tweets-v1-{rows}.jsonl"}
    wanted = {f: paths[f] for f in formats}
    if all(p.exists() for p in wanted.values()):
        return wanted
    from tidings.demo import DemoConfig, generate

    t0 = time.perf_counter()
    demo = generate(DemoConfig(n_posts=rows, seed=seed))
    print(
        f"generated {demo.posts.num_rows:,} posts in {time.perf_counter() - t0:.0f} s", flush=True
    )
    if "csv" in wanted and not wanted["csv"].exists():
        con = duckdb.connect()
        con.register("demo", demo.posts)
        tmp = wanted["csv"].with_suffix(".tmp")
        # Lists in both spellings a generic table accepts; no raw column (exports have none).
        con.execute(
            f"""COPY (
                SELECT * EXCLUDE (raw, dataset, urls, media, hashtags, mentions, withheld_in),
                    CASE WHEN len(urls) > 0 THEN to_json(urls) END AS urls,
                    CASE WHEN len(media) > 0 THEN to_json(media) END AS media,
                    array_to_string(hashtags, ' ') AS hashtags,
                    array_to_string(mentions, ' ') AS mentions
                FROM demo
            ) TO '{tmp}' (FORMAT csv, HEADER)"""
        )
        con.close()
        tmp.rename(wanted["csv"])
    if "v1-jsonl" in wanted and not wanted["v1-jsonl"].exists():
        from tidings.demo_formats import write_twitter_v1_jsonl

        tmp = wanted["v1-jsonl"].with_suffix(".tmp")
        write_twitter_v1_jsonl(demo.posts, tmp, accounts=demo.accounts)
        tmp.rename(wanted["v1-jsonl"])
    return wanted


def peak_rss(proc: psutil.Popen) -> tuple[int, float]:
    """Wait for ``proc``; return its exit status and the peak RSS of its tree, in bytes."""
    peak = 0.0
    while proc.poll() is None:
        try:
            procs = [proc, *proc.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in procs))
        except psutil.Error:
            pass
        time.sleep(0.05)
    return proc.returncode, peak


def run(fmt: str, path: Path, work: Path) -> Result:
    ws = work / f"ws-{fmt}"
    shutil.rmtree(ws, ignore_errors=True)
    tidings = [sys.executable, "-m", "tidings.cli"]
    subprocess.run([*tidings, "init", str(ws)], check=True, capture_output=True)
    log = work / f"ingest-{fmt}.log"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    with log.open("w") as out:
        proc = psutil.Popen([*tidings, "ingest", str(ws), str(path)], stdout=out, stderr=out)
        status, peak = peak_rss(proc)
    seconds = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    text = log.read_text()
    if status != 0:
        raise SystemExit(f"ingest of {path} failed ({status}):\n{text}")
    m = re.search(r"read ([\d,]+), stored ([\d,]+)", text)
    if not m:
        raise SystemExit(f"no summary line in the output of ingest {path}:\n{text}")
    read, stored = (int(g.replace(",", "")) for g in m.groups())
    return Result(
        format=fmt,
        rows=read,
        stored=stored,
        seconds=round(seconds, 2),
        rows_per_s=round(read / seconds),
        peak_gb=round(peak / 2**30, 2),
        cpu_s=round(cpu, 1),
        target_rows_per_s=TARGETS[fmt],
        input_gb=round(path.stat().st_size / 2**30, 2),
    )


def _duck_type(t: Any) -> Any:
    """The DuckDB json_transform structure of a msgspec type (the None of a union dropped)."""
    if isinstance(t, mi.UnionType):
        return _duck_type(next(x for x in t.types if not isinstance(x, mi.NoneType)))
    if isinstance(t, mi.StructType):
        return {f.name: _duck_type(f.type) for f in t.fields}
    if isinstance(t, mi.VarTupleType):
        return [_duck_type(t.item_type)]
    return {mi.StrType: "VARCHAR", mi.IntType: "BIGINT", mi.FloatType: "DOUBLE"}[type(t)]


def compare_json_parsers(path: Path, megabytes: int) -> dict[str, float]:
    """CPU µs per tweet to turn v1.1 lines into the fields the reader uses, by each engine.

    The reader (msgspec, then Python per field) against DuckDB's and Arrow's JSON readers given
    exactly the reader's fields (from its msgspec structs). The engines' figures are lower
    bounds: they only parse into nested Arrow, without the reader's rules or type checks.
    """
    import tempfile

    import msgspec
    import numpy as np
    import pyarrow as pa
    import pyarrow.json as pj

    from tidings.ingest import twitter_v1

    with path.open("rb") as fh:
        data = fh.read(megabytes << 20)
    data = data[: data.rfind(b"\n") + 1]
    lines = data.split(b"\n")[:-1]
    n = len(lines)
    structure = json.dumps(_duck_type(msgspec.inspect.type_info(twitter_v1._Tweet)))
    ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10)
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(np.diff(ends, prepend=-1) - 1, out=offsets[1:])
    strings = pa.StringArray.from_buffers(
        n, pa.py_buffer(offsets), pa.py_buffer(data.replace(b"\n", b""))
    )
    step = 900  # about one reader block (2 MB) per record batch
    batches = [pa.record_batch({"raw": strings.slice(i, step)}) for i in range(0, n, step)]
    con = duckdb.connect(config={"threads": 2})
    con.register("lines_table", pa.Table.from_batches(batches))
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        part = Path(tmp) / "part.jsonl"
        part.write_bytes(data)
        read_json_types = {k: _sql_type(v) for k, v in json.loads(structure).items()}
        columns = "{" + ", ".join(f"'{k}': '{v}'" for k, v in read_json_types.items()) + "}"
        decoder = twitter_v1._DECODER.decode

        def reader(compiled: bool) -> None:
            converter = twitter_v1._Converter(compiled=compiled)
            for block in twitter_v1._line_blocks(part):
                converter.convert(block)
            converter.profiles_chunk()
            if compiled and converter.python_blocks:
                raise SystemExit("the compiled scanner gave blocks back; is it built?")

        def transform() -> None:
            con.sql(
                "SELECT json_transform(raw, $s) AS t FROM lines_table", params={"s": structure}
            ).to_arrow_table()

        def read_json() -> None:
            con.sql(
                f"SELECT * FROM read_json('{part}', format = 'newline_delimited', "
                f"columns = {columns})"
            ).to_arrow_table()

        arrow_schema = con.sql(f"SELECT * FROM read_json('{part}', columns = {columns}) LIMIT 0")
        schema_ = arrow_schema.to_arrow_table().schema
        options = pj.ParseOptions(explicit_schema=schema_, unexpected_field_behavior="ignore")

        def arrow_json() -> None:
            pj.read_json(part, parse_options=options)

        cases = {
            "msgspec decode only": lambda: [decoder(x) for x in lines],
            "reader, Python path (msgspec + columns, no pipeline)": lambda: reader(False),
            "reader, compiled scanner (simdjson; no pipeline)": lambda: reader(True),
            "DuckDB json_transform -> Arrow": transform,
            "DuckDB read_json -> Arrow": read_json,
            "pyarrow.json.read_json": arrow_json,
        }
        out: dict[str, float] = {}
        for name, fn in cases.items():
            best = float("inf")
            for _ in range(2):
                cpu0, t0 = time.process_time(), time.perf_counter()
                fn()
                cpu, wall = time.process_time() - cpu0, time.perf_counter() - t0
                best = min(best, cpu)
            out[name] = round(best / n * 1e6, 2)
            print(f"{name:52} {best / n * 1e6:6.2f} CPU µs/tweet  ({wall / n * 1e6:.2f} wall)")
    return out


def _sql_type(t: Any) -> str:
    if isinstance(t, str):
        return t
    if isinstance(t, list):
        return _sql_type(t[0]) + "[]"
    return "STRUCT(" + ", ".join(f'"{k}" {_sql_type(v)}' for k, v in t.items()) + ")"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="posts to generate")
    parser.add_argument("--formats", default="csv,v1-jsonl", help="comma-separated: csv, v1-jsonl")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data", type=Path, default=ROOT / "bench-data", help="where inputs go")
    parser.add_argument(
        "--keep-data",
        action="store_true",
        help="keep the generated inputs and workspaces (and reuse the inputs next time)",
    )
    parser.add_argument(
        "--compare-json-parsers",
        action="store_true",
        help="instead: CPU per tweet of the v1.1 reader against DuckDB's and Arrow's JSON readers",
    )
    args = parser.parse_args()
    if args.compare_json_parsers:
        path = generate(args.rows, args.data, ["v1-jsonl"], args.seed)["v1-jsonl"]
        load = [round(x, 2) for x in os.getloadavg()]
        figures = compare_json_parsers(path, 200)
        print(json.dumps({"benchmark": "v1-json-parsers", "load_before": load, **figures}))
        return
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    unknown = sorted(set(formats) - set(TARGETS))
    if unknown:
        parser.error(f"unknown format(s) {', '.join(unknown)}; choose from {', '.join(TARGETS)}")
    inputs = generate(args.rows, args.data, formats, args.seed)
    load_before = [round(x, 2) for x in os.getloadavg()]
    results = [run(fmt, inputs[fmt], args.data) for fmt in formats]

    head = f"{'format':10} {'records':>12} {'seconds':>8} {'per second':>18} {'target':>9}"
    print(f"\n{head} {'peak GB':>8} {'CPU s':>7}")
    for r in results:
        ok = r.rows_per_s >= r.target_rows_per_s and r.peak_gb <= PEAK_LIMIT_GB
        rate = f"{r.rows_per_s:,} {UNITS[r.format]}/s"
        print(
            f"{r.format:10} {r.rows:>12,} {r.seconds:>8.1f} {rate:>18} "
            f"{r.target_rows_per_s:>9,} {r.peak_gb:>8.2f} {r.cpu_s:>7.1f}  {'ok' if ok else 'MISS'}"
        )
    machine = {
        "cpus": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "load_before": load_before,
    }
    print(json.dumps({"benchmark": "ingest", "machine": machine,
                      "results": [asdict(r) for r in results]}))  # fmt: skip
    if not args.keep_data:
        for fmt in formats:
            shutil.rmtree(args.data / f"ws-{fmt}", ignore_errors=True)
            (args.data / f"ingest-{fmt}.log").unlink(missing_ok=True)
            inputs[fmt].unlink(missing_ok=True)


if __name__ == "__main__":
    main()
