"""SkipGramConfig: every bad value is refused with the key, the value and the expected form."""

from __future__ import annotations

import pytest

from embedrec.core.errors import ConfigError
from embedrec.engine.skipgram.config import SkipGramConfig


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"dim": 0}, "dim"),
        ({"dim": -3}, "dim"),
        ({"window": 0}, "window"),
        ({"negative": -1}, "negative"),
        ({"negative": 0, "hs": False}, "negative"),
        ({"sample": 1.5}, "sample"),
        ({"lr": 0.0}, "lr"),
        ({"device": "tpu"}, "device"),
        ({"kernel": "fast"}, "kernel"),
        ({"kernel": "hogwild", "device": "cuda"}, "kernel"),
        ({"kernel": "hogwild", "optimizer": "rowwise_adagrad"}, "optimizer"),
        ({"sharding": "diagonal"}, "sharding"),
        ({"precision": "fp8"}, "precision"),
        ({"epochs": True}, "epochs"),
    ],
)
def test_bad_values_name_the_key(changes, key):
    with pytest.raises(ConfigError) as caught:
        SkipGramConfig(**changes)
    assert caught.value.key == key
    assert key in str(caught.value)


def test_optimizer_and_lr_follow_the_kernel():
    config = SkipGramConfig()
    assert config.resolved_optimizer("hogwild") == "sgd"
    assert config.resolved_lr("hogwild") == 0.025
    assert config.resolved_optimizer("torchrec") == "rowwise_adagrad"
    assert config.resolved_lr("torchrec") == 0.2
    assert SkipGramConfig(lr=0.05).resolved_lr("torchrec") == 0.05


def test_every_kernel_ends_at_a_sixth_of_the_rate_unless_told():
    # gensim's corpus_file end rate; the torchrec kernel annealed to 0 before and trailed
    # gensim's analogies on held-out text (docs/performance.md).
    assert SkipGramConfig(kernel="torchrec").resolved_final_lr_ratio() == pytest.approx(1 / 6)
    assert SkipGramConfig(kernel="hogwild").resolved_final_lr_ratio() == pytest.approx(1 / 6)
    assert SkipGramConfig(final_lr_ratio=0.0).resolved_final_lr_ratio() == 0.0


def test_round_trips_through_a_dict():
    config = SkipGramConfig(dim=64, hs=True, negative=0, sample=1e-4)
    assert SkipGramConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ConfigError):
        SkipGramConfig.from_dict({**config.to_dict(), "dimension": 3})
