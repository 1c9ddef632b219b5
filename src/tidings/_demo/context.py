"""What every part of the generator shares: the period, the daily cycle, words, tags, apps, URLs.

Built once per ``generate`` call from the config; small (its size grows with the URL pool only),
so each organic block and planted component reads it instead of recomputing it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import vocab
from .frame import Int, base62, int_strings, join_words, offsets
from .population import F64, zipf_cdf

DAY = 86_400

# Posts per hour of the day (UTC): quiet nights, busy evenings in the Gulf and in Europe.
HOURLY = np.array(
    [0.6, 0.4, 0.3, 0.25, 0.25, 0.3, 0.45, 0.65, 0.8, 0.9, 0.95, 1.0,
     1.05, 1.1, 1.2, 1.35, 1.5, 1.6, 1.65, 1.6, 1.45, 1.2, 0.95, 0.75]
)  # fmt: skip


@dataclass
class Context:
    t0: int
    days: int
    words: pa.Array
    n_en: int
    en_cdf: F64
    ar_cdf: F64
    tags: list[str]
    """Tag spellings as shown in text; the hashtags column holds them lower-cased."""
    topical_cdf: F64
    apps: list[str]
    url_pool: pa.Array
    url_cdf: F64
    url_birth: F64
    url_life: F64
    day_cdf: F64
    hour_cdf: F64

    @property
    def t1(self) -> int:
        return self.t0 + self.days * DAY

    def app(self, name: str) -> int:
        if name not in self.apps:
            self.apps.append(name)
        return self.apps.index(name)

    def time_of_day(self, rng: np.random.Generator, n: int) -> Int:
        hour = np.searchsorted(self.hour_cdf, rng.random(n), side="right").clip(0, 23)
        return hour * 3600 + rng.integers(0, 3600, n)

    def times(self, rng: np.random.Generator, n: int) -> Int:
        """Posting times over the whole period, with the daily cycle and day-to-day variation."""
        day = np.searchsorted(self.day_cdf, rng.random(n), side="right").clip(0, self.days - 1)
        return self.times_on(rng, day)

    def times_on(self, rng: np.random.Generator, day: Int) -> Int:
        return self.t0 + day.astype(np.int64) * DAY + self.time_of_day(rng, len(day))

    def sentences(
        self, rng: np.random.Generator, lang: np.ndarray[Any, Any], lo: int, hi: int
    ) -> pa.Array:
        """One sentence per row in the row's language (0 en, 1 ar), ``lo``-``hi`` words long.

        Arabic words come with their spelling variants now and then (letters, a diacritic).
        """
        n = len(lang)
        counts = np.clip(lo + rng.poisson((hi - lo) / 2, n), lo, hi)
        wl = np.repeat(lang, counts)
        u = rng.random(len(wl))
        ar = np.searchsorted(self.ar_cdf, u, side="right").clip(0, len(self.ar_cdf) - 1)
        variant = np.searchsorted([0.85, 0.95], rng.random(len(wl)), side="right")
        en = np.searchsorted(self.en_cdf, u, side="right").clip(0, len(self.en_cdf) - 1)
        idx = np.where(wl == 1, self.n_en + 3 * ar + variant, en)
        text = join_words(self.words, idx, counts)
        cap = pa.array((lang == 0) & (rng.random(n) < 0.6))
        return pc.if_else(cap, pc.utf8_capitalize(text), text)


def _url_pool(rng: np.random.Generator, n: int, words: pa.Array, n_en: int) -> pa.Array:
    """``n`` distinct URLs on a heavy-tailed set of domains."""
    dom = np.searchsorted(zipf_cdf(len(vocab.DOMAINS), 1.2), rng.random(n), side="right")
    dom = dom.clip(0, len(vocab.DOMAINS) - 1)
    domains = pa.array(vocab.DOMAINS).take(pa.array(dom))
    ids = np.arange(n, dtype=np.int64)
    slug_counts = rng.integers(2, 5, n)
    slug = pc.binary_join(
        pa.ListArray.from_arrays(
            offsets(slug_counts),
            words.take(pa.array(rng.integers(0, min(n_en, 200), int(slug_counts.sum())))),
        ),
        "-",
    )
    code = base62(ids, 11, salt=1 << 40)
    path = pc.binary_join_element_wise(slug, int_strings(ids), "-")
    dated = pc.binary_join_element_wise(
        int_strings(2014 - (rng.random(n) < 0.3).astype(np.int64)), path, "/"
    )
    # Each platform's own URL shape: a video id, a post code, a page's post number.
    shapes = [
        pc.binary_join_element_wise(pa.scalar("watch?v="), code, ""),
        pc.binary_join_element_wise(pa.scalar("p/"), pc.utf8_slice_codeunits(code, 0, 10), ""),
        pc.binary_join_element_wise(
            pc.utf8_slice_codeunits(slug, 0, 12), pa.scalar("/posts/"), int_strings(ids * 7919), ""
        ),
    ]
    tail = dated
    for d, shaped in enumerate(shapes):
        tail = pc.if_else(pa.array(dom == d), shaped, tail)
    return pc.binary_join_element_wise(pa.scalar("https:/"), domains, tail, "/")


def make_context(rng: np.random.Generator, *, t0: int, days: int, n_posts: int) -> Context:
    en = list(dict.fromkeys(vocab.EN_WORDS))
    ar = list(dict.fromkeys(vocab.AR_WORDS))
    words = en + [w for a in ar for w in (a, *vocab.arabic_variants(a))]
    word_arr = pa.array(words)
    tags = [*vocab.TRENDS, *vocab.COMMUNITY_TAGS, *vocab.TAGS]
    n_urls = max(500, n_posts // 20)
    url_cdf = zipf_cdf(n_urls, 0.95)
    rank = np.arange(n_urls)
    # Popular URLs live all month; the long tail is shared for a day or two.
    life = np.where(rank < n_urls // 100, 1e9, rng.lognormal(np.log(1.5), 0.8, n_urls))
    day_w = 1.0 + 0.08 * np.sin(np.arange(days) * 2 * np.pi / 7) + rng.normal(0, 0.04, days)
    return Context(
        t0=t0,
        days=days,
        words=word_arr,
        n_en=len(en),
        en_cdf=zipf_cdf(len(en), 1.0),
        ar_cdf=zipf_cdf(len(ar), 1.0),
        tags=tags,
        topical_cdf=zipf_cdf(len(vocab.TAGS), 0.9),
        apps=[name for name, _ in vocab.COMMON_APPS] + list(vocab.RARE_APPS),
        url_pool=_url_pool(rng, n_urls, word_arr, len(en)),
        url_cdf=url_cdf,
        url_birth=rng.uniform(-3.0, days, n_urls),
        url_life=life,
        day_cdf=np.cumsum(day_w) / day_w.sum(),
        hour_cdf=np.cumsum(HOURLY) / HOURLY.sum(),
    )
