"""The two ways a block of corpus becomes updates to the TorchRec tables.

- `HogwildRunner`: word2vec's per-pair SGD, compiled, lock-free over ``threads`` threads,
  writing into the fused TBE weights of a 1-rank CPU run (no copies, no autograd).
- `TorchRecRunner`: windows → KJT → DMP lookups → loss → backward, where TorchRec's fused SGD
  updates the rows; works on any device and any number of ranks (every rank runs the same
  number of steps per round so the collectives line up).

Both expose ``rounds(block, lr, stream, first_step)``: the number of steps the block takes
(agreed by every rank) and an iterator of ``(loss_sum, pairs)`` per step from
``first_step`` on, so the loop can log and checkpoint between steps, and resume mid-block,
without caring which kernel runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import torch
import torch.distributed as dist

from embedrec.engine.errors import EngineError
from embedrec.engine.skipgram.config import SkipGramConfig
from embedrec.engine.skipgram.corpus_blocks import Block
from embedrec.engine.skipgram.hogwild_kernel import RULE_GENSIM_SGD, train_block
from embedrec.engine.skipgram.kernel_common import sigmoid_tables
from embedrec.engine.skipgram.model import CONTEXT, NODE, WORD, SkipGramTables
from embedrec.engine.skipgram.sampling_tables import HuffmanTree
from embedrec.engine.skipgram.torchrec_step import TorchRecSkipGramStep, phase
from embedrec.engine.skipgram.window_batches import build_windows

StepOutcome = tuple[float, int]  # (summed loss, pairs trained)
BlockPlan = tuple[int, Iterator[StepOutcome]]

# word2vec.c moves its learning rate every 10,000 words. Pushing a new rate to the fused
# optimizer costs ~0.15 ms, 3% of a CPU step at batch 512, so the step does the same.
LR_EVERY_WORDS = 10_000


def check_ids(block: Block, vocab_size: int) -> None:
    """Raise unless every token of ``block`` is a row of the tables.

    Neither kernel checks bounds per lookup (the compiled one never does; the TBE's check
    is switched off, see `SkipGramTables.build`): a corrupt corpus must not crash them.
    """
    tokens = block.tokens
    if tokens.size and (int(tokens.max()) >= vocab_size or int(tokens.min()) < 0):
        raise EngineError("the corpus holds word ids outside the vocabulary (corrupt dataset)")


class HogwildRunner:
    """Compiled Hogwild SGD on the tables' own memory (1 rank, CPU, fp32)."""

    name = "hogwild"

    def __init__(
        self,
        tables: SkipGramTables,
        config: SkipGramConfig,
        *,
        keep: np.ndarray,
        neg_prob: np.ndarray,
        neg_alias: np.ndarray,
        tree: HuffmanTree | None,
        threads: int,
    ) -> None:
        weights = tables.local_weights()
        dim = config.table_dim  # the stored width (padding columns stay zero)
        empty = np.zeros((0, dim), dtype=np.float32)
        self.syn0 = weights[WORD].numpy()
        self.syn1neg = weights[CONTEXT].numpy() if CONTEXT in weights else empty
        self.syn1hs = weights[NODE].numpy() if NODE in weights else empty
        for array in (self.syn0, self.syn1neg, self.syn1hs):
            if array.dtype != np.float32 or not array.flags.c_contiguous:
                raise ValueError("the hogwild kernel needs contiguous float32 tables")
        self.config = config
        self.keep = keep
        self.neg_prob = neg_prob
        self.neg_alias = neg_alias
        if tree is None:
            self.codes = np.zeros((1, 1), np.int8)
            self.points = np.zeros((1, 1), np.int32)
            self.code_lens = np.zeros(1, np.int32)
        else:
            self.codes, self.points, self.code_lens = tree.codes, tree.points, tree.lengths
        self.sig, self.logsig = sigmoid_tables()
        self.threads = threads
        # gensim's rule: plain SGD, an output whose score is off the sigmoid table left alone.
        self.rule = RULE_GENSIM_SGD
        self.history0 = np.zeros(0, np.float32)
        self.history1 = np.zeros(0, np.float32)

    def rounds(
        self, block: Block | None, lr: Callable[[float], float], stream: int, first_step: int = 0
    ) -> BlockPlan:
        """One step: the whole block."""
        if block is None or block.num_tokens == 0 or first_step > 0:
            return 1, iter(())
        check_ids(block, self.syn0.shape[0])
        return 1, iter([self._train(block, lr, stream)])

    def _train(self, block: Block, lr: Callable[[float], float], stream: int) -> StepOutcome:
        loss, pairs, _kept = train_block(
            block.tokens, block.offsets, self.syn0, self.syn1neg, self.syn1hs, self.keep,
            self.neg_prob, self.neg_alias, self.codes, self.points, self.code_lens,
            self.sig, self.logsig, self.config.window, self.config.negative, self.config.hs,
            self.config.shared_negatives,
            lr(0.0), lr(1.0), self.config.seed, stream, self.threads,
            self.rule, self.history0, self.history1,
        )  # fmt: skip
        return float(loss), int(pairs)


class TorchRecRunner:
    """Windows through DMP with SGD fused into the TBE backward."""

    name = "torchrec"

    def __init__(
        self,
        tables: SkipGramTables,
        config: SkipGramConfig,
        *,
        keep: np.ndarray,
        neg_prob: np.ndarray,
        neg_alias: np.ndarray,
        tree: HuffmanTree | None,
    ) -> None:
        self.tables = tables
        self.config = config
        self.keep = keep
        self.step = TorchRecSkipGramStep(
            tables,
            negative=config.negative,
            window=config.window,
            neg_prob=neg_prob,
            neg_alias=neg_alias,
            tree=tree,
            # --batch-size is the global batch: N ranks take 1/N each, so a step on N
            # ranks sees as many windows as a step on one.
            batch_size=max(1, config.batch_size // tables.ctx.world_size),
        )
        self._empty = Block(tokens=np.zeros(0, np.int32), offsets=np.zeros(1, np.int64))

    def rounds(
        self, block: Block | None, lr: Callable[[float], float], stream: int, first_step: int = 0
    ) -> BlockPlan:
        """Steps of ``batch_size`` windows; the same count on every rank."""
        block = block or self._empty
        check_ids(block, self.tables.vocab_size)
        windows = build_windows(
            block.tokens, block.offsets, self.keep,
            window=self.config.window, seed=self.config.seed, stream=stream,
        )  # fmt: skip
        ctx = self.tables.ctx
        batch = self.step.batch_size
        steps = -(-len(windows) // batch)
        if ctx.world_size > 1:  # every rank must run the same number of steps
            agreed = torch.tensor([steps], dtype=torch.int64)
            dist.all_reduce(agreed, op=dist.ReduceOp.MAX)
            steps = int(agreed.item())

        # Steps between rate updates: a step trains ``config.batch_size`` windows (one
        # centre word each) over all ranks.
        every = max(1, LR_EVERY_WORDS // self.config.batch_size)

        def run() -> Iterator[StepOutcome]:
            for s in range(first_step, steps):
                start = min(len(windows), s * batch)
                stop = min(len(windows), start + batch)
                # Every rank must set the same rate: each owns rows that all ranks update.
                # A resumed run sets the rate in force at its first step, as the run that
                # was interrupted had it.
                if s == first_step or s % every == 0:
                    with phase("skipgram.set_lr"):
                        self.tables.set_lr(lr((s - s % every) / steps))
                result = self.step.run(windows, start, stop, self.config.seed, stream * 65536 + s)
                yield result.loss, result.pairs

        return steps, run()
