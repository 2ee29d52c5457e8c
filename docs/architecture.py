"""Draw docs/architecture.png: the data flow (top) and who may import whom (bottom).

.venv/bin/python docs/architecture.py      # rewrites docs/architecture.png
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.patches import FancyBboxPatch

OUT = Path(__file__).with_suffix(".png")
COLOURS = {
    "data": "#f2f2f2",
    "pipelines": "#dbeafe",
    "engine": "#fde7c8",
    "indexes": "#d9f2dc",
    "serving": "#f6d9e8",
    "core": "#e8e3f7",
    "cli": "#fff6bf",
}

# (label, artifact files, colour key)
FLOW = [
    ("raw text /\nclick logs", ".txt .gz .bz2 .xz\nAOL · JSONL · Criteo", "data"),
    ("Parquet\ndataset dir", "vocab.parquet\ncorpus/ or examples/", "pipelines"),
    ("TorchRec\ntables", "EmbeddingCollection\nDMP, fused optimizer", "engine"),
    ("model dir\n(vectors)", "embeddings.npy + vocab\ncheckpoints/", "engine"),
    ("index dir", "index.faiss\nvocab.parquet", "indexes"),
    ("service", "HTTP · client\nexplorer page", "serving"),
]
STEPS = ["embedrec.pipelines", "embedrec.engine", "export", "embedrec.indexes", "embedrec.serving"]

# (name, subpackages, x, y, width, colour key)
PACKAGES = [
    (
        "embedrec.cli · embedrec.demo",
        "one console script; imports every package",
        0.5,
        4.3,
        9.0,
        "cli",
    ),
    ("embedrec.serving", "routes/ · app · client", 7.5, 3.0, 2.0, "serving"),
    ("embedrec.indexes", "FAISS indexes, eval", 5.0, 3.0, 2.0, "indexes"),
    ("embedrec.engine", "skipgram/ · ranker/ · runtime/", 2.5, 3.0, 2.0, "engine"),
    ("embedrec.pipelines", "text/ · clicks/ · synthetic/ · runtime/", 0.0, 3.0, 2.0, "pipelines"),
    (
        "embedrec.core",
        "errors · artifacts · schemas · cli_support · ranking_metrics · lazy",
        0.5,
        1.2,
        9.0,
        "core",
    ),
]
# (from, to, label) in PACKAGES' coordinates: "may import"
IMPORTS = [
    ((1.0, 3.0), (1.0, 1.75), ""),
    ((3.5, 3.0), (3.5, 1.75), ""),
    ((6.0, 3.0), (6.0, 1.75), ""),
    ((8.5, 3.0), (8.5, 1.75), ""),
    ((2.5, 3.45), (2.0, 3.45), "dataset\nreaders"),
    ((5.0, 3.45), (4.5, 3.45), "model\nfiles"),
    ((7.5, 3.45), (7.0, 3.45), "word\nindex"),
]


def box(ax: Axes, x: float, y: float, w: float, h: float, colour: str) -> None:
    ax.add_patch(
        FancyBboxPatch(
            (x, y),
            w,
            h,
            boxstyle="round,pad=0.02,rounding_size=0.12",
            facecolor=COLOURS[colour],
            edgecolor="#555555",
            linewidth=1.1,
        )
    )


def arrow(ax: Axes, start: tuple[float, float], end: tuple[float, float]) -> None:
    ax.annotate(
        "",
        xy=end,
        xytext=start,
        arrowprops={"arrowstyle": "-|>", "color": "#333333", "lw": 1.4, "shrinkA": 0, "shrinkB": 0},
    )


def draw_flow(ax: Axes) -> None:
    ax.set_title("data flow: one direction, no way back", loc="left", fontsize=13, weight="bold")
    width, gap = 1.35, 0.38
    for i, (label, files, colour) in enumerate(FLOW):
        x = i * (width + gap)
        box(ax, x, 0.9, width, 1.0, colour)
        ax.text(x + width / 2, 1.4, label, ha="center", va="center", fontsize=10.5, weight="bold")
        ax.text(x + width / 2, 0.78, files, ha="center", va="top", fontsize=8, color="#333333")
        if i < len(STEPS):
            arrow(ax, (x + width + 0.02, 1.4), (x + width + gap - 0.02, 1.4))
            ax.text(
                x + width + gap / 2,
                2.05,
                STEPS[i],
                ha="center",
                fontsize=7.5,
                rotation=0,
                color="#444444",
            )
    ax.set_xlim(-0.1, len(FLOW) * (width + gap))
    ax.set_ylim(-0.2, 2.4)


def draw_imports(ax: Axes) -> None:
    ax.set_title(
        'packages: an arrow means "may import"; nothing imports serving',
        loc="left",
        fontsize=13,
        weight="bold",
    )
    for name, detail, x, y, w, colour in PACKAGES:
        h = 0.55 if colour in ("core", "cli") else 0.9
        box(ax, x, y, w, h, colour)
        ax.text(x + w / 2, y + h - 0.2, name, ha="center", va="center", fontsize=10, weight="bold")
        ax.text(x + w / 2, y + 0.17, detail, ha="center", va="center", fontsize=7.8)
    for start, end, label in IMPORTS:
        arrow(ax, start, end)
        if label:
            ax.text(
                (start[0] + end[0]) / 2,
                start[1] + 0.12,
                label,
                ha="center",
                va="bottom",
                fontsize=6.8,
            )
    # serving also uses engine's ranker inference: a dashed arc below indexes.
    ax.annotate(
        "",
        xy=(4.0, 3.0),
        xytext=(8.0, 3.0),
        arrowprops={
            "arrowstyle": "-|>",
            "color": "#333333",
            "lw": 1.2,
            "connectionstyle": "arc3,rad=-0.3",
            "linestyle": "--",
        },
    )
    ax.text(
        6.0,
        2.32,
        "ranker inference",
        ha="center",
        va="center",
        fontsize=7.5,
        bbox={"facecolor": "white", "edgecolor": "none", "pad": 1},
    )
    for x in (1.0, 3.5, 6.0, 8.5):
        arrow(ax, (x, 4.3), (x, 3.9))
    ax.set_xlim(-0.2, 9.7)
    ax.set_ylim(1.0, 5.0)


def main() -> None:
    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(11, 8.2), gridspec_kw={"height_ratios": [1, 1.6]}
    )
    for ax in (top, bottom):
        ax.set_axis_off()
    draw_flow(top)
    draw_imports(bottom)
    fig.tight_layout()
    fig.savefig(OUT, dpi=110)
    print(OUT)


if __name__ == "__main__":
    main()
