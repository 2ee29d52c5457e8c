"""Commands of the indexes package: ``index build``, ``eval analogies|similarity``, ``plot pca``.

Each command is a few lines over the library (`indexes.build_index`, `evaluate_analogies`,
`evaluate_similarity`, `plot_pca`); heavy imports happen when a command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from embedrec.core.cli_support import emit, json_option, subgroup
from embedrec.indexes.config import METRICS

BUILD_EPILOG = """\b
Examples:
  embedrec index build models/wiki --out indexes/wiki
  embedrec index build models/wiki --out indexes/wiki-hnsw --kind hnsw --target-recall 0.98
  embedrec index build models/wiki --out indexes/wiki-pq --kind "IVF256,PQ20" --overwrite
  embedrec index build models/wiki --out indexes/wiki-4 --kind flat --shards 4
  embedrec index build glove.6B.100d.txt --out indexes/glove
  embedrec index build GoogleNews-vectors-negative300.bin.gz --out indexes/gn --kind hnsw
  embedrec index build crawl-300d-2M.vec --out indexes/crawl --skip-bad-lines

\b
--kind auto (default) is exact below 50,000 words, HNSW below 1,000,000, IVF above;
approximate kinds report recall@10 against exact search on 1,000 sampled words and
tune efSearch / nprobe until it reaches --target-recall. --shards N writes N index files
over contiguous id ranges, searched together (results equal the unsharded exact index).
A FILE may be word2vec text or binary, GloVe text or fastText .vec (gzipped or not), told
apart by its content; a malformed record stops the build naming its line or byte offset,
unless --skip-bad-lines leaves such records out (counted, and listed in manifest.json).
"""

ANALOGIES_EPILOG = """\b
Examples:
  embedrec eval analogies models/wiki --questions data/eval/questions-words.txt
  embedrec eval analogies indexes/wiki --questions questions-words.txt --method 3cosmul --json
"""

SIMILARITY_EPILOG = """\b
Examples:
  embedrec eval similarity models/wiki --pairs data/eval/wordsim353.tsv
  embedrec eval similarity indexes/wiki --pairs data/eval/simlex999.txt --json
"""

PCA_EPILOG = """\b
Example:
  embedrec plot pca models/wiki --words king queen man woman paris france --out kq.png
"""

_source_argument = click.argument(
    "source", metavar="MODEL|INDEX|FILE", type=click.Path(path_type=Path)
)


def register(root: click.Group) -> None:
    """Add this package's commands to the ``embedrec`` group."""
    subgroup(root, "index", "Build FAISS indexes over a model's word vectors.").add_command(build)
    evaluate = subgroup(root, "eval", "Evaluate models and indexes on standard test sets.")
    evaluate.add_command(analogies)
    evaluate.add_command(similarity)
    subgroup(root, "plot", "Pictures of word vectors.").add_command(pca)


@click.command(epilog=BUILD_EPILOG)
@click.argument("model", metavar="MODEL|FILE", type=click.Path(path_type=Path))
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Index directory.")
@click.option(
    "--kind",
    default="auto",
    show_default=True,
    help="auto, flat, hnsw, ivf-flat, ivf-pq, fp16, sq8, or a FAISS factory string.",
)
@click.option("--metric", type=click.Choice(METRICS), default="cosine", show_default=True)
@click.option(
    "--target-recall",
    type=float,
    default=0.95,
    show_default=True,
    help="recall@10 that tuning efSearch / nprobe must reach.",
)
@click.option("--nlist", type=int, help="Inverted lists for IVF kinds (default ~4·√V).")
@click.option("--pq-m", type=int, help="Sub-quantisers for ivf-pq (must divide the dim).")
@click.option("--hnsw-m", type=int, default=32, show_default=True, help="HNSW graph degree.")
@click.option("--ef-search", type=int, help="Fix HNSW efSearch instead of tuning it.")
@click.option("--nprobe", type=int, help="Fix IVF nprobe instead of tuning it.")
@click.option(
    "--recall-queries",
    type=int,
    default=1000,
    show_default=True,
    help="Sampled words used to measure recall@10.",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--shards",
    type=int,
    default=1,
    show_default=True,
    help="Split the index into N files over contiguous id ranges.",
)
@click.option(
    "--skip-bad-lines",
    is_flag=True,
    help="For a vector FILE: leave malformed records out (counted and listed) instead of failing.",
)
@click.option("--overwrite", is_flag=True, help="Replace an existing index directory.")
@json_option
def build(
    model: Path,
    out: Path,
    shards: int,
    skip_bad_lines: bool,
    overwrite: bool,
    as_json: bool,
    **options: Any,
) -> None:
    """Build an exact or approximate FAISS index over MODEL's word vectors, or over a
    word2vec / GloVe / fastText vector FILE."""
    from embedrec.indexes.build import build_index
    from embedrec.indexes.config import IndexConfig

    config = IndexConfig(**{k: v for k, v in options.items() if v is not None})
    report = build_index(
        model,
        out,
        config,
        overwrite=overwrite,
        progress=not as_json,
        shards=shards,
        skip_bad_lines=skip_bad_lines,
    )
    emit(report.to_dict(), as_json=as_json, human=_build_text)


def _build_text(report: dict[str, Any]) -> str:
    lines = [
        f"index written to {report['path']}: {report['vocab_size']:,} vectors × {report['dim']}, "
        f"{report['factory']} ({report['kind']}), metric {report['metric']}"
        + (f", {report['shards']} shards" if report.get("shards", 1) > 1 else "")
    ]
    if report["recall_at_10"] is None:
        lines.append("exact search (recall 1.0)")
    else:
        params = ", ".join(f"{k}={v}" for k, v in report["search_params"].items()) or "as built"
        verdict = "reaches" if report["target_reached"] else "is BELOW"
        lines.append(
            f"recall@10 {report['recall_at_10']:.3f} with {params} "
            f"({verdict} the target {report['target_recall']:.2f})"
        )
    source = report.get("vector_file")
    if source:
        lines.append(_vector_file_text(source))
    lines.append(f"built in {report['seconds']:.1f} s")
    return "\n".join(lines)


def _vector_file_text(source: dict[str, Any]) -> str:
    packed = ", gzip" if source["gzip"] else ""
    lines = [
        f"read {source['vectors']:,} vectors from {source['path']} ({source['format']}{packed})"
    ]
    if source["header_mismatch"]:
        lines.append(f"  {source['header_mismatch']}")
    if source["skipped"]:
        listed = source["skipped_listed"]
        lines.append(f"skipped {source['skipped']:,} bad records, e.g.:")
        for record in listed[:3]:
            where = (
                f"byte {record['offset']}" if record["line"] is None else f"line {record['line']}"
            )
            lines.append(f"  {where}: {record['reason']}")
        how_many = "all" if source["skipped_all_listed"] else f"the first {len(listed):,}"
        lines.append(f"  ({how_many} listed in manifest.json, source_file.skipped_listed)")
    return "\n".join(lines)


@click.command(epilog=ANALOGIES_EPILOG)
@_source_argument
@click.option(
    "--questions",
    required=True,
    type=click.Path(path_type=Path),
    help="Analogy file (': section' lines, then 'a b c d').",
)
@click.option(
    "--restrict-vocab",
    type=int,
    default=30_000,
    show_default=True,
    help="Only the N most frequent words are candidates; other questions are skipped.",
)
@click.option(
    "--method", type=click.Choice(["3cosadd", "3cosmul"]), default="3cosadd", show_default=True
)
@json_option
def analogies(
    source: Path, questions: Path, restrict_vocab: int, method: str, as_json: bool
) -> None:
    """Analogy accuracy of MODEL|INDEX (word2vec compute-accuracy / gensim semantics)."""
    from embedrec.indexes.evaluate import evaluate_analogies

    report = evaluate_analogies(source, questions, restrict_vocab=restrict_vocab, method=method)
    emit(report.to_dict(), as_json=as_json, human=_analogies_text)


def _analogies_text(report: dict[str, Any]) -> str:
    width = max([len("total"), *(len(s["name"]) for s in report["sections"])])
    header = f"{'section':<{width}}  {'correct':>7}  {'total':>6}  {'accuracy':>8}  {'skipped':>7}"
    lines = [header]
    for s in [*report["sections"], {**report, "name": "total"}]:
        lines.append(
            f"{s['name']:<{width}}  {s['correct']:>7}  {s['total']:>6}  "
            f"{s['accuracy']:>8.1%}  {s['skipped_oov']:>7}"
        )
    lines.append(
        f"{report['skipped_oov']} of {report['questions']} questions skipped: a word outside "
        f"the {report['restrict_vocab']:,} most frequent ({report['method']})"
    )
    if report["invalid_lines"]:
        lines.append(f"{report['invalid_lines']} malformed lines ignored")
    return "\n".join(lines)


@click.command(epilog=SIMILARITY_EPILOG)
@_source_argument
@click.option(
    "--pairs",
    required=True,
    type=click.Path(path_type=Path),
    help="Word pairs with human scores: 'word1<TAB>word2<TAB>score'.",
)
@json_option
def similarity(source: Path, pairs: Path, as_json: bool) -> None:
    """Spearman correlation of MODEL|INDEX cosines with human similarity scores."""
    from embedrec.indexes.evaluate import evaluate_similarity

    report = evaluate_similarity(source, pairs)
    emit(report.to_dict(), as_json=as_json, human=_similarity_text)


def _similarity_text(report: dict[str, Any]) -> str:
    def number(value: float | None) -> str:
        return "undefined" if value is None else f"{value:.4f}"

    text = (
        f"Spearman {number(report['spearman'])}  Pearson {number(report['pearson'])}  "
        f"over {report['pairs']} pairs; {report['oov_pairs']} skipped as out of vocabulary "
        f"({report['oov_ratio']:.1%})"
    )
    if report["invalid_lines"]:
        text += f"; {report['invalid_lines']} malformed lines ignored"
    return text


@click.command(epilog=PCA_EPILOG)
@_source_argument
@click.argument("more_words", nargs=-1, metavar="[WORD]...")
@click.option(
    "--words",
    multiple=True,
    help="Words to plot; may be repeated, comma-separated, or followed by more words.",
)
@click.option("--out", required=True, type=click.Path(path_type=Path), help="PNG file to write.")
@click.option("--title", help="Plot title.")
def pca(
    source: Path, more_words: tuple[str, ...], words: tuple[str, ...], out: Path, title: str | None
) -> None:
    """2-D PCA scatter of chosen words' vectors, written as a PNG."""
    from embedrec.indexes.plot import plot_pca

    chosen = [w for value in (*words, *more_words) for w in value.replace(",", " ").split()]
    result = plot_pca(source, chosen, out, title=title)
    ratio = result.explained_variance_ratio
    click.echo(
        f"wrote {result.path}: {len(result.words)} words, "
        f"PC1 {ratio[0]:.0%} + PC2 {ratio[1]:.0%} of variance"
    )
