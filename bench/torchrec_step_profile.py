"""Where a torchrec-kernel step's time goes, per batch size: torch.profiler over short runs.

On any machine (the test suite runs this on tiny data)::

    .venv/bin/python bench/torchrec_step_profile.py --device cpu --words 300000

On a GPU host, after the packages of bench/gpu_check.py are in place::

    python bench/torchrec_step_profile.py --device cuda --batch-size 512,32768

For each batch size it trains ``--kernel torchrec`` in this process twice on the first
``--words`` words of ``--corpus``: once plain (the honest ms per step), once under
torch.profiler (CPU activity, and CUDA's with ``--device cuda``), and prints the phases that
`TorchRecSkipGramStep` labels (``skipgram.batch`` / ``lookup`` / ``loss`` / ``backward``
and the runner's ``set_lr``) in ms per step: host time (CPU total, the profiler's own cost
included, so the phases sum to more than the plain step) and device time (CUDA kernels).
Then the ops with the most self host time. ``--json-out`` keeps the figures.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gpu_check import SHARED, batch_sizes, build_dataset, prepare_text

PHASES = ("batch", "lookup", "loss", "backward", "set_lr")
RUNTIME_CALLS = ("cudaLaunchKernel", "cudaMemcpyAsync", "cudaStreamSynchronize")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", choices=("cuda", "cpu"), default="cuda")
    parser.add_argument("--corpus", default=str(SHARED / "corpus" / "wiki-en-100mb.txt.gz"))
    parser.add_argument("--words", type=int, default=1_000_000)
    parser.add_argument("--batch-size", type=partial(batch_sizes, minimum=1), default=(512, 32768))
    parser.add_argument("--dim", type=int, default=100)
    parser.add_argument("--threads", type=int, default=2, help="CPU threads (torch, numba)")
    parser.add_argument("--top", type=int, default=15, help="ops listed by self host time")
    parser.add_argument("--work", default=None, help="data and models (default: a temp dir)")
    parser.add_argument("--json-out", default=None)
    return parser.parse_args(argv)


def _train(dataset: Path, out: Path, args: argparse.Namespace, batch_size: int) -> Any:
    from embedrec.engine.skipgram.config import SkipGramConfig
    from embedrec.engine.skipgram.train import train_skipgram

    config = SkipGramConfig(
        dim=args.dim,
        epochs=1,
        sample=1e-4,
        kernel="torchrec",
        device=args.device,
        batch_size=batch_size,
        threads=args.threads,
    )
    return train_skipgram(dataset, out, config, overwrite=True, show_progress=False)


def _device_us(event: Any) -> float:
    """An averaged event's device time in µs (the attribute's name moved across torch)."""
    for name in ("device_time_total", "cuda_time_total"):
        if hasattr(event, name):
            return float(getattr(event, name))
    return 0.0


def _on_host(event: Any) -> bool:
    """A CPU-side event (not a GPU kernel or a GPU annotation)."""
    return "CPU" in str(getattr(event, "device_type", "CPU"))


def profile_one(dataset: Path, work: Path, args: argparse.Namespace, batch_size: int) -> dict:
    """The plain run's ms per step, the labelled phases and the top ops of a profiled run."""
    from torch.profiler import ProfilerActivity, profile

    plain = _train(dataset, work / f"plain-{batch_size}", args, batch_size)
    activities = [ProfilerActivity.CPU]
    if args.device == "cuda":
        activities.append(ProfilerActivity.CUDA)
    with profile(activities=activities) as prof:
        profiled = _train(dataset, work / f"profiled-{batch_size}", args, batch_size)
    # With CUDA activity a label appears twice: the CPU range (host time; its device time
    # is the kernels launched inside it) and a GPU annotation spanning those kernels on the
    # device's timeline. The CPU range is the one read here.
    averaged = [e for e in prof.key_averages() if _on_host(e)]
    events = {event.key: event for event in averaged}
    steps = max(1, profiled.steps)
    phases = {}
    for phase in PHASES:
        event = events.get(f"skipgram.{phase}")
        host = event.cpu_time_total if event is not None else 0.0
        device = _device_us(event) if event is not None else 0.0
        phases[phase] = {"host_ms": host / 1e3 / steps, "device_ms": device / 1e3 / steps}
    ranked = sorted(averaged, key=lambda e: e.self_cpu_time_total, reverse=True)
    top = [
        {
            "op": e.key,
            "calls": e.count,
            "self_host_ms_per_step": e.self_cpu_time_total / 1e3 / steps,
        }
        for e in ranked
        if not e.key.startswith("skipgram.") and not e.key.startswith("ProfilerStep")
    ][: args.top]
    # What keeps a GPU waiting on the host: launches, copies and synchronisations per step.
    runtime = {name: events[name].count / steps for name in RUNTIME_CALLS if name in events}
    return {
        "runtime_calls_per_step": runtime,
        "batch_size": batch_size,
        "steps": plain.steps,
        "words_per_sec": plain.words_per_sec,
        "ms_per_step": plain.seconds / max(1, plain.steps) * 1e3,
        "phases": phases,
        "top_ops": top,
    }


def report(results: list[dict], device: str) -> str:
    """Markdown: one table of phases per batch size, then each size's top ops."""
    lines = [
        f"device: {device}",
        "",
        "| batch | steps | words/s | ms/step | "
        + " | ".join(f"{p} host/dev ms" for p in PHASES)
        + " |",
        "|---:|---:|---:|---:|" + "---:|" * len(PHASES),
    ]
    for r in results:
        cells = [
            f"{r['phases'][p]['host_ms']:.3f}/{r['phases'][p]['device_ms']:.3f}" for p in PHASES
        ]
        lines.append(
            f"| {r['batch_size']} | {r['steps']} | {r['words_per_sec']:,.0f} "
            f"| {r['ms_per_step']:.3f} | " + " | ".join(cells) + " |"
        )
    for r in results:
        if r["runtime_calls_per_step"]:
            calls = ", ".join(f"{k} {v:.1f}" for k, v in r["runtime_calls_per_step"].items())
            lines += ["", f"batch {r['batch_size']}: per step {calls}"]
    for r in results:
        lines += ["", f"batch {r['batch_size']}: top ops by self host time (ms per step, calls)"]
        lines += [
            f"  {op['self_host_ms_per_step']:8.3f}  {op['calls']:>8}  {op['op'][:70]}"
            for op in r["top_ops"]
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(args.work or scratch)
        work.mkdir(parents=True, exist_ok=True)
        text = prepare_text(Path(args.corpus), args.words, work)
        dataset, _ = build_dataset(text, work, min_count=5)
        results = [profile_one(dataset, work, args, size) for size in args.batch_size]
    print(report(results, args.device))
    if args.json_out:
        Path(args.json_out).write_text(json.dumps({"args": vars(args), "results": results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
