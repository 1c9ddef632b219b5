"""Client apps: the program that posted (Twitter's ``source``, e.g. "Twitter for Android").

A common app says nothing about who acts together; a rare one used by many accounts posting
the same content at the same time does (the 2014 "Dawn of Glad Tidings" app posted for
hundreds of accounts). The key is the app name with surrounding spaces removed; an empty name
is no key. Which apps are rare enough to count is the analysis' decision (see
:mod:`tidings.coordination`), not the key's.
"""

from __future__ import annotations

__all__ = ["app_key", "app_key_sql"]


def app_key(source: str | None) -> str | None:
    """The app key of ``source``, or ``None`` when it is missing or blank.

    >>> app_key("  Twitter for Android ")
    'Twitter for Android'
    """
    if source is None:
        return None
    key = source.strip(" ")
    return key or None


def app_key_sql(expr: str) -> str:
    """SQL for :func:`app_key` (NULL for a blank name)."""
    return f"nullif(trim({expr}), '')"
