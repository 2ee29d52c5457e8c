"""``embedrec index build``: a model's word vectors into a FAISS index directory.

Index directory::

    index.faiss      faiss.write_index of the (trained, filled) index
    vocab.parquet    the model's vocabulary, copied (row i of the index = token id i)
    norms.npy        float32 (V,): each vector's length before normalising (cosine only),
                     so gensim's verbs and `to_keyed_vectors` see the original vectors
    manifest.json    kind "index": dim, metric, factory, normalisation, search parameters,
                     recall@10 against exact search (approximate kinds), source model
                     (``source_model``) or vector file (``source_file``)

The source is a model directory or a word2vec / GloVe / fastText vector file
(`embedrec.indexes.files.spool`), detected from its content.

Steps: plan the factory string (`embedrec.indexes.config`), train on a seeded sample where the kind
needs it, add the vectors in chunks from the memory-mapped table (normalised for cosine),
then, for approximate kinds, measure recall@10 on a seeded sample of words and tune
efSearch / nprobe until it reaches the target.

>>> report = build_index("models/wiki", "indexes/wiki", IndexConfig(kind="hnsw"))  # doctest: +SKIP
>>> report.factory, report.search_params, round(report.recall_at_10, 3)  # doctest: +SKIP
('HNSW32', {'efSearch': 64}, 0.967)
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from embedrec.core.artifacts import (
    atomic_path,
    check_output_dir,
    fingerprint,
    staged_output_dir,
    write_bytes,
    write_manifest,
)
from embedrec.core.errors import ArtifactError, ConfigError
from embedrec.core.schemas import VOCAB_FILE
from embedrec.engine.skipgram.files import EMBEDDINGS_FILE, Embeddings, load_embeddings
from embedrec.indexes.config import (
    INDEX_FILE,
    INDEX_KIND,
    RECALL_K,
    IndexConfig,
    IndexPlan,
    plan_index,
)
from embedrec.indexes.errors import IndexBuildError, faiss_message
from embedrec.indexes.faiss_support import (
    check_reconstruct,
    create_index,
    enable_reconstruct,
    parameter_range,
    reserve_rows,
    set_search_params,
    skip_polysemous_training,
    stored_vectors,
    tunable_parameter,
)
from embedrec.indexes.files.reader import VectorFileOptions, VectorFileReader
from embedrec.indexes.files.spool import (
    SPOOL_NAME,
    VECTOR_FILE_KIND,
    source_file_entry,
    spool_to_npy,
    summary,
)
from embedrec.indexes.recall import (
    GroundTruth,
    TuningResult,
    drop_self,
    exact_ground_truth,
    recall_at_k,
    sample_ids,
    tune_parameter,
)
from embedrec.indexes.sharded import ShardedIndex, check_shard_count, shard_ranges
from embedrec.indexes.vector_chunks import iter_prepared_chunks, normalize_rows, take_rows
from embedrec.pipelines.text.dataset import write_vocab

log = logging.getLogger(__name__)

NORMS_FILE = "norms.npy"


@dataclass(frozen=True)
class BuildReport:
    """What `build_index` made. ``recall_at_10`` is None for exact (flat) indexes;
    ``seconds`` covers building and measuring, not writing the files. ``vector_file``:
    what was read from a vector file source (format, counts, skipped records), else None."""

    path: str
    kind: str
    factory: str
    metric: str
    vocab_size: int
    dim: int
    exact: bool
    recall_at_10: float | None
    search_params: dict[str, int]
    target_recall: float
    target_reached: bool | None
    zero_vectors: int
    seconds: float
    tuning: list[dict[str, float]] = field(default_factory=list)
    shards: int = 1
    vector_file: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Provenance:
    """Where an index's vectors came from, as its manifest records it.

    ``inputs``: fingerprints of the source files. ``key``/``info``: the manifest entry
    (``source_model`` or ``source_file``). ``vocab_file``: a vocab.parquet to copy as is;
    None writes one from the tokens (counts as the source gives them).
    """

    inputs: list[dict[str, Any]]
    key: str
    info: dict[str, Any]
    vocab_file: Path | None = None


def build_index(
    model_dir: str | Path,
    out: str | Path,
    config: IndexConfig | None = None,
    *,
    overwrite: bool = False,
    progress: bool = False,
    shards: int = 1,
    skip_bad_lines: bool = False,
) -> BuildReport:
    """Build the index ``config`` describes from the model at ``model_dir`` into ``out``.

    ``model_dir`` may also be a word-vector file (word2vec text or binary, GloVe, fastText
    ``.vec``, optionally gzipped); ``skip_bad_lines`` then leaves malformed records out
    (counted and listed in the manifest) instead of failing on the first.

    Refuses an existing non-empty ``out`` unless ``overwrite``. Memory: the index plus one
    chunk of ``config.chunk_rows`` vectors (and the training sample); the embeddings are
    read from their file in chunks, never loaded whole. ``shards`` > 1 splits the index
    into that many files over contiguous id ranges (`embedrec.indexes.sharded`), trained once.
    """
    config = config or IndexConfig()
    if Path(model_dir).is_file():
        options = VectorFileOptions(skip_bad_lines=skip_bad_lines)
        return build_index_from_file(
            model_dir, out, config, options, overwrite=overwrite, progress=progress, shards=shards
        )
    if skip_bad_lines:
        raise ConfigError("skip_bad_lines", True, "a vector file as the source, not a directory")
    check_output_dir(out, overwrite=overwrite)
    model = load_embeddings(model_dir)
    return build_index_over(
        model,
        out,
        config,
        source=Path(model_dir) / EMBEDDINGS_FILE,
        provenance=_model_provenance(Path(model_dir), model),
        overwrite=overwrite,
        progress=progress,
        shards=shards,
    )


def _model_provenance(model_path: Path, model: Embeddings) -> Provenance:
    embeddings_fp = fingerprint(model_path / EMBEDDINGS_FILE)
    info = {
        "path": str(model_path.resolve()),
        "kind": model.manifest.get("kind"),
        "created_at": model.manifest.get("created_at"),
        "embeddings_sha256": embeddings_fp["sha256"],
    }
    inputs = [embeddings_fp, fingerprint(model_path / VOCAB_FILE)]
    return Provenance(inputs, "source_model", info, vocab_file=model_path / VOCAB_FILE)


def build_index_over(
    model: Embeddings,
    out: str | Path,
    config: IndexConfig,
    *,
    source: Path,
    provenance: Provenance,
    overwrite: bool = False,
    progress: bool = False,
    shards: int = 1,
) -> BuildReport:
    """`build_index` over loaded (memory-mapped) vectors; ``source`` names them in errors."""
    started = time.perf_counter()
    vocab_size, dim = len(model), model.dim
    if vocab_size == 0:
        raise ArtifactError(source, "holds no vectors")
    check_shard_count(shards, vocab_size)
    plan = plan_index(config, vocab_size=vocab_size, dim=dim)
    log.info(
        "building %s (%s, %s) over %d × %d", plan.kind, plan.factory, config.metric, vocab_size, dim
    )
    index = create_index(plan.factory, dim, config.metric)
    if plan.ef_construction is not None:
        index.hnsw.efConstruction = plan.ef_construction
    skip_polysemous_training(index)
    if not index.is_trained:
        _train(index, model.vectors, config, source)
    if shards > 1:
        index = ShardedIndex.from_template(index, shard_ranges(vocab_size, shards))
    norms = np.empty(vocab_size, dtype=np.float32) if config.metric == "cosine" else None
    zero_vectors = _add_all(index, model.vectors, config, source, progress=progress, norms=norms)
    if zero_vectors:
        log.warning("%d vectors are all zero; their neighbours are arbitrary", zero_vectors)
    enable_reconstruct(index)
    check_reconstruct(index, plan.factory)

    tuning = _measure(index, plan, model, config, source, progress=progress)
    search_params = dict(plan.search_params)
    if tuning is not None and tuning.parameter is not None and tuning.value is not None:
        search_params[tuning.parameter] = tuning.value
    if search_params:
        set_search_params(index, search_params)
    if tuning is not None and not tuning.reached:
        log.warning(
            "recall@%d %.3f is below the target %.3f with %s %s; try a larger --hnsw-m, "
            "--nlist or --pq-m, or a kind that keeps more of each vector (fp16, flat)",
            RECALL_K,
            tuning.recall,
            config.target_recall,
            plan.factory,
            search_params or "",
        )

    report = BuildReport(
        path=str(out),
        kind=plan.kind,
        factory=plan.factory,
        metric=config.metric,
        vocab_size=vocab_size,
        dim=dim,
        exact=plan.exact,
        recall_at_10=None if tuning is None else tuning.recall,
        search_params=search_params,
        target_recall=config.target_recall,
        target_reached=None if tuning is None else tuning.reached,
        zero_vectors=zero_vectors,
        seconds=round(time.perf_counter() - started, 3),
        tuning=[] if tuning is None else tuning.trace,
        shards=shards,
    )
    vocab_writer = _vocab_writer(provenance, model)
    _write(out, index, norms, provenance, vocab_writer, config, report, overwrite=overwrite)
    return report


def _vocab_writer(provenance: Provenance, model: Embeddings) -> Callable[[Path], None]:
    vocab_file = provenance.vocab_file
    if vocab_file is not None:
        return lambda path: write_bytes(path, vocab_file.read_bytes())
    return lambda path: write_vocab(path, model.tokens, model.counts)


def _train(index: Any, vectors: np.ndarray, config: IndexConfig, source: Path) -> None:
    import faiss

    ivf = faiss.try_extract_index_ivf(index)
    nlist = int(ivf.nlist) if ivf is not None else 0
    size = config.train_size or max(20_000, 40 * nlist)
    ids = sample_ids(len(vectors), size, seed=config.seed)
    sample = take_rows(vectors, ids, config.metric, source)
    log.info("training on %d sampled vectors", len(sample))
    try:
        index.train(sample)
    except RuntimeError as exc:
        raise IndexBuildError(
            f"training {type(index).__name__} on {len(sample)} vectors failed: {faiss_message(exc)}"
        ) from None


def _add_all(
    index: Any,
    vectors: np.ndarray,
    config: IndexConfig,
    source: Path,
    *,
    progress: bool,
    norms: np.ndarray | None = None,
) -> int:
    from tqdm import tqdm

    zero = 0
    reserve_rows(index, len(vectors))
    with tqdm(
        total=len(vectors), desc="adding", unit="vec", unit_scale=True, disable=not progress
    ) as bar:
        for _, block in iter_prepared_chunks(
            vectors, metric=config.metric, rows=config.chunk_rows, source=source, norms=norms
        ):
            zero += int((~block.any(axis=1)).sum())
            try:
                index.add(block)
            except RuntimeError as exc:
                raise IndexBuildError(
                    f"adding vectors to {type(index).__name__} failed: {faiss_message(exc)}"
                ) from None
            bar.update(len(block))
    return zero


def _measure(
    index: Any,
    plan: IndexPlan,
    model: Embeddings,
    config: IndexConfig,
    source: Path,
    *,
    progress: bool,
) -> TuningResult | None:
    """Recall@10 of ``index`` (tuning its search parameter); None for exact indexes."""
    vocab_size = len(model)
    k = min(RECALL_K, vocab_size - 1)
    if plan.exact or k < 1:
        return None
    query_ids = sample_ids(vocab_size, config.recall_queries, seed=config.seed + 1)
    if progress:
        log.info("exact neighbours of %d sampled words for recall@%d", len(query_ids), k)
    truth = exact_ground_truth(
        model.vectors,
        query_ids,
        metric=config.metric,
        k=k,
        chunk_rows=config.chunk_rows,
        source=source,
    )
    queries = stored_vectors(index, query_ids)
    if config.metric == "cosine":
        normalize_rows(queries)
    parameter = plan.tuned
    if parameter is None and plan.kind == "factory" and not plan.search_params:
        parameter = tunable_parameter(index)
    values = parameter_range(index, parameter, vocab_size) if parameter else []

    def measure(value: int | None) -> float:
        if parameter is not None and value is not None:
            set_search_params(index, {parameter: value})
        elif plan.search_params:
            set_search_params(index, plan.search_params)
        return _recall(index, truth, queries, model.vectors, config.metric, source)

    return tune_parameter(parameter, values, target=config.target_recall, measure=measure)


def _recall(
    index: Any,
    truth: GroundTruth,
    queries: np.ndarray,
    vectors: np.ndarray,
    metric: str,
    source: Path,
) -> float:
    try:
        scores, ids = index.search(queries, truth.k + 1)
    except RuntimeError as exc:
        raise IndexBuildError(
            f"searching {type(index).__name__} failed: {faiss_message(exc)}"
        ) from None
    _, ids = drop_self(scores, ids, truth.query_ids)
    return recall_at_k(truth, ids, vectors, metric=metric, source=source)


def _write(
    out: str | Path,
    index: Any,
    norms: np.ndarray | None,
    provenance: Provenance,
    write_vocab_file: Callable[[Path], None],
    config: IndexConfig,
    report: BuildReport,
    *,
    overwrite: bool,
) -> None:
    import faiss

    with staged_output_dir(out, overwrite=overwrite) as stage:
        shard_entries = None
        if isinstance(index, ShardedIndex):
            shard_entries = index.write(stage)
        else:
            with atomic_path(stage / INDEX_FILE) as tmp:
                faiss.write_index(index, str(tmp))
        write_vocab_file(stage / VOCAB_FILE)
        if norms is not None:
            with atomic_path(stage / NORMS_FILE) as tmp, open(tmp, "wb") as handle:
                np.save(handle, norms)
        write_manifest(
            stage,
            kind=INDEX_KIND,
            config=config.to_dict(),
            inputs=provenance.inputs,
            counts={"vectors": report.vocab_size, "zero_vectors": report.zero_vectors},
            extra={
                "dim": report.dim,
                "metric": report.metric,
                "normalized": report.metric == "cosine",
                "factory": report.factory,
                "index_kind": report.kind,
                "exact": report.exact,
                "search_params": report.search_params,
                "recall_at_10": report.recall_at_10,
                "recall_queries": min(config.recall_queries, report.vocab_size),
                "target_recall": report.target_recall,
                "target_reached": report.target_reached,
                "tuning": report.tuning,
                "build_seconds": report.seconds,
                **({"shards": shard_entries} if shard_entries else {}),
                **({"norms_file": NORMS_FILE} if norms is not None else {}),
                provenance.key: provenance.info,
            },
        )


def build_index_from_file(
    path: str | Path,
    out: str | Path,
    config: IndexConfig,
    options: VectorFileOptions | None = None,
    *,
    overwrite: bool = False,
    progress: bool = False,
    shards: int = 1,
) -> BuildReport:
    """`indexes.build_index` for a vector file: read once into a temporary ``.npy`` beside
    ``out`` (removed afterwards), then build from its memory map."""
    path = Path(path)
    out = Path(out)
    check_output_dir(out, overwrite=overwrite)
    file_fp = fingerprint(path)
    reader = VectorFileReader(path, options)
    out.parent.mkdir(parents=True, exist_ok=True)
    spool_dir = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".vectors", dir=out.parent))
    try:
        vectors = spool_to_npy(reader, spool_dir / SPOOL_NAME, progress=progress)
        report = reader.report()
        model = Embeddings(
            vectors=vectors,
            tokens=reader.tokens,
            counts=np.zeros(len(reader.tokens), dtype=np.int64),
            manifest={"kind": VECTOR_FILE_KIND},
        )
        entry = source_file_entry(report, file_fp)
        built = build_index_over(
            model,
            out,
            config,
            source=path,
            provenance=Provenance([file_fp], "source_file", entry),
            overwrite=overwrite,
            progress=progress,
            shards=shards,
        )
    finally:
        shutil.rmtree(spool_dir, ignore_errors=True)
    return dataclasses.replace(built, vector_file=summary(entry))
