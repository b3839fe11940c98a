"""Wrong backwards that once slipped past the checker, each planted for gradcheck and check_backward.

Every case is run both ways: as a minise.Function under ``gradcheck`` and as a forward/backward
pair of array functions under ``check_backward``.
"""
import warnings

import numpy as np
import pytest

import minise
from minise import GradcheckError, GradcheckWarning, Tensor


def as_function(forward, backward):
    """A minise.Function from a course-style pair forward(*x) -> (y, cache), backward(gy, cache)."""
    class Planted(minise.Function):
        def forward(self, *arrays):
            y, cache = forward(*arrays)
            self.save_for_backward(cache=cache)
            return y

        def backward(self, gy):
            grads = backward(gy, self.saved.cache)
            return tuple(grads) if isinstance(grads, (tuple, list)) else (grads,)
    return Planted


def both(forward, backward, inputs, **options):
    """Run gradcheck and check_backward on the pair; return their two reports (never raising)."""
    options.setdefault("raise_exception", False)
    op = as_function(forward, backward)
    tensors = {k: Tensor(v.copy(), requires_grad=True) for k, v in inputs.items()}
    return (minise.gradcheck(lambda *t: op()(*t), tensors, **options),
            minise.check_backward(forward, backward, {k: v.copy() for k, v in inputs.items()}, **options))


def cube_forward(x):
    return x ** 3, x


def cube_backward(gy, x):
    return (3 * x ** 2 * gy,)


X = {"x": np.random.default_rng(0).uniform(0.5, 2.0, (2, 3))}


def test_the_right_cube_passes_both_ways():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert all(both(cube_forward, cube_backward, X, seed=0))


def test_a_backward_that_doubles_its_upstream_gradient_in_place_is_caught():
    def backward(gy, x):
        gy *= 2                                           # writes into an array other ops may share
        return (3 * x ** 2 * gy,)
    for report in both(cube_forward, backward, X, seed=0):
        assert not report
        assert any("wrote into its upstream gradient" in p for p in report.problems)
        assert report["x"].mismatches > 0                 # and the finite differences disagree, too


def test_a_backward_may_return_its_upstream_gradient_itself():
    for report in both(lambda x: (x + 1.0, None), lambda gy, cache: (gy,), X, seed=0):
        assert report


def test_a_backward_that_changes_its_saved_input_is_caught_and_the_input_named():
    def backward(gy, x):
        g = 3 * x ** 2 * gy                               # right, the first time
        x *= 1.5                                          # ... but the saved input is damaged
        return (g,)
    for report in both(cube_forward, backward, X, seed=0):
        assert not report
        assert any("changed this input in place" in p for p in report["x"].problems)
        assert "input x" in "; ".join(report.failures())


def test_a_forward_that_changes_its_input_is_caught():
    def forward(x):
        y = x ** 3
        x += 0.0 * x + 1.0
        return y, x - 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")                    # no kinks blamed: the failure says it all
        reports = both(forward, cube_backward, X, seed=0)
    for report in reports:
        assert not report and any("forward changed this input" in p for p in report["x"].problems)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_or_infinite_analytic_gradients_fail(bad):
    for fill in ("all", "one"):
        def backward(gy, x, fill=fill):
            g = 3 * x ** 2 * gy
            g[...] = bad if fill == "all" else g
            g.reshape(-1)[-1] = bad
            return (g,)
        for report in both(cube_forward, backward, X, seed=0):
            assert not report, fill
            assert "passed" not in str(report).split("\n")[0]
            assert any("NaN or infinity" in p for p in report["x"].problems)
            assert report["x"].worst_index == (1, 2) or fill == "all"


def test_a_backward_right_only_on_its_first_call_is_caught():
    def forward(x):
        return x ** 3, {"x": x, "calls": [0]}

    def backward(gy, cache):
        cache["calls"][0] += 1
        return (3 * cache["x"] ** 2 * gy * cache["calls"][0],)   # doubles from the second call on
    for report in both(forward, backward, X, seed=0):
        assert not report
        assert any("differently when called again" in p for p in report["x"].problems)


def test_a_backward_that_remembers_its_first_answer_is_caught():
    def forward(x):
        return x ** 3, {"x": x, "memo": []}

    def backward(gy, cache):
        if not cache["memo"]:
            cache["memo"].append(3 * cache["x"] ** 2 * gy)
        return (cache["memo"][0].copy(),)                 # right for the first upstream gradient only
    for report in both(forward, backward, X, seed=0):
        assert not report and report["x"].probe == 1      # the second upstream gradient gives it away


SEEDS = range(12)


def test_a_2x_error_in_an_op_whose_values_are_1e_6_is_caught_at_every_seed():
    tiny = lambda x: (1e-6 * np.sin(x).sum(), x)          # a scalar of size ~1e-6
    for seed in SEEDS:
        x = {"x": np.random.default_rng(seed).uniform(-1, 1, (3,))}
        with warnings.catch_warnings():
            warnings.simplefilter("error")                # no "zero everywhere": the check is not blind
            assert all(both(tiny, lambda g, x: (1e-6 * np.cos(x) * g,), x, seed=seed))
        reports = both(tiny, lambda g, x: (2e-6 * np.cos(x) * g,), x, seed=seed)
        assert not any(reports), seed


def test_a_mean_divided_by_n_minus_1_over_128_elements_is_caught_at_every_seed():
    mean = lambda x: (x.mean(), x.shape)
    for seed in SEEDS:
        x = {"x": np.random.default_rng(seed).standard_normal(128)}
        assert all(both(mean, lambda g, shape: (np.full(shape, g / 128),), x, seed=seed))
        reports = both(mean, lambda g, shape: (np.full(shape, g / 127),), x, seed=seed)
        assert not any(reports), seed


def test_float32_inside_the_function_is_named_as_the_cause():
    def forward(x):
        return (x.astype(np.float32) ** 3).astype(np.float64), x
    with pytest.warns(GradcheckWarning, match="float32"):
        reports = both(forward, cube_backward, X, seed=0)
    for report in reports:
        assert not report
        assert any("float32" in h for h in report.hints)
    with pytest.warns(GradcheckWarning, match="compute in float32"), pytest.raises(GradcheckError, match="float32"):
        minise.check_backward(forward, cube_backward, X, seed=0)


def test_float32_that_only_rounds_the_inputs_is_named_too():
    def forward(x):                                       # rounds x, then works in float64
        x32 = x.astype(np.float32).astype(np.float64)
        return np.sin(x32) + x32 ** 2, x
    with pytest.warns(GradcheckWarning, match="float32"):
        report = minise.check_backward(forward, lambda g, x: ((np.cos(x) + 2 * x) * g,), X, seed=0,
                                       raise_exception=False)
    assert not report and any("float32" in h for h in report.hints)


def test_a_tiny_eps_is_blamed_on_round_off_not_on_a_kink():
    rng = np.random.default_rng(1)
    inputs = {"x": rng.standard_normal((4, 3)), "b": rng.standard_normal(3)}
    forward = lambda x, b: (x + b, None)
    backward = lambda g, cache: (g, g.sum(axis=0))
    with pytest.warns(GradcheckWarning) as caught:
        reports = both(forward, backward, inputs, seed=0, eps=1e-12)
    messages = " ".join(str(w.message) for w in caught)
    assert "kink" not in messages
    assert "round-off" in messages and "eps=1e-12" in messages
    assert all(reports)                                   # the linear bias is right: no failure either
    wrong = lambda g, cache: (g, 2 * g.sum(axis=0))
    with pytest.warns(GradcheckWarning, match="round-off"):
        assert not any(both(forward, wrong, inputs, seed=0, eps=1e-12))   # and still not blind


def test_the_report_names_the_input_and_the_element_that_disagree():
    def backward(gy, x, w):
        gx, gw = gy * w, gy * x
        gw[1, 2] *= 1.1
        return gx, gw
    inputs = {"x": np.random.default_rng(0).standard_normal((2, 3)),
              "w": np.random.default_rng(1).standard_normal((2, 3))}
    for report in both(lambda x, w: (x * w, (x, w)), lambda g, c: backward(g, *c), inputs, seed=0):
        assert report["x"].passed and not report["w"].passed
        assert report["w"].worst_index == (1, 2) and report["w"].mismatches == 1
        assert "input w (shape (2, 3)): at element (1, 2)" in "; ".join(report.failures())
