"""Pack what bench/gpu_check.py needs for a GPU host that reaches no package index.

    .venv/bin/python bench/gpu_bundle.py --out .gpu      # ~5 minutes here, most of it xz -9

Made for the image of the project's GPU tool (Python 3.12 with torch 2.11 + CUDA 13, numpy,
scipy, pyarrow and numba preinstalled; no fbgemm, torchrec, gensim, dask or faiss), whose
transfers take 64 MiB at a time. Steps:

1. **Wheels.** Every pin of ``--constraints`` but torch (``requirements/constraints-cuda-
   torch2.11.txt``), downloaded for CPython 3.12 on manylinux x86-64 (``pip download
   --no-deps``), unpacked into one folder that goes on ``PYTHONPATH`` there.
2. **One GPU architecture.** fbgemm-gpu's CUDA wheel is 465 MB; two thirds of it is machine
   code for the architectures the host does not have (sm_80, sm_100 beside sm_90). In each of
   its libraries the code of every architecture but ``--arch`` is overwritten with zeros in
   place — the offsets stay valid, the driver never reads those entries, the zeros compress
   to nothing.
3. **Data.** The shared corpus and evaluation sets, in ``gpusite-data/``.
4. **Pieces.** One xz tar of it all (~108 MiB), split into ``--pieces`` parts, each small
   enough to travel in one call beside the repository.

On the host, with the pieces in one folder::

    cat part-* | xz -dc | tar xi -C /tmp/site    # i: the tar is two archives back to back

docs/performance.md ("GPU") has the whole sequence as it ran.
"""

from __future__ import annotations

import argparse
import mmap
import os
import shutil
import struct
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("EMBEDREC_SHARED_DATA") or REPO.parent / "shared" / "data")
PLATFORMS = ("manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64")
PREINSTALLED = {"torch"}
FATBIN_MAGIC = 0xBA55ED50  # a fat binary's header; its entries follow
ELF_KIND = 2  # an entry of machine code (1 is PTX, kept whatever its architecture)


def pins(constraints: Path) -> list[str]:
    """``name==version`` lines of a constraints file, less what the image already has."""
    lines = [line.split("#")[0].strip() for line in constraints.read_text().splitlines()]
    return [line for line in lines if "==" in line and line.split("==")[0] not in PREINSTALLED]


def download(requirements: list[str], wheels: Path, python: str) -> None:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-q"]
    cmd += ["--python-version", python, "--implementation", "cp", "-d", str(wheels)]
    for platform in PLATFORMS:
        cmd += ["--platform", platform]
    subprocess.run([*cmd, *requirements], check=True)


def _section(elf: mmap.mmap, wanted: bytes) -> tuple[int, int] | None:
    """(file offset, size) of a section of a 64-bit little-endian ELF file, by name."""
    (shoff,) = struct.unpack_from("<Q", elf, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", elf, 0x3A)
    names_at = struct.unpack_from("<Q", elf, shoff + shstrndx * shentsize + 0x18)[0]
    for index in range(shnum):
        header = shoff + index * shentsize
        name_at = names_at + struct.unpack_from("<I", elf, header)[0]
        name = elf[name_at : elf.find(b"\0", name_at)]
        if name == wanted:
            offset, size = struct.unpack_from("<QQ", elf, header + 0x18)
            return offset, size
    return None


def keep_one_arch(library: Path, arch: int) -> Counter[int]:
    """Zero the machine code of every architecture but ``arch`` in ``library``'s fat
    binaries, in place; returns the bytes zeroed per architecture."""
    zeroed: Counter[int] = Counter()
    with open(library, "r+b") as handle, mmap.mmap(handle.fileno(), 0) as elf:
        found = _section(elf, b".nv_fatbin")
        if found is None:
            return zeroed
        at, end = found[0], found[0] + found[1]
        while at + 16 <= end:
            magic, _, header_size, body_size = struct.unpack_from("<IHHQ", elf, at)
            if magic != FATBIN_MAGIC:  # alignment padding between fat binaries
                at += 8
                continue
            entry, stop = at + header_size, at + header_size + body_size
            while entry < stop:
                kind, _, entry_header, size = struct.unpack_from("<HHIQ", elf, entry)
                entry_arch = struct.unpack_from("<I", elf, entry + 28)[0]
                body = entry + entry_header
                if kind == ELF_KIND and entry_arch != arch:
                    elf[body : body + size] = bytes(size)
                    zeroed[entry_arch] += size
                entry = body + size
            if entry != stop:
                raise ValueError(f"{library.name}: a fat binary's entries overrun it at {entry}")
            at = stop
    return zeroed


def unpack(wheels: Path, site: Path) -> None:
    for wheel in sorted(wheels.glob("*.whl")):
        subprocess.run(["unzip", "-q", "-o", str(wheel), "-d", str(site)], check=True)


def pack(site: Path, out: Path, pieces: int) -> list[Path]:
    """xz tars of fbgemm_gpu and of the rest, back to back, split into ``pieces`` parts."""
    out.mkdir(parents=True, exist_ok=True)
    bundle = out / "bundle.tar.xz"
    with open(bundle, "wb") as sink:
        for members in (["fbgemm_gpu"], [p.name for p in site.iterdir() if p.name != "fbgemm_gpu"]):
            tar = subprocess.Popen(
                ["tar", "cf", "-", "-C", str(site), *members], stdout=subprocess.PIPE
            )
            subprocess.run(["xz", "-T0", "-9"], stdin=tar.stdout, stdout=sink, check=True)
            if tar.wait() != 0:
                raise subprocess.CalledProcessError(tar.returncode, tar.args)
    subprocess.run(["split", "-n", str(pieces), "-d", str(bundle), str(out / "part-")], check=True)
    bundle.unlink()
    return sorted(out.glob("part-*"))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=str(REPO / ".gpu"), help="where the pieces go")
    parser.add_argument(
        "--constraints", default=str(REPO / "requirements" / "constraints-cuda-torch2.11.txt")
    )
    parser.add_argument("--python", default="3.12", help="the host's Python")
    parser.add_argument("--arch", type=int, default=90, help="the GPU's sm number (H100/H200: 90)")
    parser.add_argument("--pieces", type=int, default=2)
    parser.add_argument("--data", default=str(SHARED), help="corpus/ and eval/ folders")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        wheels, site = Path(scratch) / "wheels", Path(scratch) / "site"
        site.mkdir()
        download(pins(Path(args.constraints)), wheels, args.python)
        unpack(wheels, site)
        zeroed: Counter[int] = Counter()
        for library in sorted((site / "fbgemm_gpu").rglob("*.so")):
            zeroed.update(keep_one_arch(library, args.arch))
        print(
            f"kept sm_{args.arch}; zeroed MiB per sm: { {a: n >> 20 for a, n in zeroed.items()} }"
        )
        shutil.rmtree(site / "gensim" / "test", ignore_errors=True)  # gensim's own test data
        data = site / "gpusite-data"
        data.mkdir()
        corpus, evals = Path(args.data, "corpus"), Path(args.data, "eval")
        for source in [*corpus.glob("*.txt.gz"), *evals.iterdir()]:
            shutil.copy(source, data / source.name)
        for piece in pack(site, Path(args.out), args.pieces):
            print(f"{piece}  {piece.stat().st_size / 2**20:.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
