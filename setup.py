"""The one compiled part of tidings: the Twitter v1.1 JSONL scanner (see docs/design.md).

It is optional: without a C++ compiler and Debian's libsimdjson-dev the build of this extension
fails quietly, and the reader uses its pure-Python path (same output, about half the speed).
Everything else about the package is declared in pyproject.toml.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "tidings.ingest._twitter_v1_scan",
            ["src/tidings/ingest/_twitter_v1_scan.cpp"],
            libraries=["simdjson"],
            extra_compile_args=["-O2", "-std=c++17"],
            language="c++",
            optional=True,
        )
    ]
)
