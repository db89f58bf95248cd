"""The package surface: what `import perflab` costs and exports."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import perflab

HEAVY = (
    "pandas",
    "matplotlib",
    "psycopg",
    "psycopg_pool",
    "openai",
    "supabase",
    "papermill",
    "pydantic",
)


def test_import_is_light() -> None:
    """`import perflab` loads none of the heavy libraries; they are imported where used."""
    code = "import sys, json, perflab; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(json.loads(out.stdout))
    assert not [name for name in HEAVY if name in loaded]


@pytest.mark.parametrize("name", perflab.__all__)
def test_every_exported_name_resolves(name: str) -> None:
    """Each name in `perflab.__all__` can be fetched from the package."""
    assert getattr(perflab, name) is not None


def test_all_is_sorted() -> None:
    """`__all__` is kept sorted, so a reader finds a name quickly."""
    assert perflab.__all__ == sorted(perflab.__all__)


def test_unknown_attribute_is_an_attribute_error() -> None:
    """A typo gets the usual AttributeError, naming the attribute."""
    with pytest.raises(AttributeError, match="no_such_thing"):
        perflab.no_such_thing  # noqa: B018


def test_errors_show_as_perflab_names() -> None:
    """Errors print as `perflab.PoolTimeout`, not the private module path."""
    assert perflab.PoolTimeout.__module__ == "perflab"
    assert issubclass(perflab.ConfigError, ValueError)


def test_all_lists_every_lazy_name_and_error() -> None:
    """Nothing importable from the package is missing from `__all__`."""
    import perflab.errors

    lazy = set(perflab._LAZY)
    errors = set(perflab.errors.__all__)
    assert lazy | errors | {"__version__"} == set(perflab.__all__)
