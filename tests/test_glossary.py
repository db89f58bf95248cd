"""The glossary: every required term defined, anchors unique, every link to it lands."""

from __future__ import annotations

import json
import posixpath
import re
from pathlib import Path

import pytest

from perflab import glossary

ROOT = Path(__file__).resolve().parents[1]
GLOSSARY = ROOT / glossary.GLOSSARY_PATH
_ENTRY = re.compile(
    r'<span id="([^"]+)"></span>\n\n### ([^\n]+)\n\n(.*?)(?=\n<span id=|\Z)', re.DOTALL
)
#: A link into the glossary anywhere in a text: its path and its anchor.
_LINK = re.compile(r"([\w./-]*glossary\.md)#([\w-]+)")
_IN_PAGE = re.compile(r"\]\(#([\w-]+)\)")


def github_slug(heading: str) -> str:
    """The anchor GitHub (and MyST) give a heading: lower case, punctuation out, spaces to -."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def entries() -> dict[str, tuple[str, str]]:
    """anchor -> (heading, body) for every entry of docs/glossary.md."""
    found = _ENTRY.findall(GLOSSARY.read_text(encoding="utf-8"))
    return {a: (h, body) for a, h, body in found}


def anchors() -> list[str]:
    return re.findall(r'<span id="([^"]+)"></span>', GLOSSARY.read_text(encoding="utf-8"))


def broken_links(text: str, where: str) -> list[str]:
    """Links to the glossary in ``text`` (from file ``where``, repo-relative) that don't land."""
    known = set(anchors())
    problems = []
    folder = posixpath.dirname(where)
    for path, anchor in _LINK.findall(text):
        target = posixpath.normpath(posixpath.join(folder, path))
        if target != glossary.GLOSSARY_PATH:
            problems.append(f"{where}: {path}#{anchor} points at {target}, not the glossary")
        elif anchor not in known:
            problems.append(f"{where}: {path}#{anchor}: no such anchor in the glossary")
    return problems


def _texts() -> list[tuple[str, str]]:
    """(repo-relative path, text) of every notebook, exercise, solution, doc and the README."""
    out = [("README.md", (ROOT / "README.md").read_text(encoding="utf-8"))]
    for path in sorted((ROOT / "docs").rglob("*.md")):
        out.append((path.relative_to(ROOT).as_posix(), path.read_text(encoding="utf-8")))
    for folder in ("notebooks", "exercises", "solutions"):
        for path in sorted((ROOT / folder).rglob("*.ipynb")):
            if ".ipynb_checkpoints" in path.parts:
                continue
            nb = json.loads(path.read_text(encoding="utf-8"))
            text = "\n".join("".join(cell["source"]) for cell in nb["cells"])
            out.append((path.relative_to(ROOT).as_posix(), text))
    return out


def test_every_required_term_has_an_entry() -> None:
    """Each term issue 11 lists maps to an anchor that the glossary defines."""
    defined = entries()
    missing = [t for t in glossary.REQUIRED if glossary.TERMS.get(t) not in defined]
    assert not missing


def test_every_anchor_is_unique_and_mapped() -> None:
    """No anchor appears twice, and every entry can be reached from TERMS."""
    found = anchors()
    assert len(found) == len(set(found)), sorted(a for a in found if found.count(a) > 1)
    assert set(found) == set(glossary.TERMS.values())
    assert len(entries()) == len(found), "an anchor is not followed by its ### heading"


@pytest.mark.parametrize("anchor", sorted(set(glossary.TERMS.values())))
def test_each_anchor_is_its_heading_slug(anchor: str) -> None:
    """The anchor is the heading's own slug, so the link works where spans are stripped."""
    heading, _ = entries()[anchor]
    assert github_slug(heading) == anchor


@pytest.mark.parametrize("anchor", sorted(set(glossary.TERMS.values())))
def test_each_entry_defines_and_gives_a_pipeline_example(anchor: str) -> None:
    """Every entry has a definition and one example from the article pipeline."""
    _, body = entries()[anchor]
    definition, _, example = body.partition("*In the pipeline:*")
    assert len(definition.split()) >= 15, "the definition is missing or too short"
    assert example.strip(), "the example from the pipeline is missing"


def test_entries_are_in_alphabetical_order() -> None:
    """Terms are sorted, so a reader finds one by scanning."""
    headings = [h.lower() for h, _ in entries().values()]
    assert headings == sorted(headings)


def test_links_inside_the_glossary_land() -> None:
    """`[word](#anchor)` links between entries point at anchors that exist."""
    known = set(anchors())
    text = GLOSSARY.read_text(encoding="utf-8")
    assert not [a for a in _IN_PAGE.findall(text) if a not in known]


def test_every_link_to_the_glossary_lands() -> None:
    """Every `glossary.md#anchor` in notebooks, exercises, solutions, docs and README exists."""
    problems = [p for where, text in _texts() for p in broken_links(text, where)]
    assert not problems


@pytest.mark.parametrize(
    ("text", "where", "problem"),
    [
        ("[x](../../docs/glossary.md#no-such-term)", "notebooks/beginner/01.ipynb", "no such"),
        ("[x](../docs/glossary.md#percentile)", "notebooks/beginner/01.ipynb", "points at"),
        ("[x](glossary.md#percentil)", "docs/index.md", "no such"),
    ],
)
def test_a_wrong_link_is_caught(text: str, where: str, problem: str) -> None:
    """A wrong anchor, or a path that misses docs/glossary.md, is reported."""
    (found,) = broken_links(text, where)
    assert problem in found


@pytest.mark.parametrize(
    "where",
    ["notebooks/00_welcome.ipynb", "notebooks/beginner/01_measure_first.ipynb", "docs/x.md", ""],
)
def test_link_builds_a_link_that_lands(where: str) -> None:
    """`glossary.link` gives a relative link the link check accepts, from anywhere."""
    made = glossary.link("P99", where)
    assert made.startswith("[P99](") and made.endswith("#percentile)")
    assert broken_links(made, where) == []


def test_module_example() -> None:
    """The module docstring's example is what link() returns."""
    assert (
        glossary.link("percentile", "notebooks/beginner/01_measure_first.ipynb")
        == "[percentile](../../docs/glossary.md#percentile)"
    )


def test_an_unknown_term_says_what_is_close() -> None:
    """A misspelt term is a KeyError naming close terms."""
    with pytest.raises(KeyError, match="did you mean 'token bucket'"):
        glossary.anchor("token buckets")
    assert glossary.anchor("  Cosine   Similarity ") == "cosine-similarity"
