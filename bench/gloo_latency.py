"""What one column-kernel all_reduce costs on this host: gloo, N local ranks, no training.

    flock /tmp/embedrec-bench.lock .venv/bin/python bench/gloo_latency.py --ranks 2

Each rank all_reduces a float32 payload of one chunk's dots (512 pairs × (K + 1) = 3,072
floats, 12 KB) ``--calls`` times, first blocking (one call waits for the last), then two in
flight (the column runner's double-buffering, without the compute it overlaps). Prints
microseconds per call, the latency ``α`` that ``bench/skipgram_cost_model.py`` assumes for a
network (30 µs per message step), here measured over loopback between processes that share
the host's cores.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

CHUNK_FLOATS = 512 * 6  # 512 pairs × (K + 1); any payload from 64 B to 256 KB took ~1 ms here


def _rank(rank: int, world: int, port: int, calls: int, out: dict[str, float]) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=world)
    payload = [torch.ones(CHUNK_FLOATS), torch.ones(CHUNK_FLOATS)]
    for _ in range(50):  # warm the connections
        dist.all_reduce(payload[0])
    dist.barrier()
    started = time.perf_counter()
    for _ in range(calls):
        dist.all_reduce(payload[0])
    blocking = time.perf_counter() - started
    dist.barrier()
    started = time.perf_counter()
    pending = None
    for k in range(calls):
        work = dist.all_reduce(payload[k % 2], async_op=True)
        if pending is not None:
            pending.wait()
        pending = work
    if pending is not None:
        pending.wait()
    overlapped = time.perf_counter() - started
    if rank == 0:
        out["blocking_us"] = 1e6 * blocking / calls
        out["two_in_flight_us"] = 1e6 * overlapped / calls
    dist.destroy_process_group()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ranks", type=int, default=2)
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--port", type=int, default=29611)
    args = parser.parse_args()
    with mp.Manager() as manager:
        out = manager.dict()
        mp.spawn(_rank, args=(args.ranks, args.port, args.calls, out), nprocs=args.ranks)
        result = {"ranks": args.ranks, "calls": args.calls, "payload_bytes": 4 * CHUNK_FLOATS}
        result.update({key: round(value, 1) for key, value in out.items()})
    print(json.dumps(result))


if __name__ == "__main__":
    main()
