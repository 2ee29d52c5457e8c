"""A block's ids checked, and its windows as the torchrec kernel's one-id bags (the layout
`torchrec_step` documents)."""

from __future__ import annotations

import numpy as np
import pytest

from embedrec.engine.errors import EngineError
from embedrec.engine.skipgram.corpus_blocks import Block
from embedrec.engine.skipgram.runners import check_ids
from embedrec.engine.skipgram.window_batches import Windows, build_windows, one_id_bags


def _windows() -> Windows:
    """Centre 7 with contexts [3, 9], centre 2 with [7], centre 5 with [1, 4, 6]."""
    return Windows(
        centers=np.array([7, 2, 5]),
        context_offsets=np.array([0, 2, 3, 6]),
        contexts=np.array([3, 9, 7, 1, 4, 6]),
        ranges=np.zeros((3, 2), np.int64),  # not read by `one_id_bags`
    )


def test_the_docstring_example_padded_with_one_empty_window() -> None:
    w = _windows()
    negatives = np.array([[41, 5], [11, 8], [30, 31]])  # the padding window's are not bagged
    values, lengths = one_id_bags(
        w.centers, w.context_offsets, w.contexts, 0, 2, 3, 3, negatives, True
    )
    assert values.tolist() == [3, 9, 7, 7, 41, 5, 2, 11, 8]
    assert lengths.dtype == np.int32
    assert lengths.tolist() == [
        [[1, 1, 0], [1, 0, 0], [0, 0, 0]],  # word: contexts
        [[1, 1, 1], [1, 1, 1], [0, 0, 0]],  # context: centre, then negatives
    ]


def test_a_slice_from_the_middle_without_outputs() -> None:
    """Hierarchical softmax alone: the context feature only."""
    w = _windows()
    values, lengths = one_id_bags(
        w.centers, w.context_offsets, w.contexts, 1, 3, 2, 4, np.zeros((2, 0), np.int64), False
    )
    assert values.tolist() == [7, 1, 4, 6]
    assert lengths.tolist() == [[[1, 0, 0, 0], [1, 1, 1, 0]]]


@pytest.mark.parametrize("tokens", [[0, 4, 5], [-1, 2]])
def test_a_block_with_ids_outside_the_vocabulary_is_refused(tokens) -> None:
    """Neither kernel checks ids per lookup, so the runners check each block first."""
    block = Block(tokens=np.array(tokens, np.int32), offsets=np.array([0, len(tokens)]))
    with pytest.raises(EngineError, match="outside the vocabulary"):
        check_ids(block, vocab_size=5)
    check_ids(Block(tokens=np.array([0, 4], np.int32), offsets=np.array([0, 2])), vocab_size=5)


def test_a_windows_contexts_are_the_centres_of_its_range() -> None:
    """What the span layout relies on: contexts == centres[lo:hi] without the centre."""
    rng = np.random.default_rng(4)
    lengths = rng.integers(1, 15, size=60)  # one-word sentences give no windows
    tokens = rng.integers(0, 50, size=int(lengths.sum())).astype(np.int32)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    keep = rng.uniform(0.3, 1.0, size=50)  # subsampling drops words before windows are cut
    w = build_windows(tokens, offsets, keep, window=4, seed=2, stream=5)
    assert len(w) > 100
    for i in range(len(w)):
        lo, hi = w.ranges[i]
        assert lo <= i < hi and hi - lo <= 2 * 4 + 1
        expected = np.delete(w.centers[lo:hi], i - lo)
        contexts = w.contexts[w.context_offsets[i] : w.context_offsets[i + 1]]
        np.testing.assert_array_equal(contexts, expected)
