"""HTTP failures as perflab errors: one status-to-error mapping, and Retry-After.

Standard library only, so both the engine's adapters (``perflab.embedders.openai``)
and the real-service clients (``perflab.backends``) use the same rules:

* 429 -> ``RateLimited``, carrying the wait the server asked for (Retry-After);
* 401 and 403 -> ``ConfigError`` when the caller names the key: a refused key is a
  setting to fix, not worth retrying;
* anything else -> ``ServiceError`` with its status.

>>> error_for_status("tavily search", 429, "2").retry_after
2.0
>>> type(error_for_status("tavily search", 401, key_name="TAVILY_API_KEY")).__name__
'ConfigError'
"""

from __future__ import annotations

import email.utils
from datetime import datetime, timezone

from perflab.errors import ConfigError, PerflabError, RateLimited, ServiceError

__all__ = ["error_for_status", "parse_retry_after"]


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date.

    Returns ``None`` when the header is missing or unreadable; never negative.

    >>> parse_retry_after("2.5")
    2.5
    >>> parse_retry_after("soon") is None
    True
    """
    if value is None or not value.strip():
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    # An HTTP date is wall-clock by definition: the one place a wall clock is right.
    current = now if now is not None else datetime.now(timezone.utc)
    return max(0.0, (when - current).total_seconds())


def error_for_status(
    service: str,
    status: int,
    retry_after: str | float | None = None,
    detail: str = "",
    *,
    key_name: str | None = None,
) -> PerflabError:
    """The perflab error for an HTTP failure.

    Args:
        service: who failed, for the message ("openai embeddings").
        status: the HTTP status code.
        retry_after: the response's Retry-After header, or seconds already parsed.
        detail: a short, secret-free description from the response.
        key_name: the setting that holds the key (``"OPENAI_API_KEY"``); with it, 401
            and 403 become ``ConfigError`` naming that setting.

    Returns:
        ``RateLimited`` for 429, ``ConfigError`` for a refused key, else ``ServiceError``.
    """
    suffix = f": {detail}" if detail else ""
    if status in (401, 403) and key_name is not None:
        return ConfigError(f"{service} refused the key (HTTP {status}): check {key_name}")
    if status == 429:
        wait = retry_after if not isinstance(retry_after, str) else parse_retry_after(retry_after)
        hint = f", retry after {wait:g} s" if wait is not None else ""
        return RateLimited(
            f"{service} refused the call: too many requests (HTTP 429{hint}){suffix}", wait
        )
    return ServiceError(f"{service} failed with HTTP {status}{suffix}", status)
