"""`RankerConfig` validation and round trips (no torch needed)."""

from __future__ import annotations

import pytest

from embedrec.core.errors import ConfigError
from embedrec.engine.ranker.config import RankerConfig, parse_widths


def test_defaults_round_trip_through_json_dict():
    config = RankerConfig(mlp=(64, 32), warm_start="models/wiki")
    data = config.to_dict()
    assert data["mlp"] == [64, 32] and data["warm_start"] == "models/wiki"
    assert RankerConfig.from_dict(data) == config


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"dim": 30}, "dim"),
        ({"dim": 0}, "dim"),
        ({"mlp": (64, 0)}, "mlp"),
        ({"mlp": "64"}, "mlp"),
        ({"epochs": 0}, "epochs"),
        ({"batch_size": True}, "batch_size"),
        ({"table_optimizer": "lamb"}, "table_optimizer"),
        ({"dense_optimizer": "sgd"}, "dense_optimizer"),
        ({"table_lr": 0}, "table_lr"),
        ({"dense_lr": 11.0}, "dense_lr"),
        ({"table_eps": 0}, "table_eps"),
        ({"table_eps": 2.0}, "table_eps"),
        ({"oov_rate": 0.9}, "oov_rate"),
        ({"position": "always"}, "position"),
        ({"device": "tpu"}, "device"),
        ({"sharding": "diagonal"}, "sharding"),
        ({"seed": -1}, "seed"),
        ({"checkpoint_every_seconds": 0}, "checkpoint_every_seconds"),
    ],
)
def test_bad_values_name_their_key(changes, key):
    with pytest.raises(ConfigError) as caught:
        RankerConfig(**changes)
    assert caught.value.key == key
    assert str(caught.value).startswith(f"{key}: got ")


def test_unknown_keys_in_a_saved_config_are_refused():
    with pytest.raises(ConfigError, match="colour"):
        RankerConfig.from_dict({**RankerConfig().to_dict(), "colour": "red"})


def test_parse_widths():
    assert parse_widths("mlp", "256, 64") == (256, 64)
    assert parse_widths("dense_mlp", "") == ()
    with pytest.raises(ConfigError, match="mlp: got '12x'"):
        parse_widths("mlp", "12x")
