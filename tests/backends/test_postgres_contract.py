"""The cache's store behaviour suite, run unchanged on PostgresStore.

The test functions are B's, imported from tests/cache/test_store_contract.py; they
run here against the ``store`` fixture of tests/backends/conftest.py (PostgresStore,
exact and HNSW), so neither the suite nor its conftest is copied or edited.
"""

from __future__ import annotations

import pytest

import tests.cache.test_store_contract as _contract

pytestmark = pytest.mark.postgres

globals().update(
    {name: getattr(_contract, name) for name in dir(_contract) if name.startswith("test_")}
)
