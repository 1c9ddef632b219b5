"""Exact hashtag sets: the key under which posts carrying the same stack of tags meet.

One or two shared hashtags mean a shared topic; the same set of three or more, in any order,
posted by different accounts at the same time, is a template (hashtag pushes, hijacks stack
several trending tags on one post). The key is the set's members, lower-cased, without ``#``,
de-duplicated, sorted and joined by a space: ``{"#WorldCup", "Brazil2014", "eng"}`` →
``"brazil2014 eng worldcup"``.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["MIN_TAGS", "hashtag_set_key", "hashtag_set_sql"]

MIN_TAGS = 3
"""Fewest distinct hashtags a post needs for its set to be a key."""


def hashtag_set_key(tags: Iterable[str | None] | None, *, min_tags: int = MIN_TAGS) -> str | None:
    """The set key of ``tags``, or ``None`` with fewer than ``min_tags`` distinct non-empty tags.

    >>> hashtag_set_key(["#WorldCup", "brazil2014", "ENG", "eng"])
    'brazil2014 eng worldcup'
    """
    if tags is None:
        return None
    clean = {t.strip(" ").lstrip("#").lower() for t in tags if t is not None}
    clean.discard("")
    if len(clean) < min_tags:
        return None
    return " ".join(sorted(clean))


def hashtag_set_sql(expr: str, *, min_tags: int = MIN_TAGS) -> str:
    """SQL (DuckDB dialect) for :func:`hashtag_set_key` of the list column ``expr``."""
    cleaned = f"list_transform({expr}, lambda h: lower(ltrim(trim(h), '#')))"
    tags = f"list_sort(list_distinct(list_filter({cleaned}, lambda h: h IS NOT NULL AND h <> '')))"
    return (
        f"CASE WHEN coalesce(array_length({tags}), 0) >= {min_tags} "
        f"THEN array_to_string({tags}, ' ') END"
    )
