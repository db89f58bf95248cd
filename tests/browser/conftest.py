"""A real browser for the tests in this folder: Debian's chromium, driven by playwright.

playwright is used only as a driver: it never downloads a browser of its own. The tests
launch the system's chromium (``/usr/bin/chromium``, or ``PERFLAB_CHROMIUM``), which
``.ci/run`` installs with apt when it is missing. Without it every test here is skipped,
with that reason.

Screenshots go to ``$PERFLAB_SCREENSHOTS`` or, by default, ``tests/browser/screenshots/``
(git-ignored), for a human to look at after a run.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path(os.environ.get("PERFLAB_CHROMIUM", "/usr/bin/chromium"))

#: Headless, and nothing that reaches the network by itself.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

SCREENSHOTS = Path(os.environ.get("PERFLAB_SCREENSHOTS", Path(__file__).parent / "screenshots"))


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless chromium for the session; every test that needs it skips without it."""
    if not CHROMIUM.is_file():
        pytest.skip(
            f"no chromium at {CHROMIUM}: apt-get install -y chromium (CI's .ci/run does), "
            "or set PERFLAB_CHROMIUM to its path"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh page (its own cookies and storage), 1280x900."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(60_000)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture(scope="session")
def shoot() -> Callable[..., Path]:
    """``shoot(page, name)`` saves a screenshot as ``SCREENSHOTS/name.png``; returns the path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def save(page: Any, name: str, *, full_page: bool = False) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return save
