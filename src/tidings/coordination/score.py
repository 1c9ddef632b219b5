"""The null model behind ``score`` and the default threshold.

**Question.** Two accounts co-acted on some keys within ``W``. How surprising is that if
nobody coordinated?

**Null model: time shuffling within each key.** Keep every key's number of actions ``n_k`` and
spread those actions at random over the collection's time span ``T``. A given action on key
``k`` then expects ``λ_k(W) = (n_k − 1) · 2W / T`` other actions on ``k`` within ``±W`` of it,
so the chance that it has a partner in the window at all is about

    p_k(W) = min(1, (n_k − 1) · 2W / T).

A co-action on a rare key in a short window is unlikely by chance (one repost of a post
reposted 3 times in a month, within 60 s: ``p ≈ 9·10⁻⁵``); one on a viral post or a busy site is
not (``p = 1``). This is the IDF-style down-weighting of popular keys, derived rather than
assumed: ``−log10 p_k`` is the key's inverse "temporal document frequency".

**Key term.** ``score_keys = Σ_k −log10 p_k(W)`` over the distinct keys the pair co-acted on
within ``W``: ``−log10`` of the probability that all those co-actions happen by chance,
treating keys as independent. It grows with the number of shared keys and with their rarity,
and is 0 for a pair that only met on viral items, however often.

**Activity term.** The key term ignores who the accounts are: two accounts that each post
thousands of times meet on many keys by chance (on generated data, the busiest organic
accounts formed a community of chance through co-reposts of popular posts at long windows).
So the pair's co-actions are also compared with what the accounts' activity predicts: with
``c_a`` and ``c_b`` the co-actions each account has with anyone within ``W`` and ``C`` all of
them, chance gives the pair ``λ = c_a·c_b / 2C`` (the configuration model, the null behind
modularity), and ``score_activity = −log10 P(Poisson(λ) ≥ weight)``.

**Score.** ``score = min(score_keys, score_activity)``: an edge must be surprising both for
what it rests on and for who it joins. Neither term is a calibrated p-value (keys are not
independent; the configuration model ignores time), so the threshold below was checked
against generated collections with known answers (docs/coordination.md) rather than trusted
on theory alone.

**Default threshold.** Among ``N_W`` candidate pairs (every pair with at least one co-action
within ``W``), a Bonferroni bound keeps the expected number of chance edges below ``α``: an
edge is *significant* at ``W`` when ``score ≥ log10(N_W / α)``. The threshold therefore adapts to
the collection (more candidates, stricter) and to the window (longer windows, more candidates
and weaker per-key evidence), instead of a fixed count such as "weight ≥ 2", which lets through
single-event noise on big collections and misses strong pairs on small ones. The run record
states ``N_W``, ``α`` and the threshold used at every window.

Scores are summed as integers (micro-units, rounded per key) so that every engine adds them in
any order and gets the same value to the last digit.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

__all__ = ["SCALE", "Threshold", "activity_surprise", "key_surprise_sql", "threshold_for"]

SCALE = 1_000_000
"""Per-key surprise is stored as an integer in millionths, so sums are exact."""


def key_surprise_sql(n: str, window_s: str, span_s: float) -> str:
    """SQL: the integer surprise ``round(−log10 p_k(W) · SCALE)`` of a key with ``n`` actions."""
    span = repr(float(span_s))
    p = f"least(CAST(1 AS DOUBLE), CAST({n} - 1 AS DOUBLE) * 2 * {window_s} / {span})"
    return f"CAST(round(-log10({p}) * {SCALE}) AS BIGINT)"


class Threshold:
    """The significance threshold at one window, and why."""

    def __init__(self, window_s: int, candidates: int, alpha: float, fixed: float | None) -> None:
        self.window_s = window_s
        self.candidates = candidates
        self.alpha = alpha
        if fixed is not None:
            self.value = float(fixed)
            self.reason = f"fixed by the caller (threshold={fixed})"
        else:
            self.value = threshold_for(candidates, alpha)
            self.reason = (
                f"Bonferroni over {candidates:,} candidate pairs at {window_s} s: "
                f"score >= log10({candidates:,} / {alpha:g}) keeps the expected number of "
                "chance edges below alpha under time shuffling within keys"
            )

    def as_dict(self) -> dict[str, object]:
        return {
            "window_s": self.window_s,
            "candidates": self.candidates,
            "alpha": self.alpha,
            "threshold": round(self.value, 6),
            "reason": self.reason,
        }


def threshold_for(candidates: int, alpha: float) -> float:
    """``log10(N / α)``, the score a pair needs among ``N`` candidates (at least 0)."""
    if not 0 < alpha < 1:
        raise ValueError("alpha must be between 0 and 1")
    return max(0.0, math.log10(max(candidates, 1) / alpha))


def activity_surprise(
    weight: npt.NDArray[np.int64],
    deg_a: npt.NDArray[np.int64],
    deg_b: npt.NDArray[np.int64],
    total: int,
) -> npt.NDArray[np.int64]:
    """The activity term of the score, in integer millionths (see the module doc).

    With ``c_a``, ``c_b`` the co-actions of each account with anyone and ``C`` all co-actions,
    a pair expects ``λ = c_a·c_b / 2C`` of them together by chance (the configuration model,
    the null of modularity). The surprise of ``w`` is ``−log10 P(Poisson(λ) ≥ w)``, bounded
    from below by summing the tail as a geometric series:
    ``P ≤ e^−λ λ^w / w! · 1 / (1 − λ/(w+1))``; when ``λ ≥ w`` the pair is no surprise (0).
    """
    w = weight.astype(np.float64)
    lam = deg_a.astype(np.float64) * deg_b.astype(np.float64) / (2.0 * max(total, 1))
    out = np.zeros(len(w), dtype=np.int64)
    ok = (lam < w) & (lam > 0)
    if not ok.any():
        return out
    top = int(weight.max())
    log_fact = np.concatenate([[0.0], np.cumsum(np.log(np.arange(1, top + 1, dtype=np.float64)))])
    wv, lv = w[ok], lam[ok]
    ln_p = -lv + wv * np.log(lv) - log_fact[weight[ok]] - np.log1p(-lv / (wv + 1.0))
    surprise = np.maximum(0.0, -ln_p / math.log(10))
    out[ok] = np.round(surprise * SCALE).astype(np.int64)
    return out
