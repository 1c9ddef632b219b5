"""Normalised text: the key under which copies of one message meet.

Copies of a campaign message differ in ways that carry no meaning: case, punctuation, emoji,
the per-post ``t.co`` link Twitter adds to every copy, @mentions, an ``RT @x:`` prefix, Arabic
spelling variants and diacritics. Normalisation removes exactly those and keeps every script's
letters, digits and combining marks (``[^a-z0-9]`` would delete all Arabic).

The rule, in order:

1. lower-case (Unicode), without the combining dot that lower-casing ``İ`` leaves on some
   engines but not others (it would end an @mention early on one side only);
2. drop leading ``RT @handle:`` prefixes (manual and old-style retweets);
3. drop URLs (``http://…``, ``https://…``, ``www.…`` up to the next whitespace);
4. drop @mentions;
5. fold Arabic (:func:`tidings.intel.arabic.fold_arabic`) and Greek final sigma (ς → σ);
6. every run of characters that are not letters, digits or combining marks (Unicode classes
   L, N, M) becomes one space; trim.

A text is a key only if what is left has at least :data:`MIN_WORDS` words and
:data:`MIN_CHARS` characters: "ok", "thanks!!" or a lone emoji would link strangers.

:func:`normalize_text` is the plain-Python reference; :func:`normalize_text_sql` and
:func:`text_key_sql` give the same result as SQL in the DuckDB dialect, which the engine layer
runs on DuckDB or transpiles for Spark. Regular expressions use only constructs that RE2
(DuckDB) and java.util.regex (Spark) read the same way: explicit whitespace classes instead of
``\\s`` (the two disagree on vertical tab) and Unicode property classes.
"""

from __future__ import annotations

import re
import unicodedata

from ..intel.arabic import fold_arabic, fold_arabic_sql
from ._sql import sql_string

__all__ = [
    "MIN_CHARS",
    "MIN_WORDS",
    "long_enough_sql",
    "normalize_text",
    "normalize_text_sql",
    "text_key",
    "text_key_sql",
]

MIN_WORDS = 3
"""Fewest words a normalised text needs to be a key."""
MIN_CHARS = 16
"""Fewest characters (code points, spaces included) a normalised text needs to be a key."""

# Whitespace, spelled out: ASCII blanks plus the Unicode spaces that end a URL in practice.
_WS_SQL = (
    r" \t\n\r\f\x{0B}\x{85}\x{A0}\x{1680}\x{2000}-\x{200B}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}"
)
_WS_PY = " \t\n\r\f\x0b\x85\xa0\u1680\u2000-\u200b\u2028\u2029\u202f\u205f\u3000"

_RT = r"^([{ws}]*rt[{ws}]+@[a-z0-9_]+:?)+"
_URL = r"(https?://|www\.)[^{ws}]+"
_MENTION = r"@[a-z0-9_]+"
# One pass for all three (alternatives tried left to right at the leftmost match, the same in
# RE2, java.util.regex and Python's re): a third of the cost of three passes.
_STRIP_SQL = "|".join(p.format(ws=_WS_SQL) for p in (_RT, _URL, _MENTION))
_STRIP_PY = re.compile("|".join(p.format(ws=_WS_PY) for p in (_RT, _URL, _MENTION)))

# Characters whose presence means folding has work to do: the Arabic block and ς.
_FOLD_GUARD_SQL = r"[\x{0600}-\x{06FF}\x{03C2}]"

# ς → σ: DuckDB lower-cases Σ to σ everywhere, Python and Java to ς at the end of a word.
_EXTRA_FROM = "\u03c2"
_EXTRA_TO = "\u03c3"
_EXTRA_PY = {ord("\u03c2"): "\u03c3"}
# U+0307: Python and Java lower-case İ to "i" + U+0307, DuckDB to "i"; the mark goes at once.
_DOT_ABOVE = "\u0307"


def _is_kept(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "LNM"


def normalize_text(text: str | None) -> str | None:
    """The normalised form of ``text`` (rules 1-6 above), or ``None`` when nothing is left.

    >>> normalize_text("RT @news: Breaking NEWS!! https://t.co/x1 via @desk")
    'breaking news via'
    """
    if text is None:
        return None
    t = _STRIP_PY.sub(" ", text.lower().replace(_DOT_ABOVE, ""))
    t = fold_arabic(t).translate(_EXTRA_PY)
    out: list[str] = []
    gap = False
    for ch in t:
        if _is_kept(ch):
            if gap and out:
                out.append(" ")
            out.append(ch)
            gap = False
        else:
            gap = True
    return "".join(out) or None


def _long_enough(norm: str, min_chars: int, min_words: int) -> bool:
    return len(norm) >= min_chars and norm.count(" ") + 1 >= min_words


def text_key(
    text: str | None, *, min_chars: int = MIN_CHARS, min_words: int = MIN_WORDS
) -> str | None:
    """The co-action key of ``text``: its normalised form if long enough, else ``None``.

    >>> text_key("Thanks!!") is None
    True
    """
    norm = normalize_text(text)
    if norm is None or not _long_enough(norm, min_chars, min_words):
        return None
    return norm


def normalize_text_sql(expr: str) -> str:
    """SQL (DuckDB dialect) for :func:`normalize_text` of column or expression ``expr``.

    Empty results are ``''`` rather than NULL; :func:`text_key_sql` turns them into NULL.
    """
    lowered = f"replace(lower({expr}), {sql_string(_DOT_ABOVE)}, '')"
    t = f"regexp_replace({lowered}, {sql_string(_STRIP_SQL)}, ' ', 'g')"
    # translate() is slow on DuckDB (about 1 s per 300k texts): run it only where it can
    # change something, which in most collections is a minority of texts.
    folded = fold_arabic_sql(t, extra_from=_EXTRA_FROM, extra_to=_EXTRA_TO)
    t = f"CASE WHEN regexp_matches({t}, {sql_string(_FOLD_GUARD_SQL)}) THEN {folded} ELSE {t} END"
    t = f"regexp_replace({t}, '[^\\p{{L}}\\p{{N}}\\p{{M}}]+', ' ', 'g')"
    return f"trim({t})"


def long_enough_sql(norm: str, *, min_chars: int = MIN_CHARS, min_words: int = MIN_WORDS) -> str:
    """SQL condition: the already normalised text ``norm`` is long enough to be a key."""
    words = f"(length({norm}) - length(replace({norm}, ' ', '')) + 1)"
    return f"(length({norm}) >= {min_chars} AND {words} >= {min_words})"


def text_key_sql(expr: str, *, min_chars: int = MIN_CHARS, min_words: int = MIN_WORDS) -> str:
    """SQL for :func:`text_key`: the normalised text, or NULL when too short or empty.

    This inlines the normaliser three times; on large tables normalise once in a subquery and
    filter with :func:`long_enough_sql` instead, as the coordination action table does.
    """
    n = normalize_text_sql(expr)
    return f"CASE WHEN {long_enough_sql(n, min_chars=min_chars, min_words=min_words)} THEN {n} END"
