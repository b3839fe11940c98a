"""Training: the loop (:func:`fit`), :func:`evaluate`, checkpoints, metrics files and a progress bar.

    from minise.train import fit, evaluate
    history = fit(model, train_loader, val_loader, optimizer, scheduler, epochs=20, out_dir="runs/demo")
    print(evaluate(model, test_loader))          # {'loss': ..., 'accuracy': ..., 'count': ...}

    fit.py         the loop over epochs, Ctrl-C's message       step.py       one step, divergence checks
    epoch.py       one epoch: steps, validation, its checkpoint  run.py        resuming, last.npz / best.npz
    interrupt.py   Ctrl-C, SIGTERM wait for a step or a save      checkpoint.py the checkpoint file, its fields
    evaluate.py    loss and accuracy over a loader               metrics.py, progress.py  what a run reports
"""
from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from .evaluate import evaluate
from .fit import fit
from .interrupt import HardInterrupt, Terminated
from .metrics import COLUMNS, MetricsWriter, plot_metrics, read_metrics
from .progress import ProgressBar
from .run import RESUME_MUST_MATCH, History, ResumeMismatchError, restore
from .step import DivergenceError, NonFiniteLossError

__all__ = ["fit", "evaluate", "restore", "History", "DivergenceError", "NonFiniteLossError", "HardInterrupt",
           "Terminated", "ResumeMismatchError", "RESUME_MUST_MATCH", "CheckpointError", "save_checkpoint",
           "load_checkpoint", "MetricsWriter", "read_metrics", "plot_metrics", "COLUMNS", "ProgressBar"]
