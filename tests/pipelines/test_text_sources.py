"""Input discovery, scanning and partitioning (embedrec.pipelines.text.sources, text_partitions)."""

from __future__ import annotations

import bz2
import gzip
import lzma
import random
import shutil
from pathlib import Path

import pytest

from embedrec.core.errors import InputError
from embedrec.pipelines.text.partitions import (
    REJECT_INVALID_UTF8,
    REJECT_NUL_BYTE,
    decode_lines,
    plan_partitions,
    read_segment,
)
from embedrec.pipelines.text.sources import (
    FORMAT_PLAIN,
    FORMAT_WIKIEXTRACTOR,
    SKIP_BINARY,
    SKIP_DUPLICATE,
    SKIP_EMPTY,
    SKIP_HIDDEN,
    SKIP_UNREADABLE,
    InputFile,
    discover_inputs,
    scan_input,
)

ASSETS = Path(__file__).resolve().parents[1] / "assets" / "text"


def _scan(path: Path, tmp_path: Path, partition_bytes: int = 1 << 20):
    return scan_input(InputFile(0, str(path), str(path)), partition_bytes, str(tmp_path / "spool"))


def test_discover_walks_directories_in_sorted_order_and_expands_globs(tmp_path):
    for name in ["b/2.txt", "b/1.txt", "a.txt", "c/.hidden.txt", ".git/config", "empty/"]:
        path = tmp_path / "in" / name
        if name.endswith("/"):
            path.mkdir(parents=True)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("x\n")
    arguments = [str(tmp_path / "in"), str(tmp_path / "in" / "b" / "*.txt")]
    files, skipped = discover_inputs([*arguments, str(tmp_path / "in" / "empty")])
    rel = [Path(f.path).relative_to(tmp_path / "in").as_posix() for f in files]
    assert rel == ["a.txt", "b/1.txt", "b/2.txt"]
    assert [f.index for f in files] == [0, 1, 2]
    reasons = sorted((Path(s.path).name, s.reason) for s in skipped)
    assert reasons == [  # an empty sub-directory holds nothing; named, it is reported
        (".git", SKIP_HIDDEN),
        (".hidden.txt", SKIP_HIDDEN),
        ("1.txt", SKIP_DUPLICATE),
        ("2.txt", SKIP_DUPLICATE),
        ("empty", SKIP_EMPTY),
    ]


def test_discover_refuses_a_missing_path_and_an_empty_glob(tmp_path):
    with pytest.raises(InputError, match="no such file or directory"):
        discover_inputs([str(tmp_path / "missing.txt")])
    with pytest.raises(InputError, match="matches no files"):
        discover_inputs([str(tmp_path / "*.gz")])


@pytest.mark.parametrize(
    ("suffix", "opener"), [(".gz", gzip.open), (".bz2", bz2.open), (".xz", lzma.open)]
)
def test_scan_decompresses_by_content_and_spools(tmp_path, suffix, opener):
    text = (ASSETS / "plain.txt").read_bytes()
    path = tmp_path / f"plain{suffix}.data"  # the name says nothing: detection is by content
    with opener(path, "wb") as out:
        out.write(text)
    scan = _scan(path, tmp_path)
    assert scan.skipped is None
    assert scan.compression == suffix.lstrip(".").replace("gz", "gzip")
    assert (scan.bytes, scan.lines, scan.format) == (len(text), 4, FORMAT_PLAIN)
    assert Path(scan.read_path).read_bytes() == text


def test_text_that_starts_like_a_magic_number_stays_text(tmp_path):
    path = tmp_path / "bzh.txt"
    path.write_text("BZh91 is not an archive.\n")
    scan = _scan(path, tmp_path)
    assert scan.skipped is None and scan.compression == "none"
    empty_bz2 = tmp_path / "empty.bz2"
    empty_bz2.write_bytes(bz2.compress(b""))  # stream end right after "BZh9"
    assert _scan(empty_bz2, tmp_path).skipped.reason == SKIP_EMPTY


def test_scan_detects_wikiextractor_by_content(tmp_path):
    scan = _scan(ASSETS / "wiki_00", tmp_path)
    assert scan.format == FORMAT_WIKIEXTRACTOR
    assert scan.read_path == str(ASSETS / "wiki_00")  # plain files are read in place
    plain = tmp_path / "mentions.txt"
    plain.write_text('Text first.\n<doc id="1" title="x">\n')
    assert _scan(plain, tmp_path).format == FORMAT_PLAIN


def test_scan_skips_binary_empty_and_corrupt_inputs(tmp_path):
    (tmp_path / "bin").write_bytes(b"\x7fELF\x00\x01\x02" * 100)
    (tmp_path / "empty").write_bytes(b"")
    (tmp_path / "blank").write_bytes(b" \n\n\t\n")
    good = gzip.compress(b"some text\n" * 1000)
    (tmp_path / "cut.gz").write_bytes(good[: len(good) // 2])
    (tmp_path / "random").write_bytes(random.Random(0).randbytes(20000))
    (tmp_path / "utf16").write_bytes("Some text in UTF-16.\n".encode("utf-16"))
    (tmp_path / "stray_nul").write_bytes(b"text\n" * 5 + b"a \x00 b\n" + b"\xff\n")
    assert _scan(tmp_path / "bin", tmp_path).skipped.reason == SKIP_BINARY
    assert _scan(tmp_path / "random", tmp_path).skipped.reason == SKIP_BINARY
    assert _scan(tmp_path / "utf16", tmp_path).skipped.reason == SKIP_BINARY
    assert _scan(tmp_path / "stray_nul", tmp_path).skipped is None  # its lines are rejected
    assert _scan(tmp_path / "empty", tmp_path).skipped.reason == SKIP_EMPTY
    assert _scan(tmp_path / "blank", tmp_path).skipped.reason == SKIP_EMPTY
    corrupt = _scan(tmp_path / "cut.gz", tmp_path)
    assert corrupt.skipped.reason == SKIP_UNREADABLE
    assert not list((tmp_path / "spool").glob("*"))  # no spool left behind


def test_cuts_are_line_starts_with_exact_line_numbers(tmp_path):
    lines = [f"line {i} " + "x" * (i % 17) for i in range(1, 400)]
    path = tmp_path / "lines.txt"
    path.write_text("\n".join(lines))  # no final newline
    scan = _scan(path, tmp_path, partition_bytes=300)
    assert scan.lines == len(lines)
    assert len(scan.cuts) > 10
    data = path.read_bytes()
    for offset, before in scan.cuts:
        assert offset == 0 or data[offset - 1 : offset] == b"\n"
        assert data[:offset].count(b"\n") == before
    partitions = plan_partitions([scan], 300)
    read_back = []
    for partition in partitions:
        for segment in partition.segments:
            got, rejected = read_segment(segment)
            assert not rejected
            assert got[0] == lines[segment.first_line - 1]
            read_back.extend(got)
    assert read_back == lines


def test_plan_packs_small_files_together_in_input_order(tmp_path):
    scans = []
    for i in range(5):
        path = tmp_path / f"f{i}.txt"
        path.write_text(f"file {i}\n" * 3)
        scans.append(scan_input(InputFile(i, str(path), str(path)), 1000, str(tmp_path)))
    partitions = plan_partitions(scans, 50)
    assert [[Path(s.source).name for s in p.segments] for p in partitions] == [
        ["f0.txt", "f1.txt"],
        ["f2.txt", "f3.txt"],
        ["f4.txt"],
    ]
    assert [p.index for p in partitions] == [0, 1, 2]


def test_decode_lines_keeps_bad_lines_aside_escaped():
    data = b"good\r\nbad \xff\xfe end\nnul\x00here\n\nlast"
    lines, rejected = decode_lines(data, "src.txt", 10)
    assert lines == ["good", None, None, "", "last"]
    assert [(r.line, r.reason, r.raw) for r in rejected] == [
        (11, REJECT_INVALID_UTF8, "bad \\xff\\xfe end"),
        (12, REJECT_NUL_BYTE, "nul\\x00here"),
    ]
    assert all(r.source == "src.txt" for r in rejected)


def test_discover_accepts_a_symlinked_file_once(tmp_path):
    shutil.copy(ASSETS / "plain.txt", tmp_path / "a.txt")
    (tmp_path / "link.txt").symlink_to(tmp_path / "a.txt")
    files, skipped = discover_inputs([str(tmp_path / "a.txt"), str(tmp_path / "link.txt")])
    assert len(files) == 1
    assert [s.reason for s in skipped] == [SKIP_DUPLICATE]
