"""The training loop: ``fit`` trains for some epochs, ``evaluate`` measures loss and accuracy.

    history = fit(model, train_loader, val_loader, optimizer, scheduler, epochs=20, out_dir="runs/a")

One training step, the heart of it all:

    logits = model(x)                      (B, classes)
    loss   = loss_fn(logits, y)            mean cross-entropy over the batch
    loss.backward()                        every parameter's .grad = ∂loss/∂parameter
    optimizer.step()                       parameters move against their gradients

Around it, ``fit`` keeps what a real run needs: a progress bar, per-epoch metrics
(``metrics.jsonl``, ``metrics.csv``), and two checkpoints in ``out_dir``: ``last.npz`` (after every
epoch) and ``best.npz`` (highest validation accuracy; of equal accuracies, frequent on a small
validation set, the lower validation loss). A checkpoint holds the model, optimizer, schedule,
epoch, data-loader and random-generator state, so ``fit(..., resume=True)`` continues exactly where
the run stopped: 2 + 2 epochs give the same weights as 4 straight.

Ctrl-C finishes the step in progress, saves ``last.npz`` (mid-epoch; during validation, with the
epoch's steps kept, so resuming validates) and re-raises KeyboardInterrupt. A NaN or infinite loss
stops training with :class:`NonFiniteLossError` before the bad step is applied; the checkpoints on
disk are left as they were.
"""
import math
import os
import signal
import sys
import threading
import time

import numpy as np

from .. import rng
from ..backend import get_array_module, to_device
from ..function import no_grad
from ..functional.loss import cross_entropy
from ..tensor import Tensor
from .checkpoint import load_checkpoint, save_checkpoint
from .metrics import MetricsWriter
from .progress import ProgressBar, epoch_summary


class NonFiniteLossError(FloatingPointError):
    """The loss became NaN or infinite; ``epoch`` and ``batch`` (1-based) say where."""

    def __init__(self, message, epoch, batch):
        super().__init__(message)
        self.epoch, self.batch = epoch, batch


class History(list):
    """The rows of metrics, one per epoch, plus where the run left its files."""
    out_dir = last_checkpoint = best_checkpoint = best_epoch = None
    best_accuracy = best_loss = None


def model_device(model):
    for p in model.parameters():
        return p.device
    return "cpu"


def _batch_stats(logits, y, loss):
    """(sum of the batch's losses, number of correct predictions) as Python numbers: one sync each."""
    xp = get_array_module(logits.data)
    correct = (xp.argmax(logits.data, axis=1) == y).sum().item()
    return loss.item() * y.shape[0], int(correct)


def evaluate(model, loader, loss_fn=cross_entropy):
    """Mean loss and accuracy of ``model`` over ``loader``, in eval mode and without a graph.

    Returns {'loss': float, 'accuracy': float in [0, 1], 'count': number of examples}.
    """
    was_training = model.training
    device = model_device(model)
    if hasattr(loader, "set_epoch"):
        loader.set_epoch(0)                    # the same batches at every evaluation
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    try:
        with no_grad():
            for x, y in loader:
                x, y = to_device(x, device), to_device(y, device)
                logits = model(Tensor(x))                                   # (B, classes)
                batch_loss, batch_correct = _batch_stats(logits, y, loss_fn(logits, Tensor(y)))
                total_loss, correct, count = total_loss + batch_loss, correct + batch_correct, count + y.shape[0]
    finally:
        model.train(was_training)
    if count == 0:
        raise ValueError("evaluate() got a loader without any batch")
    return {"loss": total_loss / count, "accuracy": correct / count, "count": count}


class _DeferInterrupt:
    """Hold back Ctrl-C until the current training step is complete (a second Ctrl-C stops at once)."""

    def __enter__(self):
        self.caught = False
        self.active = threading.current_thread() is threading.main_thread()
        if self.active:
            self.previous = signal.signal(signal.SIGINT, self._handler)
        return self

    def _handler(self, signum, frame):
        if self.caught:
            raise KeyboardInterrupt
        self.caught = True

    def __exit__(self, *exc):
        if self.active:
            signal.signal(signal.SIGINT, self.previous)
        if self.caught and exc[0] is None:
            raise KeyboardInterrupt
        return False


def fit(model, train_loader, val_loader, optimizer, scheduler=None, epochs=10, loss_fn=cross_entropy,
        out_dir=None, resume=False, progress=True, seed=None, log=sys.stderr, callback=None, config=None,
        resume_hint=None):
    """Train ``model`` for ``epochs`` epochs (in total, counting resumed ones); returns a :class:`History`.

    Args:
        model, optimizer, scheduler: what to train, how to step, how to schedule (stepped per epoch).
        train_loader, val_loader: minise.data.DataLoader (or any iterable of (x, y) batches);
            val_loader may be None. Batches are moved to the model's device.
        loss_fn: loss_fn(logits, targets) -> scalar Tensor.
        out_dir: folder for metrics and checkpoints (None: keep nothing on disk).
        resume: True continues from ``out_dir/last.npz``; a path continues from that checkpoint.
        progress: draw a live progress bar when ``log`` is a terminal (else one line per epoch).
        seed: seeds minise's generator and the training loader (the model must be built, seeded,
            beforehand). None leaves both as they are.
        log: where progress and messages go (stderr; None for silence).
        callback: callback(info) after every step; info holds epoch, batch, loss, model, optimizer.
        config: JSON-able settings stored in every checkpoint (the CLI keeps the model name there).
        resume_hint: how to continue after Ctrl-C, shown in the message (the CLI gives its command line);
            default: "fit(..., resume=True)".
    """
    if int(epochs) != epochs or epochs < 1:
        raise ValueError(f"epochs must be a positive integer; got {epochs!r}")
    if resume and out_dir is None and not isinstance(resume, (str, os.PathLike)):
        raise ValueError("resume=True needs out_dir, the folder that holds last.npz")
    if seed is not None:
        rng.manual_seed(seed)
        if hasattr(train_loader, "seed"):
            train_loader.seed = int(seed)
    bar = ProgressBar(log, live=progress)
    writer = MetricsWriter(out_dir) if out_dir is not None else None
    last_path = os.path.join(out_dir, "last.npz") if out_dir is not None else None
    best_path = os.path.join(out_dir, "best.npz") if out_dir is not None else None
    history = History()
    history.out_dir, history.last_checkpoint = out_dir, last_path
    device = model_device(model)
    start_epoch, partial, best = 0, None, None

    if resume:
        path = last_path if resume is True else os.fspath(resume)
        state = load_checkpoint(path)
        restore(state, model, optimizer, scheduler, train_loader, config)
        start_epoch, partial, best = state["epoch"], state.get("partial"), state.get("best_accuracy")
        history.best_accuracy, history.best_loss, history.best_epoch = best, state.get("best_loss"), \
            state.get("best_epoch")
        if writer is not None:
            history.extend(writer.reset(keep_epochs=start_epoch))
        bar.message(f"resuming from {path}: {start_epoch} epoch(s) done"
                    + (f", {partial['steps']} batch(es) into epoch {start_epoch + 1}" if partial else ""))
    elif writer is not None:
        writer.reset()

    def checkpoint(epoch, loader_state, rng_state, partial_sums):
        return {"model": dict(model.state_dict()), "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict() if scheduler is not None else None,
                "epoch": epoch, "epochs": int(epochs), "partial": partial_sums, "loader": loader_state,
                "rng": rng_state, "best_accuracy": history.best_accuracy, "best_loss": history.best_loss,
                "best_epoch": history.best_epoch,
                "config": config or {}}

    for epoch in range(start_epoch, int(epochs)):
        if partial is None and hasattr(train_loader, "set_epoch"):
            train_loader.set_epoch(epoch)
        sums = dict(partial) if partial else {"loss": 0.0, "correct": 0, "seen": 0, "steps": 0, "time": 0.0}
        partial = None
        loader_state = train_loader.state_dict() if hasattr(train_loader, "state_dict") else None
        rng_state = rng.get_state()
        batches = len(train_loader) if hasattr(train_loader, "__len__") else 0
        bar.start_epoch(epoch + 1, int(epochs), batches)
        model.train()
        started = time.perf_counter() - sums["time"]
        finished = batches and sums["steps"] >= batches         # interrupted after the epoch's last step
        result, validating = None, False
        try:
            for x, y in (() if finished else train_loader):
                # NumPy's overflow warnings are not shown: a diverging run ends in the clear message below
                with _DeferInterrupt(), np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                    x, y = to_device(x, device), to_device(y, device)
                    optimizer.zero_grad()
                    logits = model(Tensor(x))                               # (B, classes)
                    loss = loss_fn(logits, Tensor(y))
                    batch_loss, batch_correct = _batch_stats(logits, y, loss)
                    if not math.isfinite(batch_loss):
                        raise _non_finite(batch_loss, epoch + 1, sums["steps"] + 1, last_path)
                    loss.backward()
                    optimizer.step()
                    sums["loss"] += batch_loss
                    sums["correct"] += batch_correct
                    sums["seen"] += int(y.shape[0])
                    sums["steps"] += 1
                    sums["time"] = time.perf_counter() - started
                    if hasattr(train_loader, "state_dict"):
                        loader_state = train_loader.state_dict()
                    rng_state = rng.get_state()
                bar.update(sums["steps"], sums["loss"] / sums["seen"], sums["correct"] / sums["seen"],
                           sums["seen"] / max(sums["time"], 1e-9))
                if callback is not None:
                    callback({"epoch": epoch + 1, "batch": sums["steps"], "loss": batch_loss / int(y.shape[0]),
                              "model": model, "optimizer": optimizer})
            if val_loader is not None and sums["seen"]:
                validating = True                   # Ctrl-C now keeps the epoch's steps: resuming validates
                result = evaluate(model, val_loader, loss_fn)
        except KeyboardInterrupt:
            where = f"epoch {epoch + 1}, after batch {sums['steps']}" + (" (validating)" if validating else "")
            if last_path is not None:
                save_checkpoint(checkpoint(epoch, loader_state, rng_state, sums), last_path)
                hint = resume_hint or f"call fit(..., out_dir={out_dir!r}, resume=True)"
                bar.message(f"\ninterrupted at {where}; saved {last_path}. To continue: {hint}")
            else:
                bar.message(f"\ninterrupted at {where}; nothing saved (no out_dir).")
            raise
        if sums["seen"] == 0:
            raise ValueError("the training loader gave no batch at all")

        row = {"epoch": epoch + 1, "lr": optimizer.param_groups[0]["lr"],
               "train_loss": sums["loss"] / sums["seen"], "train_accuracy": sums["correct"] / sums["seen"],
               "val_loss": None, "val_accuracy": None, "epoch_time": sums["time"],
               "images_per_second": sums["seen"] / max(sums["time"], 1e-9)}
        if result is not None:
            row["val_loss"], row["val_accuracy"] = result["loss"], result["accuracy"]
        if scheduler is not None:
            scheduler.step()
        history.append(row)
        split = "val" if row["val_accuracy"] is not None else "train"
        score, score_loss = row[f"{split}_accuracy"], row[f"{split}_loss"]
        best_loss = math.inf if history.best_loss is None else history.best_loss
        # the highest accuracy; of equal accuracies (frequent on a small validation set) the lower loss
        improved = history.best_accuracy is None or score > history.best_accuracy or \
            (score == history.best_accuracy and score_loss < best_loss)
        if improved:
            history.best_accuracy, history.best_loss, history.best_epoch = score, score_loss, epoch + 1
        if writer is not None:
            writer.append(row)
            loader_state = train_loader.state_dict() if hasattr(train_loader, "state_dict") else None
            state = checkpoint(epoch + 1, loader_state, rng.get_state(), None)
            save_checkpoint(state, last_path)
            if improved:
                save_checkpoint(state, best_path)
        bar.end_epoch(epoch_summary(row, int(epochs)))
    if best_path is not None and os.path.exists(best_path):
        history.best_checkpoint = best_path
    return history


def _non_finite(value, epoch, batch, last_path):
    kept = f"; the last good checkpoint {last_path} is unchanged" if last_path and os.path.exists(last_path) else ""
    return NonFiniteLossError(f"the loss became {value} at epoch {epoch}, batch {batch}; training stopped before "
                              f"applying that step{kept}. Try a lower learning rate.", epoch, batch)


RESUME_MUST_MATCH = ("model", "dataset", "val_fraction", "batch_size")   # config keys, also CLI options


def restore(state, model, optimizer, scheduler, train_loader, config=None):
    """Load a checkpoint's model, optimizer, schedule, loader and generator state into the objects."""
    saved_config, wanted_config = state.get("config") or {}, config or {}
    for key in RESUME_MUST_MATCH:          # what makes the continued run the same run
        saved, wanted = saved_config.get(key), wanted_config.get(key)
        if saved is not None and wanted is not None and saved != wanted:
            option = "--" + key.replace("_", "-")
            raise ValueError(f"the checkpoint was trained with {key} {saved} but {wanted} was requested; "
                             f"use {option} {saved} to continue it, or another output folder to start afresh")
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    if scheduler is not None and state.get("scheduler") is not None:
        scheduler.load_state_dict(state["scheduler"])
        for group, lr in zip(optimizer.param_groups, scheduler.lr_at(scheduler.last_epoch)):
            group["lr"] = lr
    if state.get("loader") is not None and hasattr(train_loader, "load_state_dict"):
        train_loader.load_state_dict(state["loader"])
    if state.get("rng") is not None:
        rng.set_state(state["rng"])
