"""Canonical URLs and registered domains: the keys under which shares of one link meet.

The same page travels under many spellings: ``http`` or ``https``, with or without ``www.``,
with a ``#fragment``, with tracking parameters that differ per share (``utm_*``, ``fbclid``,
…), with the query parameters in another order, with a trailing slash. A *canonical URL* drops
all of these: ``https://www.Example.com/a/?utm_source=x&b=2&a=1#top`` →
``example.com/a?a=1&b=2``. Host names are case-insensitive and lower-cased; paths and query
values keep their case (they can matter). Percent-encoding is left as is.

A *registered domain* is the part of the host a registrant controls, by the Public Suffix
List: ``news.bbc.co.uk`` → ``bbc.co.uk``. It is a weaker key (many unrelated pages share a
domain) used to see accounts that push one site with ever-changing links. tldextract resolves
it from its bundled snapshot of the list: no network access (``suffix_list_urls=()``). A host
with no public suffix (an IP address, ``localhost``, a made-up TLD) is its own domain.

:func:`canonical_url` is the plain-Python reference and :func:`canonical_url_sql` the same rule
in SQL (DuckDB dialect, transpiled for Spark). Registered domains need the suffix list, so they
are computed in Python over the (few) distinct hosts: :func:`registered_domains`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

import pyarrow as pa
import tldextract

from ._sql import sql_string

__all__ = [
    "TRACKING_PARAMS",
    "canonical_url",
    "canonical_url_sql",
    "registered_domain",
    "registered_domains",
    "url_host",
    "url_host_sql",
]

TRACKING_PARAMS: tuple[str, ...] = (
    "utm_*",
    "fbclid",
    "gclid",
    "dclid",
    "gbraid",
    "wbraid",
    "msclkid",
    "yclid",
    "igshid",
    "mc_cid",
    "mc_eid",
    "_ga",
    "_gl",
    "ref_src",
    "ref_url",
)
"""Query parameters that identify a share or a click, not a page (``utm_*`` is any utm_ name)."""

_TRACK_NAMES = "|".join(
    "utm_[^=]*" if p == "utm_*" else re.escape(p).replace("\\_", "_") for p in TRACKING_PARAMS
)
_TRACK = rf"(?i)^({_TRACK_NAMES})(=.*)?$"
_TRACK_PY = re.compile(_TRACK)
_SCHEME = r"^[A-Za-z][A-Za-z0-9+.\-]*://"
_SCHEME_PY = re.compile(_SCHEME)
_AUTHORITY_PY = re.compile(r"^[^/?]*")
_PORT = r":(80|443)$"
_PORT_PY = re.compile(_PORT)


def _split(url: str) -> tuple[str, str, str] | None:
    s = url.strip(" ")
    s = s.split("#", 1)[0]
    s = _SCHEME_PY.sub("", s, count=1)
    m = _AUTHORITY_PY.match(s)
    authority = m.group(0) if m else ""
    rest = s[len(authority) :]
    host = _PORT_PY.sub("", authority.lower().removeprefix("www."), count=1)
    if not host:
        return None
    path, _, query = rest.partition("?")
    return host, path, query


def url_host(url: str | None) -> str | None:
    """The lower-cased host of ``url`` without ``www.`` and default ports, or ``None``."""
    if url is None:
        return None
    parts = _split(url)
    return parts[0] if parts else None


def canonical_url(url: str | None) -> str | None:
    """The canonical form of ``url`` (see the module doc), or ``None`` for an empty one.

    >>> canonical_url("https://www.Example.com/a/?utm_source=x&b=2&a=1#top")
    'example.com/a?a=1&b=2'
    """
    if url is None:
        return None
    parts = _split(url)
    if parts is None:
        return None
    host, path, query = parts
    params = sorted(p for p in query.split("&") if p and not _TRACK_PY.match(p))
    out = host + path.rstrip("/")
    return out + "?" + "&".join(params) if params else out


def _host_sql(s: str) -> str:
    authority = f"regexp_extract({s}, '^([^/?]*)', 1)"
    host = f"regexp_replace(lower({authority}), '^www[.]', '')"
    return f"regexp_replace({host}, {sql_string(_PORT)}, '', 'g')"


def _stripped_sql(expr: str) -> str:
    return f"regexp_replace(split_part(trim({expr}), '#', 1), {sql_string(_SCHEME)}, '')"


def url_host_sql(expr: str) -> str:
    """SQL for :func:`url_host` (``''`` where Python gives ``None``)."""
    return _host_sql(_stripped_sql(expr))


def canonical_url_sql(expr: str) -> str:
    """SQL (DuckDB dialect) for :func:`canonical_url`; NULL for an empty URL or host."""
    s = _stripped_sql(expr)
    host = _host_sql(s)
    rest = f"regexp_extract({s}, '^[^/?]*(.*)$', 1)"
    path = f"rtrim(regexp_extract({rest}, '^([^?]*)', 1), '/')"
    query = f"regexp_extract({rest}, '^[^?]*[?](.*)$', 1)"
    kept = (
        f"list_sort(list_filter(string_split({query}, '&'), "
        f"lambda p: p <> '' AND NOT regexp_matches(p, {sql_string(_TRACK)})))"
    )
    joined = f"array_to_string({kept}, '&')"
    full = f"{host} || {path} || CASE WHEN {joined} = '' THEN '' ELSE '?' || {joined} END"
    return f"CASE WHEN {host} = '' THEN NULL ELSE {full} END"


@functools.cache
def _extractor() -> tldextract.TLDExtract:
    # The bundled Public Suffix List snapshot; never fetch, never write a cache.
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


def registered_domain(host: str | None) -> str | None:
    """The registered domain of ``host`` (e.g. ``bbc.co.uk``), the host itself when it has no
    public suffix (an IP address, ``localhost``), or ``None`` for an empty host."""
    if not host:
        return None
    parts = _extractor()(host)
    return parts.top_domain_under_public_suffix or host


def registered_domains(hosts: Iterable[str | None]) -> pa.Table:
    """A ``host → domain`` table for the distinct, non-empty ``hosts`` (to join in SQL)."""
    distinct = sorted({h for h in hosts if h})
    return pa.table(
        {
            "host": pa.array(distinct, pa.string()),
            "domain": pa.array([registered_domain(h) for h in distinct], pa.string()),
        }
    )
