"""Arabic folding: letter variants, diacritics and tatweel fold away; other text is untouched;
the SQL form gives exactly what the Python function gives."""

from __future__ import annotations

import duckdb
from hypothesis import given, settings
from hypothesis import strategies as st

from tidings.intel.arabic import DELETE, FOLD, fold_arabic, fold_arabic_sql


def test_alef_variants_fold_to_bare_alef() -> None:
    assert fold_arabic("أحمد") == fold_arabic("إحمد") == fold_arabic("آحمد") == "احمد"
    assert fold_arabic("ٱلله") == "الله"


def test_ta_marbuta_alef_maqsura_and_hamza_seats_fold() -> None:
    assert fold_arabic("مدرسة") == "مدرسه"
    assert fold_arabic("على") == "علي"
    assert fold_arabic("مسؤول") == "مسوول"
    assert fold_arabic("رئيس") == "رييس"


def test_diacritics_and_tatweel_are_removed() -> None:
    # The same word with full tashkeel, with stretching, and bare.
    assert fold_arabic("مُحَمَّدٌ") == "محمد"
    assert fold_arabic("جـــميل") == "جميل"


def test_persian_letters_and_arabic_indic_digits_fold() -> None:
    assert fold_arabic("کتاب") == "كتاب"
    assert fold_arabic("ی") == "ي"
    assert fold_arabic("٢٠١٤ و ۲۰۱۴") == "2014 و 2014"


def test_other_scripts_pass_through_unchanged() -> None:
    text = "Hello мир 你好 é ñ 123 !?"
    assert fold_arabic(text) == text


def test_tables_cover_every_mapped_character() -> None:
    # No character is both mapped and deleted, and the fold never maps to a variant.
    assert not set(FOLD) & set(DELETE)
    assert not set(FOLD.values()) & set(FOLD)


_ARABIC = st.sampled_from(
    [chr(c) for c in range(0x0620, 0x0670)] + list(FOLD) + list(DELETE) + [" ", "a", "Z", "5"]
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(_ARABIC, max_size=30), min_size=1, max_size=20))
def test_sql_matches_python(texts: list[str]) -> None:
    con = duckdb.connect()
    got = con.execute(
        f"SELECT {fold_arabic_sql('t')} FROM unnest($1::VARCHAR[]) WITH ORDINALITY u(t, i) "
        "ORDER BY i",
        [texts],
    ).fetchall()
    assert [r[0] for r in got] == [fold_arabic(t) for t in texts]
