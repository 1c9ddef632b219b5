"""Content keys: the values under which copies of one action meet.

Coordination (:mod:`tidings.coordination`) and the campaign detectors (:mod:`tidings.campaigns`)
both ask "which posts carry the same thing?". The answer depends on a key that ignores what
varies between copies and keeps what identifies them. Every key here exists three ways:

* a plain-Python function, the reference definition (and what tests compare against);
* a SQL expression in the DuckDB dialect that gives the same value, which the engine layer runs
  on DuckDB or transpiles for Spark (:mod:`tidings.engine.dialect`);
* for MinHash, a vectorised numpy step over Arrow batches (no SQL can compute it).

Keys, and the one rule they share: an empty value never becomes a key (``None``/NULL).

====================  ==================================  ======================================
key                   Python                              SQL
====================  ==================================  ======================================
normalised text       :func:`normalize_text`,             :func:`normalize_text_sql`,
                      :func:`text_key` (length rule)      :func:`text_key_sql`,
                                                          :func:`long_enough_sql`
canonical URL         :func:`canonical_url`               :func:`canonical_url_sql`
URL host              :func:`url_host`                    :func:`url_host_sql`
registered domain     :func:`registered_domain`           join :func:`registered_domains` on host
hashtag set (3+)      :func:`hashtag_set_key`             :func:`hashtag_set_sql`
client app            :func:`app_key`                     :func:`app_key_sql`
near-duplicate text   :class:`MinHasher` ``band_keys``    (Arrow UDF; see tidings.engine)
====================  ==================================  ======================================

Example::

    >>> from tidings.keys import text_key, canonical_url
    >>> text_key("RT @desk: Join us TONIGHT at the square!! https://t.co/Ab1")
    'join us tonight at the square'
    >>> canonical_url("http://www.example.org/rally/?utm_source=tw#map")
    'example.org/rally'
"""

from __future__ import annotations

from .apps import app_key, app_key_sql
from .hashtags import MIN_TAGS, hashtag_set_key, hashtag_set_sql
from .minhash import MinHasher, band_keys_reference, minhash_reference
from .text import (
    MIN_CHARS,
    MIN_WORDS,
    long_enough_sql,
    normalize_text,
    normalize_text_sql,
    text_key,
    text_key_sql,
)
from .url import (
    TRACKING_PARAMS,
    canonical_url,
    canonical_url_sql,
    registered_domain,
    registered_domains,
    url_host,
    url_host_sql,
)

__all__ = [
    "MIN_CHARS",
    "MIN_TAGS",
    "MIN_WORDS",
    "TRACKING_PARAMS",
    "MinHasher",
    "app_key",
    "app_key_sql",
    "band_keys_reference",
    "canonical_url",
    "canonical_url_sql",
    "hashtag_set_key",
    "hashtag_set_sql",
    "long_enough_sql",
    "minhash_reference",
    "normalize_text",
    "normalize_text_sql",
    "registered_domain",
    "registered_domains",
    "text_key",
    "text_key_sql",
    "url_host",
    "url_host_sql",
]
