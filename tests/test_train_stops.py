"""Training under the other ways a run ends: SIGTERM, a full disk, a first batch that is NaN, a
validation that diverges, and a resume that asks for another run than the one on disk."""
import errno
import io
import signal

import numpy as np
import pytest
from test_train import assert_same_weights, setup, weights

import minise.io.atomic
from minise.data import DataLoader, SyntheticImages
from minise.functional.loss import cross_entropy
from minise.optim import SGD, Adam, StepLR
from minise.train import (
    DivergenceError,
    NonFiniteLossError,
    ResumeMismatchError,
    Terminated,
    fit,
    load_checkpoint,
)


@pytest.fixture
def signals():
    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    yield
    for s, handler in previous.items():
        signal.signal(s, handler)


def sigterm_at(step_number):
    steps = []

    def loss(logits, target):
        if logits.requires_grad:
            steps.append(1)
            if len(steps) == step_number:
                signal.raise_signal(signal.SIGTERM)
        return cross_entropy(logits, target)
    return loss


def test_sigterm_finishes_the_step_saves_and_resumes_exactly(tmp_path, signals):
    model, train, val, optimizer, scheduler = setup()
    fit(model, train, val, optimizer, scheduler, epochs=2, log=None)
    straight = weights(model)
    model, train, val, optimizer, scheduler = setup()
    log = io.StringIO()
    with pytest.raises(Terminated):
        fit(model, train, val, optimizer, scheduler, epochs=2, out_dir=tmp_path, log=log, loss_fn=sigterm_at(5))
    assert "terminated (SIGTERM) at epoch 2, after batch 2; saved" in log.getvalue()
    assert load_checkpoint(tmp_path / "last.npz")["partial"]["steps"] == 2
    model, train, val, optimizer, scheduler = setup(seed=11)
    fit(model, train, val, optimizer, scheduler, epochs=2, out_dir=tmp_path, resume=True, log=None)
    assert_same_weights(straight, weights(model))


def test_the_sigterm_handler_is_put_back(tmp_path, signals):
    before = signal.getsignal(signal.SIGTERM)
    model, train, val, optimizer, scheduler = setup()
    fit(model, train, val, optimizer, scheduler, epochs=1, out_dir=tmp_path, log=None)
    assert signal.getsignal(signal.SIGTERM) == before


def test_a_full_disk_names_the_file_and_keeps_the_checkpoint(tmp_path, monkeypatch):
    model, train, val, optimizer, scheduler = setup()
    fit(model, train, val, optimizer, scheduler, epochs=1, out_dir=tmp_path, log=None)
    good = (tmp_path / "last.npz").read_bytes()

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(minise.io.atomic.os, "fsync", full)
    model, train, val, optimizer, scheduler = setup()
    with pytest.raises(OSError, match=r"cannot write .*(metrics|last).*: No space left on device; the file there "
                                         r"is as it was"):
        fit(model, train, val, optimizer, scheduler, epochs=2, out_dir=tmp_path, resume=True, log=None)
    monkeypatch.undo()
    assert (tmp_path / "last.npz").read_bytes() == good
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_a_nan_first_batch_blames_the_data_not_the_learning_rate(tmp_path):
    model, _, val, optimizer, scheduler = setup()
    dataset = SyntheticImages(n=64, num_classes=4)
    dataset.images[0, 0, 0, 0] = np.nan
    with pytest.raises(NonFiniteLossError, match=r"epoch 1, batch 1.*inputs hold NaN or infinity: check the data"):
        fit(model, DataLoader(dataset, 32), val, optimizer, scheduler, epochs=1, out_dir=tmp_path, log=None)
    assert not (tmp_path / "last.npz").exists()


def test_a_nan_loss_before_any_step_says_the_learning_rate_is_not_the_cause():
    model, train, val, optimizer, scheduler = setup()
    nan_loss = lambda logits, target: cross_entropy(logits, target) * np.nan     # noqa: E731
    with pytest.raises(NonFiniteLossError, match="No step had been taken yet"):
        fit(model, train, val, optimizer, scheduler, epochs=1, log=None, loss_fn=nan_loss)


def test_a_validation_that_diverges_stops_before_that_epoch_is_saved(tmp_path):
    model, train, val, optimizer, scheduler = setup()
    fit(model, train, val, optimizer, scheduler, epochs=1, out_dir=tmp_path, log=None)
    good = (tmp_path / "last.npz").read_bytes()
    model, train, val, optimizer, scheduler = setup()
    val.dataset.images *= 1e30
    with pytest.raises(DivergenceError, match=r"the validation after epoch 2: the validation loss .* before saving "
                                              r"that epoch.*last.npz \(after epoch 1\) is unchanged"):
        fit(model, train, val, optimizer, scheduler, epochs=2, out_dir=tmp_path, resume=True, log=None)
    assert (tmp_path / "last.npz").read_bytes() == good


def test_resuming_with_another_optimizer_or_schedule_is_refused_naming_it(tmp_path):
    model, train, val, optimizer, scheduler = setup()
    fit(model, train, val, optimizer, scheduler, epochs=1, out_dir=tmp_path, log=None)
    model, train, val, _, scheduler = setup()
    with pytest.raises(ResumeMismatchError, match="holds a SGD optimizer but a Adam was given") as caught:
        fit(model, train, val, Adam(model.parameters()), scheduler, epochs=2, out_dir=tmp_path, resume=True, log=None)
    assert (caught.value.key, caught.value.saved, caught.value.wanted) == ("optimizer", "SGD", "Adam")
    model, train, val, optimizer, _ = setup()
    with pytest.raises(ResumeMismatchError, match="holds a LinearWarmup scheduler but a StepLR was given"):
        fit(model, train, val, optimizer, StepLR(optimizer, 1), epochs=2, out_dir=tmp_path, resume=True, log=None)
    model, train, val, optimizer, _ = setup()
    with pytest.raises(ResumeMismatchError, match="scheduler but none was given"):
        fit(model, train, val, optimizer, None, epochs=2, out_dir=tmp_path, resume=True, log=None)


def test_an_optimizer_refuses_the_state_of_another_kind():
    model, *_ = setup()
    saved = SGD(model.parameters(), lr=0.1, momentum=0.9).state_dict()
    with pytest.raises(ValueError, match=r"a Adam has .*betas.*another kind of optimizer"):
        Adam(model.parameters()).load_state_dict(saved)
