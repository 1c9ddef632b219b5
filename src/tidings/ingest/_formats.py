"""Imports every reader module so that each registers itself, in ``auto``'s order of trying."""

from __future__ import annotations
