"""A small synthetic world, turned into a text dataset once per test session."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass(frozen=True)
class World:
    corpus: Path
    questions: Path
    similarity: Path
    dataset: Path


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    """300k words of the seeded world (planted capitals, family, past tense, plurals)."""
    from embedrec.pipelines import TextPipelineConfig, TextWorldConfig, generate_text_world
    from embedrec.pipelines.runtime.dask_cluster import ClusterConfig
    from embedrec.pipelines.text.pipeline import run_text_pipeline

    root = tmp_path_factory.mktemp("world")
    generate_text_world(TextWorldConfig(seed=0, words=300_000), root / "world")
    run_text_pipeline(
        TextPipelineConfig(inputs=(str(root / "world" / "corpus.txt"),), out=str(root / "ds")),
        ClusterConfig(workers=1, processes=False),
    )
    return World(
        corpus=root / "world" / "corpus.txt",
        questions=root / "world" / "questions-words.txt",
        similarity=root / "world" / "similarity.tsv",
        dataset=root / "ds",
    )
