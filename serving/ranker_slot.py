"""The click ranker behind ``/v1/rank`` and ``/v1/recommend``, swappable while serving.

`RankerSlot` holds the loaded `embedrec.serving.routes.ranking.RankingService` and its directory.
``reload(path)`` loads the new ranker completely beside the old one (blocking: run it in a
worker thread), then one assignment makes it current; a ranker that does not load raises
and the old one keeps answering. Requests take ``current()`` once and use it to the end.

Needs a trained ranker, so not run as a doctest:

>>> slot = RankerSlot.open("models/ranker")        # doctest: +SKIP
>>> slot.reload("models/ranker-v2")["ranker"]      # doctest: +SKIP
{'path': '/abs/models/ranker-v2', 'generation': 1}
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

from embedrec.core.errors import ArtifactError, EmbedrecError

log = logging.getLogger(__name__)


def _load(path: str) -> Any:
    from embedrec.serving.routes.ranking import RankingService  # imports torch: only with a ranker

    resolved = Path(path).expanduser()
    if not resolved.is_dir():
        raise ArtifactError(resolved, "is not a directory")
    try:
        return RankingService.open(resolved)
    except EmbedrecError:
        raise
    except (OSError, ValueError, RuntimeError, KeyError) as exc:
        raise ArtifactError(resolved, f"cannot be loaded ({type(exc).__name__}: {exc})") from None


class RankerSlot:
    """The current ranker of one worker; ``generation`` counts its reloads."""

    def __init__(self, service: Any, path: str, generation: int = 0) -> None:
        self._service = service
        self.path = str(Path(path).expanduser().resolve())
        self.generation = generation
        self.loaded_at = time.time()
        self._lock = threading.Lock()

    @classmethod
    def open(cls, path: str, generation: int = 0) -> RankerSlot:
        return cls(_load(path), path, generation)

    def current(self) -> Any:
        """The `RankingService` to use for one whole request."""
        return self._service

    def describe(self) -> dict[str, Any]:
        return {"path": self.path, "generation": self.generation}

    def reload(self, path: str | None = None, *, generation: int | None = None) -> dict[str, Any]:
        """Load ``path`` (default: the current directory again) and make it current.
        Returns ``{"ranker": new, "previous": old}`` descriptions; raises on failure."""
        with self._lock:
            previous = self.describe()
            target = path or self.path
            started = time.perf_counter()
            service = _load(target)
            self._service = service
            self.path = str(Path(target).expanduser().resolve())
            self.generation = previous["generation"] + 1 if generation is None else generation
            self.loaded_at = time.time()
        log.info(
            "now ranking with %s (generation %d, loaded in %.2f s)",
            self.path,
            self.generation,
            time.perf_counter() - started,
        )
        return {"ranker": self.describe(), "previous": previous}
