"""Kill `minise train` at random moments, resume it, and check that it ends bit-identical.

    python tests/kill_loop.py --trials 20 [--seed 0] [--workdir DIR]

One *trial* trains a small SE-ResNet on the synthetic images to the end, but stops it again and
again before it gets there: at a random moment, or the moment a checkpoint's temporary file
appears (mid-save), with SIGKILL, SIGTERM, one Ctrl-C (SIGINT) or two Ctrl-Cs in quick succession. After
each stop the next attempt runs `minise train ... --resume` (or starts afresh when the first stop
came before any checkpoint). When an attempt finally finishes, its last.npz must hold exactly
the weights, buffers and optimizer state of an uninterrupted run, and best.npz must be the epoch
that last.npz names. tests/test_kill_loop.py runs a few fixed stops of the same kind in the
default test suite.
"""
import argparse
import glob
import os
import random
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TRAIN = ["train", "--dataset", "synthetic", "--width", "4", "--epochs", "3", "--batch-size", "32", "--quiet",
         "--val-fraction", "0.25"]
STOPS = ("kill", "ctrl-c", "double ctrl-c", "sigterm")


def _default_sigint():
    signal.signal(signal.SIGINT, signal.SIG_DFL)      # a shell running us in the background ignores SIGINT


def start(out_dir, resume):
    """`python -m minise train ...` as a child process that Ctrl-C reaches as it would in a terminal."""
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    argv = [sys.executable, "-m", "minise"] + TRAIN + ["--out", out_dir] + (["--resume"] if resume else [])
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            preexec_fn=_default_sigint)


def wait_for_a_save(process, out_dir, timeout):
    """Poll until a checkpoint's temporary file exists (a save is in progress); False if none came."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        if glob.glob(os.path.join(out_dir, ".*.npz.*.tmp")):
            return True
        time.sleep(0.0005)
    return False


def stop(process, how):
    if process.poll() is not None:
        return
    if how == "kill":
        process.send_signal(signal.SIGKILL)
    elif how == "sigterm":
        process.send_signal(signal.SIGTERM)
    else:
        process.send_signal(signal.SIGINT)
        if how == "double ctrl-c":
            time.sleep(random.uniform(0.0, 0.05))
            if process.poll() is None:
                process.send_signal(signal.SIGINT)


def attempt(out_dir, how, when, timeout=300):
    """One run, stopped ``how`` at ``when`` (seconds after start, or "save"); returns its exit status."""
    resume = os.path.exists(os.path.join(out_dir, "last.npz"))
    process = start(out_dir, resume)
    if when == "save":
        wait_for_a_save(process, out_dir, timeout)
    else:
        try:
            process.wait(timeout=when)
        except subprocess.TimeoutExpired:
            pass
    stop(process, how)
    _, err = process.communicate(timeout=timeout)
    if process.returncode not in (0, 1, 130, 143, -signal.SIGKILL, -signal.SIGINT, -signal.SIGTERM):
        raise AssertionError(f"minise train ended with status {process.returncode}:\n{err.decode()}")
    if process.returncode == 1 and b"Traceback" in err:
        raise AssertionError(f"minise train failed:\n{err.decode()}")
    return process.returncode


def finish(out_dir, timeout=600):
    """Run (resume) to the end without stopping it."""
    process = start(out_dir, os.path.exists(os.path.join(out_dir, "last.npz")))
    _, err = process.communicate(timeout=timeout)
    if process.returncode != 0:
        raise AssertionError(f"the final run ended with status {process.returncode}:\n{err.decode()}")


def final_state(out_dir):
    """Every array of last.npz's model and optimizer, and the epochs of last.npz and best.npz."""
    from minise.train import load_checkpoint
    last, best = load_checkpoint(os.path.join(out_dir, "last.npz")), load_checkpoint(os.path.join(out_dir, "best.npz"))
    arrays = {f"model/{k}": v for k, v in last["model"].items()}
    for index, entries in last["optimizer"]["state"].items():
        arrays.update({f"optimizer/{index}/{k}": np.asarray(v) for k, v in entries.items()})
    assert best["epoch"] == last["best_epoch"], (best["epoch"], last["best_epoch"])
    return arrays, last["epoch"], best["epoch"]


def identical(a, b):
    """True when the two final states agree bit for bit (the differing names are printed otherwise)."""
    differing = [k for k in a[0] if k not in b[0] or a[0][k].tobytes() != b[0][k].tobytes()]
    if differing or a[1:] != b[1:] or a[0].keys() != b[0].keys():
        print(f"  differs: {differing[:5]} epochs {a[1:]} vs {b[1:]}")
        return False
    return True


def reference(workdir):
    out_dir = os.path.join(workdir, "reference")
    finish(out_dir)
    return final_state(out_dir)


def describe(when):
    return "a save" if when == "save" else f"{when:.2f}s"


def trial(workdir, index, stops, expected):
    """Train to the end through the given stops [(how, when), ...]; True if it ends bit-identical."""
    out_dir = os.path.join(workdir, f"trial{index}")
    statuses = [attempt(out_dir, how, when) for how, when in stops]
    finish(out_dir)
    same = identical(final_state(out_dir), expected)
    told = ", ".join(f"{how} at {describe(when)} -> {status}" for (how, when), status in zip(stops, statuses))
    print(f"trial {index}: {told}: {'bit-identical' if same else 'DIFFERENT'}", flush=True)
    return same, len(stops)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workdir", default=None)
    args = parser.parse_args(argv)
    random.seed(args.seed)
    workdir = args.workdir or tempfile.mkdtemp(prefix="minise-kill-loop-")
    started = time.monotonic()
    expected = reference(workdir)
    run_seconds = time.monotonic() - started
    results = []
    for index in range(args.trials):
        stops = [(random.choice(STOPS), "save" if random.random() < 0.3 else random.uniform(0.5, run_seconds))
                 for _ in range(random.randint(1, 4))]
        results.append(trial(workdir, index, stops, expected))
    same = sum(ok for ok, _ in results)
    print(f"{sum(n for _, n in results)} stops in {len(results)} trials; {same} of {len(results)} trials ended "
          f"bit-identical to the uninterrupted run (reference run {run_seconds:.1f}s; files in {workdir})")
    return 0 if same == len(results) else 1


if __name__ == "__main__":
    sys.path.insert(0, ROOT)
    raise SystemExit(main())
