"""The page of ``kgnlu serve`` in a real headless Chromium (Debian's chromium + chromedriver,
driven by selenium), against the real server of tests/serve/conftest.py on examples/inventors.ttl.

What each surface links to and what each question answers is read off examples/inventors.ttl by
hand (``GOLD``, ``EX``), not computed by kgnlu. Waits are explicit (WebDriverWait); no sleeps."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest

from tests.serve.server_proc import start_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
EX = "http://example.org/inventors#"
TEXT = "Tesla worked for Edison before Ada Lovelace wrote Note G in London."
# surface → the entity examples/inventors.ttl gives it (labels and skos:altLabel aliases)
GOLD = {"Tesla": EX + "nikola_tesla", "Edison": EX + "thomas_edison", "Ada Lovelace": EX + "ada_lovelace",
        "Note G": EX + "note_g", "London": EX + "london"}
WAIT = 30  # seconds; QA on a loaded two-core box can take a few


def chrome_driver():
    """A headless Chromium; missing binaries fail the test (they are part of `make setup`)."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.is_file()]
    if missing:
        pytest.fail(f"{' and '.join(missing)} not installed: `make setup` installs Debian's chromium and "
                    "chromium-driver for the browser tests", pytrace=False)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1200,1400"):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)


@pytest.fixture(scope="module")
def browser():
    driver = chrome_driver()
    yield driver
    driver.quit()


def wait(driver, condition, timeout: float = WAIT):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(condition)


def open_page(driver, url: str, hash_: str = "") -> None:
    driver.get("about:blank")  # a hash-only change would not reload the page
    driver.get(url + "/" + hash_)
    wait(driver, lambda d: d.execute_script("return document.documentElement.dataset.ready === 'true'"))


def by_css(driver, css: str):
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, css)


def link_text(driver, text: str, submit_with_enter: bool = True):
    from selenium.webdriver.common.keys import Keys

    box = by_css(driver, "#link-text")[0]
    box.clear()
    box.send_keys(text)
    if submit_with_enter:
        box.send_keys(Keys.ENTER)  # Enter submits; Shift+Enter would start a new line
    else:
        by_css(driver, "#link-submit")[0].click()
    return wait(driver, lambda d: by_css(d, "#link-out .mention"))


def ask(driver, question: str):
    from selenium.webdriver.common.keys import Keys

    box = by_css(driver, "#qa-question")[0]
    box.clear()
    box.send_keys(question + Keys.ENTER)
    return wait(driver, lambda d: by_css(d, "#qa-out .answer"))


def entity_title(driver) -> str | None:
    """The entity view's heading, read in one script call (the view re-renders it on navigation)."""
    return driver.execute_script("const t = document.getElementById('entity-title'); "
                                 "return t && !document.getElementById('entity-view').hidden ? t.textContent : null")


def tab_until(driver, predicate, limit: int = 80):
    """Press Tab until the focused element satisfies ``predicate``; the elements passed, in order."""
    from selenium.webdriver.common.keys import Keys

    seen = []
    for _ in range(limit):
        driver.switch_to.active_element.send_keys(Keys.TAB)
        active = driver.switch_to.active_element
        seen.append(active)
        if predicate(active):
            return seen
    raise AssertionError(f"Tab did not reach the element within {limit} presses")


def test_linked_mentions_are_highlighted_with_the_gold_entities(served, browser):
    open_page(browser, served.url)
    mentions = link_text(browser, TEXT)
    found = {m.text: m.get_attribute("data-entity") for m in mentions}
    assert {s: found.get(s) for s in GOLD} == GOLD
    for m in mentions:  # offsets index into the text, and the mention links to its entity's view
        start, end = int(m.get_attribute("data-start")), int(m.get_attribute("data-end"))
        assert TEXT[start:end] == m.text
        assert m.get_attribute("href").endswith("#/entity/" + quote(m.get_attribute("data-entity"), safe=""))
        assert m.get_attribute("data-source") == "example.org/inventors"
        assert m.value_of_css_property("background-color") not in ("rgba(0, 0, 0, 0)", "transparent")
    legend = by_css(browser, "#link-out .legend li")
    assert [li.text for li in legend] == ["example.org/inventors"]


def test_sources_get_distinct_colours(served, browser):
    """WordNet, GeoNames and a user's namespace read as three sources with three hues."""
    open_page(browser, served.url)
    got = browser.execute_async_script("""
        const done = arguments[arguments.length - 1];
        import('/static/sources.js').then((s) => done(
          ['wn:02084071-n', 'geonames:2988507', 'http://example.org/inventors#london'].map(
            (id) => [s.sourceOf(id), s.hueOf(s.sourceOf(id))])));""")
    assert [g[0] for g in got] == ["wn", "geonames", "example.org/inventors"]
    assert len({g[1] for g in got}) == 3


def test_focusing_a_mention_shows_its_candidates_and_escape_hides_them(served, browser):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    open_page(browser, served.url)
    link_text(browser, TEXT)
    edison = next(m for m in by_css(browser, ".mention") if m.text == "Edison")
    edison_tip = by_css(browser, "#" + edison.get_attribute("aria-describedby"))[0]
    assert not edison_tip.is_displayed()
    ActionChains(browser).move_to_element(edison).perform()  # hover shows it, leaving hides it
    wait(browser, lambda d: edison_tip.is_displayed())
    assert GOLD["Edison"] in edison_tip.text
    ActionChains(browser).move_to_element(by_css(browser, "#link-title")[0]).perform()
    wait(browser, lambda d: not edison_tip.is_displayed())
    by_css(browser, "#link-text")[0].click()
    tab_until(browser, lambda el: el.get_attribute("data-entity") == GOLD["Tesla"])
    mention = browser.switch_to.active_element
    tip = by_css(browser, "#" + mention.get_attribute("aria-describedby"))[0]
    assert tip.get_attribute("role") == "tooltip"
    wait(browser, lambda d: tip.is_displayed())
    assert GOLD["Tesla"] in tip.text and "Nikola Tesla" in tip.text
    scores = [float(s.text) for s in tip.find_elements("css selector", ".candidates .score")]
    assert scores and all(0.0 <= s <= 1.0 for s in scores)
    mention.send_keys(Keys.ESCAPE)
    wait(browser, lambda d: not tip.is_displayed())
    # Enter on the focused mention follows its link to the entity view
    mention.send_keys(Keys.ENTER)
    wait(browser, lambda d: entity_title(d) == "Nikola Tesla")
    assert browser.execute_script("return location.hash") == "#/entity/" + quote(GOLD["Tesla"], safe="")


def test_a_question_lists_answers_and_draws_the_evidence_with_the_top_path_highlighted(served, browser, tmp_path):
    open_page(browser, served.url)
    answers = ask(browser, "Where was Nikola Tesla born?")
    top = answers[0].find_elements("css selector", ".answer-head a.entity")[0]
    assert top.text == "Smiljan" and top.get_attribute("data-entity") == EX + "smiljan"
    path = answers[0].find_elements("css selector", ".paths .path")[0].text
    assert "Nikola Tesla" in path and "born in" in path and "Smiljan" in path
    svg = wait(browser, lambda d: by_css(d, "#qa-out svg.evidence-graph"))[0]
    nodes = {n.get_attribute("data-entity") for n in svg.find_elements("css selector", "g.node")}
    assert {EX + "nikola_tesla", EX + "smiljan"} <= nodes
    assert svg.find_elements("css selector", "g.edge")
    hl = svg.find_elements("css selector", "g.edge.hl")
    assert [(e.get_attribute("data-head"), e.get_attribute("data-relation"), e.get_attribute("data-tail"))
            for e in hl] == [(EX + "nikola_tesla", EX + "bornIn", EX + "smiljan")]
    assert {n.get_attribute("data-entity") for n in svg.find_elements("css selector", "g.node.hl")} == \
        {EX + "nikola_tesla", EX + "smiljan"}
    hl_stroke = hl[0].find_element("css selector", "path").value_of_css_property("stroke")
    plain = svg.find_elements("css selector", "g.edge:not(.hl) path")
    assert hl_stroke == "rgb(207, 34, 46)"  # --hl, distinct from the grey of other edges
    assert all(p.value_of_css_property("stroke") != hl_stroke for p in plain)
    shot = tmp_path / "page.png"
    assert browser.save_screenshot(str(shot))
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000


def test_entity_view_lists_neighbours_by_relation_and_follows_them(served, browser):
    from selenium.webdriver.common.keys import Keys

    open_page(browser, served.url, "#/entity/" + quote(EX + "nikola_tesla", safe=""))
    wait(browser, lambda d: entity_title(d) == "Nikola Tesla")
    assert by_css(browser, ".entity-id")[0].text == EX + "nikola_tesla"
    born = by_css(browser, f'section.relation[data-relation="{EX}bornIn"][data-direction="out"] a')
    assert [a.text for a in born] == ["Smiljan"]
    employers = by_css(browser, f'section.relation[data-relation="{EX}employer"] a')
    assert sorted(a.text for a in employers) == ["Edison Machine Works", "Westinghouse Electric Company"]
    born[0].send_keys(Keys.ENTER)  # keyboard activation of the neighbour link
    wait(browser, lambda d: entity_title(d) == "Smiljan")
    located = by_css(browser, f'section.relation[data-relation="{EX}located_in"][data-direction="out"] a')
    assert [a.text for a in located] == ["Croatia"]
    born_here = by_css(browser, f'section.relation[data-relation="{EX}bornIn"][data-direction="in"] a')
    assert [a.text for a in born_here] == ["Nikola Tesla"]


def test_tab_reaches_every_mention_answer_and_evidence_link(served, browser):
    open_page(browser, served.url)
    link_text(browser, TEXT, submit_with_enter=False)
    ask(browser, "Where was Nikola Tesla born?")
    targets = by_css(browser, "#link-out .mention, #qa-out a")
    assert len(targets) > len(GOLD)
    browser.execute_script("document.activeElement.blur(); window.scrollTo(0, 0)")
    by_css(browser, "h1 a")[0].click()
    reached = tab_until(browser, lambda el: el == targets[-1], limit=len(targets) + 30)
    assert all(t in reached for t in targets)
    # focus is visible: the focused link has an outline
    assert reached[-1].value_of_css_property("outline-style") != "none"


def test_an_api_error_is_shown_to_the_user(served, browser):
    open_page(browser, served.url, "#/entity/" + quote("no such entity zzqx", safe=""))
    box = wait(browser, lambda d: [e for e in by_css(d, "#error") if e.is_displayed()])[0]
    assert by_css(browser, "#error-code")[0].text == "E022:"  # UnknownEntityError, 404
    assert "zzqx" in box.text
    # a request the server refuses (text over its limit) is shown too, and the next good one clears it
    open_page(browser, served.url)
    browser.execute_script("document.getElementById('link-text').value = 'x'.repeat(100001)")
    by_css(browser, "#link-submit")[0].click()
    wait(browser, lambda d: by_css(d, "#error")[0].is_displayed())
    assert by_css(browser, "#error-code")[0].text.startswith("E1")
    assert "100,000" in by_css(browser, "#error-message")[0].text
    link_text(browser, TEXT, submit_with_enter=False)
    assert not by_css(browser, "#error")[0].is_displayed()


def test_a_token_pasted_into_the_page_is_sent_as_a_bearer_header(serve_graph, serve_home, browser):
    with start_server(serve_graph, "--token", "s3cret-token", env={"KGNLU_HOME": str(serve_home)}) as server:
        open_page(browser, server.url)
        box = by_css(browser, "#token-box")[0]
        wait(browser, lambda d: box.get_attribute("open") is not None)  # /version said 401
        by_css(browser, "#link-submit")[0].click()
        wait(browser, lambda d: by_css(d, "#error")[0].is_displayed())
        assert "bearer token" in by_css(browser, "#error-message")[0].text
        field = by_css(browser, "#token-input")[0]
        field.send_keys("s3cret-token")
        by_css(browser, "#token-form button[type=submit]")[0].click()
        assert browser.execute_script("return sessionStorage.getItem('kgnlu-token')") == "s3cret-token"
        link_text(browser, TEXT, submit_with_enter=False)
        assert not by_css(browser, "#error")[0].is_displayed()
        browser.execute_script("sessionStorage.clear()")


def test_the_page_needs_nothing_from_outside(served):
    """No CDN: every script and stylesheet the page names is served by kgnlu serve itself."""
    import re

    import httpx

    html = httpx.get(served.url + "/", timeout=10).text
    refs = re.findall(r'(?:src|href)="([^"#]+)"', html)
    assert refs and all(r.startswith("/static/") or r.startswith("data:") for r in refs)
    scripts = [r for r in refs if r.endswith(".js")]
    while scripts:  # the modules and every module they import
        body = httpx.get(served.url + scripts.pop(), timeout=10)
        assert body.status_code == 200
        scripts += ["/static/" + m for m in re.findall(r'from "\./([\w.-]+\.js)"', body.text)]
        assert not re.search(r'(?:from|import\(|fetch\()\s*["\']https?:', body.text)
    for ref in (r for r in refs if r.endswith(".css")):
        assert httpx.get(served.url + ref, timeout=10).status_code == 200
