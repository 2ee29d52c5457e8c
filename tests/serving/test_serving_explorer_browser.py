"""The explorer page end to end in headless Chromium (Debian's ``chromium``, driven by
Playwright for Python without its own browser download): search, neighbours with scores,
the 2-D map drawn on the canvas, analogies, errors with suggestions, the token."""

from __future__ import annotations

import io

import pytest

pytestmark = pytest.mark.browser

TOKEN = "browser-token"


def _not_blank(png: bytes) -> tuple[int, float]:
    from PIL import Image, ImageStat

    image = Image.open(io.BytesIO(png)).convert("RGB")
    colours = image.getcolors(maxcolors=1 << 20) or []
    return len(colours), max(ImageStat.Stat(image).stddev)


def test_explorer_search_map_analogy(browser_context, start_server, planted, tmp_path):
    server = start_server(planted.index_a)
    context = browser_context()
    page = context.new_page()
    requested: list[str] = []
    failed: list[str] = []
    problems: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    # Chromium logs every 4xx fetch as a console error; those are checked through `failed`.
    page.on(
        "console",
        lambda m: (
            problems.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.on("pageerror", lambda error: problems.append(str(error)))

    page.goto(server.url + "/")
    page.wait_for_function("document.getElementById('index-info').textContent.includes('words')")
    info = page.inner_text("#index-info")
    assert "132 words × 32" in info and "Flat" in info and "exact" in info
    # The index's name, never the server's path.
    assert info.startswith("index-a") and str(planted.index_a) not in page.content()

    page.fill("#word", "capital2")
    page.fill("#k", "5")
    page.click("#search-form button")
    page.wait_for_selector("#neighbors[data-word='capital2'] tbody tr:nth-child(5)")
    rows = page.locator("#neighbors tbody tr")
    assert rows.count() == 5
    assert rows.nth(0).locator("td").nth(1).inner_text() == "country2"
    scores = [float(rows.nth(i).locator("td.score").inner_text()) for i in range(5)]
    assert scores == sorted(scores, reverse=True) and 0 < scores[0] <= 1

    # The map: 1 query + 5 neighbours drawn on the canvas.
    page.wait_for_selector("#map[data-points='6']")
    drawn = page.evaluate(
        """() => {
            const c = document.getElementById('map');
            const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let red = 0, blue = 0, ink = 0;
            for (let i = 0; i < data.length; i += 4) {
                const [r, g, b] = [data[i], data[i + 1], data[i + 2]];
                if (r > 180 && g < 80 && b < 80) red++;
                if (b > 180 && r < 80) blue++;
                if (r < 250 || g < 250 || b < 250) ink++;
            }
            return {red, blue, ink, total: data.length / 4};
        }"""
    )
    assert drawn["red"] > 20 and drawn["blue"] > 50 and drawn["ink"] > 500, drawn
    assert "PC1" in page.inner_text("#map-caption")
    colours, spread = _not_blank(page.locator("#map").screenshot())
    assert colours > 10 and spread > 5

    # Clicking a neighbour searches it (and puts it in the address).
    clicked = rows.nth(1).locator("a").inner_text()
    rows.nth(1).locator("a").click()
    page.wait_for_selector(f"#neighbors[data-word='{clicked}']")
    assert page.evaluate("location.search") == f"?word={clicked}&k=5"

    # An unknown word: the server's message and its suggestion, which searches when clicked.
    page.fill("#word", "capitl4")
    page.click("#search-form button")
    page.wait_for_selector("#search-error:not([hidden])")
    assert "unknown word 'capitl4'" in page.inner_text("#search-error")
    page.click("#search-error button")
    page.wait_for_selector("#neighbors[data-word='capital4']")

    # The analogy form.
    page.fill("#analogy-a", "country1")
    page.fill("#analogy-b", "capital1")
    page.fill("#analogy-c", "country3")
    page.click("#analogy-form button")
    page.wait_for_selector("#analogy-answers li")
    assert page.locator("#analogy-answers li").first.inner_text().startswith("capital3")

    shot = tmp_path / "explorer.png"
    page.screenshot(path=str(shot), full_page=True)
    colours, spread = _not_blank(shot.read_bytes())
    assert colours > 50 and spread > 10

    # Nothing came from anywhere but the service, and the page raised no errors; the only
    # failed request is the unknown word's.
    assert requested and all(url.startswith(server.url) for url in requested), requested
    assert problems == []
    assert [url.split("?")[0] for url in failed] == [server.url + "/v1/neighbors"]
    assert "word=capitl4" in failed[0]


def test_explorer_with_a_token(browser_context, start_server, planted):
    from playwright.sync_api import Error as PlaywrightError

    server = start_server(planted.index_a, token=TOKEN)
    # Without credentials the page answers 401 with a Basic challenge, which a headless
    # browser cannot answer: navigation fails.
    with pytest.raises(PlaywrightError, match="ERR_INVALID_AUTH_CREDENTIALS"):
        browser_context().new_page().goto(server.url + "/")
    context = browser_context(http_credentials={"username": "me", "password": TOKEN})
    page = context.new_page()
    page.goto(server.url + "/#word=capital3")
    page.wait_for_selector("#neighbors[data-word='capital3'] tbody tr")
    assert page.locator("#neighbors tbody tr").first.locator("td").nth(1).inner_text() == (
        "country3"
    )
