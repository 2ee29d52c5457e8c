"""embedrec pipelines package."""

from pipelines.synthetic_text import TextWorldConfig, TextWorldSummary, generate_text_world

__all__ = ["TextWorldConfig", "TextWorldSummary", "generate_text_world"]
