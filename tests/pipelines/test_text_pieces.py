"""Bounded memory per task and rerunnable tasks: a partition is read and encoded piece by
piece with the same result as all at once (text_partitions.read_segment_pieces,
EncodedTokens.concat), and task files appear whole or not at all (task_runner.task_output)."""

from __future__ import annotations

import itertools
import random
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import embedrec.pipelines.text.tasks as text_tasks
from embedrec.pipelines.runtime.task_runner import remove_stray_temp_files, task_output
from embedrec.pipelines.text.encoded import EncodedTokens
from embedrec.pipelines.text.partitions import Partition, Segment, read_segment, read_segment_pieces


def _messy_text(seed: int) -> bytes:
    """Lines of words with CRLF ends, invalid UTF-8, NUL bytes and empty lines."""
    rng = random.Random(seed)
    words = ["alpha", "beta", "gamma", "Ünïcode", "x", "delta."]
    lines = []
    for _ in range(200):
        kind = rng.random()
        if kind < 0.05:
            lines.append(b"bad \xff\xfe bytes")
        elif kind < 0.08:
            lines.append(b"nul \x00 inside")
        elif kind < 0.12:
            lines.append(b"")
        else:
            text = " ".join(rng.choice(words) for _ in range(rng.randint(1, 12)))
            lines.append(text.encode() + (b"\r" if rng.random() < 0.2 else b""))
    data = b"\n".join(lines)
    return data if seed % 2 else data + b"\n"  # with and without a final newline


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("piece_bytes", [1, 7, 100, 1 << 20])
def test_pieces_hold_the_same_lines_and_rejects_as_the_whole_segment(tmp_path, seed, piece_bytes):
    path = tmp_path / "text.txt"
    data = _messy_text(seed)
    path.write_bytes(b"skipped head\n" + data)
    segment = Segment(str(path), str(path), "plain", 13, 13 + len(data), first_line=2)
    lines, rejected = read_segment(segment)
    pieces = list(read_segment_pieces(segment, piece_bytes))
    assert [line for piece, _ in pieces for line in piece] == lines
    assert [r for _, bad in pieces for r in bad] == rejected
    assert len(rejected) > 5 and rejected[0].line > 2
    assert len(pieces) > 1 or piece_bytes >= len(data)


def test_concat_equals_encoding_everything_at_once():
    rng = random.Random(3)
    tokens = [rng.choice("abcdefghij") * rng.randint(1, 3) for _ in range(500)]
    offsets = sorted({0, len(tokens), *rng.sample(range(1, len(tokens)), 60)})
    whole = EncodedTokens.encode(tokens, offsets)
    cuts = [0, 5, 6, 40, len(offsets) - 1]  # sentence boundaries where the pieces split
    pieces = [
        EncodedTokens.encode(
            tokens[offsets[a] : offsets[b]], [o - offsets[a] for o in offsets[a : b + 1]]
        )
        for a, b in itertools.pairwise(cuts)
    ]
    joined = EncodedTokens.concat(pieces)
    assert joined.indices.tolist() == whole.indices.tolist()
    assert joined.offsets.tolist() == whole.offsets.tolist()
    assert joined.dictionary.equals(whole.dictionary)


def test_tokenize_writes_the_same_files_whatever_the_encoding_step(tmp_path, monkeypatch):
    path = tmp_path / "text.txt"
    data = _messy_text(0) * 5
    path.write_bytes(data)
    partition = Partition(0, (Segment(str(path), str(path), "plain", 0, len(data), 1),))

    def run(name: str, every: int) -> tuple[dict, Path]:
        monkeypatch.setattr(text_tasks, "_ENCODE_EVERY", every)
        ctx = text_tasks.TaskContext(
            stage=str(tmp_path / name),
            scratch=str(tmp_path / name / "scratch"),
            buckets=3,
            min_count=1,
            max_sentence_length=1000,
        )
        return text_tasks.tokenize_partition(partition, ctx), Path(ctx.scratch)

    small, small_dir = run("small", 5)
    whole, whole_dir = run("whole", 1 << 30)
    assert small == whole and small["raw_tokens"] > 1000
    files = sorted(p.relative_to(whole_dir) for p in whole_dir.rglob("*.parquet"))
    assert files == sorted(p.relative_to(small_dir) for p in small_dir.rglob("*.parquet"))
    for name in files:
        assert pq.read_table(small_dir / name).equals(pq.read_table(whole_dir / name)), name


def test_task_output_appears_whole_or_not_at_all(tmp_path):
    final = tmp_path / "b001" / "part-000007.parquet"
    with pytest.raises(RuntimeError), task_output(final) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("worker died")
    assert not final.exists() and not list(tmp_path.rglob("*.tmp"))
    for content in (b"first", b"second"):  # a rerun replaces the file
        with task_output(final) as tmp:
            assert tmp.parent == final.parent and tmp.name.startswith(".")
            tmp.write_bytes(content)
        assert final.read_bytes() == content


def test_stray_temp_files_of_killed_tasks_are_removed(tmp_path):
    (tmp_path / "corpus").mkdir()
    keep = [tmp_path / "corpus" / "part-000001.parquet", tmp_path / "vocab.parquet"]
    stray = [
        tmp_path / "corpus" / ".part-000002.parquet.k3j2l1.tmp",  # atomic_path's names
        tmp_path / ".vocab.parquet.0123456789ab.tmp",  # task_output's names
    ]
    for path in keep + stray:
        path.write_bytes(b"x")
    assert remove_stray_temp_files(tmp_path) == 2
    assert all(p.exists() for p in keep) and not any(p.exists() for p in stray)
