-- perflab: the semantic cache's tables in PostgreSQL + pgvector.
--
-- Plain SQL, safe to run more than once. `perflab db migrate` applies it to the
-- configured database (DATABASE_URL, or the embedded server); a Supabase user can paste
-- it into the project's SQL editor unchanged.
--
-- Embedding length. The `embedding` column is `vector` with no fixed length, and `dim`
-- records each row's length, so one table holds the entries of any embedder side by
-- side (WordLlama: 256, hashing: 384, OpenAI text-embedding-3-small: 1536), each in its
-- own namespace (the embedder's name). Exact search needs nothing more. An approximate
-- index (HNSW or IVFFlat) needs a fixed length, so it is built per length, on the
-- expression `embedding::vector(<dim>)` and limited to the rows of that length; the
-- search below casts the same way, so the planner can use such an index when it exists.
-- For 384-dimension vectors, for instance (perflab's PostgresStore does this for you
-- when configured with index="hnsw" or index="ivfflat"):
--
--   create index if not exists cache_entries_hnsw_384 on cache_entries
--     using hnsw ((embedding::vector(384)) vector_cosine_ops) where dim = 384;
--
-- Supabase: the service_role key (server side only) bypasses row level security. To
-- use the anon key instead, enable RLS on both tables and add policies for it.

create extension if not exists vector;

create table if not exists perflab_schema (
    app     text primary key,
    version integer not null
);
insert into perflab_schema (app, version) values ('perflab-cache', 1)
    on conflict (app) do nothing;

create table if not exists cache_entries (
    id         bigint generated always as identity primary key,
    namespace  text not null,              -- the embedder's name: two models' vectors never meet
    query      text not null,
    dim        integer not null,           -- length of `embedding`
    embedding  vector not null,            -- unit length, so cosine similarity = 1 - (a <=> b)
    value      text not null,              -- the expensive answer; read only on a hit
    intent     text,
    created_at double precision not null,  -- seconds on the cache's clock
    expires_at double precision not null default 'infinity',
    constraint cache_entries_dim_matches check (vector_dims(embedding) = dim)
);
create index if not exists cache_entries_namespace_expires on cache_entries (namespace, expires_at);
create index if not exists cache_entries_expires on cache_entries (expires_at);

create table if not exists cache_counters (
    namespace text not null,
    name      text not null,
    value     bigint not null default 0,
    primary key (namespace, name)
);

-- Nearest entries to `query_embedding` in one namespace, best first, as Supabase's
-- `match_documents` examples do (call it with supabase.rpc('match_cache_entries', ...)).
-- The k nearest are found first and the threshold is applied afterwards, so an index
-- scan ordered by distance is never cut short by the threshold filter.
create or replace function match_cache_entries(
    query_embedding  vector,
    match_threshold  double precision default -1.0,
    match_count      integer default 1,
    filter_namespace text default '',
    now_s            double precision default null  -- skip entries stale at this time
)
returns table (
    id         bigint,
    similarity double precision,
    query      text,
    intent     text,
    created_at double precision,
    expires_at double precision
)
language plpgsql stable
as $$
begin
    -- format() writes the query's length into the casts (vector(384)), matching the
    -- expression of a per-length index; the values themselves travel as parameters.
    return query execute format(
        'select * from (
             select e.id, 1 - (e.embedding::vector(%1$s) <=> $1::vector(%1$s)) as similarity,
                    e.query, e.intent, e.created_at, e.expires_at
             from cache_entries e
             where e.dim = %1$s and e.namespace = $2 and ($3::float8 is null or e.expires_at > $3)
             order by e.embedding::vector(%1$s) <=> $1::vector(%1$s)
             limit $4
         ) nearest
         where nearest.similarity >= $5
         order by nearest.similarity desc',
        vector_dims(query_embedding))
    using query_embedding, filter_namespace, now_s, match_count, match_threshold;
end;
$$;

-- Helpers for clients that speak only HTTP (Supabase's PostgREST API has no GROUP BY,
-- no upsert-with-increment and no size functions): perflab's SupabaseStore calls them
-- with supabase.rpc(...).

-- Entry count per namespace.
create or replace function cache_namespaces()
returns table (namespace text, entries bigint)
language sql stable
as $$
    select e.namespace, count(*) from cache_entries e group by e.namespace;
$$;

-- Bytes of the stored rows as PostgreSQL keeps them (compressed, no page or index overhead).
create or replace function cache_size_bytes()
returns bigint
language sql stable
as $$
    select coalesce(sum(pg_column_size(e.*)), 0)::bigint from cache_entries e;
$$;

-- Add {"lookups": 3, "hits": 1, ...} to a namespace's counters, in one statement.
create or replace function cache_incr_counters(filter_namespace text, deltas jsonb)
returns void
language sql
as $$
    insert into cache_counters (namespace, name, value)
    select filter_namespace, d.key, d.value::bigint from jsonb_each_text(deltas) d
    on conflict (namespace, name) do update set value = cache_counters.value + excluded.value;
$$;
