"""Unwrapping a secret at the last moment, in one place.

Settings keep keys as ``pydantic.SecretStr`` so they never print. A client needs the
plain string once, to hand to its SDK or put in a header; ``reveal`` gives it, for a
``SecretStr``, a plain ``str`` or ``None`` alike. Keep the result out of ``repr``,
logs and messages.

>>> reveal("sk-test")
'sk-test'
>>> reveal(None) is None
True
"""

from __future__ import annotations

__all__ = ["reveal"]


def reveal(secret: object | None) -> str | None:
    """The plain text of ``secret`` (a ``SecretStr`` or a ``str``), or ``None``."""
    if secret is None:
        return None
    getter = getattr(secret, "get_secret_value", None)
    return str(getter()) if callable(getter) else str(secret)
