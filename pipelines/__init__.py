"""embedrec pipelines: raw text and click logs → Parquet datasets, with Dask.

Subpackages: ``text`` (raw text → vocab + corpus), ``clicks`` (click logs → examples),
``synthetic`` (seeded worlds with known answers), ``runtime`` (the Dask cluster and tasks).
Names are imported on first use, so ``import embedrec.pipelines`` loads neither Dask nor
pyarrow.

>>> from embedrec.pipelines import TextPipelineConfig, run_text_pipeline
>>> config = TextPipelineConfig(inputs=("wiki.txt.gz",), out="data/wiki")
>>> run_text_pipeline(config)                                   # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from embedrec.core.lazy import lazy_exports

if TYPE_CHECKING:
    from embedrec.pipelines.clicks.config import ClicksPipelineConfig
    from embedrec.pipelines.clicks.dataset import (
        ClickDataset,
        ClickVocab,
        dense_matrix,
        list_column,
        open_click_dataset,
        remap_ids,
    )
    from embedrec.pipelines.clicks.pipeline import ClicksPipelineResult, run_clicks_pipeline
    from embedrec.pipelines.synthetic.clicks.config import ClickLogConfig
    from embedrec.pipelines.synthetic.clicks.generate import generate_click_logs
    from embedrec.pipelines.synthetic.clicks.oracle import oracle_report
    from embedrec.pipelines.synthetic.text.world import (
        TextWorldConfig,
        TextWorldSummary,
        generate_text_world,
    )
    from embedrec.pipelines.text.pipeline import (
        TextPipelineConfig,
        TextPipelineResult,
        run_text_pipeline,
    )
    from embedrec.pipelines.text.tokenize import split_sentences, tokenize, tokenize_line

_PUBLIC = {
    "ClickDataset": "embedrec.pipelines.clicks.dataset",
    "ClickVocab": "embedrec.pipelines.clicks.dataset",
    "dense_matrix": "embedrec.pipelines.clicks.dataset",
    "list_column": "embedrec.pipelines.clicks.dataset",
    "open_click_dataset": "embedrec.pipelines.clicks.dataset",
    "remap_ids": "embedrec.pipelines.clicks.dataset",
    "ClicksPipelineConfig": "embedrec.pipelines.clicks.config",
    "ClicksPipelineResult": "embedrec.pipelines.clicks.pipeline",
    "run_clicks_pipeline": "embedrec.pipelines.clicks.pipeline",
    "generate_click_logs": "embedrec.pipelines.synthetic.clicks.generate",
    "ClickLogConfig": "embedrec.pipelines.synthetic.clicks.config",
    "oracle_report": "embedrec.pipelines.synthetic.clicks.oracle",
    "TextWorldConfig": "embedrec.pipelines.synthetic.text.world",
    "TextWorldSummary": "embedrec.pipelines.synthetic.text.world",
    "generate_text_world": "embedrec.pipelines.synthetic.text.world",
    "TextPipelineConfig": "embedrec.pipelines.text.pipeline",
    "TextPipelineResult": "embedrec.pipelines.text.pipeline",
    "run_text_pipeline": "embedrec.pipelines.text.pipeline",
    "split_sentences": "embedrec.pipelines.text.tokenize",
    "tokenize": "embedrec.pipelines.text.tokenize",
    "tokenize_line": "embedrec.pipelines.text.tokenize",
}

__all__ = [
    "ClickDataset",
    "ClickLogConfig",
    "ClickVocab",
    "ClicksPipelineConfig",
    "ClicksPipelineResult",
    "TextPipelineConfig",
    "TextPipelineResult",
    "TextWorldConfig",
    "TextWorldSummary",
    "dense_matrix",
    "generate_click_logs",
    "generate_text_world",
    "list_column",
    "open_click_dataset",
    "oracle_report",
    "remap_ids",
    "run_clicks_pipeline",
    "run_text_pipeline",
    "split_sentences",
    "tokenize",
    "tokenize_line",
]


__getattr__, __dir__ = lazy_exports(__name__, _PUBLIC)
