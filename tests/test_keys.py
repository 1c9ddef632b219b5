"""Content keys: what each key keeps and drops, that empty values never become keys, that the
SQL forms equal the plain-Python references, and that MinHash band keys find near-duplicates."""

from __future__ import annotations

import socket
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tidings.keys import (
    MinHasher,
    app_key,
    app_key_sql,
    band_keys_reference,
    canonical_url,
    canonical_url_sql,
    hashtag_set_key,
    hashtag_set_sql,
    minhash_reference,
    normalize_text,
    normalize_text_sql,
    registered_domain,
    registered_domains,
    text_key,
    text_key_sql,
    url_host,
    url_host_sql,
)

_CON = duckdb.connect()


def _sql_values(expr: str, values: list[Any], sql_type: str = "VARCHAR") -> list[Any]:
    """Evaluate ``expr`` over column ``v`` for each value, in order, on DuckDB."""
    rows = _CON.execute(
        f"SELECT {expr} FROM (SELECT unnest($1::{sql_type}[]) AS v, "
        "generate_subscripts($1::" + sql_type + "[], 1) AS i) ORDER BY i",
        [values],
    ).fetchall()
    return [r[0] for r in rows]


# -- normalised text ----------------------------------------------------------------------------
def test_text_drops_case_punctuation_urls_mentions_and_rt_prefix() -> None:
    copies = [
        "Join us TONIGHT at the square!! https://t.co/Ab1",
        "RT @desk: join us tonight at the square https://t.co/Zz9",
        "@friend Join us tonight... at the square 🙂",
        "join us tonight at the square www.example.org/x",
    ]
    assert {text_key(c) for c in copies} == {"join us tonight at the square"}


def test_text_keeps_arabic_and_other_scripts() -> None:
    assert normalize_text("مرحباً بالعالم!! أهلاً") == "مرحبا بالعالم اهلا"
    assert normalize_text("Привет, мир! 你好") == "привет мир 你好"
    # The ASCII-only normaliser of older tools deletes these texts entirely.
    assert text_key("الإعلان عن الحملة الجديدة") == text_key("الاعلان عن الحملة الجديدة")


def test_arabic_spelling_variants_meet_under_one_key() -> None:
    assert text_key("إعلان مهم للجميع في المدينة") == text_key("اعلان مهم للجميع فى المدينه")


def test_short_or_empty_texts_are_not_keys() -> None:
    for t in [None, "", "   ", "ok!!", "thanks a lot", "🙂🙂🙂", "https://t.co/x @a @b", "RT @x:"]:
        assert text_key(t) is None, t
    assert text_key("see you all at the rally") is not None


def test_min_length_rule_is_configurable() -> None:
    assert text_key("thanks a lot") is None
    assert text_key("thanks a lot", min_chars=5, min_words=2) == "thanks a lot"


_TEXT_PARTS = st.sampled_from(
    [
        "Hello", "WORLD", "rt", "RT ", "RT @abc: ", "@User_1", "http://t.co/x?y=1",
        "https://A.b/c", "www.site.org/p", " ", "  ", "\t", "\n", "\u00a0", "\u2009", "\x0b",
        "!!", "...", "#", "#tag", ":", "/", "مرحباً", "أهلاً", "الـــعالم", "ة", "ى", "٣", "ΣΑΣ",
        "ς", "İ", "Straße", "мир",
        "你好", "🙂", "e\u0301", "क्षि", "_", "-", "'", "3.14", "x",
    ]
)  # fmt: skip


@settings(max_examples=80, deadline=None)
@given(st.lists(st.lists(_TEXT_PARTS, max_size=12).map("".join), min_size=1, max_size=25))
@example(texts=["@User_1İHello", "@abci\u0307def", "RT @İx: hello there"])  # found by hypothesis
def test_text_sql_matches_python(texts: list[str]) -> None:
    norm = _sql_values(normalize_text_sql("v"), texts)
    keys = _sql_values(text_key_sql("v"), texts)
    assert [n or None for n in norm] == [normalize_text(t) for t in texts]
    assert keys == [text_key(t) for t in texts]


# -- URLs ---------------------------------------------------------------------------------------
def test_canonical_url_removes_what_varies_between_shares() -> None:
    shares = [
        "https://www.example.org/rally/2014?b=2&a=1",
        "http://example.org/rally/2014/?a=1&b=2#comments",
        "HTTPS://WWW.EXAMPLE.ORG/rally/2014?utm_source=tw&a=1&utm_medium=x&b=2",
        "example.org/rally/2014?fbclid=IwAR0&b=2&a=1",
        "https://example.org:443/rally/2014?a=1&b=2&gclid=9",
    ]
    assert {canonical_url(u) for u in shares} == {"example.org/rally/2014?a=1&b=2"}


def test_canonical_url_keeps_path_case_and_meaningful_params() -> None:
    assert canonical_url("https://Example.org/Video?v=AbC") == "example.org/Video?v=AbC"
    assert canonical_url("https://example.org/a?id=1") != canonical_url("https://example.org/a")
    assert canonical_url("https://example.org/utm_page?fbclidx=2") == (
        "example.org/utm_page?fbclidx=2"
    )


def test_empty_urls_are_not_keys() -> None:
    for u in [None, "", "   ", "#top", "https://", "https:///path"]:
        assert canonical_url(u) is None, u


_URL_PARTS = st.sampled_from(
    [
        "http://", "https://", "HTTP://", "ftp://", "www.", "WWW.", "Example.COM", "b.co.uk",
        ":443", ":8080", "/", "/A", "/b/", "?", "&", "a=1", "b=2", "utm_source=x", "UTM_Medium=y",
        "fbclid=z", "gclid", "#", "frag", " ", "%20", "ü", "=", "..",
    ]
)  # fmt: skip


@settings(max_examples=80, deadline=None)
@given(st.lists(st.lists(_URL_PARTS, max_size=10).map("".join), min_size=1, max_size=25))
def test_url_sql_matches_python(urls: list[str]) -> None:
    assert _sql_values(canonical_url_sql("v"), urls) == [canonical_url(u) for u in urls]
    assert _sql_values(url_host_sql("v"), urls) == [url_host(u) or "" for u in urls]


def test_registered_domain_uses_the_public_suffix_list_offline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    assert registered_domain("news.bbc.co.uk") == "bbc.co.uk"
    assert registered_domain("a.b.example.com") == "example.com"
    # No public suffix: the host is its own domain, never an empty key.
    assert registered_domain("127.0.0.1") == "127.0.0.1"
    assert registered_domain("intranet") == "intranet"
    assert registered_domain("") is None
    table = registered_domains(["x.bbc.co.uk", "y.bbc.co.uk", None, "", "x.bbc.co.uk"])
    assert table.to_pylist() == [
        {"host": "x.bbc.co.uk", "domain": "bbc.co.uk"},
        {"host": "y.bbc.co.uk", "domain": "bbc.co.uk"},
    ]


# -- hashtag sets and apps ------------------------------------------------------------------------
def test_hashtag_set_ignores_order_case_hash_and_repeats() -> None:
    a = hashtag_set_key(["WorldCup", "#brazil2014", "ENG"])
    b = hashtag_set_key(["eng", "worldcup", "Brazil2014", "eng"])
    assert a == b == "brazil2014 eng worldcup"


def test_hashtag_sets_need_three_distinct_tags() -> None:
    assert hashtag_set_key(["a", "b"]) is None
    assert hashtag_set_key(["a", "A", "#a", "b"]) is None
    assert hashtag_set_key(["a", "", None, "b"]) is None
    assert hashtag_set_key(None) is None


_TAG = st.one_of(st.none(), st.sampled_from(["a", "A", "#a", "b", " c", "", "d#", "é", "É", "ك"]))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.none(), st.lists(_TAG, max_size=6)), min_size=1, max_size=20))
def test_hashtag_sql_matches_python(tag_lists: list[list[str | None] | None]) -> None:
    got = _sql_values(hashtag_set_sql("v"), tag_lists, "VARCHAR[]")
    assert got == [hashtag_set_key(t) for t in tag_lists]


def test_app_key_trims_and_never_keys_blanks() -> None:
    values = [" Glad Relay ", "Twitter for Android", "", "   ", None]
    assert [app_key(v) for v in values] == ["Glad Relay", "Twitter for Android", None, None, None]
    assert _sql_values(app_key_sql("v"), values) == [app_key(v) for v in values]


# -- MinHash ------------------------------------------------------------------------------------
_NEAR = [
    "volunteers meet at the north gate of the stadium before the match tonight",
    "volunteers meet at the north gate of the stadium before the match",
    "volunteers meet at the north gate of the stadium before the match tonight tag",
    "the weather in the valley stays dry and warm for the rest of the week",
    "short",
    "",
]


def test_vectorised_minhash_equals_plain_python_reference() -> None:
    hasher = MinHasher()
    sig = hasher.signatures(_NEAR)
    idx, keys = hasher.band_keys(_NEAR)
    for i, text in enumerate(_NEAR):
        assert sig[i].tolist() == minhash_reference(text, hasher)
        assert keys[idx == i].tolist() == band_keys_reference(text, hasher)


def test_near_duplicates_share_band_keys_and_unrelated_texts_do_not() -> None:
    hasher = MinHasher()
    idx, keys = hasher.band_keys(_NEAR)
    bands = [set(keys[idx == i].tolist()) for i in range(len(_NEAR))]
    assert bands[0] & bands[1]  # dropped last word
    assert bands[0] & bands[2]  # extra hashtag word
    assert not bands[0] & bands[3]
    assert not bands[3] & bands[4]


def test_texts_without_words_give_no_band_keys() -> None:
    idx, keys = MinHasher().band_keys(pa.array(["", None, "one two three"]))
    assert set(idx.tolist()) == {2}
    assert len(keys) == 8


def test_minhash_estimates_jaccard_similarity() -> None:
    # Two texts of 40 distinct words sharing 30 word pairs of 39: Jaccard of bigrams = 30/48.
    words = [f"w{i}" for i in range(60)]
    a = " ".join(words[:40])
    b = " ".join(words[9:49])
    hasher = MinHasher(num_perm=512, bands=8)
    sig = hasher.signatures([a, b])
    estimate = float(np.mean(sig[0] == sig[1]))
    assert abs(estimate - 30 / 48) < 0.08


def test_minhash_is_deterministic_and_seeded() -> None:
    a = MinHasher(seed=7).band_keys(_NEAR)[1]
    b = MinHasher(seed=7).band_keys(pa.array(_NEAR))[1]
    c = MinHasher(seed=8).band_keys(_NEAR)[1]
    assert a.tolist() == b.tolist()
    assert a.tolist() != c.tolist()


def test_minhash_batches_do_not_change_the_result() -> None:
    rng = np.random.default_rng(3)
    texts = [
        " ".join(f"w{x}" for x in rng.integers(0, 50, rng.integers(1, 30))) for _ in range(300)
    ]
    small = MinHasher(batch_shingles=64).signatures(texts)
    large = MinHasher(batch_shingles=1 << 16).signatures(texts)
    assert np.array_equal(small, large)
