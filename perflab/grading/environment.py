"""What a learner's kernel may see of the grader's environment, and scrubbing feedback.

The kernel gets an environment built from an allowlist (:func:`kernel_environment`):
the locale, ``PATH``, the Python environment and perflab's own non-secret settings.
Anything else the teacher's shell holds (``GITHUB_TOKEN``, ``AWS_SECRET_ACCESS_KEY``,
API keys, database URLs) never reaches it, so a notebook can't print or raise with it.
As a second fence, :func:`scrub` blanks every secret-looking value of the grader's
environment out of the feedback before any report is written.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache

__all__ = ["ALLOWED", "kernel_environment", "scrub", "secret_values"]

#: Variables passed to the kernel as they are (besides perflab's settings).
ALLOWED = frozenset(
    {
        "PATH",
        "LANG",
        "LANGUAGE",
        "TZ",
        "TERM",
        "PYTHONPATH",
        "PYTHONHASHSEED",
        "VIRTUAL_ENV",
        "CONDA_PREFIX",
        "SYSTEMROOT",
        "COMSPEC",
        "PATHEXT",
        "OMP_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "MKL_NUM_THREADS",
    }
)
_SECRET_NAME = re.compile(
    r"KEY|TOKEN|SECRET|PASSW|CREDENTIAL|AUTH|COOKIE|SESSION|_URL$|DSN", re.IGNORECASE
)


@cache
def _settings_names() -> frozenset[str]:
    """perflab's own settings that are not secrets (CACHE_SIMILARITY_THRESHOLD, ...)."""
    from perflab.config import SECRET_FIELDS, Settings, env_name

    return frozenset(env_name(f) for f in Settings.model_fields if f not in SECRET_FIELDS)


def kernel_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The variables of ``environ`` a learner's kernel may have.

    Kept: :data:`ALLOWED`, ``LC_*``, and perflab's non-secret settings whose names
    don't look secret. Everything else is dropped.
    """
    allowed = ALLOWED | _settings_names()
    return {
        name: value
        for name, value in environ.items()
        if (name in allowed or name.startswith("LC_")) and not _SECRET_NAME.search(name)
    }


def secret_values(environ: Mapping[str, str]) -> list[str]:
    """The values in ``environ`` that look secret (by name), longest first (8+ chars)."""
    from perflab.config import SECRET_FIELDS, env_name

    named = {env_name(f) for f in SECRET_FIELDS}
    found = {
        value
        for name, value in environ.items()
        if (name.upper() in named or _SECRET_NAME.search(name)) and len(value) >= 8
    }
    return sorted(found, key=len, reverse=True)


def scrub(text: str, secrets: list[str]) -> str:
    """``text`` with each of ``secrets`` replaced by ``[secret]``."""
    for value in secrets:
        if value in text:
            text = text.replace(value, "[secret]")
    return text
