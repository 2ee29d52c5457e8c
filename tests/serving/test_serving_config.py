"""`ServeConfig`: safe defaults, one-place validation naming the key, JSON for the workers."""

from __future__ import annotations

import pytest

from embedrec.core.errors import ConfigError
from embedrec.serving.config import CONFIG_ENV, ServeConfig


def test_safe_defaults():
    config = ServeConfig(index="indexes/wiki")
    assert config.host == "127.0.0.1" and config.token is None and config.cors_origins == ()
    assert config.url == "http://127.0.0.1:8000"
    assert ServeConfig(index="x", host="::1", port=9).url == "http://[::1]:9"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("port", 70000),
        ("port", "80"),
        ("workers", 0),
        ("search_threads", -1),
        ("max_batch", 0),
        ("max_k", True),
        ("max_body_bytes", 10),
        ("host", " "),
        ("token", ""),
        ("token", "has space"),
        ("cors_origins", ("",)),
        ("reload_timeout", 0),
        ("omp_threads", 0),
        ("http", "h2"),
        ("loop", "trio"),
    ],
)
def test_bad_values_name_the_key(field, value):
    with pytest.raises(ConfigError) as error:
        ServeConfig(index="x", **{field: value})
    assert error.value.key == field
    if field == "token":
        assert "has space" not in str(error.value)


def test_json_round_trip_through_the_environment(monkeypatch):
    config = ServeConfig(index="x", token="abc", cors_origins=("https://a.example",), workers=3)
    monkeypatch.setenv(CONFIG_ENV, config.to_json())
    assert ServeConfig.from_environment() == config
    monkeypatch.delenv(CONFIG_ENV)
    with pytest.raises(ConfigError, match=CONFIG_ENV):
        ServeConfig.from_environment()
    assert config.public_dict()["token"] == "<set>"


def test_named_indexes_default_and_proxy_settings_round_trip():
    config = ServeConfig(
        index="indexes/wiki-hnsw",
        more_indexes=(("news", "indexes/news"),),
        default_index="news",
        proxy_headers=True,
        forwarded_allow_ips="10.0.0.5",
        root_path="/embedrec",
    )
    assert config.named_indexes() == {"wiki-hnsw": "indexes/wiki-hnsw", "news": "indexes/news"}
    assert config.default_name == "news"
    assert ServeConfig.from_json(config.to_json()) == config
    assert ServeConfig(index="/").named_indexes() == {"default": "/"}
    assert ServeConfig(index="x", index_name="wiki").default_name == "wiki"


@pytest.mark.parametrize(
    ("settings", "key"),
    [
        ({"index_name": "has space"}, "index_name"),
        ({"more_indexes": (("x", "elsewhere"),)}, "indexes"),  # "x" twice
        ({"more_indexes": (("ok", ""),)}, "more_indexes"),
        ({"default_index": "nope"}, "default_index"),
        ({"root_path": "embed"}, "root_path"),
        ({"root_path": "/embed/"}, "root_path"),
        ({"forwarded_allow_ips": " "}, "forwarded_allow_ips"),
    ],
)
def test_bad_index_and_proxy_settings_name_the_key(settings, key):
    with pytest.raises(ConfigError) as raised:
        ServeConfig(index="x", **settings)
    assert raised.value.key == key
