"""Shared fixtures: a fresh workspace, and the real datasets in ../shared (skipped when absent)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tidings import Workspace

SHARED_DATASETS = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace.init(tmp_path / "ws")


def shared_dataset(name: str) -> Path:
    """Path of ../shared/datasets/NAME, or skip the test with the reason."""
    path = SHARED_DATASETS / name
    if not path.is_dir():
        pytest.skip(f"real dataset {name!r} not present at {path} (only in the project's CI)")
    return path
