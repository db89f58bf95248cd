"""Where perflab keeps things: its data folder, the cache file, and the curriculum.

Nothing here creates files unless asked; platformdirs is imported only when the
platform's default folder is actually needed.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from perflab.errors import PerflabError

if TYPE_CHECKING:
    from perflab.config import Settings

__all__ = [
    "CACHE_FILE_NAME",
    "CURRICULUM_FOLDERS",
    "curriculum_root",
    "data_dir",
    "default_cache_path",
    "is_checkout",
    "packaged_curriculum",
]

CACHE_FILE_NAME = "cache.sqlite3"

#: The folders of the curriculum, in a checkout and in the wheel's perflab/_curriculum.
CURRICULUM_FOLDERS = ("notebooks", "exercises", "solutions")

_PACKAGE = Path(__file__).resolve().parent


def data_dir(settings: Settings | None = None, *, create: bool = False) -> Path:
    """perflab's data folder: PERFLAB_DATA_DIR, else the platform's user data folder.

    Args:
        settings: when given, its ``perflab_data_dir`` (which may come from ``.env``)
            is used; otherwise the PERFLAB_DATA_DIR environment variable.
        create: make the folder (and its parents) if it is missing.

    Returns:
        The folder, e.g. ``~/.local/share/perflab`` on Linux.
    """
    configured = settings.perflab_data_dir if settings is not None else None
    if configured is None and os.environ.get("PERFLAB_DATA_DIR", "").strip():
        configured = Path(os.environ["PERFLAB_DATA_DIR"].strip())
    if configured is not None:
        folder = configured.expanduser()
    else:
        import platformdirs  # only when the default is needed: it is not free to import

        folder = Path(platformdirs.user_data_dir("perflab", appauthor=False))
    if create:
        folder.mkdir(parents=True, exist_ok=True)
    return folder


def default_cache_path(settings: Settings | None = None) -> Path:
    """The SQLite cache file: PERFLAB_CACHE_PATH, else ``data_dir()/cache.sqlite3``."""
    if settings is not None and settings.perflab_cache_path is not None:
        return settings.perflab_cache_path
    if settings is None and os.environ.get("PERFLAB_CACHE_PATH", "").strip():
        return Path(os.environ["PERFLAB_CACHE_PATH"].strip()).expanduser()
    return data_dir(settings) / CACHE_FILE_NAME


def _has_curriculum(folder: Path) -> bool:
    return all((folder / name).is_dir() for name in CURRICULUM_FOLDERS)


def is_checkout() -> bool:
    """Whether perflab runs from a source checkout (the curriculum folders beside perflab/)."""
    return _has_curriculum(_PACKAGE.parent) and (_PACKAGE.parent / "pyproject.toml").is_file()


def packaged_curriculum() -> Path | None:
    """The curriculum an installed wheel ships in ``perflab/_curriculum``, if there is one."""
    folder = _PACKAGE / "_curriculum"
    return folder if _has_curriculum(folder) else None


def curriculum_root() -> Path:
    """The folder holding notebooks/, exercises/ and solutions/.

    In a checkout this is the repository root; from an installed wheel it is the
    packaged copy, which learners should not edit (``perflab lab`` copies it first).

    Raises:
        PerflabError: neither a checkout nor a packaged curriculum was found.
    """
    if is_checkout():
        return _PACKAGE.parent
    packaged = packaged_curriculum()
    if packaged is not None:
        return packaged
    raise PerflabError(
        f"no curriculum found: expected {', '.join(CURRICULUM_FOLDERS)} beside {_PACKAGE} "
        f"or in {_PACKAGE / '_curriculum'}; reinstall perflab or run from a checkout"
    )
