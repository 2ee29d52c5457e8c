"""A block's ids checked, and its windows as the torchrec kernel's one-id bags (the layout
`torchrec_step` documents)."""

from __future__ import annotations

import numpy as np
import pytest

from embedrec.engine.errors import EngineError
from embedrec.engine.skipgram.corpus_blocks import Block
from embedrec.engine.skipgram.runners import check_ids
from embedrec.engine.skipgram.window_batches import Windows, one_id_bags


def _windows() -> Windows:
    """Centre 7 with contexts [3, 9], centre 2 with [7], centre 5 with [1, 4, 6]."""
    return Windows(
        centers=np.array([7, 2, 5]),
        context_offsets=np.array([0, 2, 3, 6]),
        contexts=np.array([3, 9, 7, 1, 4, 6]),
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
