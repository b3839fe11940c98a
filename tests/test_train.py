"""The training loop: it learns, resumes exactly, stops on NaN, saves on Ctrl-C, writes metrics."""
import csv
import io
import json
import os

import numpy as np
import pytest

import minise
from minise import rng
from minise.data import DataLoader, SyntheticImages, transforms
from minise.functional.loss import cross_entropy
from minise.models.cifar import CifarResNet
from minise.optim import SGD, Adam, CosineAnnealingLR, LinearWarmup
from minise.train import (
    COLUMNS,
    CheckpointError,
    NonFiniteLossError,
    ResumeMismatchError,
    evaluate,
    fit,
    load_checkpoint,
    read_metrics,
    save_checkpoint,
)
from minise.train.progress import ProgressBar


def setup(seed=0, n=96, batch_size=32, lr=0.05, warmup=True):
    """A tiny SE-ResNet-8 on 8×8 synthetic images, with augmentation, momentum and a schedule."""
    rng.manual_seed(seed)
    model = CifarResNet(depth=8, width=4, in_channels=1, num_classes=4, se=True, reduction=2)
    augment = transforms.RandomCrop(8, padding=1)
    train = DataLoader(SyntheticImages(n=n, num_classes=4, transform=augment), batch_size=batch_size,
                       shuffle=True, seed=seed)
    val = DataLoader(SyntheticImages(n=64, num_classes=4, train=False), batch_size=64)
    optimizer = SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=1e-3, nesterov=True)
    cosine = CosineAnnealingLR(optimizer, T_max=3)
    scheduler = LinearWarmup(optimizer, 1, after=cosine) if warmup else cosine
    return model, train, val, optimizer, scheduler


def weights(model):
    return {k: np.array(v) for k, v in model.state_dict().items()}


def assert_same_weights(a, b):
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def test_fit_learns_synthetic_images(tmp_path):
    model, train, val, optimizer, _ = setup(n=256, lr=0.1, warmup=False)
    before = evaluate(model, val)
    history = fit(model, train, val, optimizer, epochs=4, out_dir=tmp_path, log=None)
    assert len(history) == 4
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    assert history[-1]["val_accuracy"] > max(0.6, before["accuracy"] + 0.25)
    assert history.best_checkpoint == os.path.join(tmp_path, "best.npz")


def test_evaluate_matches_a_hand_computation():
    model, _, val, _, _ = setup()
    result = evaluate(model, val)
    x, y = next(iter(val))
    model.eval()
    logits = model(minise.Tensor(x)).numpy().astype(np.float64)
    log_p = logits - logits.max(1, keepdims=True)
    log_p -= np.log(np.exp(log_p).sum(1, keepdims=True))
    assert result["count"] == 64
    assert result["loss"] == pytest.approx(-log_p[np.arange(64), y].mean(), rel=1e-5)
    assert result["accuracy"] == pytest.approx((logits.argmax(1) == y).mean())
    assert model.training is False          # it was in eval mode before: left so


def test_resume_continues_exactly(tmp_path):
    model, train, val, optimizer, scheduler = setup()
    fit(model, train, val, optimizer, scheduler, epochs=4, out_dir=tmp_path / "straight", log=None)
    straight = weights(model)

    model, train, val, optimizer, scheduler = setup()
    fit(model, train, val, optimizer, scheduler, epochs=2, out_dir=tmp_path / "split", log=None)
    model, train, val, optimizer, scheduler = setup(seed=5)       # fresh objects, different init
    history = fit(model, train, val, optimizer, scheduler, epochs=4, out_dir=tmp_path / "split",
                  resume=True, log=None)
    assert_same_weights(straight, weights(model))
    assert [r["epoch"] for r in history] == [1, 2, 3, 4]
    straight_rows = read_metrics(tmp_path / "straight")
    split_rows = read_metrics(tmp_path / "split")
    for a, b in zip(straight_rows, split_rows):
        assert a["train_loss"] == b["train_loss"] and a["val_accuracy"] == b["val_accuracy"]


def test_best_checkpoint_is_the_highest_accuracy_and_of_equal_ones_the_lowest_loss(tmp_path, monkeypatch):
    import importlib
    fit_module = importlib.import_module("minise.train.epoch")
    scripted = iter([(0.5, 1.0), (0.9, 0.3), (0.9, 0.5), (0.8, 0.2), (0.9, 0.1)])     # (accuracy, loss)

    def scripted_evaluate(model, loader, loss_fn):
        accuracy, loss = next(scripted)
        return {"accuracy": accuracy, "loss": loss, "count": 64}
    monkeypatch.setattr(fit_module, "evaluate", scripted_evaluate)
    model, train, val, optimizer, scheduler = setup()
    history = fit(model, train, val, optimizer, scheduler, epochs=2, out_dir=tmp_path, log=None)
    assert (history.best_epoch, history.best_accuracy, history.best_loss) == (2, 0.9, 0.3)
    model, train, val, optimizer, scheduler = setup()
    history = fit(model, train, val, optimizer, scheduler, epochs=4, out_dir=tmp_path, resume=True, log=None)
    assert history.best_epoch == 2                   # epoch 3 ties at 0.9 with a higher loss than the saved best
    history = fit(model, train, val, optimizer, scheduler, epochs=5, out_dir=tmp_path, resume=True, log=None)
    assert (history.best_epoch, history.best_loss) == (5, 0.1)
    assert load_checkpoint(tmp_path / "best.npz")["epoch"] == 5


def test_seeded_runs_are_identical():
    results = []
    for _ in range(2):
        model, train, val, optimizer, scheduler = setup(seed=3)
        fit(model, train, val, optimizer, scheduler, epochs=2, log=None, seed=3)
        results.append(weights(model))
    assert_same_weights(*results)
    model, train, val, optimizer, scheduler = setup(seed=3)
    fit(model, train, val, optimizer, scheduler, epochs=2, log=None, seed=4)
    assert any(not np.array_equal(results[0][k], v) for k, v in weights(model).items())


class InterruptingLoader:
    """Wraps a DataLoader; raises KeyboardInterrupt (as Ctrl-C would) before batch ``at`` of epoch ``epoch``."""

    def __init__(self, loader, epoch, at):
        self.loader, self.epoch, self.at, self.armed = loader, epoch, at, True

    def __len__(self):
        return len(self.loader)

    def __getattr__(self, name):
        return getattr(self.loader, name)

    def __iter__(self):
        for b, batch in enumerate(self.loader):
            if self.armed and self.loader.epoch == self.epoch and b + 1 == self.at:
                self.armed = False
                raise KeyboardInterrupt
            yield batch


def test_ctrl_c_saves_a_checkpoint_that_resumes_exactly(tmp_path):
    model, train, val, optimizer, scheduler = setup()
    fit(model, train, val, optimizer, scheduler, epochs=3, log=None)
    straight = weights(model)

    model, train, val, optimizer, scheduler = setup()
    log = io.StringIO()
    with pytest.raises(KeyboardInterrupt):
        fit(model, InterruptingLoader(train, epoch=1, at=2), val, optimizer, scheduler, epochs=3,
            out_dir=tmp_path, log=log)
    assert "interrupted at epoch 2, after batch 1" in log.getvalue() and "resume=True" in log.getvalue()
    saved = load_checkpoint(tmp_path / "last.npz")
    assert saved["epoch"] == 1 and saved["partial"]["steps"] == 1
    assert len(read_metrics(tmp_path)) == 1

    model, train, val, optimizer, scheduler = setup(seed=9)
    history = fit(model, train, val, optimizer, scheduler, epochs=3, out_dir=tmp_path, resume=True, log=None)
    assert_same_weights(straight, weights(model))
    assert [r["epoch"] for r in history] == [1, 2, 3]


def test_ctrl_c_from_a_callback_after_the_last_batch(tmp_path):
    model, train, val, optimizer, scheduler = setup()
    fit(model, train, val, optimizer, scheduler, epochs=2, log=None)
    straight = weights(model)

    def stop(info):
        if info["epoch"] == 1 and info["batch"] == len(train):
            raise KeyboardInterrupt
    model, train, val, optimizer, scheduler = setup()
    with pytest.raises(KeyboardInterrupt):
        fit(model, train, val, optimizer, scheduler, epochs=2, out_dir=tmp_path, log=None, callback=stop)
    model, train, val, optimizer, scheduler = setup(seed=2)
    fit(model, train, val, optimizer, scheduler, epochs=2, out_dir=tmp_path, resume=True, log=None)
    assert_same_weights(straight, weights(model))


class InterruptingValidation:
    """Wraps the validation loader; Ctrl-C (KeyboardInterrupt) in the middle of its ``at``-th pass."""

    def __init__(self, loader, at):
        self.loader, self.at, self.passes = loader, at, 0

    def __getattr__(self, name):
        return getattr(self.loader, name)

    def __iter__(self):
        self.passes += 1
        for batch in self.loader:
            if self.passes == self.at:
                raise KeyboardInterrupt
            yield batch


def test_ctrl_c_during_validation_saves_the_epochs_steps(tmp_path):
    model, train, val, optimizer, scheduler = setup()
    fit(model, train, val, optimizer, scheduler, epochs=3, out_dir=tmp_path / "straight", log=None)
    straight = weights(model)

    model, train, val, optimizer, scheduler = setup()
    log = io.StringIO()
    with pytest.raises(KeyboardInterrupt):
        fit(model, train, InterruptingValidation(val, at=2), optimizer, scheduler, epochs=3, out_dir=tmp_path,
            log=log)
    assert "interrupted at epoch 2, after batch 3 (validating)" in log.getvalue()
    saved = load_checkpoint(tmp_path / "last.npz")
    assert saved["epoch"] == 1 and saved["partial"]["steps"] == len(train)
    model, train, val, optimizer, scheduler = setup(seed=7)
    fit(model, train, val, optimizer, scheduler, epochs=3, out_dir=tmp_path, resume=True, log=None)
    assert_same_weights(straight, weights(model))
    rows, straight_rows = read_metrics(tmp_path), read_metrics(tmp_path / "straight")
    assert len(rows) == len(straight_rows) == 3
    for a, b in zip(straight_rows, rows):
        assert (a["epoch"], a["train_loss"], a["val_accuracy"]) == (b["epoch"], b["train_loss"], b["val_accuracy"])


def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path):
    model, train, val, optimizer, scheduler = setup()
    calls = []

    def poisoned_loss(logits, target):
        if logits.requires_grad:                # training steps only, not evaluation
            calls.append(1)
        loss = cross_entropy(logits, target)
        return loss * float("nan") if len(calls) == 2 else loss     # the second step of the resumed run
    fit(model, train, val, optimizer, scheduler, epochs=1, out_dir=tmp_path, log=None)
    good = (tmp_path / "last.npz").read_bytes()
    good_metrics = (tmp_path / "metrics.jsonl").read_bytes()
    model, train, val, optimizer, scheduler = setup()
    with pytest.raises(NonFiniteLossError, match=r"epoch 2, batch 2") as caught:
        fit(model, train, val, optimizer, scheduler, epochs=3, out_dir=tmp_path, log=None, resume=True,
            loss_fn=poisoned_loss)
    assert caught.value.epoch == 2 and caught.value.batch == 2
    assert "last.npz (after epoch 1) is unchanged" in str(caught.value)
    assert (tmp_path / "last.npz").read_bytes() == good
    assert (tmp_path / "metrics.jsonl").read_bytes() == good_metrics
    assert all(np.all(np.isfinite(p.data)) for p in model.parameters())


def test_metrics_files(tmp_path):
    model, train, val, optimizer, scheduler = setup()
    history = fit(model, train, val, optimizer, scheduler, epochs=2, out_dir=tmp_path, log=None)
    rows = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [1, 2] and tuple(rows[0]) == COLUMNS
    with open(tmp_path / "metrics.csv", newline="") as f:
        table = list(csv.DictReader(f))
    assert tuple(table[0]) == COLUMNS and len(table) == 2
    for row, csv_row, hist in zip(rows, table, history):
        for key in COLUMNS:
            assert row[key] == pytest.approx(float(csv_row[key])) == pytest.approx(hist[key])
        assert 0 <= row["train_accuracy"] <= 1 and row["images_per_second"] > 0
    assert rows[0]["lr"] == pytest.approx(0.025) and rows[1]["lr"] == pytest.approx(0.05)   # warm-up
    # a fresh run in the same folder starts the files afresh
    model, train, val, optimizer, scheduler = setup()
    fit(model, train, val, optimizer, scheduler, epochs=1, out_dir=tmp_path, log=None)
    assert len(read_metrics(tmp_path)) == 1


def test_progress_output(tmp_path):
    model, train, val, optimizer, _ = setup()
    log = io.StringIO()                    # not a terminal: one line per epoch, no \r
    fit(model, train, val, optimizer, epochs=2, log=log)
    lines = log.getvalue().splitlines()
    assert len(lines) == 2 and lines[1].startswith("epoch 2/2") and "\r" not in log.getvalue()

    class Terminal(io.StringIO):
        def isatty(self):
            return True
    tty = Terminal()
    bar = ProgressBar(tty)
    bar.start_epoch(1, 5, 10)
    bar.update(10, 0.5, 0.75, 1234.0)
    bar.end_epoch("epoch 1/5 done")
    text = tty.getvalue()
    assert text.startswith("\repoch 1/5 [####################] 10/10  loss 0.5000  acc  75.0%  1,234 img/s")
    assert text.endswith("\repoch 1/5 done" + " " * (len(text.split("\r")[1]) - 14) + "\n")
    assert ProgressBar(tty, live=False).live is False


def test_checkpoint_round_trip_and_bad_files(tmp_path):
    state = {"model": {"w": np.arange(6.0).reshape(2, 3)}, "epoch": 3, "nested": [{"a": np.ones(2, np.int64)}, None],
             "big": 2 ** 100, "name": "x"}
    path = save_checkpoint(state, tmp_path / "c.npz")
    back = load_checkpoint(path)
    np.testing.assert_array_equal(back["model"]["w"], state["model"]["w"])
    assert back["nested"][0]["a"].dtype == np.int64 and back["big"] == 2 ** 100 and back["nested"][1] is None
    assert os.listdir(tmp_path) == ["c.npz"]                       # no temporary file left behind

    (tmp_path / "bad.npz").write_bytes(path.read_bytes()[:100])
    with pytest.raises(CheckpointError, match="not a readable checkpoint"):
        load_checkpoint(tmp_path / "bad.npz")
    np.savez(tmp_path / "plain.npz", w=np.ones(2))
    with pytest.raises(CheckpointError, match="not a minise checkpoint"):
        load_checkpoint(tmp_path / "plain.npz")
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        load_checkpoint(tmp_path / "missing.npz")
    with pytest.raises(TypeError, match="'f' is of type object"):
        save_checkpoint({"f": object()}, tmp_path / "d.npz")
    assert sorted(os.listdir(tmp_path)) == ["bad.npz", "c.npz", "plain.npz"]


@pytest.mark.parametrize("field, value, expected", [
    ("epoch", "3", "'epoch' is str '3', expected int"), ("epoch", 2.5, "expected int"),
    ("partial", [1], "'partial' is list"), ("config", "se_resnet20", "expected dict or None"),
    ("best_accuracy", "high", "expected a number or None"), ("best_epoch", True, "'best_epoch' is bool"),
    ("partial", {"loss": 1.0, "correct": "2", "seen": 3, "steps": 1, "time": 0.1}, "'partial.correct' is str")])
def test_a_checkpoint_with_a_field_of_the_wrong_type_is_refused_in_one_line(tmp_path, field, value, expected):
    state = {"model": {"w": np.ones(2)}, "optimizer": {"state": {}, "param_groups": []}, "epoch": 1, field: value}
    save_checkpoint(state, tmp_path / "c.npz")
    with pytest.raises(CheckpointError, match=expected) as caught:
        load_checkpoint(tmp_path / "c.npz")
    assert "\n" not in str(caught.value)


def test_resume_with_adam_and_a_different_model_is_refused(tmp_path):
    model, train, val, _, _ = setup()
    optimizer = Adam(model.parameters(), lr=1e-3)
    fit(model, train, val, optimizer, epochs=1, out_dir=tmp_path, log=None, config={"model": "tiny_a"})
    model, train, val, _, _ = setup()
    with pytest.raises(ResumeMismatchError, match=r"config\['model'\] = 'tiny_a' but 'tiny_b' was requested") as caught:
        fit(model, train, val, Adam(model.parameters()), epochs=2, out_dir=tmp_path, resume=True, log=None,
            config={"model": "tiny_b"})
    assert "--" not in str(caught.value)                  # the library names config keys, not CLI options
    assert (caught.value.key, caught.value.saved, caught.value.wanted) == ("model", "tiny_a", "tiny_b")


def test_batches_move_to_the_model_device():
    from minise.testing import strict_device
    model, train, val, optimizer, _ = setup()
    with strict_device.enabled():
        model.to("cuda")
        optimizer = SGD(model.parameters(), lr=0.05, momentum=0.9)
        history = fit(model, train, val, optimizer, epochs=1, log=None)      # loader gives host batches
        assert all(p.device == "cuda" for p in model.parameters())
    assert np.isfinite(history[0]["train_loss"])
