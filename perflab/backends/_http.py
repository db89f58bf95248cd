"""HTTP details shared by the real-service adapters: Retry-After, status -> perflab error."""

from __future__ import annotations

import email.utils
from datetime import datetime, timezone

from perflab.errors import PerflabError, RateLimited, ServiceError

__all__ = ["error_for_status", "parse_retry_after"]


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date.

    Returns ``None`` when the header is missing or unreadable; never negative.

    >>> parse_retry_after("2.5")
    2.5
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
    service: str, status: int, retry_after: str | None = None, detail: str = ""
) -> PerflabError:
    """The perflab error for an HTTP failure: 429 -> RateLimited, anything else -> ServiceError.

    Args:
        service: who failed, for the message ("openai embeddings").
        status: the HTTP status code.
        retry_after: the response's Retry-After header, if any.
        detail: a short, secret-free description from the response.
    """
    suffix = f": {detail}" if detail else ""
    if status == 429:
        wait = parse_retry_after(retry_after)
        hint = f", retry after {wait:g} s" if wait is not None else ""
        return RateLimited(
            f"{service} refused the call: too many requests (HTTP 429{hint}){suffix}", wait
        )
    return ServiceError(f"{service} failed with HTTP {status}{suffix}", status)
