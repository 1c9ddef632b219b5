"""Arabic orthographic folding, as a Python function and as the same rule in SQL.

Social-media Arabic spells one word several ways: the hamza seat on alef is often left out
(أ/إ/آ/ٱ → ا), alef maqsura and ya are swapped (ى/ی → ي), ta marbuta is typed as ha (ة → ه),
hamza on waw/ya is dropped (ؤ → و, ئ → ي), Persian keyboards give ک for ك, diacritics
(tashkeel) are optional, and tatweel (ـ) stretches words for emphasis. Two copies of one
message must give one key, so all of these fold to a single form ("light" normalisation in the
sense of Larkey et al.; no stemming: stems would merge different words).

Arabic-Indic digits fold to ASCII digits so that dates and numbers match across keyboards.

The rule is a character-to-character map plus a set of characters to delete. In SQL the
deletions are one ``regexp_replace`` over an explicit code-point class and the map is
``translate(s, from, to)``, which DuckDB and Spark both implement; explicit code points leave
no room for the two regex engines to disagree (``translate`` alone could also delete, but it
is about 3x slower on DuckDB with a long ``from``). Written here rather than taken from
PyArabic, which is GPL.
"""

from __future__ import annotations

__all__ = ["DELETE", "FOLD", "fold_arabic", "fold_arabic_sql"]

FOLD: dict[str, str] = {
    "\u0622": "\u0627",  # آ alef with madda      → ا
    "\u0623": "\u0627",  # أ alef with hamza above → ا
    "\u0625": "\u0627",  # إ alef with hamza below → ا
    "\u0671": "\u0627",  # ٱ alef wasla            → ا
    "\u0649": "\u064a",  # ى alef maqsura          → ي
    "\u06cc": "\u064a",  # ی farsi yeh             → ي
    "\u0626": "\u064a",  # ئ yeh with hamza        → ي
    "\u0624": "\u0648",  # ؤ waw with hamza        → و
    "\u0629": "\u0647",  # ة ta marbuta            → ه
    "\u06a9": "\u0643",  # ک keheh                 → ك
    **{chr(0x0660 + d): str(d) for d in range(10)},  # ٠-٩ Arabic-Indic digits
    **{chr(0x06F0 + d): str(d) for d in range(10)},  # ۰-۹ extended (Persian/Urdu) digits
}
"""Characters replaced by their common form."""

DELETE: str = (
    "\u0640"  # tatweel
    + "".join(chr(c) for c in range(0x064B, 0x0660))  # harakat, tanwin, shadda, sukun, …
    + "\u0670"  # superscript alef
    + "".join(chr(c) for c in range(0x06D6, 0x06EE))  # Quranic annotation marks
)
"""Characters removed: tatweel and every Arabic diacritic."""

_TABLE = {ord(k): v for k, v in FOLD.items()} | {ord(c): None for c in DELETE}


def fold_arabic(text: str) -> str:
    """Fold Arabic letter variants, remove diacritics and tatweel; other scripts pass through.

    >>> fold_arabic("أَهْلاً بالـــعالم")
    'اهلا بالعالم'
    """
    return text.translate(_TABLE)


def _sql_string(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def fold_arabic_sql(
    expr: str, *, extra_from: str = "", extra_to: str = "", extra_delete: str = ""
) -> str:
    """The same folding as a SQL expression over ``expr`` (DuckDB dialect, runs on Spark too).

    ``extra_from``/``extra_to`` add one-to-one replacements and ``extra_delete`` characters to
    remove, in the same ``translate`` call (the text normaliser folds Greek final sigma this
    way), so one pass over the string does all the work.
    """
    if len(extra_from) != len(extra_to):
        raise ValueError("extra_from and extra_to must have the same length")
    gone = "".join(f"\\x{{{ord(c):04X}}}" for c in DELETE + extra_delete)
    src = extra_from + "".join(FOLD)
    dst = extra_to + "".join(FOLD.values())
    deleted = f"regexp_replace({expr}, {_sql_string('[' + gone + ']')}, '', 'g')"
    return f"translate({deleted}, {_sql_string(src)}, {_sql_string(dst)})"
