"""The explorer as a person uses it, in headless Chromium: links that open with a search done,
Back/Forward through searches, map labels that do not print over each other, the index's
name (never the server's path) in the header, several indexes.

Set ``EXPLORER_SHOTS=DIR`` to keep the screenshots (``map-crowded.png``, ``page.png``).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from serving_fixtures import DIM, build_index_dir, unit, write_model

pytestmark = pytest.mark.browser
TOKEN = "links-token"

INSTRUMENTS = [
    ["banjo", "trumpet", "cello", "tuba", "flute", "oboe"],
    ["violin", "guitar", "piano", "drums", "harp", "viola"],
    ["bassoon", "clarinet", "trombone", "ukulele", "mandolin", "sitar"],
    ["organ", "lute", "zither", "bagpipes", "cornet", "piccolo"],
]


@pytest.fixture(scope="module")
def crowded(tmp_path_factory) -> Path:
    """``music``: 24 neighbours in 4 tight clusters of near-duplicates around it, so that on
    the 2-D map the words of one cluster fall almost on one spot (labels would collide)."""
    rng = np.random.default_rng(7)
    hub = unit(rng.standard_normal(DIM))
    rows, tokens = [hub], ["music"]
    for cluster in INSTRUMENTS:
        direction = unit(rng.standard_normal(DIM))
        for token in cluster:
            rows.append(unit(hub + 0.6 * direction + 0.015 * rng.standard_normal(DIM)))
            tokens.append(token)
    for i in range(40):
        rows.append(unit(rng.standard_normal(DIM)))
        tokens.append(f"other{i}")
    root = tmp_path_factory.mktemp("crowded")
    model = write_model(root / "model", np.asarray(rows, dtype=np.float32), tokens)
    return build_index_dir(model, root / "music")


def _shots() -> Path | None:
    folder = os.environ.get("EXPLORER_SHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        return Path(folder)
    return None


def _overlapping(boxes: list[dict]) -> list[tuple[str, str]]:
    pairs = []
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            if (
                a["x"] < b["x"] + b["w"]
                and b["x"] < a["x"] + a["w"]
                and a["y"] < b["y"] + b["h"]
                and b["y"] < a["y"] + a["h"]
            ):
                pairs.append((a["token"], b["token"]))
    return pairs


def test_deep_links_and_the_back_button(browser_context, start_server, planted):
    server = start_server(planted.index_a)
    page = browser_context().new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    # A link opens with its search done.
    page.goto(server.url + "/?word=capital2&k=5")
    page.wait_for_selector("#neighbors[data-word='capital2'] tbody tr:nth-child(5)")
    assert page.input_value("#word") == "capital2" and page.input_value("#k") == "5"
    assert page.locator("#neighbors tbody tr").first.locator("td").nth(1).inner_text() == (
        "country2"
    )
    page.wait_for_selector("#map[data-points='6']")

    # Each search is a history entry; Back and Forward restore the searches.
    page.fill("#word", "noise7")
    page.click("#search-form button")
    page.wait_for_selector("#neighbors[data-word='noise7']")
    assert page.evaluate("location.search") == "?word=noise7&k=5"
    page.go_back()
    page.wait_for_selector("#neighbors[data-word='capital2']")
    assert page.input_value("#word") == "capital2"
    assert page.evaluate("location.search") == "?word=capital2&k=5"
    page.go_forward()
    page.wait_for_selector("#neighbors[data-word='noise7']")

    # Analogies too: the form's state is in the URL and a link solves it.
    page.fill("#analogy-a", "country1")
    page.fill("#analogy-b", "capital1")
    page.fill("#analogy-c", "country3")
    page.click("#analogy-form button")
    page.wait_for_selector("#analogy-answers li")
    linked = page.url
    assert "a=country1" in linked and "c=country3" in linked
    other = browser_context().new_page()
    other.goto(linked)
    other.wait_for_selector("#analogy-answers li")
    assert other.locator("#analogy-answers li").first.inner_text().startswith("capital3")
    assert other.input_value("#analogy-b") == "capital1"

    # Links of the earlier form (#word=...) still work.
    page.goto(server.url + "/#word=capital4")
    page.wait_for_selector("#neighbors[data-word='capital4']")
    assert errors == []


def test_map_labels_do_not_collide(browser_context, start_server, crowded, tmp_path):
    server = start_server(crowded)
    page = browser_context().new_page()
    page.goto(server.url + "/?word=music&k=24")
    page.wait_for_selector("#map[data-points='25']")
    canvas = page.locator("#map")
    labels = page.evaluate("JSON.parse(document.getElementById('map').dataset.labels)")
    unlabelled = int(canvas.get_attribute("data-unlabelled"))
    assert _overlapping(labels) == []
    assert labels[0]["token"] == "music"  # the query is always labelled, first
    assert len(labels) + unlabelled == 25 and len(labels) >= 12, (len(labels), unlabelled)
    # The test means something: on this map, labels drawn at each dot (the old layout) do
    # collide, as banjo did with trumpet.
    naive = page.evaluate(
        """() => {
            const c = document.getElementById('map');
            return JSON.parse(c.dataset.dots).map((d) =>
                ({token: d.token, x: d.x + 9, y: d.y - 7.5, w: d.w, h: 15}));
        }"""
    )
    assert len(_overlapping(naive)) >= 5
    if unlabelled:
        assert canvas.get_attribute("title").startswith("unlabelled (no room): ")
    folder = _shots() or tmp_path
    canvas.screenshot(path=str(folder / "map-crowded.png"))
    print(
        "labels placed:",
        len(labels),
        "left out:",
        unlabelled,
        "naive overlaps:",
        len(_overlapping(naive)),
    )


def test_header_names_the_index_never_the_path(browser_context, start_server, planted):
    server = start_server(
        planted.index_a,
        index_name="wiki",
        more_indexes=(("news", str(planted.index_b)),),
        token=TOKEN,
    )
    context = browser_context(http_credentials={"username": "me", "password": TOKEN})
    page = context.new_page()
    page.goto(server.url + "/?word=capital1&k=3")
    page.wait_for_selector("#neighbors[data-word='capital1'] tbody tr")
    info = page.inner_text("#index-info")
    assert info.startswith("wiki · 132 words × 32")
    html = page.content()
    # Even with the token (the listing then carries paths), the page shows none.
    assert str(planted.index_a) not in html and str(planted.index_b) not in html
    assert "/tmp/" not in page.inner_text("body")

    # Several indexes: a picker, and the choice is part of the link.
    assert page.is_visible("#index-choice")
    first = page.locator("#neighbors tbody tr").first.locator("td").nth(1).inner_text()
    page.select_option("#index", "news")
    page.wait_for_function("location.search.includes('index=news')")
    page.wait_for_function("document.getElementById('index-info').textContent.startsWith('news')")
    page.goto(server.url + "/?word=capital1&k=3&index=news")
    page.wait_for_selector("#neighbors[data-word='capital1'] tbody tr")
    assert page.input_value("#index") == "news"
    second = page.locator("#neighbors tbody tr").first.locator("td").nth(1).inner_text()
    from embedrec.indexes import load_index

    assert first == load_index(planted.index_a).neighbors("capital1", 3)[0].token
    assert second == load_index(planted.index_b).neighbors("capital1", 3)[0].token
    folder = _shots()
    if folder is not None:
        page.screenshot(path=str(folder / "page.png"), full_page=True)
