"""GPU check: install what is missing, train skip-gram on the GPU, print words/s beside gensim.

On a CUDA machine (torch preinstalled, no torchrec or fbgemm, maybe no network)::

    python bench/gpu_check.py --wheels wheels/            # ~2-5 minutes, must stay under 8

On the project's GPU tool (no index at all), with the packages unpacked from the pieces of
``bench/gpu_bundle.py`` (docs/performance.md "GPU" has the commands; an H200 took 91 s)::

    python3 bench/gpu_check.py --constraints requirements/constraints-cuda-torch2.11.txt \
        --threads 16 --batch-size 0,32768

On any machine, end to end on tiny data in seconds (the test suite runs this)::

    .venv/bin/python bench/gpu_check.py --device cpu --words 20000 --epochs 1

What it does, each step printed as it goes:

1. **Packages.** Whatever of the CUDA set (``requirements/constraints-cuda.txt``, as
   ``make install DEVICE=cuda``: fbgemm-gpu, torchrec with ``--no-deps``, gensim, embedrec's
   own requirements) does not import yet is installed with pip into *this* interpreter,
   from ``--wheels DIR`` (``--no-index --find-links DIR``) when given, else from the index.
   Wheels too big for one transfer may be brought split (``split -b 60M x.whl x.whl.part-``);
   the pieces are joined first. A torch that differs from the pinned one is reported, not
   replaced (``--constraints`` names another tested set).
2. **Data.** The first ``--words`` words of ``--corpus`` as lines of 1,000 words, through
   the text pipeline (min-count 5).
3. **Train.** ``python -m embedrec.engine train skipgram --kernel torchrec --device DEVICE`` and
   gensim (``--gensim-threads``, 16 by default) on the very same sentences, same settings.
4. **Report.** One table: words/s, ×gensim, training seconds, analogies when
   ``--questions`` exists, one embedrec row per ``--batch-size`` and ``--lr`` pair; JSON
   with ``--json-out``. Exit status 1 when ``--budget`` seconds were exceeded, 2 when a
   step failed (with its reason on one line).
"""

from __future__ import annotations

import argparse
import gzip
import importlib
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
# The shared corpus and eval sets: beside the checkout, or where EMBEDREC_SHARED_DATA says
# (a worktree elsewhere).
SHARED = Path(os.environ.get("EMBEDREC_SHARED_DATA") or REPO.parent / "shared" / "data")
sys.path.insert(0, str(Path(__file__).resolve().parent))
# pyproject's package-dir: where each part of the `embedrec` namespace lives in the checkout.
PACKAGE_DIRS = ("engine", "pipelines", "indexes", "serving")

# (import name, pip requirement, pip flags): what the check needs, in install order.
NEEDED: dict[str, list[tuple[str, str, tuple[str, ...]]]] = {
    "cuda": [
        ("fbgemm_gpu", "fbgemm-gpu", ()),
        ("pyarrow", "-e .", ()),  # embedrec's own requirements (dask, pyarrow, numba, ...)
        ("torchrec", "torchrec", ("--no-deps",)),
        ("gensim", "gensim", ()),
    ],
    "cpu": [
        ("fbgemm_gpu", "fbgemm-gpu-cpu", ()),
        ("pyarrow", "-e .", ()),
        ("torchrec", "torchrec", ("--no-deps",)),
        ("gensim", "gensim", ()),
    ],
}


class CheckError(Exception):
    """A step of the check failed; the message is the one line to print."""


@dataclass(frozen=True)
class Row:
    trainer: str
    device: str
    threads: int
    words_per_sec: float
    train_seconds: float
    analogy: float | None


def join_split_wheels(wheels: Path) -> list[Path]:
    """Join ``NAME.whl.part-*`` pieces in ``wheels`` into ``NAME.whl``; return the joined."""
    joined = []
    for first in sorted(wheels.glob("*.whl.part-*")):
        target = wheels / first.name.split(".part-")[0]
        if target.exists() or first.name != sorted(wheels.glob(f"{target.name}.part-*"))[0].name:
            continue
        with open(target, "wb") as out:
            for piece in sorted(wheels.glob(f"{target.name}.part-*")):
                out.write(piece.read_bytes())
        joined.append(target)
    return joined


def missing_packages(device: str) -> list[tuple[str, str, tuple[str, ...]]]:
    """The entries of ``NEEDED[device]`` whose module does not import in this interpreter."""
    missing = []
    for module, requirement, flags in NEEDED[device]:
        try:
            importlib.import_module(module)
        except Exception:  # a broken install counts as missing, whatever it raises
            missing.append((module, requirement, flags))
    return missing


def install_command(
    requirement: str, flags: tuple[str, ...], constraints: Path, wheels: Path | None, extra: str
) -> list[str]:
    """The pip command line for one requirement of the set."""
    cmd = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    cmd += ["-c", str(constraints), *flags]
    if wheels is not None:
        cmd += ["--no-index", "--find-links", str(wheels)]
    if requirement == "-e .":
        return [*cmd, "-e", f"{REPO}[{extra}]"]
    return [*cmd, requirement]


def ensure_packages(args: argparse.Namespace) -> list[str]:
    """Install what is missing (step 1); returns the pip command lines it ran."""
    wheels = Path(args.wheels) if args.wheels else None
    if wheels is not None:
        if not wheels.is_dir():
            raise CheckError(f"--wheels {wheels}: no such folder")
        for path in join_split_wheels(wheels):
            print(f"joined {path.name} from its pieces")
    constraints = Path(args.constraints or REPO / "requirements" / f"constraints-{args.device}.txt")
    _report_torch(constraints)
    ran = []
    for module, requirement, flags in missing_packages(args.device):
        cmd = install_command(requirement, flags, constraints, wheels, args.device)
        print(f"{module} does not import: {' '.join(cmd[2:])}", flush=True)
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            tail = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
            raise CheckError(f"installing {requirement} failed: {tail}")
        ran.append(" ".join(cmd))
    importlib.invalidate_caches()
    still = [module for module, _, _ in missing_packages(args.device)]
    if still:
        raise CheckError(f"still not importable after installing: {', '.join(still)}")
    return ran


def _report_torch(constraints: Path) -> None:
    import torch

    pins = [
        line.split("==", 1)[1].strip()
        for line in constraints.read_text().splitlines()
        if line.startswith("torch==")
    ]
    have = torch.__version__.split("+")[0]
    print(f"torch {torch.__version__} (CUDA {torch.version.cuda}); the tested set pins {pins}")
    if pins and have != pins[0]:
        print(
            f"note: torch {have} is not the pinned {pins[0]}; fbgemm-gpu must be the build for "
            f"torch {have} or its kernels fail to load (pass --constraints for that set)"
        )


def embedrec_from_checkout(work: Path) -> bool:
    """Make `embedrec` importable when it is not installed (a GPU host's bare image): links in
    ``work/src/embedrec`` to the checkout's folders, on ``sys.path`` and on ``PYTHONPATH`` for
    the trainer's process. Returns False when an installed embedrec is used as it is.

    The checkout's own ``embedrec/`` folder holds only the namespace's top (the other parts
    are folders beside it), so the repository root on the path would shadow a working one.
    """
    try:
        importlib.import_module("embedrec.engine")
        return False
    except ImportError:  # none, or the checkout's top alone: forget it, then link the whole
        for name in [name for name in sys.modules if name.split(".")[0] == "embedrec"]:
            del sys.modules[name]
    package = work / "src" / "embedrec"
    shutil.rmtree(package.parent, ignore_errors=True)
    package.mkdir(parents=True)
    for entry in [*(REPO / "embedrec").iterdir(), *(REPO / name for name in PACKAGE_DIRS)]:
        if entry.name != "__pycache__":
            (package / entry.name).symlink_to(entry)
    sys.path.insert(0, str(package.parent))
    paths = [str(package.parent), *filter(None, [os.environ.get("PYTHONPATH")])]
    os.environ["PYTHONPATH"] = os.pathsep.join(paths)
    importlib.invalidate_caches()
    return True


def prepare_text(corpus: Path, words: int, work: Path) -> Path:
    """The first ``words`` words of ``corpus`` (.gz or text) as lines of 1,000 words."""
    text = work / "corpus.txt"
    opener: Any = gzip.open if corpus.suffix == ".gz" else open
    written = 0
    line: list[str] = []
    with opener(corpus, "rt", encoding="utf-8") as handle, open(text, "w") as out:
        for raw in handle:
            for word in raw.split()[: words - written]:
                line.append(word)
                written += 1
                if len(line) == 1000:
                    out.write(" ".join(line) + "\n")
                    line = []
            if written >= words:
                break
        if line:
            out.write(" ".join(line) + "\n")
    if written == 0:
        raise CheckError(f"{corpus} holds no words")
    return text


def build_dataset(text: Path, work: Path, min_count: int) -> tuple[Path, Path]:
    """Text pipeline → dataset; the dataset's sentences written back as text for gensim."""
    import numpy as np

    from embedrec.pipelines import TextPipelineConfig
    from embedrec.pipelines.runtime.dask_cluster import ClusterConfig
    from embedrec.pipelines.text.dataset import open_text_dataset
    from embedrec.pipelines.text.pipeline import run_text_pipeline

    dataset = work / "dataset"
    for stale in (dataset, work / "gensim-model"):  # this check's own outputs of a past run
        shutil.rmtree(stale, ignore_errors=True)
    run_text_pipeline(
        TextPipelineConfig(inputs=(str(text),), out=str(dataset), min_count=min_count),
        ClusterConfig(workers=1, processes=False),
    )
    ds = open_text_dataset(dataset)
    tokens = np.array(ds.vocab.tokens, dtype=object)
    sentences = work / "sentences.txt"
    with open(sentences, "w", encoding="utf-8") as out:
        for ids, offsets in ds.iter_batches(rows=4096):
            for i in range(len(offsets) - 1):
                out.write(" ".join(tokens[ids[offsets[i] : offsets[i + 1]]]) + "\n")
    return dataset, sentences


def train_embedrec(
    args: argparse.Namespace, dataset: Path, work: Path, batch_size: int, lr: float = 0.0
) -> tuple[Row, Path]:
    """``python -m embedrec.engine train skipgram`` on the device with the torchrec kernel
    (``batch_size`` centre words per step, starting rate ``lr``; 0: the engine's default)."""
    settings = run_label(batch_size, lr)
    model = work / f"embedrec-model-{batch_size}-{lr:g}"
    cmd = [
        sys.executable,
        "-m",
        "embedrec.engine",
        "train",
        "skipgram",
        str(dataset),
        "--out",
        str(model),
    ]
    cmd += ["--overwrite", "--json", "--no-progress", "--kernel", "torchrec"]
    cmd += ["--device", args.device, "--epochs", str(args.epochs), "--dim", str(args.dim)]
    cmd += ["--sample", str(args.sample), "--threads", str(args.threads)]
    if batch_size:
        cmd += ["--batch-size", str(batch_size)]
    if lr:
        cmd += ["--lr", str(lr)]
    # Not from the repository root: its `embedrec/` folder would shadow the package.
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=work)
    log = work / f"embedrec-{batch_size}-{lr:g}.log"  # the whole stderr, traceback included
    log.write_text(done.stderr)
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise CheckError(f"embedrec training failed: {tail} (whole log: {log})")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    row = Row(
        f"embedrec (torchrec kernel, {args.device}{settings})",
        args.device,
        args.threads,
        float(result["words_per_sec"]),
        float(result["seconds"]),
        None,
    )
    return row, model


def train_gensim(args: argparse.Namespace, sentences: Path, work: Path) -> tuple[Row, Path]:
    """gensim's Word2Vec on the same sentences, ``--gensim-threads`` workers."""
    from skipgram_vs_gensim import GENSIM_CHILD

    settings = {"dim": args.dim, "window": 5, "negative": 5, "sample": args.sample}
    settings |= {"epochs": args.epochs, "threads": args.gensim_threads, "seed": 1}
    settings |= {"corpus": str(sentences), "out": str(work / "gensim.bin")}
    done = subprocess.run(
        [sys.executable, "-c", GENSIM_CHILD, json.dumps(settings)], capture_output=True, text=True
    )
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise CheckError(f"gensim training failed: {tail}")
    info = json.loads(done.stdout.strip().splitlines()[-1])
    words_per_sec = info["corpus_words"] * args.epochs / info["train_seconds"]
    row = Row(
        "gensim 4.4.0", "cpu", args.gensim_threads, words_per_sec, info["train_seconds"], None
    )
    return row, work / "gensim.bin"


def with_analogy(row: Row, model: Path, questions: Path | None, work: Path) -> Row:
    """``row`` with its analogy accuracy (restrict 30,000) when a question file exists."""
    if questions is None or not questions.exists():
        return row
    from skipgram_vs_gensim import _gensim_as_model

    from embedrec.indexes import evaluate_analogies

    if model.suffix == ".bin":
        model = _gensim_as_model(model, work / "gensim-model")
    accuracy = evaluate_analogies(model, questions, restrict_vocab=30000).accuracy
    return Row(**{**asdict(row), "analogy": accuracy})


def report(rows: list[Row], elapsed: float, budget: float) -> str:
    """The markdown table (gensim first), with the whole check's time against its budget."""
    base = rows[0].words_per_sec
    lines = [
        "| trainer | device | threads | words/s | ×gensim | train s | analogy (30k) |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        analogy = "-" if row.analogy is None else f"{row.analogy:.1%}"
        lines.append(
            f"| {row.trainer} | {row.device} | {row.threads} | {row.words_per_sec:,.0f} "
            f"| {row.words_per_sec / base:.2f} | {row.train_seconds:.1f} | {analogy} |"
        )
    lines.append(f"\nwhole check: {elapsed:.0f} s (budget {budget:.0f} s)")
    return "\n".join(lines)


def run_label(batch_size: int, lr: float) -> str:
    """What a run sets beyond the defaults, as its row names it.

    >>> run_label(0, 0.0), run_label(8192, 0.0), run_label(2048, 0.4)
    ('', ', batch 8192', ', batch 2048, lr 0.4')
    """
    return (f", batch {batch_size}" if batch_size else "") + (f", lr {lr:g}" if lr else "")


def rates(text: str) -> tuple[float, ...]:
    """``"0,0.4"`` → (0.0, 0.4): starting rates ≥ 0, 0 for the engine's (an argparse type)."""
    return _numbers(text, float, 0, "rates", "0,0.4")


def batch_sizes(text: str, minimum: int = 0) -> tuple[int, ...]:
    """``"512,8192"`` → (512, 8192); each a whole number ≥ ``minimum`` (an argparse type)."""
    return _numbers(text, int, minimum, "sizes", "512,8192")


def _numbers(text: str, kind: Any, minimum: float, what: str, example: str) -> tuple[Any, ...]:
    try:
        values = tuple(kind(part) for part in text.split(","))
    except ValueError:
        values = ()
    if not values or min(values) < minimum:
        raise argparse.ArgumentTypeError(f"{text!r}: expected {what} ≥ {minimum} like {example}")
    return values


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", choices=("cuda", "cpu"), default="cuda")
    parser.add_argument("--wheels", default=None, help="install from this folder only")
    parser.add_argument("--constraints", default=None, help="pins (default: the device's set)")
    parser.add_argument("--corpus", default=str(SHARED / "corpus" / "wiki-en-100mb.txt.gz"))
    parser.add_argument("--questions", default=str(SHARED / "eval" / "questions-words.txt"))
    parser.add_argument("--words", type=int, default=4_000_000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--dim", type=int, default=100)
    parser.add_argument("--sample", type=float, default=1e-4)
    parser.add_argument("--min-count", type=int, default=5)
    parser.add_argument(
        "--batch-size",
        type=batch_sizes,
        default=(0,),
        help="centre words per step, comma-separated for one run each (0: the engine's default)",
    )
    parser.add_argument(
        "--lr",
        type=rates,
        default=(0.0,),
        help="starting rates, comma-separated: one run per batch size and rate (0: the default)",
    )
    parser.add_argument("--threads", type=int, default=2, help="embedrec's CPU threads")
    parser.add_argument("--gensim-threads", type=int, default=16)
    parser.add_argument("--budget", type=float, default=480.0, help="seconds for everything")
    parser.add_argument("--work", default=str(REPO / "bench" / "results" / "gpu-check"))
    parser.add_argument("--json-out", default=None)
    return parser.parse_args(argv)


def run_check(args: argparse.Namespace) -> tuple[list[Row], float]:
    """Steps 1-3; returns the rows (gensim first) and the seconds it all took."""
    started = time.perf_counter()
    ensure_packages(args)
    import torch

    if args.device == "cuda" and not torch.cuda.is_available():
        raise CheckError("--device cuda but torch sees no CUDA device (use --device cpu)")
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    if embedrec_from_checkout(work):
        print(f"embedrec is not installed: using the checkout through {work / 'src'}")
    text = prepare_text(Path(args.corpus), args.words, work)
    dataset, sentences = build_dataset(text, work, args.min_count)
    print(f"data ready ({time.perf_counter() - started:.0f} s); training", flush=True)
    questions = Path(args.questions) if args.questions else None
    theirs, vectors = train_gensim(args, sentences, work)
    rows = [with_analogy(theirs, vectors, questions, work)]
    for batch_size in args.batch_size:
        for lr in args.lr:
            ours, model = train_embedrec(args, dataset, work, batch_size, lr)
            rows.append(with_analogy(ours, model, questions, work))
        print(report(rows, time.perf_counter() - started, args.budget), flush=True)
    return rows, time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        rows, elapsed = run_check(args)
    except CheckError as exc:
        print(f"gpu check failed: {exc}", file=sys.stderr)
        return 2
    print(report(rows, elapsed, args.budget))
    if args.json_out:
        document = {"args": vars(args), "rows": [asdict(r) for r in rows], "seconds": elapsed}
        Path(args.json_out).write_text(json.dumps(document, indent=2))
    return 1 if elapsed > args.budget else 0


if __name__ == "__main__":
    sys.exit(main())
