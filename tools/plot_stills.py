"""Screenshot every plot of a notebook as a learner sees it: in Chromium, at 2x scale.

Usage::

    python tools/plot_stills.py notebooks/beginner/01_measure_first.ipynb --out /tmp/stills/01

The notebook's saved outputs are rendered to HTML with nbconvert's JupyterLab template,
opened in Debian's chromium (``/usr/bin/chromium``, or ``PERFLAB_CHROMIUM``) with a
1100 px wide viewport at device scale 2 (a high-resolution laptop screen), and each image
output is saved as ``<out>/<stem>_NN.png``. Look at them with an image viewer: text size,
sharpness and legends are judged by eye, at the size JupyterLab shows them.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

CHROMIUM = Path(os.environ.get("PERFLAB_CHROMIUM", "/usr/bin/chromium"))


def render_html(notebook: Path) -> str:
    """The notebook's saved outputs as one self-contained HTML page (JupyterLab look)."""
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(notebook, as_version=4)
    body, _ = HTMLExporter(template_name="lab").from_notebook_node(nb)
    return body


def shoot(notebook: Path, out: Path, *, width: int = 1100, scale: int = 2) -> list[Path]:
    """Save one PNG per image output of ``notebook`` into ``out``; return their paths."""
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.is_file():
        raise SystemExit(f"no chromium at {CHROMIUM}: apt-get install -y chromium")
    out.mkdir(parents=True, exist_ok=True)
    saved: list[Path] = []
    with tempfile.TemporaryDirectory() as tmp:
        page_path = Path(tmp) / "page.html"
        page_path.write_text(render_html(notebook), encoding="utf-8")
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox"]
            )
            context = browser.new_context(
                viewport={"width": width, "height": 900}, device_scale_factor=scale
            )
            page = context.new_page()
            page.goto(page_path.as_uri())
            images = page.locator(".jp-OutputArea-output img")
            for i in range(images.count()):
                path = out / f"{notebook.stem}_{i + 1:02d}.png"
                images.nth(i).scroll_into_view_if_needed()
                images.nth(i).screenshot(path=str(path))
                saved.append(path)
            browser.close()
    return saved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, required=True, help="folder for the PNGs")
    parser.add_argument("--width", type=int, default=1100, help="viewport width in CSS px")
    args = parser.parse_args(argv)
    for nb in args.notebooks:
        if not nb.is_file():
            print(f"no such notebook: {nb}", file=sys.stderr)
            return 2
        for path in shoot(nb, args.out, width=args.width):
            print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
