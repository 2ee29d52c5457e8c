"""Input partitions: every line owned by exactly one byte range, whatever the block size."""

from __future__ import annotations

import gzip

import pytest

from embedrec.core.errors import InputError
from embedrec.pipelines.clicks.inputs import expand_inputs, plan_partitions, read_partition_lines


def all_lines(parts):
    """(source, 1-based line, text) of every partition, numbered like the pipeline does."""
    seen, offsets = [], {}
    for part in parts:
        owned = list(read_partition_lines(part))
        base = offsets.get(part.source, 0)
        seen += [(part.source, base + n + 1, raw) for n, raw in owned]
        offsets[part.source] = base + len(owned)
    return seen


@pytest.mark.parametrize(
    "data",
    [
        b"alpha\nbeta\n\ngamma delta\nepsilon\n",
        b"alpha\r\nbeta\r\n\r\ngamma\r\n",
        b"no trailing newline\nlast",
        b"\n\n\n",
        b"x",
    ],
)
def test_every_block_size_gives_the_same_lines(tmp_path, data):
    path = tmp_path / "log.txt"
    path.write_bytes(data)
    expected = [(str(path), i + 1, line) for i, line in enumerate(_split(data))]
    for block_size in range(1, len(data) + 2):
        parts = plan_partitions([path], block_size)
        assert all_lines(parts) == expected, block_size
        assert [p.index for p in parts] == list(range(len(parts)))


def _split(data: bytes) -> list[bytes]:
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    return [line.removesuffix(b"\r") for line in lines]


def test_gzip_files_are_one_partition_and_empty_files_none(tmp_path):
    packed = tmp_path / "a.log.gz"
    packed.write_bytes(gzip.compress(b"one\ntwo\n"))
    empty = tmp_path / "b.log"
    empty.write_bytes(b"")
    plain = tmp_path / "c.log"
    plain.write_bytes(b"three\nfour\n")
    parts = plan_partitions([packed, empty, plain], block_size=4)
    assert [(p.gzip, p.source_index) for p in parts] == [
        (True, 0),
        (False, 2),
        (False, 2),
        (False, 2),
    ]
    assert [raw for _, _, raw in all_lines(parts)] == [b"one", b"two", b"three", b"four"]


def test_expand_inputs_orders_directories_and_rejects_missing(tmp_path):
    (tmp_path / "logs" / "sub").mkdir(parents=True)
    for name in ("logs/b.jsonl", "logs/a.jsonl", "logs/sub/c.jsonl", "logs/.hidden"):
        (tmp_path / name).write_text("{}\n")
    files = expand_inputs([str(tmp_path / "logs")])
    assert [f.relative_to(tmp_path).as_posix() for f in files] == [
        "logs/a.jsonl",
        "logs/b.jsonl",
        "logs/sub/c.jsonl",
    ]
    with pytest.raises(InputError, match="does not exist"):
        expand_inputs([str(tmp_path / "nope.jsonl")])
    (tmp_path / "void").mkdir()
    with pytest.raises(InputError, match="without input files"):
        expand_inputs([str(tmp_path / "void")])
