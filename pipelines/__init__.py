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
from pipelines.ranking_metrics import (
    MetricError,
    auc,
    log_loss,
    mrr,
    ndcg_at_k,
    oracle_metrics,
    ranking_report,
)
from pipelines.synthetic_clicks import generate_click_logs
from pipelines.synthetic_clicks_config import ClickLogConfig
from pipelines.synthetic_clicks_oracle import oracle_report
from pipelines.synthetic_text import TextWorldConfig, TextWorldSummary, generate_text_world
from pipelines.text_pipeline import TextPipelineConfig, TextPipelineResult, run_text_pipeline
from pipelines.text_tokenize import split_sentences, tokenize, tokenize_line

__all__ = [
    "ClickDataset",
    "ClickLogConfig",
    "ClickVocab",
    "ClicksPipelineConfig",
    "ClicksPipelineResult",
    "MetricError",
    "TextPipelineConfig",
    "TextPipelineResult",
    "TextWorldConfig",
    "TextWorldSummary",
    "auc",
    "dense_matrix",
    "generate_click_logs",
    "generate_text_world",
    "list_column",
    "log_loss",
    "mrr",
    "ndcg_at_k",
    "open_click_dataset",
    "oracle_metrics",
    "oracle_report",
    "ranking_report",
    "remap_ids",
    "run_clicks_pipeline",
    "run_text_pipeline",
    "split_sentences",
    "tokenize",
    "tokenize_line",
]
