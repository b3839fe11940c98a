"""Optimizers and schedules: hand-computed updates, PyTorch as an oracle, saving and resuming."""
import json
import math

import numpy as np
import pytest

import minise
from minise.optim import SGD, Adam, AdamW, CosineAnnealingLR, ExponentialLR, LambdaLR, LinearWarmup, MultiStepLR, StepLR


def make_params(seed=0, shapes=((3, 4), (5,)), dtype=np.float64):
    rng = np.random.default_rng(seed)
    return [minise.Tensor(rng.standard_normal(s).astype(dtype), requires_grad=True) for s in shapes]


def grads_for(step, params, seed=1):
    rng = np.random.default_rng([seed, step])
    return [rng.standard_normal(tuple(p.shape)).astype(np.float32 if "32" in str(p.dtype) else np.float64)
            for p in params]


def run_minise(opt_cls, kwargs, steps=5, groups=None, schedule=None):
    params = make_params()
    opt = opt_cls(groups(params) if groups else params, **kwargs)
    sched = schedule(opt) if schedule else None
    for t in range(steps):
        opt.zero_grad()
        for p, g in zip(params, grads_for(t, params)):
            p.grad = g
        opt.step()
        if sched:
            sched.step()
    return [p.data for p in params], opt


# -- hand-computed values --------------------------------------------------------------------------

def test_sgd_plain_and_weight_decay_by_hand():
    w = minise.Tensor(np.array([1.0, -2.0]), requires_grad=True)
    opt = SGD([w], lr=0.1, weight_decay=0.5)
    w.grad = np.array([0.2, 0.4])
    opt.step()
    # d = g + λw = [0.7, -0.6];  w - 0.1·d
    np.testing.assert_allclose(w.data, [1.0 - 0.07, -2.0 + 0.06], rtol=0, atol=1e-15)


def test_sgd_momentum_and_nesterov_by_hand():
    for nesterov in (False, True):
        w = minise.Tensor(np.array([0.0]), requires_grad=True)
        opt = SGD([w], lr=0.1, momentum=0.9, nesterov=nesterov)
        w.grad = np.array([1.0])
        opt.step()              # b = 1;              step d = 1 (or 1 + 0.9·1 = 1.9)
        w.grad = np.array([2.0])
        opt.step()              # b = 0.9 + 2 = 2.9;  step d = 2.9 (or 2 + 0.9·2.9 = 4.61)
        expected = -0.1 * (1.9 + 4.61) if nesterov else -0.1 * (1.0 + 2.9)
        np.testing.assert_allclose(w.data, [expected], atol=1e-14)
        np.testing.assert_allclose(opt.state[0]["momentum_buffer"], [2.9], atol=1e-14)


def test_sgd_dampening_by_hand():
    w = minise.Tensor(np.array([0.0]), requires_grad=True)
    opt = SGD([w], lr=1.0, momentum=0.5, dampening=0.5)
    for g in (1.0, 1.0):
        w.grad = np.array([g])
        opt.step()
    # b₁ = 1 (no dampening on the first step), b₂ = 0.5·1 + 0.5·1 = 1
    np.testing.assert_allclose(w.data, [-2.0], atol=1e-14)


def reference_adam(w, grads, lr, b1, b2, eps, wd, decoupled, amsgrad):
    """Adam written out in plain float64, step by step, from the formulas."""
    w = w.copy()
    m, v, vmax = np.zeros_like(w), np.zeros_like(w), np.zeros_like(w)
    for t, g in enumerate(grads, start=1):
        if decoupled:
            w = w - lr * wd * w
        else:
            g = g + wd * w
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g ** 2
        vmax = np.maximum(vmax, v)
        m_hat, v_hat = m / (1 - b1 ** t), (vmax if amsgrad else v) / (1 - b2 ** t)
        w = w - lr * m_hat / (np.sqrt(v_hat) + eps)
    return w


@pytest.mark.parametrize("cls,wd,amsgrad", [(Adam, 0.0, False), (Adam, 0.1, False), (Adam, 0.0, True),
                                            (AdamW, 0.1, False), (AdamW, 0.1, True)])
def test_adam_against_the_formulas(cls, wd, amsgrad):
    rng = np.random.default_rng(3)
    w0 = rng.standard_normal(6)
    grads = [rng.standard_normal(6) * s for s in (1.0, 0.1, 3.0, 0.5)]
    w = minise.Tensor(w0.copy(), requires_grad=True)
    opt = cls([w], lr=0.01, betas=(0.8, 0.95), eps=1e-6, weight_decay=wd, amsgrad=amsgrad)
    for g in grads:
        w.grad = g
        opt.step()
    expected = reference_adam(w0, grads, 0.01, 0.8, 0.95, 1e-6, wd, cls is AdamW, amsgrad)
    np.testing.assert_allclose(w.data, expected, rtol=1e-12, atol=1e-14)
    assert opt.state[0]["step"] == 4


def test_first_adam_step_moves_every_weight_by_about_lr():
    """Bias correction: at t = 1, m̂ = g and v̂ = g², so the step is lr·g/(|g| + ε) ≈ lr·sign(g)."""
    w = minise.Tensor(np.zeros(4), requires_grad=True)
    opt = Adam([w], lr=0.01)
    w.grad = np.array([1e-3, -5.0, 2.0, -1e-2])
    opt.step()
    np.testing.assert_allclose(w.data, [-0.01, 0.01, -0.01, 0.01], rtol=1e-4)


def test_per_group_learning_rates_and_skipped_parameters():
    a, b, c = make_params(shapes=((2,), (2,), (2,)))
    before = [p.data.copy() for p in (a, b, c)]
    opt = SGD([{"params": [a]}, {"params": [b, c], "lr": 1.0}], lr=0.1)
    a.grad, b.grad = np.ones(2), np.ones(2)          # c has no gradient: left alone
    opt.step()
    np.testing.assert_allclose(a.data, before[0] - 0.1)
    np.testing.assert_allclose(b.data, before[1] - 1.0)
    np.testing.assert_array_equal(c.data, before[2])


def test_updates_keep_float32_and_zero_grad_clears():
    params = make_params(dtype=np.float32)
    for cls in (SGD, Adam, AdamW):
        opt = cls(params, lr=0.1)
        for p, g in zip(params, grads_for(0, params)):
            p.grad = g
        opt.step()
        assert all(p.data.dtype == np.float32 for p in params)
        opt.zero_grad()
        assert all(p.grad is None for p in params)


def test_updates_are_in_place():
    p = make_params()[0]
    data = p.data
    opt = Adam([p], lr=0.1)
    p.grad = np.ones(p.shape)
    opt.step()
    assert p.data is data


def test_update_on_device_stays_on_device(device_backend):
    params = [minise.Tensor(device_backend.asarray(np.ones((2, 3))), requires_grad=True)]
    for cls, kw in ((SGD, dict(momentum=0.9, weight_decay=0.1)), (Adam, dict(amsgrad=True)), (AdamW, {})):
        opt = cls(params, lr=0.1, **kw)
        params[0].grad = device_backend.asarray(np.full((2, 3), 0.5))
        opt.step()
        opt.step()
        assert params[0].device == device_backend.device
        assert params[0].data.dtype == np.float64
    assert np.all(device_backend.to_numpy(params[0].data) < 1)


@pytest.mark.parametrize("make,message", [
    (lambda p: SGD(p, lr=0.1, nesterov=True), "nesterov"),
    (lambda p: SGD(p, lr=-1), "lr"),
    (lambda p: Adam(p, betas=(0.9, 1.5)), "betas"),
    (lambda p: SGD([], lr=0.1), "empty"),
    (lambda p: SGD(p[0], lr=0.1), "single Tensor"),
    (lambda p: SGD([{"params": p, "momentun": 0.9}], lr=0.1), "momentun"),
    (lambda p: SGD(p + p, lr=0.1), "twice"),
])
def test_bad_arguments_are_explained(make, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make(make_params())


# -- saving and resuming --------------------------------------------------------------------------

@pytest.mark.parametrize("cls,kw", [(SGD, dict(lr=0.1, momentum=0.9, nesterov=True)),
                                    (Adam, dict(lr=0.01, amsgrad=True)), (AdamW, dict(lr=0.01))])
def test_state_dict_round_trip_continues_exactly(cls, kw):
    straight, _ = run_minise(cls, kw, steps=6)
    params = make_params()
    opt = cls(params, **kw)
    for t in range(3):
        for p, g in zip(params, grads_for(t, params)):
            p.grad = g
        opt.step()
    saved = opt.state_dict()
    arrays = {}
    meta = json.loads(json.dumps(saved, default=lambda a: arrays.setdefault(str(len(arrays)), a.tolist())))
    assert meta["param_groups"][0]["params"] == [0, 1]
    fresh_params = [minise.Tensor(p.data.copy(), requires_grad=True) for p in params]
    fresh = cls(fresh_params, **kw)
    fresh.load_state_dict(saved)
    for t in range(3, 6):
        for p, g in zip(fresh_params, grads_for(t, fresh_params)):
            p.grad = g
        fresh.step()
    for a, b in zip(straight, fresh_params):
        np.testing.assert_array_equal(a, b.data)


def test_load_state_dict_rejects_a_mismatch():
    _, opt = run_minise(SGD, dict(lr=0.1, momentum=0.9), steps=1)
    other = SGD(make_params(shapes=((3, 4),)), lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match="holds 2 parameters"):
        other.load_state_dict(opt.state_dict())


# -- schedules ------------------------------------------------------------------------------------

def lrs(schedule, epochs=10, lr=0.1):
    opt = SGD(make_params(), lr=lr)
    sched = schedule(opt)
    out = []
    for _ in range(epochs):
        out.append(opt.param_groups[0]["lr"])
        sched.step()
    return out


def test_schedules_by_hand():
    np.testing.assert_allclose(lrs(lambda o: StepLR(o, 3, gamma=0.5), 7),
                               [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025])
    np.testing.assert_allclose(lrs(lambda o: MultiStepLR(o, [2, 5], gamma=0.1), 6),
                               [0.1, 0.1, 0.01, 0.01, 0.01, 0.001])
    np.testing.assert_allclose(lrs(lambda o: CosineAnnealingLR(o, T_max=4), 5),
                               [0.1, 0.1 * (1 + math.cos(math.pi / 4)) / 2, 0.05,
                                0.1 * (1 + math.cos(3 * math.pi / 4)) / 2, 0.0], atol=1e-15)
    np.testing.assert_allclose(lrs(lambda o: ExponentialLR(o, 0.5), 4), [0.1, 0.05, 0.025, 0.0125])
    np.testing.assert_allclose(lrs(lambda o: LambdaLR(o, lambda e: e + 1), 3), [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="one per parameter group"):
        LambdaLR(SGD(make_params(), lr=0.1), [lambda e: 1, lambda e: 2])
    np.testing.assert_allclose(lrs(lambda o: LinearWarmup(o, 3), 5), [0.025, 0.05, 0.075, 0.1, 0.1])
    np.testing.assert_allclose(lrs(lambda o: LinearWarmup(o, 2, after=StepLR(o, 1, gamma=0.5)), 5),
                               [0.1 / 3, 0.2 / 3, 0.1, 0.05, 0.025])


def test_schedule_state_dict_resumes():
    opt = SGD(make_params(), lr=0.1)
    sched = LinearWarmup(opt, 2, after=CosineAnnealingLR(opt, T_max=6))
    for _ in range(4):
        sched.step()
    state = json.loads(json.dumps(sched.state_dict()))
    opt2 = SGD(make_params(), lr=0.1)
    sched2 = LinearWarmup(opt2, 2, after=CosineAnnealingLR(opt2, T_max=6))
    sched2.load_state_dict(state)
    sched.step()
    sched2.step()
    assert opt2.param_groups[0]["lr"] == opt.param_groups[0]["lr"]
    with pytest.raises(ValueError, match="StepLR"):
        StepLR(opt2, 2).load_state_dict(state)


# -- PyTorch as the oracle ------------------------------------------------------------------------

def run_torch(torch, opt_name, kwargs, steps=5, groups=None, schedule=None):
    params = [torch.nn.Parameter(torch.from_numpy(p.data.copy())) for p in make_params()]
    opt = getattr(torch.optim, opt_name)(groups(params) if groups else params, **kwargs)
    sched = schedule(torch, opt) if schedule else None
    for t in range(steps):
        opt.zero_grad()
        for p, g in zip(params, grads_for(t, params)):
            p.grad = torch.from_numpy(g)
        opt.step()
        if sched:
            sched.step()
    return [p.detach().numpy() for p in params]


CONFIGS = [
    ("SGD", SGD, dict(lr=0.1)),
    ("SGD", SGD, dict(lr=0.1, momentum=0.9)),
    ("SGD", SGD, dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=1e-2)),
    ("SGD", SGD, dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4)),
    ("Adam", Adam, dict(lr=0.01)),
    ("Adam", Adam, dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.1, amsgrad=True)),
    ("AdamW", AdamW, dict(lr=0.01)),
    ("AdamW", AdamW, dict(lr=0.02, weight_decay=0.3, amsgrad=True, eps=1e-6)),
]


@pytest.mark.parametrize("torch_name,cls,kwargs", CONFIGS)
def test_matches_pytorch(torch_name, cls, kwargs):
    torch = pytest.importorskip("torch")
    ours, _ = run_minise(cls, kwargs, steps=6)
    theirs = run_torch(torch, torch_name, kwargs, steps=6)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


def test_matches_pytorch_with_param_groups():
    torch = pytest.importorskip("torch")
    def groups(ps):
        return [{"params": ps[:1], "lr": 0.5, "weight_decay": 0.1}, {"params": ps[1:]}]
    ours, _ = run_minise(SGD, dict(lr=0.1, momentum=0.8), groups=groups)
    theirs = run_torch(torch, "SGD", dict(lr=0.1, momentum=0.8), groups=groups)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


SCHEDULES = [
    (lambda o: StepLR(o, 2, gamma=0.3), lambda t, o: t.optim.lr_scheduler.StepLR(o, 2, gamma=0.3)),
    (lambda o: MultiStepLR(o, [1, 4], gamma=0.5), lambda t, o: t.optim.lr_scheduler.MultiStepLR(o, [1, 4], 0.5)),
    (lambda o: ExponentialLR(o, 0.8), lambda t, o: t.optim.lr_scheduler.ExponentialLR(o, 0.8)),
    (lambda o: LambdaLR(o, lambda e: 1 / (1 + e) ** 0.5),
     lambda t, o: t.optim.lr_scheduler.LambdaLR(o, lambda e: 1 / (1 + e) ** 0.5)),
    (lambda o: CosineAnnealingLR(o, 5, eta_min=0.01),
     lambda t, o: t.optim.lr_scheduler.CosineAnnealingLR(o, 5, eta_min=0.01)),
    (lambda o: LinearWarmup(o, 3, after=CosineAnnealingLR(o, 5)),
     lambda t, o: t.optim.lr_scheduler.SequentialLR(
         o, [t.optim.lr_scheduler.LinearLR(o, 0.25, 1.0, 3), t.optim.lr_scheduler.CosineAnnealingLR(o, 5)], [3])),
]


@pytest.mark.parametrize("ours,theirs", SCHEDULES)
def test_schedules_match_pytorch(ours, theirs):
    torch = pytest.importorskip("torch")
    import warnings
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sched = theirs(torch, opt)
        expected = []
        for _ in range(9):
            expected.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
    np.testing.assert_allclose(lrs(ours, 9), expected, rtol=1e-9, atol=1e-12)
    # and a whole training run driven by the schedule
    mine, _ = run_minise(SGD, dict(lr=0.1, momentum=0.9), steps=8, schedule=ours)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch_result = run_torch(torch, "SGD", dict(lr=0.1, momentum=0.9), steps=8,
                                 schedule=lambda t, o: theirs(t, o))
    for a, b in zip(mine, torch_result):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
