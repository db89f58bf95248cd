"""The SQL text PostgresStore sends, checked without a database."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from perflab.backends._pg_sql import IndexSpec, entry_rows, search_path
from perflab.cache import NewEntry


@pytest.mark.parametrize("kind", ["hnsw", "ivfflat"])
def test_approximate_search_orders_by_the_indexed_expression(kind: Any) -> None:
    """The search orders by exactly the expression the index is built on, so the planner can use it."""
    spec = IndexSpec(kind)
    expression = "embedding::vector(16)"
    create = spec.create_sql(16)
    assert create is not None and f"(({expression}) vector_cosine_ops)" in create
    assert f"order by {expression} <=> %(q)s::vector(16) limit" in spec.search_sql(16, True)


def test_exact_search_has_no_index_and_no_session_settings() -> None:
    """Exact search builds no index, sets nothing per connection, and orders by the uncast expression."""
    spec = IndexSpec()
    assert spec.create_sql(16) is None and spec.session_sql() == []
    assert "order by embedding <=> %(q)s, id" in spec.search_sql(16, False)
    assert "%(now)s" not in spec.search_sql(16, False)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"kind": "lsh"}, "index"), ({"hnsw_m": 0}, "hnsw_m"), ({"ivfflat_probes": 0}, "probes")],
)
def test_index_spec_refuses_bad_settings(kwargs: dict[str, Any], message: str) -> None:
    """An unknown index kind or a parameter below 1 is a ValueError naming it."""
    with pytest.raises(ValueError, match=message):
        IndexSpec(**kwargs)


def test_entry_rows_refuse_mixed_lengths() -> None:
    """Rows are built for one embedding length; a batch that mixes lengths is refused."""
    dim, rows = entry_rows("ns", [NewEntry("q", np.ones(3), "v", expires_at=9.0)], None)
    assert dim == 3 and rows[0][:3] == ("ns", "q", 3) and rows[0][-1] == 9.0
    mixed = [NewEntry("a", np.ones(3), "v"), NewEntry("b", np.ones(4), "v")]
    with pytest.raises(ValueError, match="same length"):
        entry_rows("ns", mixed, None)


def test_search_path_refuses_a_schema_that_is_not_an_identifier() -> None:
    """Only plain identifiers become part of the search_path text."""
    assert search_path("perflab_test") == "perflab_test, public, extensions"
    assert search_path(None) is None
    with pytest.raises(ValueError, match="schema name"):
        search_path("a; drop table x")
