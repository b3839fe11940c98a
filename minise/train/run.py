"""The bookkeeping around the steps: what a checkpoint holds, resuming, and last.npz / best.npz.

A checkpoint is written at the end of every epoch (``last.npz``; ``best.npz`` as a copy of it when
the epoch is the best so far) and after Ctrl-C. Three rules keep the two files trustworthy when a
run is killed at any moment:

* every file is written atomically, so each is whole (old or new); temporary files that a killed
  run left behind are removed at the next start;
* ``best.npz`` is written after ``last.npz`` and as a copy of it, and ``last.npz`` records which
  epoch is the best (``best_epoch``): a resume that finds best.npz older than last.npz says it
  should be (a kill between the two writes) copies last.npz over it;
* the metrics files are rewritten atomically before the checkpoint, and trimmed at resume to
  the epochs the checkpoint holds.
"""
import os

from .. import rng
from ..io import copy_file, remove_stale_temporaries
from ..nn import StateDictError
from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint

# config keys that make a run what it is: a resume that asks for another value is another run
RESUME_MUST_MATCH = ("model", "model_kwargs", "dataset", "num_classes", "in_channels", "val_fraction", "batch_size",
                     "augment", "optimizer", "lr", "weight_decay", "schedule", "warmup", "seed")
KINDS = ("model", "optimizer", "scheduler")      # whose class names a checkpoint records, to compare at resume


class ResumeMismatchError(ValueError):
    """The checkpoint's ``config[key]`` (or the class of its model, optimizer or scheduler, when
    ``kind``) differs from the requested one: it is another run."""

    def __init__(self, key, saved, wanted, kind=False):
        if kind:
            held = f"holds a {saved} {key}" if saved else f"was trained without a {key}"
            given = f"a {wanted} was given" if wanted else "none was given"
            text = (f"the checkpoint {held} but {given}; continue it as it was trained, or start afresh in "
                    "another out_dir")
        else:
            text = (f"the checkpoint was trained with config[{key!r}] = {saved!r} but {wanted!r} was requested; "
                    f"continue it with the same {key}, or start afresh in another out_dir")
        super().__init__(text)
        self.key, self.saved, self.wanted, self.kind = key, saved, wanted, kind


def kinds(model, optimizer, scheduler):
    """The class names a checkpoint records: {"model": "CifarResNet", "optimizer": "SGD", ...}."""
    return {key: type(obj).__name__ for key, obj in zip(KINDS, (model, optimizer, scheduler)) if obj is not None}


def check_same_run(state, model, optimizer, scheduler, config):
    """Raise ResumeMismatchError when the checkpoint ``state`` belongs to another run."""
    saved_config, wanted_config = state.get("config") or {}, config or {}
    for key in RESUME_MUST_MATCH:          # what makes the continued run the same run
        saved, wanted = saved_config.get(key), wanted_config.get(key)
        if saved is not None and wanted is not None and saved != wanted:
            raise ResumeMismatchError(key, saved, wanted)
    if state.get("kinds") is None:
        return                             # written before checkpoints recorded the classes
    saved_kinds, wanted_kinds = state["kinds"], kinds(model, optimizer, scheduler)
    for key in KINDS:
        saved, wanted = saved_kinds.get(key), wanted_kinds.get(key)
        if saved != wanted:
            raise ResumeMismatchError(key, saved, wanted, kind=True)


class History(list):
    """The rows of metrics, one per epoch, plus where the run left its files."""
    out_dir = last_checkpoint = best_checkpoint = best_epoch = None
    best_accuracy = best_loss = None


def _restore_part(part, path, load, value):
    try:
        load(value)
    except StateDictError:
        raise
    except (TypeError, KeyError, ValueError, IndexError, AttributeError) as exc:
        raise CheckpointError(f"{path}: its {part} state does not fit ({exc}); use another checkpoint") from None


def restore(state, model, optimizer, scheduler, train_loader, config=None, path="the checkpoint"):
    """Load a checkpoint's model, optimizer, schedule, loader and generator state into the objects."""
    check_same_run(state, model, optimizer, scheduler, config)
    _restore_part("model", path, model.load_state_dict, state["model"])
    _restore_part("optimizer", path, optimizer.load_state_dict, state["optimizer"])
    if scheduler is not None and state.get("scheduler") is not None:
        _restore_part("scheduler", path, scheduler.load_state_dict, state["scheduler"])
        for group, lr in zip(optimizer.param_groups, scheduler.lr_at(scheduler.last_epoch)):
            group["lr"] = lr
    if state.get("loader") is not None and hasattr(train_loader, "load_state_dict"):
        _restore_part("data loader", path, train_loader.load_state_dict, state["loader"])
    if state.get("rng") is not None:
        _restore_part("random generator", path, rng.set_state, state["rng"])


def position(epoch, partial, loader):
    """Where training stands: epochs done, the sums of the epoch in progress, loader and generator state."""
    return {"epoch": epoch, "partial": dict(partial) if partial else None, "rng": rng.get_state(),
            "loader": loader.state_dict() if hasattr(loader, "state_dict") else None}


class Files:
    """The run folder's checkpoints: last.npz, best.npz, and what the last save holds."""

    def __init__(self, out_dir):
        self.out_dir = out_dir
        self.last = os.path.join(out_dir, "last.npz") if out_dir is not None else None
        self.best = os.path.join(out_dir, "best.npz") if out_dir is not None else None
        self.saved = None                 # the position last written to last.npz (or resumed from)
        self.saved_text = None
        if out_dir is not None:
            os.makedirs(out_dir, exist_ok=True)
            remove_stale_temporaries(out_dir)

    def save(self, state, at, best=False):
        """Write last.npz (and best.npz as its copy); ``at`` is the position it holds."""
        save_checkpoint(state, self.last)
        if best:
            copy_file(self.last, self.best)
        self.saved = at
        self.saved_text = _describe(state)

    def resumed(self, at, state):
        """Resuming from last.npz: it holds position ``at``."""
        self.saved, self.saved_text = at, _describe(state)

    def kept(self):
        """How an error says that the checkpoint on disk is still the good one."""
        return f"; the last good checkpoint {self.last} ({self.saved_text}) is unchanged" if self.saved_text else ""

    def reconcile_best(self, state):
        """After a kill between the two writes, best.npz lags behind last.npz: copy last over it."""
        if state.get("partial") or state.get("best_epoch") != state["epoch"]:
            return False
        try:
            if load_checkpoint(self.best)["epoch"] == state["epoch"]:
                return False
        except (OSError, ValueError):
            pass                                  # missing or damaged: rebuilt from last.npz
        copy_file(self.last, self.best)
        return True


def _describe(state):
    partial = state.get("partial")
    if partial:
        return f"epoch {state['epoch'] + 1}, batch {partial['steps']}"
    return f"after epoch {state['epoch']}"
