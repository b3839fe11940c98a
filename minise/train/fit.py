"""The training loop: ``fit`` trains for some epochs and keeps everything a real run needs.

    history = fit(model, train_loader, val_loader, optimizer, scheduler, epochs=20, out_dir="runs/a")

The pieces, each in its own file: one step (:mod:`.step`: forward, loss, backward, update, and the
divergence checks), one epoch (:mod:`.epoch`: the steps, validation, the epoch's row and
checkpoint), and the bookkeeping around them (:mod:`.run`: checkpoints, resuming, last.npz and
best.npz; :mod:`.interrupt`: Ctrl-C).

What ``fit`` promises:

* metrics per epoch (``metrics.jsonl``, ``metrics.csv``) and two checkpoints in ``out_dir``:
  ``last.npz`` after every epoch and ``best.npz``, the highest validation accuracy (of equal
  accuracies, the lower validation loss);
* ``fit(..., resume=True)`` continues exactly where the run stopped: 2 + 2 epochs give the same
  weights, bit for bit, as 4 straight, whether the run was stopped by Ctrl-C or killed;
* Ctrl-C finishes the step in progress, saves ``last.npz`` and re-raises KeyboardInterrupt; a
  second Ctrl-C stops at once and leaves the checkpoints on disk as they were; SIGTERM does what
  Ctrl-C does and raises :class:`~.interrupt.Terminated`;
* a diverging run (a NaN or infinite loss, a loss ``divergence`` times its first, a weight or
  buffer that is no longer finite) stops with :class:`DivergenceError` naming the step; the
  checkpoints on disk are left as they were.
"""
import os
import sys

from .. import rng
from ..functional.loss import cross_entropy
from .checkpoint import load_checkpoint
from .epoch import finish_epoch, train_epoch, validate
from .evaluate import model_device
from .interrupt import HardInterrupt, Interrupts, Terminated
from .metrics import MetricsWriter
from .progress import ProgressBar
from .run import Files, History, kinds, position, restore


class Run:
    """What one call of :func:`fit` works with, and where it stands (``at``)."""

    def __init__(self, model, optimizer, scheduler, train_loader, val_loader, loss_fn, epochs, out_dir, config,
                 log, progress, callback, divergence):
        self.model, self.optimizer, self.scheduler = model, optimizer, scheduler
        self.train_loader, self.val_loader, self.loss_fn = train_loader, val_loader, loss_fn
        self.epochs, self.config, self.callback, self.divergence = int(epochs), config or {}, callback, divergence
        self.device = model_device(model)
        self.bar = ProgressBar(log, live=progress)
        self.files = Files(out_dir)
        self.writer = MetricsWriter(out_dir) if out_dir is not None else None
        self.history = History()
        self.history.out_dir, self.history.last_checkpoint = out_dir, self.files.last
        self.first_loss, self.at, self.validating, self.interrupts = None, None, False, Interrupts()

    def checkpoint(self, at):
        """The checkpoint of position ``at``: model, optimizer, schedule, loader, generator, records."""
        h = self.history
        return {"model": dict(self.model.state_dict()), "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
                "epoch": at["epoch"], "epochs": self.epochs, "partial": at["partial"], "loader": at["loader"],
                "rng": at["rng"], "best_accuracy": h.best_accuracy, "best_loss": h.best_loss,
                "best_epoch": h.best_epoch, "first_loss": self.first_loss, "config": self.config,
                "kinds": kinds(self.model, self.optimizer, self.scheduler)}

    def resume(self, resume):
        """Load the checkpoint to continue from; returns (epochs done, sums of the epoch in progress)."""
        path = self.files.last if resume is True else os.fspath(resume)
        state = load_checkpoint(path)
        restore(state, self.model, self.optimizer, self.scheduler, self.train_loader, self.config, path)
        h, partial = self.history, state.get("partial")
        h.best_accuracy, h.best_loss, h.best_epoch = state.get("best_accuracy"), state.get("best_loss"), \
            state.get("best_epoch")
        self.first_loss = state.get("first_loss")
        self.at = {"epoch": state["epoch"], "partial": partial, "rng": state.get("rng"), "loader": state.get("loader")}
        if resume is True:
            self.files.resumed(self.at, state)
            if self.files.reconcile_best(state):
                self.bar.message(f"{self.files.best} lagged behind {path} (a run stopped between the two saves); "
                                 "it is now a copy of it")
        if self.writer is not None:
            h.extend(self.writer.reset(keep_epochs=state["epoch"]))
        self.bar.message(f"resuming from {path}: {state['epoch']} epoch(s) done"
                         + (f", {partial['steps']} batch(es) into epoch {state['epoch'] + 1}" if partial else ""))
        return state["epoch"], partial


def _check_arguments(epochs, resume, out_dir):
    if int(epochs) != epochs or epochs < 1:
        raise ValueError(f"epochs must be a positive integer; got {epochs!r}")
    if resume and out_dir is None and not isinstance(resume, (str, os.PathLike)):
        raise ValueError("resume=True needs out_dir, the folder that holds last.npz")


def _on_interrupt(run, error, hint):
    """Ctrl-C: save where the run stands (unless a second Ctrl-C cut a step or a save), and say so."""
    epoch, partial = run.at["epoch"], run.at["partial"]
    where = (f"at epoch {epoch + 1}, after batch {partial['steps']}" if partial else f"after epoch {epoch}") + \
        (" (validating)" if run.validating else "")
    files = run.files
    stopped = "terminated (SIGTERM)" if isinstance(error, Terminated) else "interrupted"
    if isinstance(error, HardInterrupt):
        kept = f"{files.last} holds {files.saved_text}" if files.saved_text else "no checkpoint was written"
        run.bar.message(f"\nstopped at once by a second Ctrl-C {where}; nothing half-done was saved: {kept}.")
        return
    if files.last is None:
        run.bar.message(f"\n{stopped} {where}; nothing saved (no out_dir).")
        return
    if files.saved is not run.at:
        try:
            with run.interrupts.guard():
                files.save(run.checkpoint(run.at), run.at)
        except HardInterrupt:
            kept = f"{files.last} is as it was" if files.saved_text else "no checkpoint was written"
            run.bar.message(f"\nstopped at once by a second Ctrl-C while saving {where}; {kept}.")
            raise
    run.bar.message(f"\n{stopped} {where}; saved {files.last}. To continue: "
                    f"{hint or f'call fit(..., out_dir={files.out_dir!r}, resume=True)'}")


def fit(model, train_loader, val_loader, optimizer, scheduler=None, epochs=10, loss_fn=cross_entropy,
        out_dir=None, resume=False, progress=True, seed=None, log=sys.stderr, callback=None, config=None,
        resume_hint=None, divergence=1e3):
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
        config: JSON-able settings stored in every checkpoint; resuming refuses a checkpoint whose
            config differs in a key of ``RESUME_MUST_MATCH``, or whose model, optimizer or scheduler
            was of another class (:class:`ResumeMismatchError`, naming the key).
        resume_hint: how to continue after Ctrl-C, shown in the message (default:
            "call fit(..., out_dir=..., resume=True)").
        divergence: stop when a batch's loss exceeds this many times the run's first (at least 1);
            None: only NaN, infinity and non-finite weights stop the run.
    """
    _check_arguments(epochs, resume, out_dir)
    if seed is not None:
        rng.manual_seed(seed)
        if hasattr(train_loader, "seed"):
            train_loader.seed = int(seed)
    run = Run(model, optimizer, scheduler, train_loader, val_loader, loss_fn, epochs, out_dir, config, log, progress,
              callback, divergence)
    start, partial = run.resume(resume) if resume else (0, None)
    if not resume:
        run.at = position(0, None, train_loader)             # what a Ctrl-C before the first step saves
        if run.writer is not None:
            run.writer.reset()
    with run.interrupts:
        try:
            for epoch in range(start, run.epochs):
                sums = train_epoch(run, epoch, partial)
                partial = None
                finish_epoch(run, epoch, sums, validate(run, epoch, sums))
        except KeyboardInterrupt as error:
            _on_interrupt(run, error, resume_hint)
            raise
    if run.files.best is not None and os.path.exists(run.files.best):
        run.history.best_checkpoint = run.files.best
    return run.history
