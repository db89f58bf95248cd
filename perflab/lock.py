"""The versions the lessons were made with (``constraints.txt``), and how far this install is.

``constraints.txt`` pins what README's commands, ``.ci/run`` and ``environment.yml``
install. The pins under its ``# numbers:`` heading are the libraries that can change a
lesson's printed numbers, formatting or plots (numpy's random streams, pandas'
formatting, WordLlama's vectors, PostgreSQL's build): :func:`drift` names each of those
whose installed version differs, so ``perflab doctor`` can warn before a learner wonders
why their numbers differ from the website's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Drift", "Pin", "constraints_path", "drift", "read_pins"]

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#]+)\s*(?:#.*)?$")


@dataclass(frozen=True)
class Pin:
    """One ``name==version`` line; ``numbers`` when it sits under ``# numbers:``."""

    name: str
    version: str
    numbers: bool


@dataclass(frozen=True)
class Drift:
    """A pinned library whose installed version differs (``installed`` None: missing)."""

    pin: Pin
    installed: str | None

    def __str__(self) -> str:
        have = self.installed or "not installed"
        return f"{self.pin.name} {have}; the lessons were made with {self.pin.version}" + (
            ": a lesson's numbers or formatting may differ" if self.pin.numbers else ""
        )


def constraints_path() -> Path | None:
    """``constraints.txt`` of this install: inside the wheel, or at a checkout's root."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "constraints.txt", here.parent / "constraints.txt"):
        if candidate.is_file():
            return candidate
    return None


def read_pins(path: Path | None = None) -> list[Pin]:
    """The pins of a constraints file, in order.

    Raises:
        ValueError: a line is neither a comment nor ``name==version``.
    """
    path = path or constraints_path()
    if path is None:
        return []
    pins, numbers = [], False
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):  # a comment starts a section: "# numbers: ..." or other
            numbers = line.lstrip("# ").startswith("numbers:")
            continue
        match = _PIN.match(line)
        if match is None:
            raise ValueError(f"{path}:{number}: expected 'name==version', got {raw!r}")
        pins.append(Pin(_normal(match[1]), match[2], numbers))
    return pins


def drift(pins: list[Pin] | None = None, numbers_only: bool = True) -> list[Drift]:
    """The pinned libraries whose installed version differs from the pin."""
    from importlib.metadata import PackageNotFoundError, version

    found = []
    for pin in read_pins() if pins is None else pins:
        if numbers_only and not pin.numbers:
            continue
        try:
            installed: str | None = version(pin.name)
        except PackageNotFoundError:
            installed = None
        if installed != pin.version:
            found.append(Drift(pin, installed))
    return found


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()
