"""The documentation holds together: links and named paths resolve, pages stay short enough to read,
only the history page tells the story of the runs, and the README's settings list names every variable
the app reads. Fast and offline: it reads text files only."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
CARDS = sorted(ROOT.glob("models/*/README.md"))
PAGES = [README, *DOCS, *CARDS]
HISTORY = ROOT / "docs" / "history.md"

# Backticked text counts as a path when it starts with one of the repository's folders (or ends in .md).
REPO_DIRS = ("docs/", "nl2sql/", "training/", "eval/", "tests/", "benchmarks/", "scripts/", "deploy/",
             "examples/", "models/", ".ci/")
OUTPUTS = {"report.md"}  # written by a run into its results folder, not a page of the repository
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)|!\[[^\]]*\]\(([^)\s]+)\)")
CODE = re.compile(r"`([^`\s]+)`")
FENCE = re.compile(r"^```.*?^```", re.M | re.S)


def rel(page: Path) -> str:
    return str(page.relative_to(ROOT))


def prose(page: Path) -> str:
    """The page without its fenced code blocks (commands, not references)."""
    return FENCE.sub("", page.read_text())


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip()).lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    seen: dict[str, int] = {}
    out = set()
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*#*$", prose(page), re.M):
        base = slug(heading)
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.add(base if n == 0 else f"{base}-{n}")
    return out


def resolve(page: Path, target: str) -> Path | None:
    """The file or folder a reference names, relative to its page or to the repository root."""
    for base in (page.parent, ROOT):
        path = (base / target).resolve()
        if path.exists():
            return path
    return None


def test_the_pages_are_found():
    assert README.is_file() and HISTORY.is_file() and (ROOT / "docs" / "architecture.md").is_file()
    assert CARDS, "no model card under models/"


@pytest.mark.parametrize("page", PAGES, ids=rel)
def test_every_relative_link_resolves(page):
    broken = []
    for match in LINK.finditer(prose(page)):
        target = match.group(1) or match.group(2)
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
            continue
        path_part, _, anchor = target.partition("#")
        path = resolve(page, path_part) if path_part else page
        if path is None:
            broken.append(f"{target}: no such file")
        elif anchor and path.suffix == ".md" and anchor not in anchors(path):
            broken.append(f"{target}: no heading with that anchor")
    assert not broken, f"{rel(page)}: {broken}"


@pytest.mark.parametrize("page", PAGES, ids=rel)
def test_every_backticked_path_exists(page):
    missing = []
    for token in CODE.findall(prose(page)):
        token = token.rstrip(".,;:")
        if any(c in token for c in "*{}<>$~") or "..." in token or "://" in token or token in OUTPUTS:
            continue  # a pattern, a placeholder or a URL, not one path
        if token.endswith(".md") or token.startswith(REPO_DIRS):
            if resolve(page, token) is None:
                missing.append(token)
    assert not missing, f"{rel(page)} names paths the repository does not have: {missing}"


def test_no_page_names_the_design_document_the_repo_does_not_have():
    for page in PAGES:
        if "DESIGN.md" in page.read_text():
            assert (ROOT / "DESIGN.md").is_file(), f"{rel(page)} names DESIGN.md: point it to docs/architecture.md"


def test_readme_and_docs_link_the_architecture_map():
    assert "docs/architecture.md" in README.read_text()
    linked = [p for p in DOCS if p.name != "architecture.md" and "architecture.md" in p.read_text()]
    assert linked, "no page under docs/ links architecture.md"


def test_readme_and_model_card_stay_short():
    assert len(README.read_text().splitlines()) <= 180
    for card in CARDS:
        assert len(card.read_text().splitlines()) < 150, rel(card)


@pytest.mark.parametrize("page", [p for p in DOCS if p != HISTORY], ids=rel)
def test_only_the_history_page_tells_the_story_of_the_runs(page):
    text = page.read_text()
    assert not re.search(r"\bsessions?\b", text, re.I), f"{rel(page)} speaks of sessions: move it to docs/history.md"
    assert not re.search(r"\bissues?\s*#?\s*\d+|\bissue #|\bthe issue's\b", text, re.I), \
        f"{rel(page)} names an issue: move it to docs/history.md"
    dated = [h for h in re.findall(r"^#{1,6}\s+(.+)$", prose(page), re.M) if re.search(r"\b20\d\d-\d\d-\d\d\b", h)]
    assert not dated, f"{rel(page)} has dated section titles: {dated}"


def env_names(path: Path) -> set[str]:
    """The environment variables a module reads: env.get("X"), env["X"], _int_env(env, "X", ...), os.environ.get("X")."""
    text = path.read_text()
    return set(re.findall(r"\b(?:env|environ)(?:\.get\(\s*|\[\s*|,\s*)\"([A-Z][A-Z0-9_]*)\"", text))


def test_readme_settings_name_every_variable_the_app_reads():
    readme = README.read_text()
    names = env_names(ROOT / "nl2sql" / "service.py") | env_names(ROOT / "app.py")
    names |= {n for p in (ROOT / "nl2sql").rglob("*.py") for n in re.findall(r"\"(NL2SQL_[A-Z0-9_]+)\"", p.read_text())}
    assert {"VOTES", "DATABASE_URL", "BACKEND"} <= names, "the regex no longer finds service.py's variables"
    missing = sorted(n for n in names if f"`{n}`" not in readme)
    assert not missing, f"README's settings list lacks {missing}"


def test_readme_names_every_make_target():
    targets = set(re.findall(r"^([a-z][\w-]*):", (ROOT / "Makefile").read_text(), re.M))
    named = set(re.findall(r"\bmake ([a-z][\w-]*)", README.read_text()))
    assert targets == named, f"not in the README: {sorted(targets - named)}; not in the Makefile: {sorted(named - targets)}"
