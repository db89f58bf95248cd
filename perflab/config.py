"""Settings: the guide's variables, read from the environment and ``.env``.

Every tuning knob of the guide has one name, the same everywhere: the environment
variable ``CACHE_SIMILARITY_THRESHOLD`` is the field ``settings.cache_similarity_threshold``,
the row in ``perflab config show`` and the line in docs/config.md.

Where a value comes from, strongest first:

1. an override passed in code (``load_settings(parallel_workers=5)``),
2. the process environment (``export PARALLEL_WORKERS=5``),
3. the ``.env`` file in the current folder,
4. the profile named by ``PERFLAB_PROFILE`` (the guide's scenarios, plus dev and prod),
5. the default.

So a profile is a starting point, and anything you set explicitly wins over it. A value
that is not allowed is refused with a :class:`perflab.ConfigError` that names the
variable, the value and what is allowed: a threshold of 1.7 is a typo, and a typo
should stop the program, not quietly make every lookup a miss.

Profiles change tuning values only, never which backend runs or which keys are used:
switching to ``agency`` must not start calling a paid API.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

from pydantic import (
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    EnvSettingsSource,
    SettingsConfigDict,
)

from perflab.errors import ConfigError
from perflab.secret import reveal

__all__ = [
    "DEFAULT_ENV_FILE",
    "PROFILES",
    "PROFILE_NOTES",
    "SECRET_FIELDS",
    "Settings",
    "allowed_values",
    "env_name",
    "load_settings",
    "mask",
]

DEFAULT_ENV_FILE = ".env"

Profile = Literal["budget", "agency", "realtime", "dev", "prod"]

#: The values each profile sets; every other field keeps its default. budget, agency and
#: realtime are the guide's three scenarios, value for value.
PROFILES: dict[str, dict[str, Any]] = {
    "budget": {
        "cache_similarity_threshold": 0.7,
        "cache_ttl_days": 30,
        "tavily_search_depth": "basic",
        "parallel_workers": 1,
    },
    "agency": {
        "connection_pool_max": 50,
        "parallel_workers": 5,
        "embedding_batch_size": 200,
        "cache_similarity_threshold": 0.75,
    },
    "realtime": {
        "connection_pool_min": 10,
        "cache_similarity_threshold": 0.6,
        "embedding_cache_size": 5000,
    },
    "dev": {
        "connection_pool_min": 1,
        "connection_pool_max": 5,
        "cache_ttl_days": 1,
        "parallel_workers": 2,
    },
    "prod": {
        "connection_pool_min": 5,
        "connection_pool_max": 20,
        "embedding_cache_size": 5000,
    },
}

#: Why each profile is what it is (shown by ``perflab config show`` and in docs/config.md).
PROFILE_NOTES: dict[str, str] = {
    "budget": "guide scenario 1, 'startup on a budget': fewer API calls, claimed 80% cost reduction",
    "agency": "guide scenario 2, 'content agency': more throughput, claimed 5x",
    "realtime": "guide scenario 3, 'real-time generation': claimed 95% of requests under 5 s",
    "dev": (
        "a laptop: one warm connection is enough, a 5-connection ceiling stays polite to a local "
        "database, 1-day TTL so yesterday's answers never hide today's code change, 2 workers for "
        "the low rate limits of development keys"
    ),
    "prod": (
        "a server: 5 warm connections (the guide's 'most apps need 3-5') so no request pays "
        "connection set-up, 20 as a ceiling well inside hosted databases' connection limits, "
        "and a 5000-entry embedding cache (about 5 MB at 256 dimensions) to skip repeat embeddings"
    ),
}

#: Fields whose values are secrets: never printed, logged or shown.
SECRET_FIELDS = frozenset({"openai_api_key", "tavily_api_key", "supabase_key", "database_url"})

# Where each value of the settings being built comes from (set by load_settings), so
# that an error message can point at the place to fix.
_ORIGINS: ContextVar[Mapping[str, str]] = ContextVar(
    "perflab_config_origins", default=MappingProxyType({})
)

_LITERAL_FIELDS = (
    "tavily_search_depth",
    "perflab_profile",
    "perflab_embedder",
    "perflab_cache_backend",
    "perflab_llm_backend",
    "perflab_search_backend",
    "perflab_pg_index",
)


class Settings(BaseSettings):
    """The effective settings: defaults, profile, ``.env``, environment and overrides merged.

    Build one with :func:`load_settings` (which also records where each value came from);
    ``Settings()`` works too and reads the same sources. Settings are frozen: use
    :meth:`replace` for a changed copy, which is validated again.

    Raises:
        ConfigError: a value is not allowed (the message names the variable, the value
            and what is allowed).
    """

    model_config = SettingsConfigDict(
        env_file=DEFAULT_ENV_FILE,
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
        env_ignore_empty=True,
        frozen=True,
    )

    # The guide's tuning knobs.
    cache_similarity_threshold: float = Field(
        0.8, ge=0.0, le=1.0, description="cosine similarity a lookup needs to count as a hit"
    )
    cache_ttl_days: float = Field(7.0, gt=0, description="days an entry stays fresh")
    connection_pool_min: int = Field(2, ge=0, description="connections kept open and warm")
    connection_pool_max: int = Field(10, ge=1, description="most connections the pool opens")
    chunk_size: int = Field(1000, ge=1, description="characters per chunk of a long text")
    parallel_workers: int = Field(3, ge=1, description="requests to external APIs at once")
    embedding_batch_size: int = Field(100, ge=1, description="texts per embedding call")
    embedding_cache_size: int = Field(
        1000, ge=0, description="embeddings kept in the exact LRU cache (0 turns it off)"
    )
    tavily_search_depth: Literal["basic", "advanced"] = Field(
        "basic", description="web search depth (advanced costs 2 credits a call)"
    )

    # perflab's selectors.
    perflab_profile: Profile | None = Field(None, description="a named set of tuning values")
    perflab_embedder: Literal["wordllama", "hashing", "openai", "sentence-transformers"] = Field(
        "wordllama", description="what turns text into vectors"
    )
    perflab_cache_backend: Literal["sqlite", "memory", "postgres", "supabase"] = Field(
        "sqlite", description="where the semantic cache keeps its entries"
    )
    perflab_cache_path: Path | None = Field(
        None, description="the SQLite cache file (default: <data dir>/cache.sqlite3)"
    )
    perflab_data_dir: Path | None = Field(
        None, description="perflab's data folder (default: the platform's user data folder)"
    )
    perflab_pg_index: Literal["exact", "hnsw", "ivfflat"] = Field(
        "exact", description="how the PostgreSQL store searches: exact scan, HNSW or IVFFlat index"
    )
    perflab_llm_backend: Literal["sim", "openai"] = Field(
        "sim", description="simulated or real LLM"
    )
    perflab_search_backend: Literal["sim", "tavily"] = Field(
        "sim", description="simulated or real web search"
    )

    # Real services: each switches on when its key is set.
    openai_api_key: SecretStr | None = Field(None, description="OpenAI API key")
    openai_base_url: str | None = Field(None, description="an OpenAI-compatible endpoint")
    openai_model: str = Field("gpt-4o-mini", description="the chat model for articles")
    openai_embedding_model: str = Field(
        "text-embedding-3-small", description="the embedding model for PERFLAB_EMBEDDER=openai"
    )
    tavily_api_key: SecretStr | None = Field(None, description="Tavily API key")
    tavily_base_url: str | None = Field(
        None, description="a Tavily-compatible endpoint (default https://api.tavily.com)"
    )
    supabase_url: str | None = Field(None, description="the Supabase project URL")
    supabase_key: SecretStr | None = Field(None, description="the Supabase service or anon key")
    database_url: SecretStr | None = Field(
        None, description="a PostgreSQL URL (it may hold a password, so it is a secret)"
    )

    _sources: dict[str, str] = PrivateAttr(default_factory=dict)

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as exc:
            # One readable message instead of pydantic's report (and no chained traceback
            # in a learner's notebook): the message already says everything.
            raise _config_error(exc) from None

    @field_validator(*_LITERAL_FIELDS, mode="before")
    @classmethod
    def _normalise_choice(cls, value: Any) -> Any:
        """Accept ``Advanced`` or `` budget `` for ``advanced`` and ``budget``."""
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("perflab_cache_path", "perflab_data_dir", mode="after")
    @classmethod
    def _expand_user(cls, value: Path | None) -> Path | None:
        return value.expanduser() if value is not None else None

    @model_validator(mode="before")
    @classmethod
    def _apply_profile(cls, data: Any) -> Any:
        """Fill in the profile's values for every field no source set explicitly."""
        if not isinstance(data, dict):
            return data
        name = data.get("perflab_profile")
        if isinstance(name, str):
            # An unknown name is left for the field's own check, which says what is allowed.
            for field, value in PROFILES.get(name.strip().lower(), {}).items():
                data.setdefault(field, value)
        return data

    @model_validator(mode="after")
    def _check_pool_bounds(self) -> Settings:
        if self.connection_pool_min > self.connection_pool_max:
            raise ConfigError(
                f"CONNECTION_POOL_MIN={self.connection_pool_min}{_origin('connection_pool_min')} is "
                f"above CONNECTION_POOL_MAX={self.connection_pool_max}{_origin('connection_pool_max')}: "
                "the minimum must be <= the maximum"
            )
        return self

    @property
    def sources(self) -> dict[str, str]:
        """Where each field's value came from: ``default``, ``profile NAME``, ``environment``,
        ``.env`` or ``override``."""
        if not self._sources:
            # Built as ``Settings(...)``: values set in code are the ones no source explains.
            sources = _attribute(DEFAULT_ENV_FILE, {})
            profile = PROFILES.get(self.perflab_profile or "", {})
            for field in self.model_fields_set:
                if sources[field] != "default":
                    continue
                from_profile = field in profile and getattr(self, field) == profile[field]
                sources[field] = f"profile {self.perflab_profile}" if from_profile else "override"
            self._sources.update(sources)
        return dict(self._sources)

    def secret(self, name: str) -> str | None:
        """The plain value of a secret field (``"openai_api_key"``...), or ``None`` if unset.

        Use it only to hand the value to a client; never print it.
        """
        if name not in SECRET_FIELDS:
            raise KeyError(f"{name!r} is not a secret field; secrets are {sorted(SECRET_FIELDS)}")
        return reveal(getattr(self, name))

    def replace(self, **changes: Any) -> Settings:
        """A copy with ``changes`` applied and validated again (marked ``override``).

        Changing ``perflab_profile`` re-applies profiles: values that came from the old
        profile or from defaults take the new profile's values; explicit ones stay.
        """
        changed = {_field_key(key): value for key, value in changes.items()}
        sources = self.sources
        data = self.model_dump()
        if "perflab_profile" in changed:
            for field, source in sources.items():
                if field not in changed and (source == "default" or source.startswith("profile ")):
                    del data[field]
                    sources[field] = "default"
        data.update(changed)
        for key in SECRET_FIELDS:
            if isinstance(data.get(key), SecretStr):
                data[key] = reveal(data[key])
        try:
            # model_validate reads no environment: the copy is self plus changes, nothing else.
            new = Settings.model_validate(data)
        except ValidationError as exc:
            raise _config_error(exc) from None
        profile = PROFILES.get(new.perflab_profile or "", {})
        for field in profile:
            if sources[field] == "default":
                sources[field] = f"profile {new.perflab_profile}"
        new._sources.update(sources)
        new._sources.update(dict.fromkeys(changed, "override"))
        return new


def load_settings(
    profile: str | None = None, env_file: str | Path | None = DEFAULT_ENV_FILE, **overrides: Any
) -> Settings:
    """Read the settings from the environment, ``env_file`` and ``overrides``.

    Args:
        profile: a profile name (budget, agency, realtime, dev, prod); beats PERFLAB_PROFILE.
        env_file: the ``.env`` file to read (relative to the current folder); ``None``
            reads none. A missing file is fine.
        **overrides: values by field name (``parallel_workers=5``) or variable name
            (``PARALLEL_WORKERS=5``); these beat every other source.

    Returns:
        The validated settings; ``settings.sources`` says where each value came from.

    Raises:
        ConfigError: an unknown override name, or a value that is not allowed.
    """
    values = {_field_key(key): value for key, value in overrides.items()}
    if profile is not None:
        values["perflab_profile"] = profile
    file = str(env_file) if env_file is not None else None
    origins = _attribute(file, values)
    token = _ORIGINS.set(origins)  # so an error message can say where a bad value came from
    try:
        settings = Settings(_env_file=file, **values)
    finally:
        _ORIGINS.reset(token)
    settings._sources.update(origins)
    return settings


def env_name(field: str) -> str:
    """The environment variable of a field: ``cache_ttl_days`` -> ``CACHE_TTL_DAYS``."""
    return field.upper()


def mask(value: SecretStr | str | None) -> str:
    """How a secret is shown: whether it is set, and nothing about its value."""
    return "•••••• (set)" if value else "(not set)"


def allowed_values(field: str) -> str:
    """What a field accepts, in words (used in error messages and docs)."""
    info = Settings.model_fields[field]
    annotation = info.annotation
    args = getattr(annotation, "__args__", ())
    choices = [a for arg in args for a in getattr(arg, "__args__", ())] or list(args)
    if getattr(annotation, "__origin__", None) is Literal or (
        choices and all(isinstance(c, str) for c in choices)
    ):
        return "one of " + ", ".join(str(c) for c in choices if c is not None)
    bounds: dict[str, float] = {}
    for item in info.metadata:
        for kind in ("ge", "gt", "le", "lt"):
            if getattr(item, kind, None) is not None:
                bounds[kind] = getattr(item, kind)
    kind_name = "a whole number" if annotation is int else "a number"
    if "ge" in bounds and "le" in bounds:
        return f"{kind_name} from {bounds['ge']} to {bounds['le']}"
    if "gt" in bounds:
        return f"{kind_name} above {bounds['gt']}"
    if "ge" in bounds:
        return f"{kind_name} >= {bounds['ge']}"
    if annotation in (Path, Path | None):
        return "a file or folder path"
    return "a text value"


def _field_key(key: str) -> str:
    field = key.lower()
    if field not in Settings.model_fields:
        raise ConfigError(
            f"unknown setting {key!r}; known settings: {', '.join(map(env_name, Settings.model_fields))}"
        )
    return field


def _attribute(env_file: str | None, given: dict[str, Any]) -> dict[str, str]:
    """Label each field with the source that gives its value, strongest first."""
    fields = set(Settings.model_fields)
    from_env = {k: v for k, v in EnvSettingsSource(Settings)().items() if k in fields}
    from_file: dict[str, Any] = {}
    if env_file:
        from_file = {
            k: v
            for k, v in DotEnvSettingsSource(Settings, env_file=env_file)().items()
            if k in fields
        }
    raw_profile = given.get(
        "perflab_profile", from_env.get("perflab_profile", from_file.get("perflab_profile"))
    )
    profile = raw_profile.strip().lower() if isinstance(raw_profile, str) else None
    sources: dict[str, str] = {}
    for field in Settings.model_fields:
        if field in given:
            sources[field] = "override"
        elif field in from_env:
            sources[field] = "environment"
        elif field in from_file:
            sources[field] = ".env"
        elif profile and field in PROFILES.get(profile, {}):
            sources[field] = f"profile {profile}"
        else:
            sources[field] = "default"
    return sources


def _origin(field: str) -> str:
    """`` (from the environment)`` etc. for an error message, when known."""
    source = _ORIGINS.get().get(field, "default")
    where = {
        "environment": "from the environment",
        ".env": "from .env",
        "override": "passed in code",
    }
    text = where.get(source) or (f"from {source}" if source.startswith("profile") else "")
    return f" ({text})" if text else ""


def _show_value(field: str, value: Any) -> str:
    if field in SECRET_FIELDS:
        return "(hidden)"
    text = str(value)
    return repr(text) if not text or text != text.strip() or " " in text else text


def _config_error(exc: ValidationError) -> ConfigError:
    """Turn pydantic's report into one message: variable, value, what is allowed."""
    problems: list[str] = []
    for error in exc.errors():
        cause = (error.get("ctx") or {}).get("error")
        if isinstance(cause, ConfigError):
            problems.append(str(cause))
            continue
        field = str(error["loc"][0]) if error["loc"] else ""
        if field not in Settings.model_fields:
            problems.append(error["msg"])
            continue
        problems.append(
            f"{env_name(field)}={_show_value(field, error['input'])}{_origin(field)} is not allowed: "
            f"use {allowed_values(field)}"
        )
    return ConfigError("; ".join(problems))
