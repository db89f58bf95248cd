"""Settings: defaults, profiles, precedence, .env, validation messages, secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from perflab.config import PROFILES, SECRET_FIELDS, Settings, allowed_values, load_settings, mask
from perflab.errors import ConfigError

FAKE_KEY = "sk-test-SECRET123"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Run each test in an empty folder with none of the settings' variables set."""
    for field in Settings.model_fields:
        monkeypatch.delenv(field.upper(), raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_defaults_are_the_guides() -> None:
    """With nothing set, the values are the guide's defaults and perflab's offline backends."""
    s = load_settings()
    assert (s.cache_similarity_threshold, s.cache_ttl_days) == (0.8, 7.0)
    assert (s.connection_pool_min, s.connection_pool_max) == (2, 10)
    assert (s.chunk_size, s.parallel_workers) == (1000, 3)
    assert (s.embedding_batch_size, s.embedding_cache_size) == (100, 1000)
    assert s.tavily_search_depth == "basic"
    assert (s.perflab_embedder, s.perflab_cache_backend) == ("wordllama", "sqlite")
    assert (s.perflab_llm_backend, s.perflab_search_backend) == ("sim", "sim")
    assert s.openai_api_key is None and s.database_url is None
    assert set(s.sources.values()) == {"default"}


@pytest.mark.parametrize(
    ("profile", "expected"),
    [
        (
            "budget",
            {
                "cache_similarity_threshold": 0.7,
                "cache_ttl_days": 30,
                "tavily_search_depth": "basic",
                "parallel_workers": 1,
            },
        ),
        (
            "agency",
            {
                "connection_pool_max": 50,
                "parallel_workers": 5,
                "embedding_batch_size": 200,
                "cache_similarity_threshold": 0.75,
            },
        ),
        (
            "realtime",
            {
                "connection_pool_min": 10,
                "cache_similarity_threshold": 0.6,
                "embedding_cache_size": 5000,
            },
        ),
    ],
)
def test_scenario_profiles_match_the_guide(profile: str, expected: dict[str, object]) -> None:
    """The three scenario profiles set exactly the guide's values, value for value."""
    assert PROFILES[profile] == expected
    s = load_settings(profile=profile)
    for field, value in expected.items():
        assert getattr(s, field) == value
        assert s.sources[field] == f"profile {profile}"


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_every_profile_is_valid(profile: str) -> None:
    """Every profile loads on its own, without tripping a validation rule."""
    assert load_settings(profile=profile).perflab_profile == profile


def test_profile_from_environment_and_variables_override_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """PERFLAB_PROFILE picks the profile; a variable set explicitly beats the profile's value."""
    monkeypatch.setenv("PERFLAB_PROFILE", "Budget")
    monkeypatch.setenv("PARALLEL_WORKERS", "4")
    s = load_settings()
    assert s.perflab_profile == "budget"
    assert s.cache_similarity_threshold == 0.7
    assert s.parallel_workers == 4
    assert s.sources["parallel_workers"] == "environment"
    assert s.sources["perflab_profile"] == "environment"
    assert s.sources["chunk_size"] == "default"


def test_precedence_override_env_dotenv_profile_default(
    monkeypatch: pytest.MonkeyPatch, clean_env: Path
) -> None:
    """Override beats environment beats .env beats profile beats default."""
    (clean_env / ".env").write_text(
        "PERFLAB_PROFILE=agency\nCHUNK_SIZE=500\nPARALLEL_WORKERS=7\nEMBEDDING_BATCH_SIZE=300\n"
    )
    monkeypatch.setenv("PARALLEL_WORKERS", "2")
    monkeypatch.setenv("EMBEDDING_BATCH_SIZE", "50")
    s = load_settings(embedding_batch_size=20)
    assert (s.embedding_batch_size, s.sources["embedding_batch_size"]) == (20, "override")
    assert (s.parallel_workers, s.sources["parallel_workers"]) == (2, "environment")
    assert (s.chunk_size, s.sources["chunk_size"]) == (500, ".env")
    assert (s.connection_pool_max, s.sources["connection_pool_max"]) == (50, "profile agency")
    assert (s.cache_ttl_days, s.sources["cache_ttl_days"]) == (7.0, "default")


def test_profile_argument_beats_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """load_settings(profile=...) wins over PERFLAB_PROFILE."""
    monkeypatch.setenv("PERFLAB_PROFILE", "budget")
    assert load_settings(profile="realtime").connection_pool_min == 10


def test_env_file_none_reads_no_file(clean_env: Path) -> None:
    """env_file=None ignores .env; a missing file is fine."""
    (clean_env / ".env").write_text("CHUNK_SIZE=500\n")
    assert load_settings(env_file=None).chunk_size == 1000
    assert load_settings(env_file="missing.env").chunk_size == 1000
    assert Settings().chunk_size == 500


def test_overrides_accept_variable_names() -> None:
    """Overrides may use the variable's name as well as the field's."""
    assert load_settings(PARALLEL_WORKERS=6).parallel_workers == 6


def test_unknown_override_is_refused() -> None:
    """A misspelt override is an error, not silently ignored."""
    with pytest.raises(ConfigError, match="unknown setting 'parallel_worker'"):
        load_settings(parallel_worker=6)


def test_empty_variable_counts_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    """CHUNK_SIZE= (empty) leaves the default, as if it were not set."""
    monkeypatch.setenv("CHUNK_SIZE", "")
    assert load_settings().chunk_size == 1000


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        (
            "CACHE_SIMILARITY_THRESHOLD",
            "1.7",
            "CACHE_SIMILARITY_THRESHOLD=1.7 (from the environment) is not allowed: use a number from 0.0 to 1.0",
        ),
        (
            "CACHE_SIMILARITY_THRESHOLD",
            "-0.1",
            "CACHE_SIMILARITY_THRESHOLD=-0.1 (from the environment) is not allowed: use a number from 0.0 to 1.0",
        ),
        (
            "CACHE_SIMILARITY_THRESHOLD",
            "high",
            "CACHE_SIMILARITY_THRESHOLD=high (from the environment) is not allowed: use a number from 0.0 to 1.0",
        ),
        (
            "PARALLEL_WORKERS",
            "0",
            "PARALLEL_WORKERS=0 (from the environment) is not allowed: use a whole number >= 1",
        ),
        (
            "PARALLEL_WORKERS",
            "2.5",
            "PARALLEL_WORKERS=2.5 (from the environment) is not allowed: use a whole number >= 1",
        ),
        (
            "CACHE_TTL_DAYS",
            "0",
            "CACHE_TTL_DAYS=0 (from the environment) is not allowed: use a number above 0",
        ),
        (
            "CONNECTION_POOL_MIN",
            "-1",
            "CONNECTION_POOL_MIN=-1 (from the environment) is not allowed: use a whole number >= 0",
        ),
        (
            "CONNECTION_POOL_MAX",
            "0",
            "CONNECTION_POOL_MAX=0 (from the environment) is not allowed: use a whole number >= 1",
        ),
        (
            "CHUNK_SIZE",
            "0",
            "CHUNK_SIZE=0 (from the environment) is not allowed: use a whole number >= 1",
        ),
        (
            "EMBEDDING_BATCH_SIZE",
            "0",
            "EMBEDDING_BATCH_SIZE=0 (from the environment) is not allowed: use a whole number >= 1",
        ),
        (
            "EMBEDDING_CACHE_SIZE",
            "-5",
            "EMBEDDING_CACHE_SIZE=-5 (from the environment) is not allowed: use a whole number >= 0",
        ),
        (
            "TAVILY_SEARCH_DEPTH",
            "deep",
            "TAVILY_SEARCH_DEPTH=deep (from the environment) is not allowed: use one of basic, advanced",
        ),
        (
            "PERFLAB_PROFILE",
            "turbo",
            "PERFLAB_PROFILE=turbo (from the environment) is not allowed: use one of budget, agency, realtime, dev, prod",
        ),
        (
            "PERFLAB_EMBEDDER",
            "bert",
            "PERFLAB_EMBEDDER=bert (from the environment) is not allowed: use one of wordllama, hashing, openai, sentence-transformers",
        ),
        (
            "PERFLAB_CACHE_BACKEND",
            "redis",
            "PERFLAB_CACHE_BACKEND=redis (from the environment) is not allowed: use one of sqlite, memory, postgres, supabase",
        ),
        (
            "PERFLAB_LLM_BACKEND",
            "claude",
            "PERFLAB_LLM_BACKEND=claude (from the environment) is not allowed: use one of sim, openai",
        ),
        (
            "PERFLAB_SEARCH_BACKEND",
            "bing",
            "PERFLAB_SEARCH_BACKEND=bing (from the environment) is not allowed: use one of sim, tavily",
        ),
        (
            "PERFLAB_PG_INDEX",
            "btree",
            "PERFLAB_PG_INDEX=btree (from the environment) is not allowed: use one of exact, hnsw, ivfflat",
        ),
    ],
)
def test_invalid_value_names_variable_value_and_allowed(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    """A value that is not allowed raises ConfigError naming the variable, the value and what is allowed."""
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert str(info.value) == expected


def test_pg_index_defaults_to_exact_and_accepts_any_case(monkeypatch: pytest.MonkeyPatch) -> None:
    """PERFLAB_PG_INDEX is exact unless set; `` HNSW `` means hnsw."""
    assert load_settings().perflab_pg_index == "exact"
    monkeypatch.setenv("PERFLAB_PG_INDEX", " HNSW ")
    assert load_settings().perflab_pg_index == "hnsw"


def test_tavily_base_url_is_read_and_not_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    """TAVILY_BASE_URL is an ordinary setting (a URL, not a secret), unset by default."""
    assert load_settings().tavily_base_url is None
    monkeypatch.setenv("TAVILY_BASE_URL", "http://127.0.0.1:8000")
    assert load_settings().tavily_base_url == "http://127.0.0.1:8000"
    assert "tavily_base_url" not in SECRET_FIELDS


def test_pool_min_above_max_names_both(monkeypatch: pytest.MonkeyPatch) -> None:
    """CONNECTION_POOL_MIN above CONNECTION_POOL_MAX is refused, naming both and their sources."""
    monkeypatch.setenv("CONNECTION_POOL_MAX", "5")
    with pytest.raises(ConfigError) as info:
        load_settings(profile="realtime")
    assert str(info.value) == (
        "CONNECTION_POOL_MIN=10 (from profile realtime) is above CONNECTION_POOL_MAX=5 "
        "(from the environment): the minimum must be <= the maximum"
    )


def test_error_names_dotenv_and_code_as_sources(clean_env: Path) -> None:
    """The message says where the bad value came from: .env or code."""
    (clean_env / ".env").write_text("CACHE_SIMILARITY_THRESHOLD=1.7\n")
    with pytest.raises(ConfigError, match=r"=1.7 \(from .env\) is not allowed"):
        load_settings()
    with pytest.raises(ConfigError, match=r"PARALLEL_WORKERS=0 \(passed in code\) is not allowed"):
        load_settings(env_file=None, parallel_workers=0)


def test_settings_constructor_raises_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings() itself raises ConfigError, not pydantic's ValidationError."""
    monkeypatch.setenv("PARALLEL_WORKERS", "0")
    with pytest.raises(ConfigError, match="PARALLEL_WORKERS=0 is not allowed"):
        Settings()


def test_several_problems_in_one_message(monkeypatch: pytest.MonkeyPatch) -> None:
    """All invalid values are reported at once, so one run shows every fix."""
    monkeypatch.setenv("PARALLEL_WORKERS", "0")
    monkeypatch.setenv("TAVILY_SEARCH_DEPTH", "deep")
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert "PARALLEL_WORKERS=0" in str(info.value) and "TAVILY_SEARCH_DEPTH=deep" in str(info.value)


def test_choices_are_case_insensitive(monkeypatch: pytest.MonkeyPatch) -> None:
    """TAVILY_SEARCH_DEPTH=Advanced means advanced."""
    monkeypatch.setenv("TAVILY_SEARCH_DEPTH", " Advanced ")
    assert load_settings().tavily_search_depth == "advanced"


def test_secrets_never_in_repr_or_str(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keys and DATABASE_URL are SecretStr: repr, str and model_dump_json never show them."""
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    monkeypatch.setenv("DATABASE_URL", "postgresql://app:SECRET123@db/app")
    s = load_settings(tavily_api_key=FAKE_KEY, supabase_key=FAKE_KEY)
    for text in (repr(s), str(s), s.model_dump_json(), str(s.model_dump())):
        assert "SECRET123" not in text
    assert s.secret("openai_api_key") == FAKE_KEY
    assert s.secret("tavily_api_key") == FAKE_KEY
    assert s.secret("database_url") == "postgresql://app:SECRET123@db/app"


def test_secret_accessor_refuses_plain_fields() -> None:
    """secret() is only for secret fields."""
    with pytest.raises(KeyError):
        load_settings().secret("chunk_size")


def test_mask_says_set_or_not_and_nothing_else() -> None:
    """The mask reveals only whether a secret is set."""
    s = load_settings(openai_api_key=FAKE_KEY)
    assert mask(s.openai_api_key) == "•••••• (set)"
    assert mask(s.tavily_api_key) == "(not set)"
    assert SECRET_FIELDS == {"openai_api_key", "tavily_api_key", "supabase_key", "database_url"}


def test_settings_are_frozen_and_replace_revalidates() -> None:
    """Fields can't be assigned; replace() returns a validated copy marked override."""
    s = load_settings(profile="budget")
    with pytest.raises(Exception, match="frozen"):
        s.parallel_workers = 9  # type: ignore[misc]
    t = s.replace(parallel_workers=9)
    assert (t.parallel_workers, t.sources["parallel_workers"]) == (9, "override")
    assert (t.cache_similarity_threshold, t.sources["cache_similarity_threshold"]) == (
        0.7,
        "profile budget",
    )
    with pytest.raises(ConfigError, match="PARALLEL_WORKERS=0 is not allowed"):
        s.replace(parallel_workers=0)


def test_replace_keeps_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    """A replaced copy still has the original's keys."""
    s = load_settings(openai_api_key=FAKE_KEY)
    assert s.replace(chunk_size=10).secret("openai_api_key") == FAKE_KEY


def test_paths_expand_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """PERFLAB_CACHE_PATH=~/x.sqlite3 means the file in the home folder."""
    monkeypatch.setenv("HOME", str(tmp_path))
    assert (
        load_settings(perflab_cache_path="~/x.sqlite3").perflab_cache_path == tmp_path / "x.sqlite3"
    )


def test_sources_of_a_directly_built_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings(...) built by hand still reports where values came from."""
    monkeypatch.setenv("CHUNK_SIZE", "42")
    s = Settings(parallel_workers=4, perflab_profile="realtime")
    assert s.sources["chunk_size"] == "environment"
    assert s.sources["parallel_workers"] == "override"
    assert s.sources["connection_pool_min"] == "profile realtime"


@pytest.mark.parametrize("field", sorted(Settings.model_fields))
def test_every_field_has_an_allowed_description(field: str) -> None:
    """Every field can say what it accepts, for messages and docs."""
    assert allowed_values(field)


def test_import_is_light() -> None:
    """perflab.config imports pydantic-settings, not pandas or the drivers."""
    import subprocess
    import sys

    code = "import sys, perflab.config; print(sorted(m for m in ('pandas','matplotlib','psycopg','openai','numpy') if m in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_replace_with_another_profile_reapplies_profiles(monkeypatch: pytest.MonkeyPatch) -> None:
    """replace(perflab_profile=...) swaps profile values and keeps explicitly set ones."""
    monkeypatch.setenv("PARALLEL_WORKERS", "4")
    s = load_settings(profile="budget").replace(perflab_profile="realtime")
    assert (s.cache_similarity_threshold, s.sources["cache_similarity_threshold"]) == (
        0.6,
        "profile realtime",
    )
    assert (s.cache_ttl_days, s.sources["cache_ttl_days"]) == (7.0, "default")
    assert (s.parallel_workers, s.sources["parallel_workers"]) == (4, "environment")
    assert s.connection_pool_min == 10
