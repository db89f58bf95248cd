"""The course in JupyterLab, in chromium, as a new learner meets it.

`perflab lab --no-browser` starts JupyterLab on loopback (a token, a free port) on a
fresh working copy in a temporary folder (outputs cleared, as every learner gets it).
The tests then click through it: open 00_welcome and run it, follow its link to lesson
01, run a lesson with an explorer and move a slider, open a saved lesson without running
it (its explorer shows a still picture), and write a guess in a lesson's ``predict`` cell
and see the reveal print it beside the measured value.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from perflab.course.outline import Lesson, load_outline

from .conftest import SCREENSHOTS

REPO = Path(__file__).resolve().parents[2]
RUN_TIMEOUT_MS = 300_000  # a lesson's cells, run on a busy 2-core CI machine

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Lab:
    """A running JupyterLab: its URL, token and the learner's copy it serves."""

    url: str
    token: str
    root: Path

    def open(self, rel: str) -> str:
        # ``reset``: a fresh workspace, so the tabs an earlier test opened are not
        # restored beside this one (a locator could pick a cell in a tab about to hide)
        return f"{self.url}/lab/tree/{rel}?reset&token={self.token}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, browser: Any) -> Iterator[Lab]:
    """`python -m perflab lab --no-browser` on a free loopback port, in a fresh copy."""
    base = tmp_path_factory.mktemp("lab")
    port, token = _free_port(), secrets.token_hex(16)
    # Render every cell (no virtual scrolling), so a cell far down a lesson can be clicked.
    tracker = base / "lab-settings" / "@jupyterlab" / "notebook-extension"
    tracker.mkdir(parents=True)
    (tracker / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}')
    env = {
        **os.environ,
        "JUPYTER_TOKEN": token,
        "JUPYTER_CONFIG_DIR": str(base / "jupyter-config"),
        "JUPYTER_RUNTIME_DIR": str(base / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(base / "lab-settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(base / "lab-workspaces"),
        "PERFLAB_DATA_DIR": str(base / "data"),
        "HOME": str(base),
    }
    command = [sys.executable, "-m", "perflab", "lab", "--no-browser", f"--port={port}"]
    log_path = base / "server.log"
    with log_path.open("w") as log:
        # Its own session: `perflab lab` runs jupyter-lab as a child and does not pass
        # SIGTERM on, so the whole group is stopped at the end (kernels follow their server).
        proc = subprocess.Popen(
            [*command, "--dir", str(base / "copy")],
            cwd=base,
            env=env,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        try:
            while True:
                try:
                    urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=5).close()
                    break
                except (urllib.error.URLError, ConnectionError):
                    if proc.poll() is not None or time.monotonic() > deadline:
                        log.flush()
                        pytest.fail(f"JupyterLab did not start:\n{log_path.read_text()}")
                    time.sleep(0.5)
            yield Lab(url, token, base / "copy")
        finally:
            _stop_group(proc)


def _stop_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server's process group, then SIGKILL whatever is left after 20 s."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            proc.poll()  # reap `perflab lab` itself, or its zombie counts as left
            try:
                os.killpg(proc.pid, 0)  # anyone left in the group?
            except ProcessLookupError:
                proc.wait()
                return
            time.sleep(0.2)
    proc.wait()


# ------------------------------------------------------------------ driving JupyterLab


def _panel(page: Any) -> Any:
    """The notebook panel on screen (JupyterLab keeps hidden tabs in the page)."""
    return page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")


def _open(page: Any, lab: Lab, rel: str) -> Any:
    page.goto(lab.open(rel))
    panel = _panel(page)
    panel.locator(".jp-Cell").first.wait_for()
    _wait_for_kernel(page)
    return panel


def _wait_for_kernel(page: Any) -> None:
    """Wait until the notebook's kernel reports idle in the status bar."""
    page.wait_for_timeout(300)  # a message just sent may not have turned it busy yet
    page.locator(".jp-StatusBar-TextItem", has_text=re.compile(r"\| Idle")).first.wait_for(
        timeout=RUN_TIMEOUT_MS
    )


def _run_all(page: Any) -> None:
    """Run > Run All Cells, wait until the kernel stops, and fail on any cell left unrun."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    panel = _panel(page)
    started = (
        "() => [...document.querySelectorAll("
        "'.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputPrompt')]"
        ".some(p => /\\[(\\*|\\d+)\\]/.test(p.textContent))"
    )
    for _attempt in range(3):
        # The menu acts on the notebook in focus: a learner clicks into it first, too.
        panel.locator(".jp-Cell").first.click()
        page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
        item = page.locator(".lm-Menu-item:not(.lm-mod-disabled) .lm-Menu-itemLabel")
        try:
            item.filter(has_text=re.compile(r"^Run All Cells$")).first.click(timeout=10_000)
            page.wait_for_function(started, timeout=20_000)
            break
        except PlaywrightTimeout:
            page.keyboard.press("Escape")  # close the menu if it is still open
    # Done when no cell is queued or running ([*]) and at least one has run: either all
    # have run, or a cell failed and JupyterLab stopped there.
    try:
        page.wait_for_function(
            """() => {
                const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
                const prompts = [...panel.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]
                    .map(p => p.textContent);
                return prompts.some(t => /\\[\\d+\\]/.test(t))
                    && !prompts.some(t => t.includes('*'));
            }""",
            timeout=RUN_TIMEOUT_MS,
        )
    except PlaywrightTimeout:
        prompts = panel.locator(".jp-CodeCell .jp-InputPrompt").all_text_contents()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / "lab-run-all-timeout.png"
        page.screenshot(path=str(path))
        pytest.fail(
            f"Run All did not finish in {RUN_TIMEOUT_MS / 1000:.0f} s: {prompts}; see {path}"
        )
    # A collapsed cell (a "Your turn" answer) shows a placeholder, not its prompt: it ran
    # all the same, and its output is checked for errors below.
    prompts = panel.locator(
        ".jp-CodeCell:not(:has(.jp-InputPlaceholder)) .jp-InputPrompt"
    ).all_text_contents()
    unrun = [i for i, t in enumerate(prompts) if not re.search(r"\[\d+\]", t)]
    errors = panel.locator(".jp-OutputArea-output[data-mime-type*='error']").all_inner_texts()
    assert not unrun and not errors, f"code cells {unrun} did not run; errors: {errors}"


def _first_lesson(where: Callable[[str], bool]) -> Lesson | None:
    for lesson in load_outline(REPO).lessons:
        if where((REPO / lesson.path).read_text(encoding="utf-8")):
            return lesson
    return None


def _set_cell_source(page: Any, cell: Any, source: str) -> None:
    """Replace a code cell's text as a learner would: click in, select all, type."""
    editor = cell.locator(".cm-content")
    editor.scroll_into_view_if_needed()
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.insert_text(source)  # no key events, so no auto-closed brackets
    page.keyboard.press("Escape")


# ------------------------------------------------------------------ the tests


def test_welcome_runs_and_links_to_lesson_01(
    lab: Lab, page: Any, shoot: Callable[..., Path]
) -> None:
    """00_welcome opens in the learner's copy, runs without errors, and opens lesson 01."""
    panel = _open(page, lab, "notebooks/00_welcome.ipynb")
    assert (lab.root / "notebooks" / "00_welcome.ipynb").is_file()
    _run_all(page)
    shoot(page, "lab-01-welcome-run")
    outline = load_outline(REPO)
    first = outline.lessons[1]
    link = panel.locator(f'.jp-RenderedMarkdown a[href*="/{Path(first.path).name}"]').first
    link.scroll_into_view_if_needed()
    link.click()
    tab = page.locator(".lm-TabBar-tab.lm-mod-current .lm-TabBar-tabLabel", has_text=".ipynb")
    tab.filter(has_text=Path(first.path).name).first.wait_for()
    _panel(page).locator(".jp-Cell").first.wait_for()
    heading = _panel(page).locator(".jp-RenderedMarkdown h1").first.inner_text()
    assert first.title.split(":")[0] in heading
    shoot(page, "lab-02-lesson-01")


def test_an_explorer_slider_changes_its_readout(
    lab: Lab, page: Any, shoot: Callable[..., Path]
) -> None:
    """In a lesson with an explorer, moving a slider changes the slider's and the text's readout."""
    lesson = _first_lesson(lambda text: "_explorer(" in text)
    assert lesson is not None, "no lesson calls an explorer"
    panel = _open(page, lab, lesson.path)
    _run_all(page)
    explorer = panel.locator(".jp-OutputArea-output .widget-vbox").first
    explorer.scroll_into_view_if_needed()
    _wait_for_kernel(page)  # the slider snaps its start to its step: let that redraw land
    slider = explorer.locator(".widget-slider").first
    readout = slider.locator(".widget-readout")
    text = explorer.locator(".widget-html-content").first
    plot = explorer.locator("img").first
    before, before_text, before_plot = (
        readout.inner_text(),
        text.inner_text(),
        plot.get_attribute("src"),
    )
    shoot(page, "lab-03-explorer-before")
    slider.locator(".noUi-handle").focus()
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    page.wait_for_function(
        "([el, old]) => el.innerText !== old", arg=[text.element_handle(), before_text]
    )
    _wait_for_kernel(page)
    assert readout.inner_text() != before
    assert text.inner_text() != before_text
    assert plot.get_attribute("src") != before_plot, "the plot was not redrawn"
    shoot(page, "lab-04-explorer-after")


def test_an_unrun_explorer_shows_its_still_picture(
    lab: Lab, page: Any, shoot: Callable[..., Path]
) -> None:
    """A saved lesson opened without running shows the explorer's still, not a VBox repr.

    That is the repository's own executed notebook, as a teacher or a learner working in
    the checkout opens it: no kernel has built the widgets, so JupyterLab falls back.
    """
    lesson = _first_lesson(lambda text: "_explorer(" in text)
    assert lesson is not None, "no lesson calls an explorer"
    saved = f"saved_{Path(lesson.path).name}"
    (lab.root / saved).write_bytes((REPO / lesson.path).read_bytes())
    panel = _open(page, lab, saved)
    cell = panel.locator(".jp-CodeCell", has_text="_explorer(").last
    cell.evaluate("e => e.scrollIntoView()")
    output = cell.locator(".jp-OutputArea-output").first
    output.locator("img").wait_for()
    shoot(page, "lab-06-unrun-explorer")
    assert "VBox(" not in output.inner_text()


def test_a_prediction_is_revealed_beside_the_measurement(
    lab: Lab, page: Any, shoot: Callable[..., Path]
) -> None:
    """A guess typed into a `predict` cell is printed by its reveal, next to the measured value."""
    lesson = _first_lesson(lambda text: '"predict"' in text)
    if lesson is None:
        pytest.skip("no lesson has a cell tagged predict yet")
    panel = _open(page, lab, lesson.path)
    guess = re.compile(r'predictions\.guess\("([^"]+)", None')
    cell = panel.locator(".jp-CodeCell", has_text=guess).first
    cell.scroll_into_view_if_needed()
    lines = cell.locator(".cm-line").evaluate_all("els => els.map(e => e.textContent)")
    source = "\n".join(lines)
    match = guess.search(source)
    assert match, source
    name = match.group(1)
    _set_cell_source(page, cell, source.replace(", None", ", 12.5", 1))
    _run_all(page)
    reveal = panel.locator(".jp-OutputArea-output", has_text=f"{name}:").filter(
        has_text="your guess"
    )
    reveal.first.scroll_into_view_if_needed()
    shoot(page, "lab-05-prediction-revealed")
    shown = reveal.first.inner_text()
    assert "12.5" in shown and "measured" in shown, shown
