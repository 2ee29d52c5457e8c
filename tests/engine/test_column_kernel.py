"""The column kernel: split columns give the full-width update; plan, errors, one rank.

Multi-rank runs (2 ranks over gloo, kill -9 and resume) are in
``test_column_multirank.py`` (``pytest -m multiprocess``).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from embedrec.core.errors import ConfigError
from embedrec.engine.skipgram.column_kernel import apply_chunk, fill_chunk, new_cursor, partial_dots
from embedrec.engine.skipgram.column_plan import check_column_split
from embedrec.engine.skipgram.kernel_common import sigmoid_tables

EMBEDREC = str(Path(sys.executable).with_name("embedrec"))


def _chunk(vocab: int, negative: int, pairs: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, vocab, size=3000).astype(np.int32)
    offsets = np.array([0, 1000, 1000, 3000], dtype=np.int64)  # one empty sentence
    keep = np.ones(vocab)
    prob, alias = np.ones(vocab), np.arange(vocab)
    cursor, state, buf = new_cursor(1, 7)
    ctx, counts, pos = (np.zeros(pairs, np.int64) for _ in range(3))
    targets = np.zeros((pairs, negative + 1), np.int64)
    n = fill_chunk(tokens, offsets, keep, prob, alias, 5, negative, True, cursor, state, buf,
                   pairs, ctx, targets, counts, pos)  # fmt: skip
    return n, ctx, targets, counts, pos


def test_two_column_halves_update_like_the_whole_table() -> None:
    """Partial dots summed over column slices, each slice updated alone = full-width update."""
    vocab, dim, negative = 50, 12, 3
    n, ctx, targets, counts, pos = _chunk(vocab, negative, 512)
    assert 0 < n <= 512
    rng = np.random.default_rng(1)
    syn0 = rng.uniform(-0.5, 0.5, (vocab, dim)).astype(np.float32)
    syn1 = rng.uniform(-0.5, 0.5, (vocab, dim)).astype(np.float32)
    sig, logsig = sigmoid_tables()
    full0, full1 = syn0.copy(), syn1.copy()
    dots = np.zeros((512, negative + 1), np.float32)
    partial_dots(n, ctx, targets, counts, full0, full1, dots)
    loss_full = apply_chunk(n, ctx, targets, counts, pos, dots, full0, full1, sig, logsig,
                            0.05, 0.01, 3000)  # fmt: skip
    slices = [(np.ascontiguousarray(syn0[:, a:b]), np.ascontiguousarray(syn1[:, a:b]))
              for a, b in ((0, 8), (8, 12))]  # fmt: skip
    summed = np.zeros_like(dots)
    for s0, s1 in slices:
        part = np.zeros_like(dots)
        partial_dots(n, ctx, targets, counts, s0, s1, part)
        summed += part
    losses = [apply_chunk(n, ctx, targets, counts, pos, summed, s0, s1, sig, logsig,
                          0.05, 0.01, 3000) for s0, s1 in slices]  # fmt: skip
    np.testing.assert_allclose(np.hstack([s[0] for s in slices]), full0, atol=1e-5)
    np.testing.assert_allclose(np.hstack([s[1] for s in slices]), full1, atol=1e-5)
    assert losses[0] == pytest.approx(loss_full, rel=1e-4) == losses[1]


def test_the_walk_resumes_across_chunks() -> None:
    """Small chunks draw the same pairs, in order, as one big chunk."""
    n_big, ctx_big, targets_big, _, _ = _chunk(50, 3, 20_000)
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, 50, size=3000).astype(np.int32)
    offsets = np.array([0, 1000, 1000, 3000], dtype=np.int64)
    cursor, state, buf = new_cursor(1, 7)
    got = []
    while True:
        ctx, counts, pos = (np.zeros(64, np.int64) for _ in range(3))
        targets = np.zeros((64, 4), np.int64)
        n = fill_chunk(tokens, offsets, np.ones(50), np.ones(50), np.arange(50), 5, 3, True,
                       cursor, state, buf, 64, ctx, targets, counts, pos)  # fmt: skip
        if not n:
            break
        got.extend(zip(ctx[:n].tolist(), targets[:n, 0].tolist(), strict=True))
    assert got == list(zip(ctx_big[:n_big].tolist(), targets_big[:n_big, 0].tolist(), strict=True))


def test_column_split_widths_and_errors() -> None:
    assert check_column_split(100, 2) == [52, 48]
    assert check_column_split(100, 4) == [28, 24, 24, 24]
    assert sum(check_column_split(128, 5)) == 128
    with pytest.raises(ConfigError, match="nproc: got 9, expected at most 8 ranks"):
        check_column_split(32, 9)
    assert check_column_split(30, 2) == [16, 16]  # padded to 32, as on one rank
    with pytest.raises(ConfigError, match="nproc: got 3, expected at most 2 ranks for --dim 5"):
        check_column_split(5, 3)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--nproc", "30", "--dim", "100"], "nproc: got 30, expected at most 25 ranks"),
        (["--nproc", "9", "--dim", "30"], "nproc: got 9, expected at most 8 ranks"),
    ],
)
def test_bad_column_requests_give_one_line(tmp_path, world, extra, message) -> None:
    cmd = [EMBEDREC, "train", "skipgram", str(world.dataset), "--out", str(tmp_path / "m")]
    cmd += ["--sharding", "column_wise"]  # auto picks the column kernel for N > 1 CPU ranks
    done = subprocess.run([*cmd, *extra], capture_output=True, text=True, timeout=300)
    assert done.returncode != 0
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0], done.stderr
    assert "Traceback" not in done.stderr


def test_one_rank_column_kernel_walks_the_hogwild_pairs(tmp_path, world) -> None:
    """1 rank, --kernel column: hogwild's 1-thread walk (same pairs), loss close to it."""
    from embedrec.engine.skipgram.config import SkipGramConfig
    from embedrec.engine.skipgram.train import train_skipgram

    base = SkipGramConfig(dim=32, epochs=2, threads=1, seed=3)
    hogwild = train_skipgram(world.dataset, tmp_path / "h", base.replace(kernel="hogwild"),
                             show_progress=False)  # fmt: skip
    column = train_skipgram(world.dataset, tmp_path / "c", base.replace(kernel="column"),
                            show_progress=False)  # fmt: skip
    assert column.kernel == "column" and column.pairs == hogwild.pairs
    assert column.comm is not None and column.comm["payload_bytes"] <= column.pairs * 6 * 4
    assert column.loss is not None and hogwild.loss is not None
    assert abs(column.loss - hogwild.loss) / hogwild.loss < 0.05


def test_a_stale_dot_past_the_table_on_the_wrong_side_still_steps() -> None:
    """A dot read before its chunk's updates may overshoot past -6 for the true centre; the
    column kernel must still pull it back (word2vec.c's rule), or the score stays wrong for
    good: with gensim's skip, the loss rose from 2.5 to 11.9 within one epoch on wiki text."""
    dim = 8
    syn0 = np.full((3, dim), 0.1, np.float32)
    syn1 = np.full((3, dim), 0.1, np.float32)
    sig, logsig = sigmoid_tables()
    one = np.zeros(1, np.int64)
    targets = np.array([[1, 2]], np.int64)
    counts = np.array([2], np.int64)
    dots = np.array([[-10.0, 10.0]], np.float32)  # centre far below, negative far above
    before0, before1 = syn0.copy(), syn1.copy()
    apply_chunk(1, one, targets, counts, one, dots, syn0, syn1, sig, logsig, 0.1, 0.1, 1)
    assert np.all(syn1[1] > before1[1]) and np.all(syn1[2] < before1[2])  # both corrected
    np.testing.assert_allclose(syn0[0], before0[0] + 0.1 * before1[1] - 0.1 * before1[2])
