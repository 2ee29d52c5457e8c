"""embedrec pipelines package."""

from pipelines.click_dataset import (
    ClickDataset,
    ClickVocab,
    dense_matrix,
    list_column,
    open_click_dataset,
    remap_ids,
)
from pipelines.clicks_config import ClicksPipelineConfig
from pipelines.clicks_pipeline import ClicksPipelineResult, run_clicks_pipeline
from pipelines.synthetic_text import TextWorldConfig, TextWorldSummary, generate_text_world

__all__ = [
    "ClickDataset",
    "ClickVocab",
    "ClicksPipelineConfig",
    "ClicksPipelineResult",
    "TextWorldConfig",
    "TextWorldSummary",
    "dense_matrix",
    "generate_text_world",
    "list_column",
    "open_click_dataset",
    "remap_ids",
    "run_clicks_pipeline",
]
