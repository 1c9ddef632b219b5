"""Intelligence helpers on text: language, Arabic normalisation, places, claims.

Only the Arabic folding lives here for now (:mod:`tidings.intel.arabic`); the content keys of
coordination and campaign detection use it, and the language and place steps will too.
"""

from __future__ import annotations

from .arabic import fold_arabic, fold_arabic_sql

__all__ = ["fold_arabic", "fold_arabic_sql"]
