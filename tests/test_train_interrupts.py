"""Training loses nothing to Ctrl-C, a second Ctrl-C, a kill between two saves, or divergence.

Each test sets the process's SIGINT handler to Python's default for its duration (the ``sigint``
fixture), so it behaves the same when pytest was started in the background, where the shell
ignores SIGINT and Python then installs no handler of its own.
"""
import io
import os
import signal
import subprocess
import sys

import numpy as np
import pytest
from test_train import assert_same_weights, setup, weights

from minise.functional.loss import cross_entropy
from minise.io import npz
from minise.train import DivergenceError, HardInterrupt, load_checkpoint, read_metrics
from minise.train import fit as fit_function


@pytest.fixture
def sigint():
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def fit(*args, **kwargs):
    kwargs.setdefault("log", None)
    return fit_function(*args, **kwargs)


def straight_run(epochs):
    model, train, val, optimizer, scheduler = setup()
    fit(model, train, val, optimizer, scheduler, epochs=epochs)
    return weights(model)


def ctrl_c_in_loss(at_steps):
    """A loss that sends SIGINT to the process during the training steps numbered ``at_steps``
    (1-based, counted over the whole call), as Ctrl-C pressed during a forward pass would."""
    steps = []

    def loss(logits, target):
        if logits.requires_grad:
            steps.append(1)
            for _ in range(at_steps.count(len(steps))):
                signal.raise_signal(signal.SIGINT)
        return cross_entropy(logits, target)
    return loss


def resume_and_compare(tmp_path, straight, epochs):
    model, train, val, optimizer, scheduler = setup(seed=11)
    fit(model, train, val, optimizer, scheduler, epochs=epochs, out_dir=tmp_path, resume=True)
    assert_same_weights(straight, weights(model))


def test_a_real_sigint_mid_step_finishes_that_step_then_saves(tmp_path, sigint):
    """SIGINT inside a step is held back until the step is applied; the checkpoint holds that step,
    and resuming matches a straight run."""
    straight = straight_run(2)
    model, train, val, optimizer, scheduler = setup()
    log = io.StringIO()
    with pytest.raises(KeyboardInterrupt):
        fit(model, train, val, optimizer, scheduler, epochs=2, out_dir=tmp_path, log=log,
            loss_fn=ctrl_c_in_loss([5]))                  # epoch 2, batch 2 (3 batches per epoch)
    assert "interrupted at epoch 2, after batch 2" in log.getvalue()
    assert load_checkpoint(tmp_path / "last.npz")["partial"]["steps"] == 2
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler           # handler put back
    resume_and_compare(tmp_path, straight, 2)


def test_a_second_ctrl_c_mid_step_saves_nothing_and_keeps_the_good_checkpoint(tmp_path, sigint):
    """Two Ctrl-Cs inside one step: stop at once. The half-done step (batch norm's running
    statistics already hold its batch) is never saved: last.npz stays the end of epoch 1."""
    straight = straight_run(3)
    model, train, val, optimizer, scheduler = setup()
    log = io.StringIO()
    with pytest.raises(HardInterrupt):
        fit(model, train, val, optimizer, scheduler, epochs=3, out_dir=tmp_path, log=log,
            loss_fn=ctrl_c_in_loss([5, 5]))
    assert "second Ctrl-C" in log.getvalue() and "after epoch 1" in log.getvalue()
    saved = load_checkpoint(tmp_path / "last.npz")
    assert saved["epoch"] == 1 and saved["partial"] is None
    resume_and_compare(tmp_path, straight, 3)


def test_a_second_ctrl_c_while_saving_leaves_the_previous_checkpoint_whole(tmp_path, sigint, monkeypatch):
    """Ctrl-C mid-step, then another while last.npz is being written: the write is abandoned and
    the previous last.npz (end of epoch 1) is left byte for byte."""
    straight = straight_run(3)
    model, train, val, optimizer, scheduler = setup()
    fit(model, train, val, optimizer, scheduler, epochs=1, out_dir=tmp_path)
    before = (tmp_path / "last.npz").read_bytes()
    original, written = npz._write_entry, []

    def ctrl_c_on_the_third_entry(archive, name, array):
        written.append(name)
        if len(written) == 3:
            signal.raise_signal(signal.SIGINT)
        original(archive, name, array)
    monkeypatch.setattr(npz, "_write_entry", ctrl_c_on_the_third_entry)
    model, train, val, optimizer, scheduler = setup()
    log = io.StringIO()
    with pytest.raises(HardInterrupt):
        fit(model, train, val, optimizer, scheduler, epochs=3, out_dir=tmp_path, resume=True, log=log,
            loss_fn=ctrl_c_in_loss([2]))
    assert "while saving" in log.getvalue() and "is as it was" in log.getvalue()
    assert (tmp_path / "last.npz").read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["best.npz", "last.npz", "metrics.csv", "metrics.jsonl"]
    monkeypatch.setattr(npz, "_write_entry", original)
    resume_and_compare(tmp_path, straight, 3)


def test_ctrl_c_during_the_end_of_epoch_save_finishes_it_and_says_so(tmp_path, sigint, monkeypatch):
    """Ctrl-C while the epoch's checkpoint is written: the save completes (last.npz and best.npz),
    then training stops with the usual message; in epoch 1 too."""
    straight = straight_run(2)
    original = npz._write_entry
    calls = []

    def ctrl_c_once(archive, name, array):
        calls.append(name)
        if len(calls) == 3:
            signal.raise_signal(signal.SIGINT)
        original(archive, name, array)
    monkeypatch.setattr(npz, "_write_entry", ctrl_c_once)
    model, train, val, optimizer, scheduler = setup()
    log = io.StringIO()
    with pytest.raises(KeyboardInterrupt) as caught:
        fit(model, train, val, optimizer, scheduler, epochs=2, out_dir=tmp_path, log=log)
    assert not isinstance(caught.value, HardInterrupt)
    assert "interrupted at after epoch 1" not in log.getvalue() and "interrupted after epoch 1; saved" in log.getvalue()
    saved, best = load_checkpoint(tmp_path / "last.npz"), load_checkpoint(tmp_path / "best.npz")
    assert saved["epoch"] == best["epoch"] == 1 and saved["partial"] is None
    assert len(read_metrics(tmp_path)) == 1
    monkeypatch.setattr(npz, "_write_entry", original)
    resume_and_compare(tmp_path, straight, 2)


# -- kills between saves, leftovers ------------------------------------------------------------

def scripted_validation(monkeypatch, accuracies):
    import importlib
    scripted = iter(accuracies)
    monkeypatch.setattr(importlib.import_module("minise.train.epoch"), "evaluate",
                        lambda model, loader, loss_fn: {"accuracy": next(scripted), "loss": 0.5, "count": 64})


def test_a_best_npz_left_behind_by_a_kill_between_the_saves_is_caught_up_at_resume(tmp_path, monkeypatch):
    """A kill after last.npz (epoch 2, the best) but before best.npz: best.npz still holds epoch 1.
    Resuming sees it lag behind what last.npz records and makes it a copy of last.npz."""
    scripted_validation(monkeypatch, [0.5, 0.9])
    model, train, val, optimizer, scheduler = setup()
    fit(model, train, val, optimizer, scheduler, epochs=1, out_dir=tmp_path)
    best_after_epoch_1 = (tmp_path / "best.npz").read_bytes()
    model, train, val, optimizer, scheduler = setup()
    fit(model, train, val, optimizer, scheduler, epochs=2, out_dir=tmp_path, resume=True)
    (tmp_path / "best.npz").write_bytes(best_after_epoch_1)          # the state on disk after such a kill
    assert load_checkpoint(tmp_path / "last.npz")["best_epoch"] == 2
    model, train, val, optimizer, scheduler = setup()
    log = io.StringIO()
    fit(model, train, val, optimizer, scheduler, epochs=2, out_dir=tmp_path, resume=True, log=log)
    assert "now a copy" in log.getvalue()
    assert (tmp_path / "best.npz").read_bytes() == (tmp_path / "last.npz").read_bytes()


def test_temporary_files_of_a_killed_run_are_removed_at_the_next_start(tmp_path):
    dead = int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True).stdout)
    model, train, val, optimizer, scheduler = setup()
    fit(model, train, val, optimizer, scheduler, epochs=1, out_dir=tmp_path)
    for name in (f".last.npz.{dead}.k3j2.tmp", f".best.npz.{dead}.x.tmp", f".metrics.csv.{dead}.y.tmp"):
        (tmp_path / name).write_bytes(b"half a file")
    model, train, val, optimizer, scheduler = setup()
    fit(model, train, val, optimizer, scheduler, epochs=2, out_dir=tmp_path, resume=True)
    assert sorted(os.listdir(tmp_path)) == ["best.npz", "last.npz", "metrics.csv", "metrics.jsonl"]


# -- divergence -------------------------------------------------------------------------------

def test_a_non_finite_buffer_stops_training_naming_it_and_keeps_the_checkpoint(tmp_path):
    """A weight or a running statistic that is no longer finite (the loss may still be) stops the run
    after that step, with last.npz as it was."""
    model, train, val, optimizer, scheduler = setup()
    fit(model, train, val, optimizer, scheduler, epochs=1, out_dir=tmp_path)
    good = (tmp_path / "last.npz").read_bytes()

    def no_further_step(info):
        if info["epoch"] == 2 and info["batch"] == 2:
            raise AssertionError("the step after the poisoned one must not run")

    def poisoned_loss(logits, target):
        if logits.requires_grad and len(calls) == 1:
            bn = dict(model.named_modules())["layer1.0.bn1"]
            bn.running_var[0] = np.inf                   # as a diverging batch's variance would
        calls.append(1)
        return cross_entropy(logits, target)
    calls = []
    model, train, val, optimizer, scheduler = setup()
    with pytest.raises(DivergenceError, match=r"epoch 2, batch 2: after that step layer1.0.bn1.running_var "
                                              r"holds NaN or infinity.*last.npz \(after epoch 1\) is unchanged"):
        fit(model, train, val, optimizer, scheduler, epochs=3, out_dir=tmp_path, resume=True,
            loss_fn=poisoned_loss, callback=no_further_step)
    assert (tmp_path / "last.npz").read_bytes() == good


def test_a_loss_exploding_far_past_its_start_stops_before_the_step(tmp_path):
    model, train, val, optimizer, scheduler = setup()
    steps = []

    def exploding(logits, target):
        if logits.requires_grad:
            steps.append(1)
        loss = cross_entropy(logits, target)
        return loss * 1e5 if len(steps) == 5 else loss
    with pytest.raises(DivergenceError, match=r"epoch 2, batch 2: the loss was .*more than 1000 times the first "
                                              r"batch's .*last.npz \(after epoch 1\) is unchanged") as caught:
        fit(model, train, val, optimizer, scheduler, epochs=3, out_dir=tmp_path, loss_fn=exploding)
    assert (caught.value.epoch, caught.value.batch) == (2, 2)
    assert load_checkpoint(tmp_path / "last.npz")["epoch"] == 1
    model, train, val, optimizer, scheduler = setup()
    steps.clear()
    history = fit(model, train, val, optimizer, scheduler, epochs=2, loss_fn=exploding, divergence=None)
    assert len(history) == 2                                  # divergence=None: only non-finite values stop
