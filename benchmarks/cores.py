"""Forward + backward time of each recurrent core's scans, sequential vs parallel, by length.

    .venv/bin/python -m benchmarks.cores                      # minGRU, T = 64 ... 4096 (< 1 min)
    .venv/bin/python -m benchmarks.cores --cores all          # every core with a parallel form
    .venv/bin/python -m benchmarks.cores --write              # also the "cores" section

One core at a time (batch 8, width 256, float32 on ``--threads`` threads, default 2): after one
warm-up call of each scan, the median of ``--repeats`` rounds in which every scan runs
``forward`` then ``backward`` of ``y.sum() + state.sum()`` once, on the same module and input. The issue's bar:
minGRU's parallel scan at least 3x faster than its own sequential mode at T = 1024.

Prints the machine line and the load average at the start (timings on a busy machine are not
comparable); writes BENCHMARKS.md only with ``--write``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

from benchmarks.common import machine, write_section

SEQ_LENS = (64, 256, 1024, 4096)
BATCH, WIDTH = 8, 256


def factories() -> dict[str, tuple[Callable[[], object], int]]:
    """Every core with a parallel form at width 256, and the longest T it is timed at.

    minGRU comes first: it is the issue's bar. mLSTM's parallel form holds ``(T, T)`` matrices
    per head and S6 ``(T, D, N)`` states (at T = 4096 several GiB), so they stop at 1024.
    """
    from models.cores import LRU, MLSTM, S6, MinGRU, MinLSTM

    return {
        "mingru": (lambda: MinGRU(WIDTH, WIDTH), 4096),
        "minlstm": (lambda: MinLSTM(WIDTH, WIDTH), 4096),
        "lru": (lambda: LRU(WIDTH, WIDTH), 4096),
        "s6": (lambda: S6(WIDTH, 16), 1024),
        "mlstm": (lambda: MLSTM(WIDTH, WIDTH, heads=4), 1024),
    }


def time_scans(core, seq_len: int, repeats: int) -> dict[str, float]:
    """Median seconds of one forward + backward over ``(BATCH, seq_len, width)``, per scan.

    The scans take turns within each round, so a busy spell on the machine hits them alike.
    """
    import torch

    x = torch.randn(BATCH, seq_len, core.input_size, generator=torch.Generator().manual_seed(0))
    x.requires_grad_()

    def once(scan: str) -> float:
        core.scan = scan
        started = time.perf_counter()
        y, state = core(x)
        parts = state if isinstance(state, tuple) else (state,)
        loss = y.sum() + sum(p.real.sum() if p.is_complex() else p.sum() for p in parts)
        loss.backward()
        return time.perf_counter() - started

    for scan in core.scans:  # warm-up
        once(scan)
    rounds = [{scan: once(scan) for scan in core.scans} for _ in range(repeats)]
    return {scan: statistics.median(r[scan] for r in rounds) for scan in core.scans}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cores", nargs="+", default=["mingru"], help="names, or 'all'")
    parser.add_argument("--seq-lens", nargs="+", type=int, default=list(SEQ_LENS))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--write", action="store_true", help="write the 'cores' section")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    table = factories()
    names = list(table) if args.cores == ["all"] else args.cores
    unknown = sorted(set(names) - set(table))
    if unknown:
        parser.error(f"unknown cores {unknown}; choose from {list(table)} or 'all'")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    lines = [
        f"Machine: {machine()}. Load average at the start: {load}.",
        f"Forward + backward, batch {BATCH}, width {WIDTH}, float32, median of {args.repeats}.",
        "",
        "| core | T | scan | ms | speed-up over sequential |",
        "|---|---:|---|---:|---:|",
    ]
    print(lines[0])
    for name in names:
        make, longest = table[name]
        core = make()
        for seq_len in (t for t in args.seq_lens if t <= longest):
            times = time_scans(core, seq_len, args.repeats)
            for scan, seconds in times.items():
                ratio = times["sequential"] / seconds
                line = f"| {name} | {seq_len} | {scan} | {seconds * 1e3:.1f} | {ratio:.2f}x |"
                lines.append(line)
                print(line, flush=True)
    body = "\n".join(lines)
    if args.write:
        write_section("cores", body)


if __name__ == "__main__":
    main()
