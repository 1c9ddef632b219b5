"""What a person reads about a campaign: a one-line label and the evidence behind it.

Every detector hands over its campaigns as posts (campaign number, post row id); from those this
module derives what every campaign carries whatever found it: accounts and posts, first and last
post, the most posted text (normalised, so per-copy links and mentions are gone; truncated),
top hashtags, linked hosts, the client apps with their shares (the app is in every campaign's
evidence: it is what gave "The Dawn of Glad Tidings" away), and a few example post ids.

Labels contain text from the collection. They are plain strings here; whoever displays them
escapes them (the CLI through ``rich.markup.escape``, the report through its templates).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from .. import keys
from .frame import PostFrame

__all__ = ["Evidence", "collect_evidence", "label", "shorten"]

TEXT_CHARS = 80
EXAMPLES = 5


def shorten(text: str | None, limit: int = TEXT_CHARS) -> str:
    """``text`` cut at a word boundary to at most ``limit`` characters, with an ellipsis."""
    if not text:
        return ""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut) + "…"


@dataclass
class Evidence:
    """Per-campaign facts, keyed by campaign number."""

    stats: dict[int, dict[str, Any]]
    members: pa.Table
    """campaign, account_id, n_posts"""


def collect_evidence(frame: PostFrame, posts: pa.Table) -> Evidence:
    """Facts about each campaign from ``posts`` (columns ``campaign``, ``rid``)."""
    con = frame.con
    con.register("_camp_posts", posts)
    host = keys.url_host_sql("u")
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE cp_cpost AS
        SELECT DISTINCT c.campaign, s.rid, s.post_id, s.account_id, s.ts, s.app, s.hashtags,
               s.raw_urls
        FROM _camp_posts c JOIN cp_stage s USING (rid)
        """
    )
    con.unregister("_camp_posts")
    stats: dict[int, dict[str, Any]] = {}
    for cid, n_posts, n_accounts, first, last in con.sql(
        "SELECT campaign, count(*), count(DISTINCT account_id), min(ts), max(ts) "
        "FROM cp_cpost GROUP BY campaign"
    ).fetchall():
        stats[int(cid)] = {
            "n_posts": int(n_posts),
            "n_accounts": int(n_accounts),
            "first_ts": int(first),
            "last_ts": int(last),
            "apps": [],
            "hashtags": [],
            "domains": [],
            "text": "",
            "example_posts": [],
        }

    def top(sql: str, field: str, limit: int) -> None:
        rows = con.sql(
            f"""
            SELECT campaign, v, n FROM (
                SELECT campaign, v, n,
                       row_number() OVER (PARTITION BY campaign ORDER BY n DESC, v) AS r
                FROM ({sql}))
            WHERE r <= {limit} ORDER BY campaign, r
            """
        ).fetchall()
        for cid, v, n in rows:
            stats[int(cid)][field].append((v, int(n)))

    top(
        "SELECT campaign, app AS v, count(*) AS n FROM cp_cpost WHERE app IS NOT NULL GROUP BY ALL",
        "apps",
        3,
    )
    top(
        "SELECT campaign, v, count(*) AS n FROM "
        "(SELECT campaign, unnest(hashtags) AS v FROM cp_cpost) GROUP BY ALL",
        "hashtags",
        4,
    )
    top(
        f"SELECT campaign, v, count(*) AS n FROM (SELECT campaign, "
        f"unnest(list_distinct(list_transform(raw_urls, lambda u: {host}))) AS v "
        f"FROM cp_cpost) WHERE v <> '' GROUP BY ALL",
        "domains",
        3,
    )
    for cid, norm in con.sql(
        """
        SELECT campaign, arg_max(norm, n) FROM (
            SELECT c.campaign, t.norm, count(*) AS n
            FROM cp_cpost c JOIN cp_text t USING (rid) GROUP BY ALL)
        GROUP BY campaign
        """
    ).fetchall():
        stats[int(cid)]["text"] = norm
    examples = con.sql(
        f"""
        SELECT campaign, post_id, text FROM (
            SELECT c.campaign, c.post_id, s.text,
                   row_number() OVER (PARTITION BY c.campaign ORDER BY c.ts, c.post_id) AS r
            FROM cp_cpost c JOIN cp_stage s USING (rid))
        WHERE r <= {EXAMPLES} ORDER BY campaign, r
        """
    ).fetchall()
    for cid, post_id, text in examples:
        st = stats[int(cid)]
        st["example_posts"].append(post_id)
        if not st["text"] and text:
            st["text"] = keys.normalize_text(text) or ""
    members = con.sql(
        "SELECT campaign, account_id, count(*) AS n_posts FROM cp_cpost GROUP BY ALL "
        "ORDER BY campaign, n_posts DESC, account_id"
    ).to_arrow_table()
    return Evidence(stats=stats, members=members)


def label(kind: str, head: str, facts: dict[str, Any], *, with_text: bool = True) -> str:
    """``head`` followed by the text, tags, hosts and app: "what · said · where · through"."""
    parts = [head]
    if with_text and facts.get("text"):
        parts.append(f'"{shorten(facts["text"])}"')
    tags = [t for t, _ in facts.get("hashtags", [])]
    if tags and kind not in ("hijack",):
        parts.append(" ".join("#" + t for t in tags[:3]))
    domains = [d for d, _ in facts.get("domains", [])]
    if domains:
        parts.append(", ".join(domains[:2]))
    apps = facts.get("apps", [])
    if apps:
        app, n = apps[0]
        share = n / max(facts.get("n_posts", 1), 1)
        parts.append(f"app {app} ({share:.0%})")
    return " · ".join(parts)
