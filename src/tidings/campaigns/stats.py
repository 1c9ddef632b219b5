"""Surprise scores: how unlikely a pattern is under "these posts were independent organic posts".

Every detector reports its evidence in one unit, the *surprise* ``-log10 p`` of an upper bound on
the probability of seeing the pattern by chance, so that signals of different kinds (a tight
time window, one rare app, accounts created together) can be added and compared with one
threshold. The bounds are deliberately simple (union bounds, Chernoff bounds): they are
conservative, cost O(n) in numpy with no per-key Python loop, and keys shared by 10^5 accounts
cost no more than their rows. Everything is vectorised over many keys at once: a key is a
segment of a concatenated, sorted array (``starts``, ``lengths``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

F64 = np.ndarray[Any, np.dtype[np.float64]]
I64 = np.ndarray[Any, np.dtype[np.int64]]

LN10 = math.log(10.0)


def log10_choose(n: I64, k: I64) -> F64:
    """``log10 C(n, k)`` element-wise, exact through ``lgamma``."""
    lg = np.frompyfunc(math.lgamma, 1, 1)
    n_f = n.astype(np.float64)
    k_f = k.astype(np.float64)
    out = lg(n_f + 1.0) - lg(k_f + 1.0) - lg(n_f - k_f + 1.0)
    return np.asarray(out, dtype=np.float64) / LN10


def segment_starts(lengths: I64) -> I64:
    starts = np.zeros(len(lengths), np.int64)
    if len(lengths) > 1:
        np.cumsum(lengths[:-1], out=starts[1:])
    return starts


@dataclass
class Scan:
    """The tightest window holding a share ``q`` of each key's points."""

    k: I64
    """points in the segment"""
    m: I64
    """points required in the window: ``max(2, ceil(q * k))``, at most k"""
    width: F64
    """width of the tightest such window, in the units of the points (inf for k < 2)"""
    lo: I64
    """index (into the concatenated array) of the window's first point"""


def scan(points: F64, lengths: I64, q: float) -> Scan:
    """The tightest window holding ``ceil(q * k)`` of each segment's k sorted ``points``."""
    k = lengths.astype(np.int64)
    starts = segment_starts(k)
    m = np.minimum(np.maximum(2, np.ceil(q * k).astype(np.int64)), np.maximum(k, 1))
    n = len(points)
    seg = np.repeat(np.arange(len(k)), k)
    j = np.arange(n, dtype=np.int64)
    j2 = j + m[seg] - 1
    valid = j2 < (starts + k)[seg]
    diff = np.full(n, np.inf)
    diff[valid] = points[j2[valid]] - points[j[valid]]
    width = np.full(len(k), np.inf)
    lo = starts.copy()
    nonempty = k >= 2
    if n and nonempty.any():
        # Per-segment argmin: sort by (segment, diff) and take each segment's first row.
        order = np.lexsort((diff, seg))
        first = np.searchsorted(seg[order], np.arange(len(k)))
        pick = order[np.minimum(first, n - 1)]
        width = np.where(nonempty, diff[pick], np.inf)
        lo = np.where(nonempty, pick, starts)
    return Scan(k=k, m=m, width=width, lo=lo)


def scan_surprise(k: I64, m: I64, width: F64, *, floor: float) -> F64:
    """Surprise of ``m`` of ``k`` points falling in a window of ``width`` (share of the line).

    Under the null that the k points are independent uniform draws on [0, 1], the chance that
    some window of width d holds m of them is at most ``m * C(k, m) * d^(m-1)`` (choose the m
    points and which one starts the window). ``floor`` keeps a zero width (copies in the same
    instant) from giving an infinite surprise.
    """
    w = np.clip(np.nan_to_num(width, nan=1.0, posinf=1.0), floor, 1.0)
    ok = (k >= 2) & (m >= 2)
    kk = np.maximum(k, 2)
    mm = np.clip(m, 2, kk)
    log_p = np.log10(mm) + log10_choose(kk, mm) + (mm - 1) * np.log10(w)
    return np.where(ok, np.clip(-log_p, 0.0, None), 0.0)


def binomial_surprise(x: F64 | I64, n: F64 | I64, p0: F64 | float) -> F64:
    """Chernoff bound on P(X >= x) for X ~ Binomial(n, p0), as ``-log10``: n KL(x/n || p0)."""
    x_f = np.asarray(x, dtype=np.float64)
    n_f = np.maximum(np.asarray(n, dtype=np.float64), 1.0)
    p = np.clip(np.asarray(p0, dtype=np.float64), 1e-12, 1 - 1e-12)
    f = np.clip(x_f / n_f, 0.0, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        kl = np.where(f > 0, f * np.log(f / p), 0.0) + np.where(
            f < 1, (1 - f) * np.log((1 - f) / (1 - p)), 0.0
        )
    return np.where(f > p, n_f * kl / LN10, 0.0)


def poisson_surprise(x: F64 | I64, lam: F64 | float) -> F64:
    """Chernoff bound on P(X >= x) for X ~ Poisson(lam), as ``-log10``."""
    x_f = np.asarray(x, dtype=np.float64)
    lam_f = np.maximum(np.asarray(lam, dtype=np.float64), 1e-9)
    with np.errstate(divide="ignore", invalid="ignore"):
        bound = x_f * np.log(np.where(x_f > 0, x_f / lam_f, 1.0)) - x_f + lam_f
    return np.where(x_f > lam_f, bound / LN10, 0.0)


def normal_surprise(z: F64) -> F64:
    """``-log10 P(Z >= z)`` for a standard normal, stable far into the tail; 0 for z <= 0."""
    z = np.asarray(z, dtype=np.float64)
    zc = np.clip(z, 0.0, None)
    small = np.frompyfunc(
        lambda v: -math.log10(max(0.5 * math.erfc(v / math.sqrt(2.0)), 1e-300)), 1, 1
    )
    near = np.asarray(small(np.minimum(zc, 30.0)), dtype=np.float64)
    # Mills ratio beyond z = 30, where erfc underflows.
    far = (zc**2 / 2 + np.log(np.maximum(zc, 1.0) * math.sqrt(2 * math.pi))) / LN10
    return np.where(z <= 0, 0.0, np.where(zc < 30.0, near, far))


def gap_cv(times: F64, lengths: I64) -> F64:
    """Coefficient of variation of the gaps between consecutive sorted times, per segment."""
    k = lengths.astype(np.int64)
    out = np.full(len(k), np.nan)
    if len(times) < 2:
        return out
    gaps = np.diff(times)
    seg = np.repeat(np.arange(len(k)), k)
    same = seg[1:] == seg[:-1]
    gseg = seg[1:][same]
    g = gaps[same]
    cnt = np.bincount(gseg, minlength=len(k)).astype(np.float64)
    s1 = np.bincount(gseg, weights=g, minlength=len(k))
    s2 = np.bincount(gseg, weights=g * g, minlength=len(k))
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = s1 / cnt
        var = np.maximum(s2 / cnt - mean**2, 0.0)
        cv = np.sqrt(var) / mean
    ok = (cnt >= 2) & (mean > 0)
    out[ok] = cv[ok]
    return out


def regularity_surprise(cv: F64, n_gaps: I64) -> F64:
    """Surprise of gaps more regular than a Poisson process (CV well below 1).

    The sample CV of exponential gaps is close to 1 with a spread of about ``1/sqrt(n)``, so a
    scheduler that spaces copies evenly (CV near 0) stands out; bursty organic posting (CV > 1)
    scores 0. A normal approximation: rough, but only used on keys already in a campaign.
    """
    z = (1.0 - np.nan_to_num(cv, nan=1.0)) * np.sqrt(np.maximum(n_gaps, 0).astype(np.float64))
    return normal_surprise(z)
