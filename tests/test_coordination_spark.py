"""The Spark engine: the same SQL, transpiled, gives the same keys and the same results.

One Spark session for the module (start-up takes seconds). Acceptance on parity: both engines
on a generated 100k-post collection give identical tables, every column.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import coordination_reference as ref
from test_coordination_join import PARAMS, WINDOWS, assert_same, collection
from tidings.coordination import Coordination
from tidings.engine import DuckDBEngine, SparkEngine
from tidings.intel.arabic import fold_arabic, fold_arabic_sql
from tidings.keys import (
    canonical_url,
    canonical_url_sql,
    hashtag_set_key,
    hashtag_set_sql,
    normalize_text,
    normalize_text_sql,
)

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def spark() -> Iterator[SparkEngine]:
    pytest.importorskip("pyspark")
    engine = SparkEngine("local[2]", driver_memory="2g", shuffle_partitions=4)
    yield engine
    engine.close()
    engine.spark.stop()


def _spark_values(
    engine: SparkEngine, expr: str, values: list[Any], type_: pa.DataType
) -> list[Any]:
    engine.register_arrow(
        "vals",
        pa.table({"i": pa.array(range(len(values)), pa.int64()), "v": pa.array(values, type_)}),
    )
    out = engine.arrow(f"SELECT i, {expr} AS r FROM vals ORDER BY i")
    return out.column("r").to_pylist()


def test_keys_sql_gives_the_python_result_on_spark(spark: SparkEngine) -> None:
    texts = [
        "RT @desk: Join us TONIGHT!! https://t.co/x1 @friend",
        "أَهْلاً بالـــعالم يا أصدقائي ٣ مرات",
        "ΟΔΟΣ ΣΑΣ İstanbul www.example.com/x?y Straße",
        "café\u00a0http://x.y/z\u00a0next\x0bword 🙂 e\u0301",
        "",
    ]
    got = _spark_values(spark, normalize_text_sql("v"), texts, pa.string())
    assert [g or None for g in got] == [normalize_text(t) for t in texts]
    assert _spark_values(spark, fold_arabic_sql("v"), texts, pa.string()) == [
        fold_arabic(t) for t in texts
    ]
    urls = ["https://www.Example.com/a/?utm_source=x&b=2&a=1#top", " HTTP://X.org:443/P?fbclid=1",
            "", "#f", "ftp://h/x?a=1&utm_a&fbclidx=2"]  # fmt: skip
    assert _spark_values(spark, canonical_url_sql("v"), urls, pa.string()) == [
        canonical_url(u) for u in urls
    ]
    tags = [["#WorldCup", "brazil2014", "ENG", "eng"], ["a", None, "", "b", "c"], None, ["a", "b"]]
    assert _spark_values(spark, hashtag_set_sql("v"), tags, pa.list_(pa.string())) == [
        hashtag_set_key(t) for t in tags
    ]


def test_spark_equals_brute_force_reference(spark: SparkEngine) -> None:
    posts = collection(1, n=300)
    want = ref.edges(posts, windows=WINDOWS, app_min_accounts=3)
    detector = Coordination(windows=WINDOWS, **PARAMS).fit(ref.posts_table(posts), engine=spark)
    got = {
        (r.pop("account_a"), r.pop("account_b"), r.pop("window_s")): r
        for r in detector.edges_.to_pylist()
    }
    assert_same(got, want)
    for kind in ref.KINDS:
        assert any(row[f"w_{kind}"] for row in want.values()), kind


def test_both_engines_give_identical_tables_on_100k_posts(
    spark: SparkEngine, demo_collection: Callable[..., Path]
) -> None:
    posts = pq.read_table(demo_collection(n_posts=100_000) / "posts.parquet")
    duck = Coordination().fit(posts)
    on_spark = Coordination().fit(posts, engine=spark)
    assert duck.edges_.num_rows > 10_000  # not vacuous
    assert duck.counts_ == on_spark.counts_
    for name in ("edges_", "communities_", "community_summary_", "evidence_", "hot_keys_"):
        a, b = getattr(duck, name), getattr(on_spark, name)
        assert a.schema == b.schema, name
        for col in a.column_names:
            assert a.column(col).equals(b.column(col)), (name, col)
    assert [t.as_dict() for t in duck.thresholds_] == [t.as_dict() for t in on_spark.thresholds_]


def test_engine_protocol_round_trips_on_both(spark: SparkEngine) -> None:
    import duckdb

    table = pa.table({"x": pa.array([3, 1, 2], pa.int64()), "s": ["a", "b", "c"]})
    for engine in (DuckDBEngine(duckdb.connect()), spark):
        engine.register_arrow("t", table)
        assert engine.materialize("m", "SELECT x * 2 AS y, s FROM t WHERE x > 1") == 2
        assert engine.scalar("SELECT sum(y) FROM m") == 10
        n = engine.map_batches(
            "mb",
            "SELECT y FROM m",
            lambda b: pa.record_batch({"z": pa.compute.add(b.column(0), 1)}),
            pa.schema([("z", pa.int64())]),
        )
        assert n == 2
        assert sorted(engine.arrow("SELECT z FROM mb").column("z").to_pylist()) == [5, 7]
        engine.drop("m")
        engine.drop("mb")
