"""Training: the loop (:func:`fit`), :func:`evaluate`, checkpoints, metrics files and a progress bar.

    from minise.train import fit, evaluate
    history = fit(model, train_loader, val_loader, optimizer, scheduler, epochs=20, out_dir="runs/demo")
    print(evaluate(model, test_loader))          # {'loss': ..., 'accuracy': ..., 'count': ...}
"""
from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from .fit import History, NonFiniteLossError, evaluate, fit, restore
from .metrics import COLUMNS, MetricsWriter, plot_metrics, read_metrics
from .progress import ProgressBar

__all__ = ["fit", "evaluate", "restore", "History", "NonFiniteLossError", "CheckpointError", "save_checkpoint",
           "load_checkpoint", "MetricsWriter", "read_metrics", "plot_metrics", "COLUMNS", "ProgressBar"]
