"""A real browser (Debian's chromium, headless, driven by Playwright) asks the app questions with the shipped
model, sees the rows and a bar chart without pressing Run, and saves a correction that the export then holds.

Marked slow: it needs /usr/bin/chromium (`apt-get install chromium`; .ci/run installs it). The
screenshot is saved as a test artifact in tests/artifacts/.
"""

import json
import shutil
from pathlib import Path

import pytest

import app
from nl2sql import feedback
from nl2sql.models import shipped_model
from nl2sql.service import ServiceConfig

pytestmark = pytest.mark.slow
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


@pytest.fixture
def url(tmp_path):
    """The app as served: the shipped model on the default engine, corrections kept under tmp_path."""
    config = ServiceConfig(ft_model=shipped_model(), data_dir=str(tmp_path))
    page = app.build(app.App(config))
    page.queue()
    _, local_url, _ = page.launch(server_name="127.0.0.1", prevent_thread_lock=True, quiet=True)
    yield local_url
    page.close()


def _ask(page, question: str, schema: str):
    from playwright.sync_api import expect

    page.get_by_label("Example schema").click()
    page.get_by_role("option", name=schema).click()
    page.get_by_label("Question").first.fill(question)
    page.get_by_role("button", name="Generate SQL").click()
    expect(page.get_by_text("tokens/s").first).to_be_visible(timeout=120_000)
    expect(page.get_by_text(" rows in ").or_(page.get_by_text(" row in ")).first).to_be_visible(timeout=30_000)


def test_ask_see_the_answer_and_correct_it_in_the_browser(url, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    assert Path(CHROMIUM).exists(), f"chromium is missing at {CHROMIUM}: apt-get install chromium"
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1400})
        page.goto(url)
        _ask(page, "Which department has the highest average salary?", "company")  # the first example
        result = page.locator("#result")
        expect(result).to_contain_text("Engineering")
        expect(page.get_by_text("llama.cpp ·").first).to_be_visible()  # the verdict names the engine
        _ask(page, "How many books has each author written?", "library")  # a grouped question: a bar chart
        expect(page.locator("#bar-chart canvas, #bar-chart svg").first).to_be_visible(timeout=30_000)
        expect(page.locator("#bar-chart").get_by_text("COUNT(*)").or_(
            page.locator("#bar-chart").get_by_text("name")).first).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "generate.png"), full_page=True)
        page.get_by_text("Right or wrong?").click()
        editor = page.locator("#sql .cm-content")
        editor.click()
        page.keyboard.press("Control+A")
        page.keyboard.type("SELECT a.name, COUNT(*) AS books FROM authors AS a JOIN books AS b "
                           "ON b.author_id = a.author_id GROUP BY a.author_id ORDER BY books DESC")
        page.get_by_role("button", name="Save the SQL above").click()
        expect(page.get_by_text("Saved your SQL as the right answer").first).to_be_visible(timeout=30_000)
        page.get_by_role("tab", name="Validate SQL").click()
        expect(page.get_by_role("button", name="Validate")).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "validate.png"), full_page=True)
        page.get_by_role("tab", name="Compare").click()
        expect(page.get_by_role("button", name="Compare base and fine-tuned")).to_be_visible()
        expect(page.get_by_text("Fine-tuned").first).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "compare.png"), full_page=True)
        browser.close()
    out = tmp_path / "rows.jsonl"
    assert feedback.main(["export", "--dir", str(tmp_path), "--out", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["question"] for r in rows] == ["How many books has each author written?"]
    assert "ORDER BY books DESC" in rows[0]["sql"] and "CREATE TABLE authors" in rows[0]["schema"]
