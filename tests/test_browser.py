"""A real browser (Debian's chromium, headless, driven by Playwright) asks the app a question.

Marked slow: it needs /usr/bin/chromium (`apt-get install chromium`; .ci/run installs it). The
screenshot is saved as a test artifact in tests/artifacts/.
"""

import shutil
from pathlib import Path

import pytest

import app
from nl2sql.service import ServiceConfig

pytestmark = pytest.mark.slow
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


@pytest.fixture
def url(tiny_model_dir):
    config = ServiceConfig(base_model=str(tiny_model_dir), ft_model=str(tiny_model_dir), max_new_tokens=8,
                           backend="transformers")
    page = app.build(app.App(config))
    page.queue()
    _, local_url, _ = page.launch(server_name="127.0.0.1", prevent_thread_lock=True, quiet=True)
    yield local_url
    page.close()


def test_ask_a_question_in_the_browser(url):
    from playwright.sync_api import expect, sync_playwright

    assert Path(CHROMIUM).exists(), f"chromium is missing at {CHROMIUM}: apt-get install chromium"
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.goto(url)
        page.get_by_label("Question").first.fill("How many employees are there?")
        page.get_by_role("button", name="Generate SQL").click()
        expect(page.get_by_text("tokens/s").first).to_be_visible(timeout=60_000)
        page.screenshot(path=str(ARTIFACTS / "generate.png"), full_page=True)
        expect(page.get_by_text("transformers ·").first).to_be_visible()  # the verdict names the engine that answered
        page.get_by_role("tab", name="Validate SQL").click()
        expect(page.get_by_role("button", name="Validate")).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "validate.png"), full_page=True)
        page.get_by_role("tab", name="Compare").click()
        expect(page.get_by_role("button", name="Compare base and fine-tuned")).to_be_visible()
        expect(page.get_by_text("Fine-tuned").first).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "compare.png"), full_page=True)
        browser.close()
