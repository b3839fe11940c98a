"""One epoch: the steps over the training loader, then the epoch's row of metrics and its checkpoint."""
import math
import time

import numpy as np

from .evaluate import evaluate
from .progress import epoch_summary
from .run import position
from .step import Where, check_loss, train_step

EMPTY_SUMS = {"loss": 0.0, "correct": 0, "seen": 0, "steps": 0, "time": 0.0}


def train_epoch(run, epoch, partial=None):
    """Train epoch ``epoch`` (0-based), continuing the ``partial`` sums of an interrupted one.

    Each step is a guarded section (Ctrl-C waits for its end); ``run.at`` always holds the position
    a checkpoint would record right now. Returns the epoch's sums.
    """
    loader = run.train_loader
    if partial is None and hasattr(loader, "set_epoch"):
        loader.set_epoch(epoch)
    sums = dict(partial) if partial else dict(EMPTY_SUMS)
    if partial is None:
        run.at = position(epoch, sums, loader)
    batches = len(loader) if hasattr(loader, "__len__") else 0
    run.bar.start_epoch(epoch + 1, run.epochs, batches)
    run.model.train()
    started = time.perf_counter() - sums["time"]
    finished = batches and sums["steps"] >= batches         # interrupted after the epoch's last step
    for x, y in (() if finished else loader):
        where = Where(epoch + 1, sums["steps"] + 1, run.files.kept())
        with run.interrupts.guard():
            loss, correct = train_step(run.model, x, y, run.loss_fn, run.optimizer, run.device, where,
                                       run.first_loss, run.divergence)
            run.first_loss = loss / len(y) if run.first_loss is None else run.first_loss
            sums.update(loss=sums["loss"] + loss, correct=sums["correct"] + correct, seen=sums["seen"] + len(y),
                        steps=sums["steps"] + 1, time=time.perf_counter() - started)
            run.at = position(epoch, sums, loader)
        run.bar.update(sums["steps"], sums["loss"] / sums["seen"], sums["correct"] / sums["seen"],
                       sums["seen"] / max(sums["time"], 1e-9))
        if run.callback is not None:
            run.callback({"epoch": epoch + 1, "batch": sums["steps"], "loss": loss / len(y), "model": run.model,
                          "optimizer": run.optimizer})
    if sums["seen"] == 0:
        raise ValueError("the training loader gave no batch at all")
    return sums


def validate(run, epoch, sums):
    """The validation result (None without a validation loader); Ctrl-C here keeps the epoch's steps.
    A validation loss that is not finite or has exploded stops the run before the epoch is saved."""
    if run.val_loader is None:
        return None
    run.validating = True
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):     # a diverged model: the message below
        result = evaluate(run.model, run.val_loader, run.loss_fn)
    run.validating = False
    where = Where(epoch + 1, sums["steps"], run.files.kept(), label=f"the validation after epoch {epoch + 1}")
    check_loss(result["loss"], run.first_loss, run.divergence, where, "the validation loss", "saving that epoch")
    return result


def epoch_row(run, epoch, sums, result):
    row = {"epoch": epoch + 1, "lr": run.optimizer.param_groups[0]["lr"],
           "train_loss": sums["loss"] / sums["seen"], "train_accuracy": sums["correct"] / sums["seen"],
           "val_loss": None, "val_accuracy": None, "epoch_time": sums["time"],
           "images_per_second": sums["seen"] / max(sums["time"], 1e-9)}
    if result is not None:
        row["val_loss"], row["val_accuracy"] = result["loss"], result["accuracy"]
    return row


def is_best(history, row):
    """The highest accuracy (validation, else training); of equal accuracies, frequent on a small
    validation set, the lower loss."""
    split = "val" if row["val_accuracy"] is not None else "train"
    score, loss = row[f"{split}_accuracy"], row[f"{split}_loss"]
    best_loss = math.inf if history.best_loss is None else history.best_loss
    improved = history.best_accuracy is None or score > history.best_accuracy or \
        (score == history.best_accuracy and loss < best_loss)
    if improved:
        history.best_accuracy, history.best_loss, history.best_epoch = score, loss, row["epoch"]
    return improved


def finish_epoch(run, epoch, sums, result):
    """Step the schedule, record the row, write metrics and checkpoints: one guarded section, so a
    Ctrl-C here never leaves the schedule stepped but the checkpoint not written."""
    with run.interrupts.guard():
        row = epoch_row(run, epoch, sums, result)
        if run.scheduler is not None:
            run.scheduler.step()
        run.history.append(row)
        improved = is_best(run.history, row)
        run.at = position(epoch + 1, None, run.train_loader)
        if run.files.out_dir is not None:
            run.writer.append(row)
            run.files.save(run.checkpoint(run.at), run.at, best=improved)
    run.bar.end_epoch(epoch_summary(row, run.epochs))
