"""The ``tidings`` command line: a thin layer over the library, one command per verb.

Each command calls the documented Python function of the same name, shows a progress bar while it
works and ends with a short summary of what it did and where the output is. Errors the user can act
on are printed as one line (file, line, field) with exit status 1, never a traceback.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from ._version import __version__
from .errors import TidingsError
from .workspace import Workspace

# soft_wrap: a message stays one line however narrow the terminal, so it can be grepped.
console = Console(stderr=True, highlight=False, soft_wrap=True)
out = Console(highlight=False, soft_wrap=True)

P = ParamSpec("P")
R = TypeVar("R")


def friendly_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn a :class:`TidingsError` into one escaped line on stderr and exit status 1."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except TidingsError as exc:
            console.print(f"[bold red]error:[/] {escape(str(exc))}")
            sys.exit(1)

    return wrapper


def progress_bar() -> Progress:
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,} rows"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


def parse_map(values: tuple[str, ...]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for item in values:
        field, sep, column = item.partition("=")
        if not sep or not field.strip() or not column.strip():
            raise click.BadParameter(f"{item!r}: expected field=column, e.g. account_id=user_id")
        mapping[field.strip()] = column.strip()
    return mapping


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tidings")
def cli() -> None:
    """tidings: an observatory for online extremist campaigns and the interference around them.

    \b
    A typical session:
      tidings init ws                          # an empty workspace
      tidings ingest ws tweets.jsonl           # any collection, format detected
      tidings coordinate ws --out ws/coord     # who acts together
      tidings campaigns ws --out ws/camp       # app campaigns, bombs, hijacks
      tidings report ws                        # an HTML report to read
    Or `tidings demo` for all of it on a generated collection.
    """


@cli.command("init")
@click.argument("workspace", type=click.Path(file_okay=False, path_type=Path))
@friendly_errors
def init_cmd(workspace: Path) -> None:
    """Create an empty workspace in directory WORKSPACE.

    A workspace holds canonical Parquet tables (posts/, accounts/, ...) and a DuckDB catalog of
    datasets, ingests, runs and quarantined records. Running it on an existing workspace is a
    no-op.
    """
    ws = Workspace.init(workspace)
    s = ws.settings
    out.print(
        f"workspace ready: {escape(str(ws.path))} "
        f"(memory_limit {s['memory_limit']}, temp {escape(str(ws.temp_dir))})"
    )


@cli.command("ingest")
@click.argument("workspace", type=click.Path(file_okay=False, path_type=Path))
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    default="auto",
    show_default=True,
    help="Input format; `auto` looks at each file and says what it chose. "
    "Umbrella names: twitter (v1.1 or v2 JSON), csv (generic, twarc-csv, CooRTweet), "
    "parquet. Single formats: telegram, coortweet, generic-csv, generic-parquet, ….",
)
@click.option(
    "--map",
    "maps",
    multiple=True,
    metavar="FIELD=COLUMN",
    help="Read canonical FIELD from input COLUMN, e.g. --map account_id=username. Repeatable.",
)
@click.option("--dataset", default="main", show_default=True, help="Name of the ingest batch.")
@click.option(
    "--timezone",
    default="UTC",
    show_default=True,
    help="Zone of timestamps that carry none (e.g. Asia/Baghdad).",
)
@click.option("--platform", default=None, help="Platform of a generic table (twitter, telegram…).")
@friendly_errors
def ingest_cmd(
    workspace: Path,
    paths: tuple[Path, ...],
    fmt: str,
    maps: tuple[str, ...],
    dataset: str,
    timezone: str,
    platform: str | None,
) -> None:
    """Read collections at PATHS into WORKSPACE as canonical posts and accounts.

    \b
    Formats: Twitter API v1.1 JSON/JSONL, Twitter API v2 (twarc2 pages or flattened lines),
    twarc-csv, Telegram Desktop result.json, CooRTweet long tables, and any CSV or Parquet with
    columns named after the canonical fields (or mapped with --map).

    Bad records are quarantined with the reason and the rest is stored. Re-ingesting the same
    file stores nothing new. All files are stored together, or none is.

    \b
    Example:
      tidings ingest ws tweets.csv --format csv \\
          --map post_id=id --map account_id=username --map created_at=time --map text=tweets
    """
    from .ingest import ingest

    ws = Workspace(workspace)
    with progress_bar() as bar:
        tasks: dict[str, Any] = {}

        def tick(path: str, n: int) -> None:
            if path not in tasks:
                tasks[path] = bar.add_task(f"ingest {escape(Path(path).name)}", total=None)
            bar.advance(tasks[path], n)

        result = ingest(
            ws,
            list(paths),
            format=fmt,
            column_map=parse_map(maps),
            dataset=dataset,
            timezone=timezone,
            platform=platform,
            progress=tick,
        )
    for f in result.files:
        out.print(f"{escape(f.path)}: read as {escape(f.label)}")
        for line in f.problems:
            console.print(f"  [yellow]quarantined:[/] {escape(line)}")
        if f.quarantined > len(f.problems):
            console.print(f"  … and {f.quarantined - len(f.problems):,} more quarantined")
    summary = (
        f"read {result.read:,}, stored {result.stored:,}, duplicates {result.duplicates:,}, "
        f"quarantined {result.quarantined:,}; accounts {result.accounts:,}"
    )
    if result.skipped:
        summary += f"; skipped {result.skipped:,} records that are not posts"
    if result.derived_ids:
        summary += (
            f"; {result.derived_ids:,} posts had no id and got one derived from "
            "(account, time, text)"
        )
    out.print(summary)
    out.print(f"dataset {escape(dataset)} in {escape(str(ws.path))}")


@cli.command("coordinate")
@click.argument("workspace", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Directory for the Parquet results [default: WORKSPACE/runs/<run-id>].",
)
@click.option(
    "--window",
    "windows",
    multiple=True,
    metavar="DURATION",
    help="A time window such as 10s, 60s, 10min, 1h; repeat for several (all computed in one "
    "pass). [default: 10s, 60s, 10min, 1h]",
)
@click.option(
    "--min-weight",
    default=2,
    show_default=True,
    help="Write edges sharing at least this many distinct keys (significance is the score's).",
)
@click.option(
    "--kinds",
    default=None,
    metavar="KIND,...",
    help="Action kinds to use [default: all]: repost, quote, reply, text, near_text, url, "
    "domain, hashtag_set, app.",
)
@click.option(
    "--hot-cap",
    default=200,
    show_default=True,
    help="Rows of one key within one short window (<= 60 s) above which each row is paired "
    "only with its nearest rows in time; 0 = never bound (exact, can be huge).",
)
@click.option(
    "--hot-cap-long",
    default=50,
    show_default=True,
    help="The same for the long windows, per span of the longest window.",
)
@click.option(
    "--alpha",
    default=0.01,
    show_default=True,
    help="Expected chance edges the default threshold lets through, per window.",
)
@click.option(
    "--engine",
    type=click.Choice(["duckdb", "spark"]),
    default="duckdb",
    show_default=True,
    help="duckdb on this machine; spark for a cluster (same results).",
)
@click.option(
    "--spark-master",
    default=None,
    metavar="URL",
    help="Spark master for --engine spark, e.g. spark://host:7077 [default: local[*]].",
)
@friendly_errors
def coordinate_cmd(
    workspace: Path,
    out_dir: Path | None,
    windows: tuple[str, ...],
    min_weight: int,
    kinds: str | None,
    hot_cap: int,
    hot_cap_long: int,
    alpha: float,
    engine: str,
    spark_master: str | None,
) -> None:
    """Find accounts in WORKSPACE that act together, and the groups they form.

    \b
    Two accounts co-act when they do the same thing close in time. "The same thing" is a key
    of one of these kinds:
      repost, quote, reply   the same post reposted, quoted or replied to
      text, near_text        the same text once case, links, mentions and Arabic spelling
                             are normalised; or a near-duplicate of it (MinHash)
      url, domain            the same link once tracking parameters and www. are removed;
                             or the same site (weaker)
      hashtag_set            the same set of 3+ hashtags
      app                    the same uncommon client app
    "Close in time" is a window W: |Δt| <= W. Each window gets its own edges. Shared sites
    and apps only count within the short windows (<= 60 s).

    \b
    Every edge (one per account pair and window) has a weight (distinct shared keys), a
    per-kind breakdown, Δt statistics and a score: how unlikely its co-actions are if each
    key's posts were spread at random over the collection (rare keys, short windows count
    most; viral posts count almost nothing). An edge is significant when its score passes a
    threshold chosen so that chance alone would give fewer than ALPHA such edges; the
    thresholds and their reasons are in the run record. Communities (Leiden) are found on the
    significant edges. Keys so busy they would swamp the output (a viral post) are bounded
    and listed in hot_keys.parquet.

    \b
    Output in --out: edges, communities, community_summary, evidence (example co-actions
    per edge) and hot_keys, as Parquet. Graph files: `tidings export`.

    \b
    Examples:
      tidings coordinate ws --out ws/coord
      tidings coordinate ws --out ws/coord --window 10s --window 1h --kinds repost,text
      tidings coordinate ws --out ws/coord --engine spark --spark-master spark://head:7077
    """
    from .coordination import DEFAULT_WINDOWS, KINDS, coordinate

    ws = Workspace(workspace)
    chosen = tuple(k.strip() for k in kinds.split(",") if k.strip()) if kinds else KINDS
    unknown = sorted(set(chosen) - set(KINDS))
    if unknown:
        raise click.BadParameter(f"unknown kinds {', '.join(unknown)}", param_hint="--kinds")
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} stages"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("coordinate: actions", total=5)
        following = {"actions": "pairs", "pairs": "edges", "edges": "communities"}
        following["communities"] = "evidence"

        def tick(stage: str, done: int, total: int) -> None:
            bar.update(task, completed=done, description=f"coordinate: {following.get(stage)}")

        result = coordinate(
            ws,
            out=out_dir,
            windows=windows or DEFAULT_WINDOWS,
            min_weight=min_weight,
            kinds=chosen,
            engine=engine,
            spark_master=spark_master,
            progress=tick,
            hot_cap=hot_cap,
            hot_cap_long=hot_cap_long,
            alpha=alpha,
        )
    for t in result.summary.get("thresholds", []):
        out.print(
            f"  window {t['window_s']:>5} s: threshold {t['threshold']:.2f} over "
            f"{t['candidates']:,} candidate pairs"
        )
    out.print(escape(result.summary_line()) + f" (run {result.run_id})")


@cli.command("export")
@click.argument("workspace", type=click.Path(file_okay=False, path_type=Path), required=False)
@click.option("--run", "run_id", default=None, help="Run id [default: the latest coordinate run].")
@click.option(
    "--from",
    "from_dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=None,
    help="A coordination result directory instead of a run (no workspace needed).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["graphml", "gexf", "csv", "parquet"]),
    required=True,
    help="graphml or gexf for Gephi, Cytoscape, igraph; csv or parquet for tables.",
)
@click.option("--out", "out_file", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--window",
    default=None,
    metavar="DURATION",
    help="Export the edges of this window only [default: each pair at its best window].",
)
@click.option(
    "--all-edges",
    is_flag=True,
    help="Export every written edge, not only the significant ones.",
)
@friendly_errors
def export_cmd(
    workspace: Path | None,
    run_id: str | None,
    from_dir: Path | None,
    fmt: str,
    out_file: Path,
    window: str | None,
    all_edges: bool,
) -> None:
    """Export a coordination network to a file for Gephi and other tools.

    One edge per account pair: by default its significant edge at the window where its score is
    highest, with every edge column as an attribute (weight, score, window_s, w_<kind>,
    pairs, Δt); nodes carry their community. Files are written streaming, so large networks
    need little memory.

    \b
    Examples:
      tidings export ws --format gexf --out coordination.gexf
      tidings export ws --run coordinate-20140601T120000-ab12cd --format graphml --out g.graphml
      tidings export --from ws/coord --format csv --out edges.csv --window 60s --all-edges
    """
    from .coordination import parse_window
    from .coordination.export import export_graph

    ws = Workspace(workspace) if workspace is not None else None
    with console.status(f"writing {fmt}"):
        result = export_graph(
            ws,
            out_file,
            format=fmt,
            run=run_id,
            from_dir=from_dir,
            window=parse_window(window) if window else None,
            significant_only=not all_edges,
        )
    out.print(
        f"{result.nodes:,} accounts and {result.edges:,} edges written as {fmt} to "
        f"{escape(str(result.path))}"
    )


@cli.command("campaigns")
@click.argument("workspace", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory for campaigns.parquet, campaign_members.parquet and the detail tables.",
)
@click.option(
    "--min-accounts",
    default=5,
    show_default=True,
    help="Accounts a text, link or media item must be shared by before it is examined.",
)
@click.option("--top", default=10, show_default=True, help="Campaigns to list on screen.")
@friendly_errors
def campaigns_cmd(workspace: Path, out_dir: Path, min_accounts: int, top: int) -> None:
    """Find campaigns in WORKSPACE: app campaigns, shared content, Twitter bombs, hijacks.

    \b
    Kinds found (the `kind` column):
      identical_text, near_text, url, media   the same content from many accounts at any
                                              distance in time, scored on how tightly it is
                                              spread (time, app, account creation, gaps)
      app          a rare client app whose accounts post the same content
      app_switch   many accounts switching to one app at the same time
      burst        an entity posted far above its usual level for that hour of the day,
                   mostly by a few accounts posting it many times (a "Twitter bomb")
      hijack       a trending tag flooded by accounts far from its usual crowd, stacking
                   other trends, pushing their own tag and a few domains

    Each campaign has a readable label (top text, tags, domains, app) and its evidence; members
    are in campaign_members.parquet. The run is recorded in the workspace catalog.

    \b
    Example:
      tidings campaigns ws --out ws/campaigns
    """
    from .campaigns import ContentCampaigns, detect_campaigns
    from .campaigns.detect import STEPS

    ws = Workspace(workspace)
    with progress_bar() as bar:
        task = bar.add_task("campaigns", total=len(STEPS))
        seen: list[str] = []

        def step(name: str) -> None:
            if seen:
                bar.advance(task)
            seen.append(name)
            bar.update(task, description=f"campaigns: {name}")

        result = detect_campaigns(
            ws, out=out_dir, content=ContentCampaigns(min_accounts=min_accounts), progress=step
        )
    for row in result.campaigns.slice(0, top).to_pylist():
        out.print(
            f"{row['campaign_id']} {row['kind']:<14} {row['n_accounts']:>6,} accounts "
            f"{row['n_posts']:>7,} posts  {row['first_seen']:%Y-%m-%d %H:%M}  "
            f"{escape(row['label'])}",
            soft_wrap=True,
        )
    counts = ", ".join(f"{n} {kind}" for kind, n in result.counts().items()) or "none"
    out.print(
        f"{result.campaigns.num_rows:,} campaigns ({counts}) with "
        f"{result.members.num_rows:,} memberships in {escape(str(result.out_dir))} "
        f"(run {result.run_id})"
    )


@cli.command("report")
@click.argument("workspace", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--out",
    "out_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the HTML file [default: WORKSPACE/runs/<run-id>/report.html].",
)
@friendly_errors
def report_cmd(workspace: Path, out_file: Path | None) -> None:
    """Write a self-contained HTML report of WORKSPACE; the last line printed is its path.

    The report summarises the collection (volume over time, top accounts, hashtags, domains,
    client apps, quarantined records) and the newest coordination and campaign results. It works
    offline: charts come from the plotly.js bundled with tidings, nothing is fetched, and links
    found in posts are shown as text.

    \b
    Examples:
      tidings report ws                              # ws/runs/<run-id>/report.html
      tidings report ws --out weekly.html
    """
    from .report import write_report

    ws = Workspace(workspace)
    with console.status("writing the report"):
        path = write_report(ws, out_file)
    out.print(f"report of {escape(str(ws.path))} written ({path.stat().st_size / 1e6:.1f} MB):")
    click.echo(str(path))


@cli.command("demo")
@click.option(
    "--workspace",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("demo-workspace"),
    show_default=True,
    help="Workspace to create (or reuse) for the demo.",
)
@click.option("--posts", "n_posts", default=300_000, show_default=True, help="Posts to generate.")
@click.option("--seed", default=1, show_default=True, help="Seed of the generator.")
@friendly_errors
def demo_cmd(workspace: Path, n_posts: int, seed: int) -> None:
    """Run the whole pipeline on a generated collection and print the report's path.

    \b
    Generates a synthetic collection with planted, labelled activity (coordinated groups, an
    app campaign, a hashtag bomb, a hijacked trend), writes it as Twitter v1.1 JSONL, ingests
    it, runs every analysis available and writes the HTML report. The ground truth goes to
    WORKSPACE/demo-input/truth/. Nothing is served and nothing asks a question.

    \b
    Examples:
      tidings demo                                   # 300,000 posts in ./demo-workspace
      tidings demo --posts 1000000 --seed 7 --workspace /tmp/big
    """
    from .demo import run_demo

    with console.status("running the demo") as status:

        def echo(line: str) -> None:
            out.print(escape(line), soft_wrap=True)
            status.update(f"running the demo: {escape(line.split(':', 1)[0])} done")

        result = run_demo(workspace, n_posts=n_posts, seed=seed, echo=echo)
    if result.report is None:
        raise click.ClickException("the report was not written")
    click.echo(str(result.report))


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
