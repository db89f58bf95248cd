"""A small Sphinx extension for the course website (loaded by site/_config.yml).

Names Pygments lexers the course's markdown uses but Pygments does not know, so the
site builds without warnings (``perflab site build --strict``): the guide's ``env``
blocks are ``.env`` files, ``KEY=value`` lines, which read well as shell.
"""

from __future__ import annotations

from typing import Any


def setup(app: Any) -> dict[str, Any]:
    """Register the lexers (Sphinx calls this when it loads the extension)."""
    from pygments.lexers import BashLexer

    app.add_lexer("env", BashLexer)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
