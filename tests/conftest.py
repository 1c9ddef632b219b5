"""Shared fixtures: a fresh workspace, and the real datasets in ../shared (skipped when absent)."""

from __future__ import annotations

from collections.abc import Callable
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


@pytest.fixture(scope="session")
def demo_collection(
    tmp_path_factory: pytest.TempPathFactory,
) -> Callable[..., Path]:
    """A factory of written demo collections: ``demo_collection(n_posts=..., **config) -> Path``.

    Each distinct set of parameters is generated once per session (with ``write_demo``: the
    directory holds posts/accounts/series Parquet and ``truth/``), so tests that ask for the
    same collection share it.
    """
    from tidings.demo import DemoConfig, generate, write_demo

    made: dict[tuple[tuple[str, object], ...], Path] = {}

    def make(n_posts: int = 100_000, **overrides: object) -> Path:
        config = DemoConfig(n_posts=n_posts, **overrides)
        key = tuple(sorted(vars(config).items()))
        if key not in made:
            out = tmp_path_factory.mktemp("demo")
            made[key] = write_demo(generate(config), out)
        return made[key]

    return make


@pytest.fixture(scope="session")
def campaigns_run(
    demo_collection: Callable[..., Path], tmp_path_factory: pytest.TempPathFactory
) -> Callable[..., tuple[object, Path]]:
    """``campaigns_run(n_posts=..., **config) -> (CampaignResult, demo dir)``: a demo collection
    ingested (posts with their authors' profiles) and run through ``detect_campaigns`` with
    default settings, once per session per parameter set."""
    import duckdb

    from tidings import detect_campaigns, ingest

    made: dict[tuple[tuple[str, object], ...], tuple[object, Path]] = {}

    def run(n_posts: int = 1_000_000, **overrides: object) -> tuple[object, Path]:
        key = (("n_posts", n_posts), *sorted(overrides.items()))
        if key not in made:
            src = demo_collection(n_posts=n_posts, **overrides)
            root = tmp_path_factory.mktemp("campaigns")
            profiled = root / "posts.parquet"
            duckdb.sql(
                f"COPY (SELECT p.* EXCLUDE (raw), a.created_at AS account_created_at "
                f"FROM '{src / 'posts.parquet'}' p "
                f"LEFT JOIN '{src / 'accounts.parquet'}' a USING (account_id)) "
                f"TO '{profiled}' (FORMAT parquet)"
            )
            ws = Workspace.init(root / "ws")
            ingest(ws, [profiled], format="parquet", dataset="demo")
            made[key] = (detect_campaigns(ws, out=root / "out"), src)
        return made[key]

    return run
