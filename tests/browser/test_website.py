"""The course website, built from this checkout and read in chromium as a learner would.

The site is built once (``perflab site build``, the documented command) into a temporary
folder and opened from disk. A learner must be able to: find every lesson from the
first page, see a lesson's plots (an explorer as its still picture, not a widget repr),
and go on to the next lesson by the lesson's own "Next" link and by the theme's arrow.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from perflab.cli import main
from perflab.course.outline import Lesson, Outline, load_outline

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def outline() -> Outline:
    return load_outline(REPO)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, browser: Any) -> Path:
    """The website of this checkout, built with `perflab site build --strict`.

    Strict: any Sphinx warning fails the build, so a link from a lesson to a page or
    heading the site does not have (a moved lesson, a glossary term renamed) fails here.
    """
    out = tmp_path_factory.mktemp("website") / "site"
    assert main(["site", "build", "--strict", "--root", str(REPO), "--out", str(out)]) == 0
    return out


def _html_name(lesson: Lesson) -> str:
    return lesson.path.removesuffix(".ipynb") + ".html"


def _url(site: Path, lesson: Lesson) -> str:
    return (site / _html_name(lesson)).as_uri()


def _with_explorer(outline: Outline) -> Lesson:
    for lesson in outline.lessons:
        if "_explorer(" in (REPO / lesson.path).read_text(encoding="utf-8"):
            return lesson
    pytest.fail("no lesson calls an explorer (perflab.widgets): nothing to check")


def test_the_first_page_lists_every_lesson(
    site: Path, outline: Outline, page: Any, shoot: Callable[..., Path]
) -> None:
    """index.html opens the welcome page, whose navigation links every lesson in order."""
    page.goto((site / "index.html").as_uri())
    page.wait_for_url(re.compile(r"00_welcome\.html$"))
    shoot(page, "site-01-index")
    nav = page.locator("nav.bd-docs-nav a.reference.internal")
    hrefs = nav.evaluate_all("els => els.map(e => e.href)")
    lesson_pages = [les for les in outline.lessons if les.level != "welcome"]
    positions = []
    for lesson in lesson_pages:
        wanted = _url(site, lesson)
        assert wanted in hrefs, f"{lesson.label} is not in the site's navigation"
        positions.append(hrefs.index(wanted))
    assert positions == sorted(positions), "the navigation is not in outline order"
    # The welcome page's own table (generated from the outline) links them too.
    body = page.locator("article")
    for lesson in lesson_pages:
        assert body.locator(f'a[href$="{Path(_html_name(lesson)).name}"]').count() >= 1, lesson.id


def test_a_lesson_page_shows_its_plots_and_the_explorer_still(
    site: Path, outline: Outline, page: Any, shoot: Callable[..., Path]
) -> None:
    """The explorer's lesson shows loaded images, among them the explorer's still picture."""
    lesson = _with_explorer(outline)
    page.goto(_url(site, lesson))
    images = page.locator("article .cell_output img")
    assert images.count() >= 1
    widths = images.evaluate_all("els => els.map(e => e.complete ? e.naturalWidth : 0)")
    assert all(w > 0 for w in widths), f"an image did not load: {widths}"
    text = page.locator("article").inner_text()
    assert "VBox(children=" not in text, "an explorer shows its raw widget repr"
    explorer_cell = page.locator("article .cell", has_text="_explorer(").last
    explorer_cell.scroll_into_view_if_needed()
    shoot(page, "site-02-explorer-still")
    assert explorer_cell.locator(".cell_output img").count() == 1


def test_next_links_open_the_next_lesson(
    site: Path, outline: Outline, page: Any, shoot: Callable[..., Path]
) -> None:
    """From a lesson, its footer's "Next" link and the theme's arrow open the next lesson."""
    lesson = _with_explorer(outline)
    following = outline.next(lesson.id)
    assert following is not None
    page.goto(_url(site, lesson))
    footer_next = page.locator("article p", has_text="Next:").locator("a").last
    footer_next.scroll_into_view_if_needed()
    shoot(page, "site-03-footer")
    footer_next.click()
    page.wait_for_load_state("load")
    assert page.url == _url(site, following)
    assert following.title.split(":")[0] in page.locator("article h1").first.inner_text()
    page.go_back()
    page.locator("a.right-next").click()
    page.wait_for_load_state("load")
    assert page.url == _url(site, following)
    shoot(page, "site-04-next-lesson")
