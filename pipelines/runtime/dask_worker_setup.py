"""Set-up every embedrec job registers on the Dask workers it runs on (see `dask_cluster`).

A Dask worker plugin: registered once per cluster under a fixed name, run on every worker
that is there or joins later (a worker restarted by its nanny after a crash included).
Imported only when a job starts, since it imports ``distributed``.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
from distributed.diagnostics.plugin import WorkerPlugin


class ArrowSystemAllocator(WorkerPlugin):
    """Arrow allocates with the system allocator (glibc malloc) on the workers.

    Arrow's default allocator (mimalloc) keeps freed pages mapped: after tokenising one 8 MiB
    partition a worker stayed ~50 MB above its start, with nothing allocated, and workers
    started with ``--memory-limit 256MB`` paused for good at Dask's 80 % mark ("unmanaged
    memory"), stalling the job. With the system allocator the pages go back to the OS, as
    Dask's nanny sets ``MALLOC_TRIM_THRESHOLD_`` for the processes it starts (measured:
    ~6 MB left). The same as starting workers with ``ARROW_DEFAULT_MEMORY_POOL=system``.
    """

    name = "embedrec-arrow-system-allocator"
    idempotent = True  # registering it again (every job does) changes nothing

    def setup(self, worker: Any) -> None:
        pa.set_memory_pool(pa.system_memory_pool())
