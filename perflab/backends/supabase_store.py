"""``SupabaseStore``: the cache in a Supabase project, through its HTTP API only.

For a user who has the project URL and a key but no database password: every call is
an HTTPS request to the project's PostgREST API, made by the official ``supabase``
client. Writes are ``insert``/``update``/``delete`` on the ``cache_entries`` table
(one request is one transaction), and the vector search is
``supabase.rpc("match_cache_entries", ...)``, the function ``perflab/sql/schema.sql``
creates (paste it into the project's SQL editor, or run ``perflab db migrate`` with
the project's DATABASE_URL).

Compared with ``PostgresStore`` each call costs an HTTP round trip to the project
(tens of milliseconds), which is why the guide keeps a cache *in front of* the API.

The key is held as a ``SecretStr``: it never appears in ``repr``, logs or errors.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np

from perflab.arrays import FloatArray
from perflab.cache.store import BufferedStore, Entry, Neighbour, NewEntry, as_vector, check_entries
from perflab.errors import ServiceError
from perflab.http_errors import error_for_status, parse_retry_after
from perflab.secret import reveal

if TYPE_CHECKING:
    from pydantic import SecretStr

__all__ = ["SupabaseStore"]

_TABLE = "cache_entries"
_COLUMNS = "id,namespace,query,embedding,value,intent,created_at,expires_at"


def _float_out(value: float) -> float | str:
    """JSON has no infinity; PostgreSQL reads the string ``"Infinity"`` as one."""
    return value if math.isfinite(value) else ("Infinity" if value > 0 else "-Infinity")


def _vector_text(vector: FloatArray) -> str:
    """pgvector's text form, ``[0.1,0.2,...]``, which PostgREST passes to the vector type."""
    return "[" + ",".join(repr(float(x)) for x in vector) + "]"


def _vector_in(value: Any) -> FloatArray:
    items = json.loads(value) if isinstance(value, str) else value
    return np.asarray(items, dtype=np.float32)


class SupabaseStore(BufferedStore):
    """A ``VectorStore`` in a Supabase project, over HTTP with the ``supabase`` client.

    Args:
        url: the project URL (SUPABASE_URL), e.g. ``https://abcd.supabase.co``.
        key: the project's service_role key (SUPABASE_KEY), or an anon key when row
            level security policies allow it. Held as a secret.
        schema: the PostgreSQL schema exposed through the API (default ``public``).
        timeout: seconds per HTTP request.
        counter_flush_every: buffer counter updates and send them every this many
            ``incr`` calls (each send is one HTTP request).
        client: a ready ``supabase.Client`` (then ``url``/``key`` only label it).

    Raises:
        ServiceError: when a request fails (network, timeout, 5xx); RateLimited on 429.
    """

    def __init__(
        self,
        url: str,
        key: SecretStr | str,
        *,
        schema: str = "public",
        timeout: float = 10.0,
        counter_flush_every: int = 1,
        client: Any | None = None,
    ) -> None:
        from pydantic import SecretStr

        self.url = url.rstrip("/")
        self._key = key if isinstance(key, SecretStr) else SecretStr(key)
        self.schema = schema
        super().__init__(counter_flush_every)  # the counter buffer and the lock
        self._dims: dict[str, int] = {}
        self._requests = 0
        self._closed = False
        self._http: Any | None = None
        self._seen = threading.local()  # the last 429's Retry-After, per thread
        if client is None:
            import httpx
            from supabase import ClientOptions, create_client

            # Our own httpx client: the timeout may be under a second (the supabase
            # client's own setting rounds it down to whole seconds).
            self._http = httpx.Client(
                timeout=httpx.Timeout(timeout),
                follow_redirects=True,
                event_hooks={"response": [self._remember_retry_after]},
            )
            options = ClientOptions(
                schema=schema,
                httpx_client=self._http,
                postgrest_client_retry=False,  # the engine's Retry decides, with jitter
                auto_refresh_token=False,
                persist_session=False,
            )
            client = create_client(self.url, reveal(self._key) or "", options)
        self._client: Any = client  # its JSON types are too loose to help; rows are checked here

    def _remember_retry_after(self, response: Any) -> None:
        """httpx response hook: keep a 429's Retry-After (the client's APIError drops headers)."""
        if response.status_code == 429:
            self._seen.retry_after = parse_retry_after(response.headers.get("Retry-After"))

    @contextmanager
    def _call(self, what: str) -> Iterator[None]:
        """Translate the client's errors into perflab's (never echoing the key)."""
        import httpx
        from postgrest.exceptions import APIError

        self.check_open()
        self._requests += 1
        try:
            yield
        except httpx.TimeoutException as exc:
            raise ServiceError(f"supabase {what} timed out ({type(exc).__name__})") from exc
        except httpx.HTTPError as exc:
            raise ServiceError(f"supabase {what} failed ({type(exc).__name__})") from exc
        except APIError as exc:
            code = str(exc.code)
            # A non-JSON error page carries the HTTP status as its code; PostgREST's own
            # errors carry PGRST... or a 5-character SQLSTATE instead.
            status = int(code) if code.isdigit() and 100 <= int(code) < 600 else None
            if status is not None:
                retry_after = getattr(self._seen, "retry_after", None)
                self._seen.retry_after = None
                raise error_for_status(
                    f"supabase {what}",
                    status,
                    retry_after,
                    str(exc.message or "")[:200],
                    key_name="SUPABASE_KEY",
                ) from exc
            raise ServiceError(
                f"supabase {what} failed: {exc.message} (code {exc.code})", status
            ) from exc

    def _rpc(self, function: str, params: dict[str, Any]) -> Any:
        with self._call(function):
            return self._client.rpc(function, params).execute().data

    def _dim(self, namespace: str) -> int | None:
        dim = self._dims.get(namespace)
        if dim is None:
            with self._call("select"):
                rows = (
                    self._client.table(_TABLE)
                    .select("dim")
                    .eq("namespace", namespace)
                    .limit(1)
                    .execute()
                    .data
                )
            if rows:
                dim = self._dims[namespace] = int(rows[0]["dim"])
        return dim

    def add_many(self, namespace: str, entries: Sequence[NewEntry]) -> list[int]:
        """Store entries in one request (one transaction): all of them or none."""
        check_entries(entries)
        if not entries:
            return []
        dim = self._dim(namespace)
        vectors = [as_vector(e.vector, dim) for e in entries]
        dim = vectors[0].shape[0]
        if any(v.shape[0] != dim for v in vectors):
            raise ValueError("vectors added together must all have the same length")
        rows = [
            {
                "namespace": namespace,
                "query": e.query,
                "dim": dim,
                "embedding": _vector_text(v),
                "value": e.value,
                "intent": e.intent,
                "created_at": _float_out(float(e.created_at)),
                "expires_at": _float_out(float(e.expires_at)),
            }
            for e, v in zip(entries, vectors)
        ]
        with self._call("insert"):
            data = self._client.table(_TABLE).insert(rows).select("id").execute().data
        self._dims[namespace] = dim
        return [int(r["id"]) for r in data]

    def search(
        self, namespace: str, vector: FloatArray, k: int = 1, *, now: float | None = None
    ) -> list[Neighbour]:
        """Return up to ``k`` nearest entries via ``rpc('match_cache_entries')``, best first."""
        if k < 1:
            raise ValueError(f"k ({k}) must be >= 1")
        dim = self._dim(namespace)
        if dim is None:
            return []
        query = as_vector(vector, dim)
        rows = self._rpc(
            "match_cache_entries",
            {
                "query_embedding": _vector_text(query),
                "match_threshold": -1.0,
                "match_count": k,
                "filter_namespace": namespace,
                "now_s": None if now is None else _float_out(float(now)),
            },
        )
        return [
            Neighbour(
                int(r["id"]),
                float(r["similarity"]),
                r["query"],
                r["intent"],
                float(r["created_at"]),
                float(r["expires_at"]),
            )
            for r in rows
        ]

    def get(self, entry_id: int) -> Entry | None:
        """Return the entry with its value, or ``None``."""
        with self._call("select"):
            rows = (
                self._client.table(_TABLE)
                .select(_COLUMNS)
                .eq("id", entry_id)
                .limit(1)
                .execute()
                .data
            )
        if not rows:
            return None
        r = rows[0]
        return Entry(
            int(r["id"]),
            r["namespace"],
            r["query"],
            _vector_in(r["embedding"]),
            r["value"],
            r["intent"],
            float(r["created_at"]),
            float(r["expires_at"]),
        )

    def touch(self, entry_id: int, expires_at: float) -> bool:
        """Set an entry's expiry; ``False`` if it is gone."""
        with self._call("update"):
            rows = (
                self._client.table(_TABLE)
                .update({"expires_at": _float_out(float(expires_at))})
                .eq("id", entry_id)
                .execute()
                .data
            )
        return bool(rows)

    def _delete(self, **filters: Any) -> int:
        builder = self._client.table(_TABLE).delete(count="exact", returning="minimal")
        for column, (op, value) in filters.items():
            builder = getattr(builder, op)(column, value)
        with self._call("delete"):
            return int(builder.execute().count or 0)

    def delete_expired(self, now: float) -> int:
        """Delete entries stale at ``now``; return how many."""
        return self._delete(expires_at=("lte", _float_out(float(now))))

    def clear(self, namespace: str | None = None) -> int:
        """Delete a namespace's entries (all when ``None``); return how many."""
        if namespace is None:
            self._dims.clear()
            return self._delete(
                id=("gte", 0)
            )  # a filter: PostgREST setups may refuse an unfiltered delete
        self._dims.pop(namespace, None)
        return self._delete(namespace=("eq", namespace))

    def _count(self, **filters: Any) -> int:
        builder = self._client.table(_TABLE).select("id", count="exact", head=True)
        for column, (op, value) in filters.items():
            builder = getattr(builder, op)(column, value)
        with self._call("count"):
            return int(builder.execute().count or 0)

    def count(self, namespace: str | None = None) -> int:
        """Number of entries in ``namespace`` (all when ``None``)."""
        return self._count() if namespace is None else self._count(namespace=("eq", namespace))

    def count_stale(self, now: float, namespace: str | None = None) -> int:
        """Number of entries stale at ``now``."""
        stale = ("lte", _float_out(float(now)))
        if namespace is None:
            return self._count(expires_at=stale)
        return self._count(namespace=("eq", namespace), expires_at=stale)

    def namespaces(self) -> dict[str, int]:
        """Entry count per namespace (``rpc('cache_namespaces')``)."""
        return {r["namespace"]: int(r["entries"]) for r in self._rpc("cache_namespaces", {})}

    def size_bytes(self) -> int:
        """Bytes of the stored rows (``rpc('cache_size_bytes')``)."""
        return int(self._rpc("cache_size_bytes", {}) or 0)

    @property
    def closed(self) -> bool:
        """Whether ``close`` was called."""
        return self._closed

    def where(self) -> str:
        """The project URL (the key never shows)."""
        return self.url

    def _write_pending(self) -> None:
        by_namespace: dict[str, dict[str, int]] = {}
        for ns, name, n in self._pending.rows():
            by_namespace.setdefault(ns, {})[name] = n
        for ns, deltas in by_namespace.items():
            self._rpc("cache_incr_counters", {"filter_namespace": ns, "deltas": deltas})
        self._pending.clear()

    def _read_counters(self, namespace: str) -> dict[str, int]:
        with self._call("select"):
            rows = (
                self._client.table("cache_counters")
                .select("name,value")
                .eq("namespace", namespace)
                .execute()
                .data
            )
        return {r["name"]: int(r["value"]) for r in rows}

    def _delete_counters(self, namespace: str | None) -> None:
        builder = self._client.table("cache_counters").delete(returning="minimal")
        builder = (
            builder.neq("name", "") if namespace is None else builder.eq("namespace", namespace)
        )
        with self._call("delete"):
            builder.execute()

    def requests(self) -> int:
        """HTTP requests made so far (each one a round trip to the project)."""
        return self._requests

    def _release(self) -> None:
        self._closed = True
        if self._http is not None:
            self._http.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"{self._requests} requests"
        return f"<SupabaseStore {self.url} [{state}]>"
