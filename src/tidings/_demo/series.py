"""A traffic series for a synthetic country with a blocking-style drop and a circumvention surge.

Shaped like the Iraq blocking of June 2014 (research: cenalert_iraq, IODA): Facebook falls to
about 30 % of its baseline and Twitter plunges for a few days while an anonymous app and VPN
interest double; routing (BGP prefixes) stays up, which is what tells blocking from an outage.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from .context import HOURLY

ENTITY = "IQ"
_BASE = {"facebook": 1000.0, "twitter": 400.0, "whisper": 60.0, "vpn_interest": 25.0}
_CHANGE = {  # signal -> (kind, factor during the event)
    "facebook": ("blocking", 0.3),
    "twitter": ("blocking", 0.1),
    "whisper": ("circumvention_surge", 2.0),
    "vpn_interest": ("circumvention_surge", 2.0),
}
_TS = pa.timestamp("us", tz="UTC")


def make_series(rng: np.random.Generator, t0: int, days: int) -> tuple[pa.Table, pa.Table]:
    """Hourly points over at least a week, and the table of the planted changes."""
    days = max(days, 7)
    hours = np.arange(days * 24)
    t = t0 + hours * 3600
    cycle = np.tile(HOURLY / HOURLY.mean(), days)
    start_h = int(days * 0.4) * 24 + 9
    end_h = start_h + max(2, int(days * 0.2)) * 24
    during = (hours >= start_h) & (hours < end_h)
    times, signals, values = [], [], []
    rows = []
    for name, base in _BASE.items():
        kind, factor = _CHANGE[name]
        level = base * cycle * rng.lognormal(0.0, 0.05, len(hours))
        values.append(np.where(during, level * factor, level))
        times.append(t)
        signals.append(np.full(len(t), name))
        depth = 1.0 - factor if kind == "blocking" else factor - 1.0
        rows.append((ENTITY, name, kind, t0 + start_h * 3600, t0 + end_h * 3600, depth))
    prefixes = 1200.0 + rng.normal(0.0, 4.0, len(hours)).round()
    values.append(prefixes)
    times.append(t)
    signals.append(np.full(len(t), "bgp_prefixes"))
    n = len(hours) * (len(_BASE) + 1)
    series = pa.table(
        {
            "time": pa.array(np.concatenate(times) * 1_000_000, _TS),
            "entity": pa.repeat(pa.scalar(ENTITY), n),
            "signal": pa.array(np.concatenate(signals)),
            "value": pa.array(np.concatenate(values), pa.float64()),
        }
    )
    events = pa.table(
        {
            "entity": pa.array([r[0] for r in rows]),
            "signal": pa.array([r[1] for r in rows]),
            "kind": pa.array([r[2] for r in rows]),
            "start": pa.array([r[3] * 1_000_000 for r in rows], _TS),
            "end": pa.array([r[4] * 1_000_000 for r in rows], _TS),
            "depth": pa.array([r[5] for r in rows], pa.float64()),
        }
    )
    return series, events
