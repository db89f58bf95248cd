"""Real backends: PostgreSQL + pgvector (embedded or any DATABASE_URL), Supabase, OpenAI, Tavily.

Each adapter imports its client library (psycopg, supabase, openai, httpx) inside the
module that needs it, so ``import perflab`` never pays for them. Import the adapters
from their modules:

- ``perflab.backends.embedded``: ``EmbeddedPostgres`` (the pgserver wheel),
  ``resolve_database_url``.
- ``perflab.backends.postgres``: ``PostgresStore``, ``migrate``.
- ``perflab.backends.proxy``: ``LatencyProxy``, a TCP proxy that makes a local database
  feel remote.
- ``perflab.backends.supabase_store``: ``SupabaseStore``.
- ``perflab.backends.openai_client``, ``perflab.backends.tavily_client``: the real
  services behind the service contract (``perflab.services``) the simulator also
  implements.

The backends import the engine and never ``perflab.sim`` (tests/test_walls.py). The
OpenAI/Tavily stand-in server is simulator code: ``perflab.sim.standin``.
"""

from __future__ import annotations

__all__: list[str] = []
