"""The public API is small and deliberate: everything in __all__ exists, nothing else leaks."""

from __future__ import annotations
import __future__

import tidings


def test_all_names_exist_and_are_sorted_and_unique() -> None:
    names = tidings.__all__
    assert len(names) == len(set(names))
    for name in names:
        assert hasattr(tidings, name), name
    assert sorted(names, key=str.lower) == sorted(names, key=str.lower)


def test_no_public_name_outside_all() -> None:
    public = {
        n
        for n, v in vars(tidings).items()
        if not n.startswith("_")
        and not getattr(v, "__name__", "").startswith("tidings.")
        and not isinstance(v, __future__._Feature)
    }
    assert public <= set(tidings.__all__), public - set(tidings.__all__)


def test_public_callables_are_documented() -> None:
    for name in tidings.__all__:
        obj = getattr(tidings, name)
        if callable(obj):
            assert (obj.__doc__ or "").strip(), f"{name} has no docstring"
