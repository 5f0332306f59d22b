"""The web page on a model: page load and "click Generate -> sound playable" times, and the README's screenshots.

Starts ``ddbridge serve`` (free local ports, a temporary project) and drives its page in headless
Chromium. Every time is measured inside the browser (``performance.now()``):

* page load: navigation start -> the page has its models and its library (``ddbridge-ready`` mark);
* click -> listed: the Generate click -> the new sound's row in the library (its file is on disk);
* click -> playing: the same click -> the audio element's ``playing`` event after the row's play button,
  which a script on the page presses as soon as the row appears.

A click is a pool hit when the daemon had a finished kick ready, a miss when the form gives a seed.

    python bench/web_page.py                       # the bundled default model; screenshots into docs/
    python bench/web_page.py --model PATH --runs 5 --screenshots ''
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from browser_helpers import chromium, wait_for  # noqa: E402
from daemon_helpers import DaemonProcess  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select  # noqa: E402

from ddbridge.model.checkpoints import locate  # noqa: E402

WATCH_CLICK = """
window.benchResult = null;
const list = document.querySelector("#sounds");
const before = new Set([...list.querySelectorAll(".sound")].map((r) => r.dataset.path));
const player = document.querySelector("#player");
let t0 = 0, listed = 0;
const observer = new MutationObserver(() => {
  const row = [...list.querySelectorAll(".sound")].find((r) => !before.has(r.dataset.path));
  if (!row || listed) return;
  listed = performance.now();
  observer.disconnect();
  player.addEventListener("playing", () => {
    window.benchResult = {listed: listed - t0, playing: performance.now() - t0};
  }, {once: true});
  row.querySelector(".play").click();
});
observer.observe(list, {childList: true});
document.querySelector("#submit").addEventListener("click", (e) => { t0 = e.timeStamp; }, {once: true, capture: true});
"""
SCREENSHOT_SOUNDS = (("bass", 2), ("tom", 2), ("hat_closed", 3), ("clap", 2), ("snare", 3), ("kick", 4))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="default", help="model name or path (default: the bundled default)")
    p.add_argument("--runs", type=int, default=8, help="measurements of each kind")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads in the daemon (0: PyTorch's default)")
    p.add_argument("--screenshots", default=str(REPO / "docs"), help="folder for the screenshots ('' for none)")
    args = p.parse_args()

    with tempfile.TemporaryDirectory(prefix="ddbridge-web-bench-") as tmp, chromium(1400, 860) as driver:
        root = Path(tmp)
        model = Path(locate(args.model)[0])
        with DaemonProcess(model, root / "daemon", pool_size=2, threads=args.threads) as daemon:
            empty_load = [page_load(driver, daemon.url) for _ in range(args.runs)]
            hits, misses = [], []
            for _ in range(args.runs):
                wait_for_pool(daemon, "kick")
                hits.append(click_to_playable(driver, daemon.url, "kick", None))
                misses.append(click_to_playable(driver, daemon.url, "kick", random.randrange(2**31)))
            for category, count in SCREENSHOT_SOUNDS:
                generate(driver, daemon.url, category, count)
            full_load = [page_load(driver, daemon.url) for _ in range(args.runs)]
            sounds = len(driver.execute_script("return state.sounds"))
            if args.screenshots:
                screenshots(driver, Path(args.screenshots))
            with daemon.client() as client:
                device = client.status()["device"]
    print(f"model {args.model} on {device}; {args.runs} runs each; median (min-max) ms")
    print(f"page load, empty library          {summary(empty_load)}")
    print(f"page load, {sounds} sounds{' ' * (22 - len(str(sounds)))} {summary(full_load)}")
    print(f"click -> listed, pool hit         {summary([h['listed'] for h in hits])}")
    print(f"click -> playing, pool hit        {summary([h['playing'] for h in hits])}")
    print(f"click -> listed, pool miss        {summary([m['listed'] for m in misses])}")
    print(f"click -> playing, pool miss       {summary([m['playing'] for m in misses])}")
    return 0


def page_load(driver, url: str) -> float:
    driver.get(url)
    wait_for(lambda: driver.execute_script("return document.body.dataset.ready === '1'"), what="the page")
    return driver.execute_script("return performance.getEntriesByName('ddbridge-ready')[0].startTime")


def fill_form(driver, url: str, category: str, count: int, seed: int | None) -> None:
    if driver.current_url != url:
        page_load(driver, url)
    Select(driver.find_element(By.CSS_SELECTOR, "#f-category")).select_by_value(category)
    set_field(driver, "#f-count", count)
    set_field(driver, "#f-seed", "" if seed is None else seed)


def set_field(driver, css: str, value: object) -> None:
    driver.execute_script("arguments[0].value = arguments[1]", driver.find_element(By.CSS_SELECTOR, css), str(value))


def click_to_playable(driver, url: str, category: str, seed: int | None) -> dict:
    """Times from a real click on Generate (a user gesture, so the page may play sound) to the new sound."""
    fill_form(driver, url, category, 1, seed)
    driver.execute_script(WATCH_CLICK)
    driver.find_element(By.CSS_SELECTOR, "#submit").click()
    return wait_for(lambda: driver.execute_script("return window.benchResult"), 120, "the new sound to play")


def generate(driver, url: str, category: str, count: int) -> None:
    fill_form(driver, url, category, count, None)
    before = len(driver.find_elements(By.CSS_SELECTOR, ".sound"))
    driver.find_element(By.CSS_SELECTOR, "#submit").click()
    wait_for(lambda: len(driver.find_elements(By.CSS_SELECTOR, ".sound")) >= before + count, 300, f"{category}s")


def wait_for_pool(daemon: DaemonProcess, category: str, timeout: float = 120.0) -> None:
    def ready() -> bool:
        with daemon.client() as client:
            pool = client.status()["pool"]["categories"]
        return any(c["category"] == category and c["ready"] > 0 for c in pool)

    wait_for(ready, timeout, f"a pooled {category}")
    time.sleep(0.3)  # the pool refills only while no request comes: let a running fill finish


def screenshots(driver, folder: Path) -> None:
    """The library (one sound playing, one showing its spectrogram) and the map."""
    folder.mkdir(parents=True, exist_ok=True)
    page_load(driver, driver.current_url)
    rows = driver.find_elements(By.CSS_SELECTOR, ".sound")
    rows[1].find_element(By.CSS_SELECTOR, ".spec").click()
    wait_for(lambda: rows[1].get_attribute("data-spectrogram"), what="a spectrogram")
    rows[3].click()
    time.sleep(0.15)
    driver.execute_script(
        "document.querySelector('#player').pause(); document.activeElement.blur();"
        "document.querySelector('#sounds').scrollTop = 0"
    )
    driver.save_screenshot(str(folder / "web-library.png"))
    driver.find_element(By.CSS_SELECTOR, "#view-map").click()
    wait_for(lambda: int(driver.find_element(By.CSS_SELECTOR, "#map").get_attribute("data-points") or 0), what="map")
    time.sleep(0.3)
    driver.save_screenshot(str(folder / "web-map.png"))
    print(f"screenshots: {folder / 'web-library.png'}, {folder / 'web-map.png'}")


def summary(values: list[float]) -> str:
    return f"{statistics.median(values):7.0f} ({min(values):.0f}-{max(values):.0f})"


if __name__ == "__main__":
    sys.exit(main())
