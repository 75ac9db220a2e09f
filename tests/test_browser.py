"""One real browser: Playwright drives Debian's chromium against the cost explorer served by
Voila on 127.0.0.1, moves the volume slider, and sees the projected monthly figure change."""

import shutil
import socket
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed "
                                "(apt-get install chromium); .ci/run installs it")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def explorer_url(tmp_path_factory):
    from workbench import Workbench
    from workbench.demo import sample_logs
    from workbench.explore.serve import serve

    db = tmp_path_factory.mktemp("browser") / "explorer.duckdb"
    with Workbench(db) as wb:
        wb.ingest(sample_logs())
    port = free_port()
    proc = serve(port, db, wait=False)
    yield f"http://127.0.0.1:{port}/"
    proc.terminate()
    proc.wait(timeout=20)


def test_volume_slider_changes_the_monthly_figure(explorer_url):
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"],
        )
        try:
            page = browser.new_page()
            # Voila starts a kernel and runs the notebook before the page has its widgets
            for _ in range(60):  # the server may still be starting: retry the navigation, bounded
                try:
                    page.goto(explorer_url, timeout=5_000)
                    break
                except Exception:  # noqa: BLE001 - connection refused until Voila listens
                    page.wait_for_timeout(500)
            figure = page.locator(".wb-monthly").first
            figure.wait_for(state="visible", timeout=120_000)
            before = figure.inner_text()
            assert before.startswith("$"), before
            slider = page.locator(".widget-slider", has_text="Volume multiplier").locator(".noUi-handle").first
            slider.focus()
            for _ in range(10):
                page.keyboard.press("ArrowRight")
            page.wait_for_function(
                "before => { const e = document.querySelector('.wb-monthly'); return e && e.innerText !== before; }",
                arg=before, timeout=60_000,
            )
            after = figure.inner_text()
            assert after != before and after.startswith("$")
            page.screenshot(path=str(Path(__file__).resolve().parents[1] / "out" / "explorer.png"), full_page=True) \
                if (Path(__file__).resolve().parents[1] / "out").is_dir() else None
        finally:
            browser.close()
