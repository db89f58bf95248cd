"""Constants for the backend tests (the PostgreSQL fixtures live in tests/conftest.py).

The store contract suite runs on PostgresStore and SupabaseStore as factories of the
one suite: tests/cache/conftest.py, STORE_FACTORIES.
"""

from __future__ import annotations

SUPABASE_TEST_KEY = "sb-test-service-role-key"
