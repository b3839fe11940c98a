"""Block timing shared by the benchmark scripts.

After a call, a BLAS's or OpenMP's worker threads keep spinning for a while (OpenBLAS's for about
0.1 s) and take a core from whatever runs next. Alternating single calls of two libraries therefore
slows both down, each by the other's leftover threads. Here the libraries take turns in blocks:
a pause (``settle`` seconds), one untimed warm-up call, then ``repeats`` timed calls. Several
rounds of blocks spread a noisy spell of the machine over every step.
"""
import statistics
import time


def block_medians(steps, rounds, repeats, settle, warmup=True):
    """Median seconds of each step over all its timed calls, and per round the median of its block
    (``warmup=False``: no untimed call before a block, for steps that take many seconds).

    Returns (overall, per_round): ``overall[i]`` is step i's median, ``per_round[i][r]`` the median of
    its block in round r (compare two steps round by round to see how steady a ratio is).
    """
    times = [[[] for _ in range(rounds)] for _ in steps]
    for r in range(rounds):
        for step, record in zip(steps, times):
            time.sleep(settle)
            if warmup:
                step()                                           # warm-up: allocations, threads
            for _ in range(repeats):
                start = time.perf_counter()
                step()
                record[r].append(time.perf_counter() - start)
    overall = [statistics.median(sum(record, [])) for record in times]
    per_round = [[statistics.median(block) for block in record] for record in times]
    return overall, per_round
