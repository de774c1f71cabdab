"""The sandbox in a real browser: Debian's Chromium driven by Playwright, against `python -m bot sandbox`.

Skipped only when Playwright or Chromium is missing (CI installs Chromium; Playwright never downloads one).
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.i18n import create_i18n
from bot.sandbox.screenshot import CHROMIUM_ARGS, chromium_path
from tests.bot_process import bot_command, bot_environment
from tests.e2e.helpers import plain
from tests.e2e.test_registration import WELCOME

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # pragma: no cover - the test extra installs it
    sync_playwright = None  # type: ignore[assignment]

CHROMIUM = chromium_path()
pytestmark = [
    # Chromium and the sandbox process: out of the parallel run, beside it (`make test`); every step
    # waits on what the page shows, with generous hang guards (a busy machine only makes it slower).
    pytest.mark.serial,
    pytest.mark.skipif(
        sync_playwright is None, reason="the playwright package is not installed (pip install -e '.[test]')"
    ),
    pytest.mark.skipif(
        CHROMIUM is None, reason="Chromium is not installed (Debian: apt-get install chromium)"
    ),
]


RICH_TEXT = """() => {
  const text = "Hi <img src=x onerror=alert(1)> bold italic link evil secret";
  const at = (part) => text.indexOf(part);
  return richText(text, [
    { type: "bold", offset: at("bold"), length: 11 },
    { type: "italic", offset: at("italic"), length: 6 },
    { type: "text_link", offset: at("link"), length: 4, url: "https://example.org/" },
    { type: "text_link", offset: at("evil"), length: 4, url: "javascript:alert(1)" },
    { type: "spoiler", offset: at("secret"), length: 6 },
  ], "test").innerHTML;
}"""

# Where each line of a mixed message is drawn (whole pixels), inside a 400-pixel wide bubble text.
PARAGRAPH_EDGES = """() => {
  const node = richText("Hello, this is /mydata\\nمرحبا بكم في مجتمعنا", [], "bidi");
  node.style.width = "400px";
  document.body.append(node);
  const line = (text) => {
    const range = document.createRange();
    const start = node.textContent.indexOf(text);
    range.setStart(node.firstChild, start);
    range.setEnd(node.firstChild, start + text.length);
    const box = range.getBoundingClientRect();
    return { left: Math.round(box.left), right: Math.round(box.right) };
  };
  const box = node.getBoundingClientRect();
  const edges = { latin: line("Hello"), arabic: line("مرحبا بكم في مجتمعنا"),
    box: { left: Math.round(box.left), right: Math.round(box.right) } };
  node.remove();
  return edges;
}"""


READY = re.compile(
    r"Sandbox ready: open (http://127\.0\.0\.1:[1-9][0-9]*) in your browser \(Ctrl\+C to stop\)"
)


@pytest.fixture
def sandbox_url(tmp_path: Path) -> Iterator[str]:
    """`python -m bot sandbox` in tmp_path (its database goes to tmp_path/data), until its ready line.
    `--port 0`: it binds a port the system chooses and its ready line says which (a port found free
    here and bound there later could be taken meanwhile)."""
    env = bot_environment(tmp_path, LOG_LEVEL="WARNING")
    out, err = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(
            bot_command("sandbox", "--port", "0"), cwd=tmp_path, env=env, stdout=stdout, stderr=stderr
        )
    try:
        deadline = time.monotonic() + 120  # a hang guard
        while "Sandbox ready" not in out.read_text():
            assert process.poll() is None, f"the sandbox stopped: {err.read_text()}"
            assert time.monotonic() < deadline, "the sandbox did not start within 120 s"
            time.sleep(0.1)
        ready = READY.fullmatch(out.read_text().strip())
        assert ready is not None, out.read_text()
        yield ready[1]
    finally:
        process.terminate()
        process.wait(timeout=15)
    assert process.returncode == 0, err.read_text()
    assert "Traceback" not in err.read_text()
    assert (tmp_path / "data" / "sandbox.sqlite3").exists()


def test_a_newcomer_registers_in_french_in_the_browser(tmp_path: Path, sandbox_url: str) -> None:
    i18n = create_i18n("en")

    def fr(message_id: str, **values: str) -> str:
        return i18n.gettext(message_id, locale="fr").format(**values)

    expect.set_options(timeout=60_000)  # a hang guard for each step
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )
        context.set_default_timeout(60_000)  # the page's actions too: hang guards
        try:
            page = context.pages[0] if context.pages else context.new_page()
            requests: list[str] = []
            errors: list[str] = []
            page.on("request", lambda request: requests.append(request.url))
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on(
                "console", lambda message: errors.append(message.text) if message.type == "error" else None
            )
            page.goto(sandbox_url)

            page.get_by_label("First name").fill("Test")
            page.get_by_label("Telegram app language").select_option("fr")
            page.get_by_role("button", name="Create user").click()
            expect(page.get_by_role("button", name=re.compile(r"^Test\b"))).to_have_attribute(
                "aria-current", "true"
            )

            composer = page.get_by_label("Message", exact=True)
            composer.fill("/start")
            composer.press("Enter")
            greeting = plain(fr(WELCOME, organization="Diaspora Bridge community"))
            bot_said = page.locator("#messages .row:not(.mine) .bubble")
            expect(bot_said.first).to_contain_text(greeting.split("\n\n")[-1])
            expect(bot_said.first.locator("b")).to_have_text("Diaspora Bridge community")  # from the entities

            page.get_by_role("button", name="Français").click()
            expect(bot_said.first).to_contain_text("/mydata")  # the same message, edited into the notice
            expect(bot_said).to_have_count(1)

            page.get_by_role("button", name=fr("✅ I agree")).click()
            expect(page.locator("#messages")).to_contain_text(
                fr("What name should we use for you? Send it as a message.")
            )

            # Entities become elements; markup inside the text stays text; only http(s) and mailto links.
            html = page.evaluate(RICH_TEXT)
            assert html.startswith("Hi &lt;img src=x onerror=alert(1)&gt; <b>bold <i>italic</i></b> ")
            assert '<a href="https://example.org/" target="_blank" rel="noopener noreferrer">link</a>' in html
            assert "javascript" not in html and '<span class="spoiler"' in html

            # Each paragraph takes its own direction: an Arabic line after a Latin one starts at the
            # right edge, as in Telegram's apps (the whole message is not laid out left to right).
            edges = page.evaluate(PARAGRAPH_EDGES)
            assert edges["latin"]["left"] == edges["box"]["left"]
            assert (
                edges["arabic"]["right"]
                == edges["box"]["right"]
                > edges["arabic"]["left"]
                > edges["box"]["left"]
            )

            # What people type is shown as text, never as markup.
            composer.fill("<b>Test</b> & co")
            composer.press("Enter")
            expect(page.locator("#messages .row.mine").last).to_contain_text("<b>Test</b> & co")
            assert page.locator("#messages .row.mine b").count() == 0

            # Shift+Enter starts a new line; Enter sends the whole multi-line message as one.
            composer.type("Lyon")
            composer.press("Shift+Enter")
            composer.type("France")
            composer.press("Enter")
            mine = page.locator("#messages .row.mine")
            expect(mine.last).to_contain_text("France")
            assert mine.last.locator(".text").inner_text() == "Lyon\nFrance"
            assert composer.input_value() == ""
        finally:
            context.close()
    assert errors == []
    assert requests and all(url.startswith(sandbox_url) for url in requests)  # nothing from the internet
