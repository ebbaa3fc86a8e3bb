"""A screenshot of the ``kgnlu serve`` page for the README: starts the server on GRAPH, links a
text, asks a question, focuses a mention (its candidates show) and saves OUT.png.

    python scripts/serve_screenshot.py ~/.cache/kgnlu/graphs/default docs/img/serve-page.png

Needs Debian's chromium and chromium-driver (``make setup``). The text and question default to ones
the default graph (WordNet + GeoNames) answers; pass --text / --question for another graph.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.serve is not installed: run from a checkout

from tests.serve.server_proc import start_server  # noqa: E402
from tests.serve.test_browser import ask, chrome_driver, link_text, open_page  # noqa: E402

TEXT = "The capital of France is Paris, on the Seine; Lyon is a city with a famous basilica."
QUESTION = "Which continent is the country of Lyon in?"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("graph", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--text", default=TEXT)
    ap.add_argument("--question", default=QUESTION)
    ap.add_argument("--focus", default="Lyon", help="the mention to focus (its candidates show); default Lyon")
    ap.add_argument("--serve-arg", action="append", default=[], help="extra `kgnlu serve` argument (repeatable)")
    ap.add_argument("--width", type=int, default=1200)
    args = ap.parse_args()

    from kgnlu.atomic_files import atomic_path

    with start_server(args.graph, *args.serve_arg, timeout=900) as server:
        driver = chrome_driver()
        try:
            driver.set_window_size(args.width, 1400)
            open_page(driver, server.url)
            link_text(driver, args.text, submit_with_enter=False)
            ask(driver, args.question)
            height = driver.execute_script("return document.documentElement.scrollHeight")
            driver.set_window_size(args.width, min(2400, height + 40))
            driver.execute_script("window.scrollTo(0, 0)")
            # focus a mention (a click would follow its link): its candidates popover shows
            driver.execute_script("const ms = [...document.querySelectorAll('#link-out .mention')];"
                                  "(ms.find((m) => m.textContent === arguments[0]) || ms[0]).focus()", args.focus)
            args.out.parent.mkdir(parents=True, exist_ok=True)
            with atomic_path(args.out) as tmp:
                if not driver.save_screenshot(str(tmp)):
                    raise SystemExit("chromium could not take the screenshot")
                tmp.chmod(0o644)  # a file for the repository, not a private temp file
        finally:
            driver.quit()
    print(f"saved {args.out} ({args.out.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
