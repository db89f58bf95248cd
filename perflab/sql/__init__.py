"""SQL shipped with perflab: the PostgreSQL schema of the semantic cache.

``schema.sql`` is plain SQL (a Supabase user can paste it into the SQL editor);
``perflab db migrate`` applies it through ``perflab.backends.postgres.migrate``.
"""

from __future__ import annotations

from importlib.resources import files

__all__ = ["schema_sql"]


def schema_sql() -> str:
    """The text of ``perflab/sql/schema.sql``."""
    return files(__package__).joinpath("schema.sql").read_text(encoding="utf-8")
