"""A stand-in for Supabase's REST API (PostgREST), backed by a real PostgreSQL.

It answers the requests the ``supabase`` client makes for ``SupabaseStore``, with
PostgREST's request and response shapes: ``/rest/v1/<table>`` (GET/HEAD with
``select``, filters ``col=op.value``, ``limit``; POST inserts from a JSON array;
PATCH; DELETE), ``Prefer: return=...`` and ``count=exact`` (answered in
``Content-Range``), ``/rest/v1/rpc/<function>`` with a JSON object of named
arguments, the ``apikey`` header, and PostgREST's JSON error body. Each request is
turned into SQL the way PostgREST does it (``json_populate_recordset`` for inserts)
and run in one transaction. Only what the store uses is implemented.
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import psycopg
from psycopg import sql

_OPS = {"eq": "=", "neq": "<>", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}
_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


class PostgrestStandIn:
    """Serve the stand-in on 127.0.0.1 in a thread; ``url`` is the "project URL"."""

    def __init__(self, database_url: str, schema: str, key: str) -> None:
        self.database_url, self.schema, self.key = database_url, schema, key
        self.requests: list[tuple[str, str]] = []
        self.fail_next: list[tuple[int, dict[str, str]]] = []  # (status, headers) to answer instead
        self.stall_next = threading.Event()  # set: the next request waits for `released`
        self.released = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> PostgrestStandIn:  # noqa: PYI034 - Self needs Python 3.11
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.released.set()
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # quiet
                pass

            def _reply(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
                data = b"" if body is None or self.command == "HEAD" else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def _body(self) -> Any:
                length = int(self.headers.get("Content-Length") or 0)
                return json.loads(self.rfile.read(length)) if length else None

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                owner.requests.append((self.command, parts.path))
                body = self._body()
                if owner.stall_next.is_set():
                    owner.stall_next.clear()
                    owner.released.wait(
                        10
                    )  # hold the reply until the test lets go (client timeouts)
                if owner.fail_next:
                    status, headers = owner.fail_next.pop(0)
                    self._reply(
                        status, {"message": "stand-in failure", "code": str(status)}, headers
                    )
                    return
                if self.headers.get("apikey") != owner.key:
                    self._reply(
                        401,
                        {
                            "message": "Invalid API key",
                            "code": "PGRST301",
                            "hint": None,
                            "details": None,
                        },
                    )
                    return
                prefer = {p.strip() for p in (self.headers.get("Prefer") or "").split(",")}
                try:
                    with psycopg.connect(owner.database_url) as conn, conn.transaction():
                        conn.execute(
                            sql.SQL("set local search_path to {}, public").format(
                                sql.Identifier(owner.schema)
                            )
                        )
                        status, result, headers = self._route(
                            conn, parts.path, parse_qsl(parts.query), prefer, body
                        )
                except psycopg.Error as exc:
                    diag = exc.diag
                    self._reply(
                        400,
                        {
                            "message": diag.message_primary or str(exc),
                            "code": diag.sqlstate,
                            "hint": diag.message_hint,
                            "details": diag.message_detail,
                        },
                    )
                    return
                self._reply(status, result, headers)

            do_GET = do_HEAD = do_POST = do_PATCH = do_DELETE = _serve

            def _route(
                self,
                conn: psycopg.Connection[Any],
                path: str,
                query: list[tuple[str, str]],
                prefer: set[str],
                body: Any,
            ) -> tuple[int, Any, dict[str, str]]:
                match = re.fullmatch(r"/rest/v1/(rpc/)?([a-z_][a-z0-9_]*)", path)
                if match is None:
                    return 404, {"message": f"no route {path}", "code": "PGRST125"}, {}
                if match.group(1):
                    return self._rpc(conn, match.group(2), body or {})
                table = sql.Identifier(match.group(2))
                select = sql.SQL("*")
                where: list[sql.Composable] = []
                params: list[Any] = []
                limit = None
                for name, value in query:
                    if name == "select":
                        select = sql.SQL(", ").join(sql.Identifier(c) for c in value.split(","))
                    elif name == "limit":
                        limit = int(value)
                    elif name == "columns":
                        pass
                    elif _NAME.match(name):
                        op, _, operand = value.partition(".")
                        where.append(
                            sql.SQL("{} {} %s").format(sql.Identifier(name), sql.SQL(_OPS[op]))
                        )
                        params.append(operand)
                cond = sql.SQL(" where ") + sql.SQL(" and ").join(where) if where else sql.SQL("")
                represent = "return=representation" in prefer
                returning = sql.SQL(" returning ") + select if represent else sql.SQL("")
                if self.command in ("GET", "HEAD"):
                    q = sql.SQL("select {} from {}{}").format(select, table, cond)
                    rows = _rows(
                        conn.execute(
                            q + (sql.SQL(f" limit {limit:d}") if limit else sql.SQL("")), params
                        )
                    )
                    headers = {}
                    if "count=exact" in prefer:
                        total = conn.execute(
                            sql.SQL("select count(*) from {}{}").format(table, cond), params
                        )
                        headers["Content-Range"] = (
                            f"0-{max(len(rows) - 1, 0)}/{total.fetchone()[0]}"
                        )
                    return 200, rows, headers
                if self.command == "POST":
                    cols = sorted({k for row in body for k in row})
                    q = sql.SQL(
                        "insert into {t} ({c}) select {c} from json_populate_recordset(null::{t}, %s)"
                    ).format(t=table, c=sql.SQL(", ").join(sql.Identifier(c) for c in cols))
                    cur = conn.execute(q + returning, [json.dumps(body)])
                    return 201, _rows(cur) if represent else None, {}
                if self.command == "PATCH":
                    sets = sql.SQL(", ").join(
                        sql.SQL("{} = %s").format(sql.Identifier(k)) for k in body
                    )
                    cur = conn.execute(
                        sql.SQL("update {} set {}{}").format(table, sets, cond) + returning,
                        [*body.values(), *params],
                    )
                    return 200, _rows(cur) if represent else None, {}
                cur = conn.execute(
                    sql.SQL("delete from {}{}").format(table, cond) + returning, params
                )
                headers = {"Content-Range": f"*/{cur.rowcount}"} if "count=exact" in prefer else {}
                return (200, _rows(cur), headers) if represent else (204, None, headers)

            def _rpc(
                self, conn: psycopg.Connection[Any], name: str, args: dict[str, Any]
            ) -> tuple[int, Any, dict[str, str]]:
                found = conn.execute(
                    "select proretset, prorettype::regtype::text from pg_proc where proname = %s",
                    (name,),
                ).fetchone()
                if found is None:
                    return (
                        404,
                        {"message": f"Could not find the function {name}", "code": "PGRST202"},
                        {},
                    )
                named = sql.SQL(", ").join(
                    sql.SQL("{} => %s").format(sql.Identifier(k)) for k in args
                )
                values = [
                    v if v is None or isinstance(v, str) else json.dumps(v) for v in args.values()
                ]
                if found[1] == "void":
                    conn.execute(
                        sql.SQL("select {}({})").format(sql.Identifier(name), named), values
                    )
                    return 204, None, {}
                cur = conn.execute(
                    sql.SQL("select * from {}({})").format(sql.Identifier(name), named), values
                )
                rows = _rows(cur)
                if not found[0] and len(rows) == 1 and len(rows[0]) == 1:
                    return (
                        200,
                        next(iter(rows[0].values())),
                        {},
                    )  # a scalar function answers a bare value
                return 200, rows, {}

        return Handler


def _rows(cur: psycopg.Cursor[Any]) -> list[dict[str, Any]]:
    """Rows as PostgREST renders them: vectors as text, non-finite floats as strings."""
    if cur.description is None:
        return []
    names = [d.name for d in cur.description]
    out = []
    for row in cur.fetchall():
        item: dict[str, Any] = {}
        for name, value in zip(names, row):
            if isinstance(value, float) and value in (float("inf"), float("-inf")):
                value = "Infinity" if value > 0 else "-Infinity"
            elif value is not None and not isinstance(value, (str, int, float, bool)):
                value = str(value)
            item[name] = value
        out.append(item)
    return out
