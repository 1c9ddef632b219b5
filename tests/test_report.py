"""The HTML report: its content, its escaping of hostile data, and that it renders offline."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from tidings import Workspace, ingest, schema, write_report
from tidings.demo import _profiled_posts, generate

HOSTILE_TEXT = "<script>window.__xss = 1</script> read this"
HOSTILE_NAME = '"><img src=x onerror="window.__xss = 2">'
HOSTILE_TAG = "<b onmouseover=alert(3)>tag</b>"
HOSTILE_URL = 'https://evil.example/"><script>window.__xss = 4</script>'
HOSTILE_APP = '<a href="https://evil.example">App</a>'


class Page(HTMLParser):
    """Tags, attributes and table cells of a page, by section id."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.tables: dict[str, list[list[list[str]]]] = {}
        self.scripts: list[str] = []
        self._section = ""
        self._cell: list[str] | None = None
        self._row: list[str] | None = None
        self._in_script = False
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag == "section":
            self._section = a.get("id") or ""
        elif tag == "table":
            self.tables.setdefault(self._section, []).append([])
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "script":
            self._in_script = True
            self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[self._section][-1].append(self._row)
            self._row = None
        elif tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._in_script:
            self.scripts[-1] += data

    def table(self, section: str, index: int = 0) -> list[dict[str, str]]:
        head, *rows = self.tables[section][index]
        return [dict(zip(head, r, strict=True)) for r in rows]


def _hostile_posts(n: int) -> pa.Table:
    t0 = datetime(2014, 6, 10, tzinfo=UTC)
    rows = [
        {
            "post_id": f"hostile-{i}",
            "platform": "twitter",
            "account_id": "hostile-account",
            "account_name": HOSTILE_NAME,
            "created_at": t0.replace(minute=i % 60, second=i // 60),
            "text": HOSTILE_TEXT,
            "kind": "post",
            "urls": [HOSTILE_URL],
            "hashtags": [HOSTILE_TAG],
            "mentions": [],
            "media": [],
            "source": HOSTILE_APP,
            "dataset": "demo",
        }
        for i in range(n)
    ]
    return pa.Table.from_pylist(rows, schema=schema.POSTS)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """A small generated collection plus one hostile account that tops every list, and one
    CSV with a bad record for the quarantine."""
    root = tmp_path_factory.mktemp("report")
    ws = Workspace.init(root / "ws")
    demo = generate(n_posts=20_000, seed=11, coordinated_groups=5)
    demo.posts = pa.concat_tables([demo.posts, _hostile_posts(3000)])
    pq.write_table(_profiled_posts(demo), root / "posts.parquet")
    ingest(ws, [root / "posts.parquet"], format="parquet", dataset="demo")
    bad = root / "extra.csv"
    bad.write_text(
        "post_id,account_id,created_at,text\n"
        "x1,acc1,2014-06-02T10:00:00Z,fine\n"
        f'x2,acc2,not a date,"{HOSTILE_TEXT}"\n'
    )
    ingest(ws, [bad], format="csv", dataset="extra")
    return ws


@pytest.fixture(scope="module")
def report(workspace: Workspace) -> Path:
    return write_report(workspace)


@pytest.fixture(scope="module")
def page(report: Path) -> Page:
    return Page(report.read_text("utf-8"))


def test_report_is_written_into_its_run_and_recorded(workspace: Workspace, report: Path) -> None:
    run = workspace.runs(kind="report")[0]
    assert report == Path(run["out_dir"]) / "report.html"
    assert report.parent.parent == workspace.path / "runs"
    assert run["status"] == "ok" and json.loads(run["summary"])["path"] == str(report)
    assert not list(report.parent.glob(".*.tmp"))


def test_summary_and_top_lists_match_the_collection(workspace: Workspace, page: Page) -> None:
    con = workspace.connect()
    posts = con.sql("SELECT * FROM posts").to_arrow_table()
    text = "".join(c for _, a in page.tags for c in a.values() if c)  # attributes, for ids
    assert "chart-volume" in text
    datasets = {r["dataset"]: r for r in page.table("summary", 0)}
    expected = Counter(posts["dataset"].to_pylist())
    assert {k: int(v["posts"].replace(",", "")) for k, v in datasets.items()} == expected
    kinds = {r["kind"]: int(r["posts"].replace(",", "")) for r in page.table("summary", 2)}
    assert kinds == Counter(posts["kind"].to_pylist())
    # The hostile account posted most, and its values top each list, shown as plain text.
    top = page.table("accounts")[0]
    assert top["account_name"] == HOSTILE_NAME and top["posts"] == "3,000"
    tags = Counter(pc.list_flatten(posts["hashtags"]).to_pylist())
    shown = [(r["hashtag"], int(r["posts"].replace(",", ""))) for r in page.table("hashtags")]
    assert shown[0] == (HOSTILE_TAG.lower(), 3000)
    assert shown[1] == max(((t, n) for t, n in tags.items() if t != HOSTILE_TAG.lower()),
                           key=lambda x: x[1])  # fmt: skip
    domains = [r["domain"] for r in page.table("domains")]
    assert "relay-media.net" in domains  # the app campaign's links
    apps = {r["app"]: r for r in page.table("apps")}
    assert apps[HOSTILE_APP]["accounts"] == "1"
    assert int(apps["Twitter for Android"]["posts"].replace(",", "")) == sum(
        s == "Twitter for Android" for s in posts["source"].to_pylist()
    )


def test_quarantine_section_lists_bad_records(page: Page) -> None:
    by = page.table("quarantine", 0)
    assert len(by) == 1 and by[0]["file"].endswith("extra.csv") and by[0]["field"] == "created_at"
    examples = page.table("quarantine", 1)
    assert examples[0]["record"] == "3" and HOSTILE_TEXT in examples[0]["raw"]


def test_hostile_values_are_escaped_not_executed(report: Path, page: Page) -> None:
    html = report.read_text("utf-8")
    for value in (HOSTILE_TEXT, HOSTILE_NAME, HOSTILE_TAG, HOSTILE_URL, HOSTILE_APP):
        assert value not in html  # never raw in the markup
    assert not any(tag == "img" for tag, _ in page.tags)
    assert not any(k.startswith("on") for _, a in page.tags for k in a)
    links = [a.get("href") for tag, a in page.tags if tag == "a"]
    assert links and all(h and h.startswith("#") for h in links)  # only in-page navigation
    scripts = [a for tag, a in page.tags if tag == "script"]
    assert not any("src" in a for a in scripts)
    code = [a for a in scripts if a.get("type") != "application/json"]
    assert len(code) == 2  # plotly.js and the chart loop: nothing injected
    # Chart data carries the hostile labels escaped for plotly, with no raw "<" in the JSON.
    data = [s for s, a in zip(page.scripts, scripts, strict=True) if a.get("type")]
    assert data and not any("<" in s for s in data)
    labels = json.loads(data[[a.get("data-target") for a in scripts if a.get("type")].index(
        "chart-accounts")])["data"][0]["y"]  # fmt: skip
    assert '"&gt;&lt;img src=x onerror="window.__xss = 2"&gt;' in labels


def test_coordination_and_campaign_sections_appear_with_their_runs(
    tmp_path: Path, workspace: Workspace
) -> None:
    posts = (
        workspace.connect()
        .sql(
            "SELECT account_id, any_value(account_name) AS name FROM posts "
            "WHERE account_id <> 'hostile-account' GROUP BY 1 ORDER BY 1 LIMIT 6"
        )
        .fetchall()
    )
    ids = [a for a, _ in posts]
    names = dict(posts)
    run = workspace.start_run("coordinate", {"window": "60s"}, out_dir=tmp_path / "coord")
    edges = pa.table(
        {
            "account_a": [ids[0], ids[0], ids[3]],
            "account_b": [ids[1], ids[2], ids[4]],
            "window_s": [60, 60, 60],
            "weight": [9, 4, 2],
            "w_repost": [5, 0, 1],
            "w_text": [4, 4, 1],
            "pairs": [12, 4, 2],
            "min_dt_s": [1.0, 3.0, 10.0],
            "median_dt_s": [8.0, 20.0, 30.0],
            "score": [50.0, 20.0, 3.0],
        }
    )
    pq.write_table(edges, run.out_dir / "edges.parquet")
    pq.write_table(
        pa.table({"account_id": ids[:5], "community_id": [7, 7, 7, 8, 8]}),
        run.out_dir / "communities.parquet",
    )
    pq.write_table(
        pa.table(
            {
                "account_a": [ids[0]],
                "account_b": [ids[1]],
                "kind": ["text"],
                "key": [HOSTILE_TEXT],
                "post_a": ["p1"],
                "post_b": ["p2"],
                "dt_s": [4.0],
            }
        ),
        run.out_dir / "evidence.parquet",
    )
    pq.write_table(
        pa.table({"kind": ["repost"], "key": ["12345"], "rows": [20_000], "bounded": ["k=50"]}),
        run.out_dir / "hot_keys.parquet",
    )
    workspace.finish_run(run)
    run = workspace.start_run("campaigns", {}, out_dir=tmp_path / "camp")
    t = [datetime(2014, 6, 12, h, tzinfo=UTC) for h in (9, 12, 18, 19)]
    pq.write_table(
        pa.table(
            {
                "campaign_id": ["c1", "c2"],
                "kind": ["app", "hijack"],
                "label": ["Glad Tidings Relay", HOSTILE_TAG],
                "key": ["some text", "worldcup"],
                "n_accounts": [200, 120],
                "n_posts": [5400, 230],
                "first_seen": [t[0], t[2]],
                "last_seen": [t[1], t[3]],
                "score": [99.0, 40.0],
            }
        ),
        run.out_dir / "campaigns.parquet",
    )
    pq.write_table(
        pa.table(
            {"campaign_id": ["c1", "c1", "c2"], "account_id": ids[:3], "n_posts": [30, 29, 2]}
        ),
        run.out_dir / "campaign_members.parquet",
    )
    workspace.finish_run(run)

    path = write_report(workspace, tmp_path / "out" / "r.html")
    assert path == tmp_path / "out" / "r.html"
    page = Page(path.read_text("utf-8"))
    communities = page.table("coordination", 0)
    assert [(r["community_id"], r["accounts"]) for r in communities] == [("7", "3"), ("8", "2")]
    assert names[ids[0]] in communities[0]["members"]
    strongest = page.table("coordination", 1)[0]
    assert (strongest["account_a"], strongest["account_b"], strongest["weight"]) == (
        names[ids[0]], names[ids[1]], "9",
    )  # fmt: skip
    evidence = page.table("coordination", 2)[0]
    assert evidence["key"] == HOSTILE_TEXT
    assert page.table("coordination", 3)[0]["bounded"] == "k=50"
    campaigns = page.table("campaigns", 1)
    assert [r["campaign_id"] for r in campaigns] == ["c1", "c2"]
    assert campaigns[1]["label"] == HOSTILE_TAG
    members = page.table("campaigns", 2)
    assert members[0]["busiest"] == f"{names[ids[0]]} (30), {names[ids[1]]} (29)"
    targets = {a.get("data-target") for tag, a in page.tags if tag == "script"}
    assert {"chart-network", "chart-timeline"} <= targets


def test_sections_are_absent_without_runs(page: Page) -> None:
    ids = {a.get("id") for tag, a in page.tags if tag == "section"}
    assert {"summary", "volume", "accounts", "hashtags", "domains", "apps", "quarantine"} <= ids
    assert "coordination" not in ids and "campaigns" not in ids


@pytest.mark.browser
def test_report_renders_offline_in_chromium(report: Path) -> None:
    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        pytest.skip("chromium is not installed at /usr/bin/chromium (make system-deps)")
    from playwright.sync_api import Route, sync_playwright

    blocked: list[str] = []
    errors: list[str] = []
    dialogs: list[str] = []

    def route(r: Route) -> None:
        url = r.request.url
        if url.startswith("file://") or url.startswith("http://127.0.0.1"):
            r.continue_()
        else:
            blocked.append(url)
            r.abort()

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(chromium),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"],
        )  # fmt: skip
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.route("**/*", route)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.goto(report.as_uri())
            page.wait_for_function(
                "document.querySelectorAll('.chart').length > 0 && "
                "[...document.querySelectorAll('.chart')].every(c => c.querySelector('.main-svg'))"
            )
            charts = page.eval_on_selector_all(".chart", "cs => cs.map(c => c.id)")
            bars = page.eval_on_selector_all("#chart-hashtags .point path", "ps => ps.length")
            injected = page.evaluate("typeof window.__xss")
            shown = page.inner_text("#accounts table")
            ticks = page.eval_on_selector_all(
                "#chart-accounts .ytick text, #chart-apps .ytick text",
                "ts => ts.map(t => t.textContent)",
            )
            stray = page.evaluate(
                "[...document.querySelectorAll('img, iframe, object, embed')].length + "
                "[...document.querySelectorAll('a')].filter("
                "a => !(a.getAttribute('href') || '').startsWith('#')).length"
            )
        finally:
            browser.close()
    assert blocked == [] and errors == [] and dialogs == []
    assert {"chart-volume", "chart-accounts", "chart-hashtags", "chart-domains"} <= set(charts)
    assert bars == 20
    assert injected == "undefined" and stray == 0
    assert HOSTILE_NAME in shown  # visible as text, in the table and on the charts' axes
    assert HOSTILE_NAME in ticks and HOSTILE_APP in ticks


def test_empty_workspace_and_minimal_runs_still_report(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws")
    html = write_report(ws).read_text("utf-8")
    page = Page(html)
    assert "No posts." in html and "summary" not in page.tables  # no tables, no error
    assert not any(a.get("type") == "application/json" for _, a in page.tags)
    # Runs with only the required files: the optional tables are left out, not an error.
    run = ws.start_run("coordinate", {}, out_dir=tmp_path / "c")
    pq.write_table(
        pa.table({"account_a": ["a"], "account_b": ["b"], "weight": [3]}),
        run.out_dir / "edges.parquet",
    )
    pq.write_table(
        pa.table({"account_id": ["a", "b"], "community_id": [1, 1]}),
        run.out_dir / "communities.parquet",
    )
    ws.finish_run(run)
    run = ws.start_run("campaigns", {}, out_dir=tmp_path / "k")
    ts = pa.timestamp("us", tz="UTC")
    campaign = pa.table(
        {
            "campaign_id": pa.array(["k1"]),
            "kind": pa.array(["burst"]),
            "label": pa.array([None], pa.string()),
            "key": pa.array(["x"]),
            "n_accounts": pa.array([9]),
            "n_posts": pa.array([900]),
            "first_seen": pa.array([datetime(2014, 6, 1, tzinfo=UTC)], ts),
            "last_seen": pa.array([datetime(2014, 6, 1, 2, tzinfo=UTC)], ts),
            "score": pa.array([None], pa.float64()),
        }
    )
    pq.write_table(campaign, run.out_dir / "campaigns.parquet")
    ws.finish_run(run)
    page = Page(write_report(ws).read_text("utf-8"))
    assert [r["weight"] for r in page.table("coordination", 1)] == ["3"]
    assert len(page.tables["coordination"]) == 2  # no evidence, no hot keys
    assert page.table("campaigns", 1)[0]["n_posts"] == "900"
    assert len(page.tables["campaigns"]) == 2  # no members table
