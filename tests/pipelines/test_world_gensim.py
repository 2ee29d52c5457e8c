"""The default world is learnable: gensim's skip-gram solves its analogies (slow, ~30 s).

Run with ``pytest -m slow tests/pipelines/test_world_gensim.py -s`` to see the figures.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from embedrec.pipelines import TextWorldConfig, generate_text_world


@pytest.mark.slow
def test_gensim_skipgram_solves_the_default_world(tmp_path: Path) -> None:
    from gensim.models import Word2Vec

    out = tmp_path / "world"
    generate_text_world(TextWorldConfig(), out)
    words = re.compile(r"[a-z]+")
    with open(out / "corpus.txt", encoding="utf-8") as handle:
        sentences = [words.findall(line.lower()) for line in handle]
    started = time.perf_counter()
    model = Word2Vec(
        sentences,
        sg=1,
        vector_size=50,
        window=5,
        negative=5,
        min_count=5,
        epochs=5,
        workers=2,
        seed=1,
    )
    seconds = time.perf_counter() - started
    overall, sections = model.wv.evaluate_word_analogies(
        str(out / "questions-words.txt"), restrict_vocab=100_000
    )
    accuracy = {
        s["section"]: len(s["correct"]) / (len(s["correct"]) + len(s["incorrect"]))
        for s in sections
    }
    spearman = model.wv.evaluate_word_pairs(str(out / "similarity.tsv"))[1].statistic
    print(f"\ngensim trained in {seconds:.1f} s; analogies {accuracy}; spearman {spearman:.3f}")
    assert overall >= 0.90
    assert set(accuracy) == {
        "capital-world",
        "family",
        "gram7-past-tense",
        "gram8-plural",
        "Total accuracy",
    }
    assert min(accuracy.values()) >= 0.80
    assert spearman >= 0.5
    truth = json.loads((out / "world.json").read_text(encoding="utf-8"))
    sensible = {*truth["word_classes"]["capital"], "france", "wine", "louvre", "seine"}
    neighbours = [w for w, _ in model.wv.most_similar("paris", topn=10)]
    assert len(sensible.intersection(neighbours)) >= 8, neighbours
    assert model.wv.most_similar(positive=["queen", "man"], negative=["king"])[0][0] == "woman"
