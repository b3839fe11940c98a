"""The checker at its edges: empty, complex, integer and float16 inputs, several outputs, a Function
instance called twice, and the report's columns for long input names."""
import warnings

import numpy as np
import pytest

import minise
from minise import GradcheckWarning, Tensor
from minise.gradcheck.report import table


class Cube(minise.Function):
    def forward(self, a):
        self.save_for_backward(a=a)
        return a ** 3

    def backward(self, gy):
        return (3 * self.saved.a ** 2 * gy,)


def x():
    return np.random.default_rng(0).uniform(0.5, 2.0, (3, 4))


def test_zero_size_inputs_pass_and_say_nothing_was_checked():
    with pytest.warns(GradcheckWarning, match=r"inputs 0 \(0, 3\) have no elements"):
        assert minise.gradcheck(lambda t: t * 2, [Tensor(np.zeros((0, 3)), requires_grad=True)])
    with pytest.warns(GradcheckWarning, match="no elements"):
        assert minise.check_backward(lambda a: (a * 2, a), lambda g, a: (2 * g,), [np.zeros((0, 3))])


def test_complex_and_boolean_inputs_are_refused_by_name():
    with pytest.raises(TypeError, match="input z is complex"):
        minise.check_backward(lambda a: (a * 2, a), lambda g, a: (2 * g,), {"z": x() + 1j})
    with pytest.raises(TypeError, match="input m has dtype bool"):
        minise.check_backward(lambda a: (a * 2, a), lambda g, a: (2 * g,), {"m": x() > 1})
    with pytest.raises(TypeError, match="complex"):
        minise.check_backward(lambda a: (a * 1j, a), lambda g, a: (g,), [x()])


def test_an_output_with_no_floating_values_is_refused_by_name():
    with pytest.raises(TypeError, match=r"forward returned no floating-point output \(got int64\)"):
        minise.check_backward(lambda a: ((a * 3).astype(np.int64), a), lambda g, a: (3 * g,), [x()])
    with pytest.raises(TypeError, match=r"fn returned no floating-point output \(got int64\)"):
        minise.gradcheck(lambda t: (t * 3).long(), [Tensor(x(), requires_grad=True)])
    # an integer output beside a floating one (indices, say) is left out, not refused
    assert minise.check_backward(lambda a: ((a * 3, np.argmax(a, axis=1)), a), lambda g, a: (3 * g[0],), [x()])


def test_float16_and_integer_inputs_are_named_with_their_dtype_and_checked_in_float64():
    with pytest.warns(GradcheckWarning, match=r"inputs h \(float16\), i \(int64\) are not float64") as said:
        assert minise.check_backward(lambda a, b: (a * b, (a, b)), lambda g, c: (g * c[1], g * c[0]),
                                     {"h": x().astype(np.float16), "i": np.arange(1, 13).reshape(3, 4)})
    assert len(said) == 1                     # short inputs give short outputs: no float32 hint for that


def test_check_backward_takes_several_outputs_of_different_shapes():
    def forward(a):
        return (a * 2, (a ** 2).sum()), a

    def right(gs, a):
        return (2 * gs[0] + 2 * a * gs[1],)

    def wrong(gs, a):
        return (2 * gs[0] + a * gs[1],)
    assert minise.check_backward(forward, right, [x()])
    assert not minise.check_backward(forward, wrong, [x()], raise_exception=False)


def test_a_function_instance_records_one_call():
    op, a = Cube(), Tensor(x(), requires_grad=True)
    op(a)
    with pytest.raises(RuntimeError, match="make a new instance for every call"):
        op(a)
    with pytest.raises(RuntimeError, match="already recorded a call"):
        minise.gradcheck(lambda t: op(t), [a])
    with minise.no_grad():                     # nothing recorded: an instance may be used again
        op2 = Cube()
        op2(a), op2(a)


def test_the_report_table_columns_follow_the_longest_name():
    names = {"x": Tensor(x(), requires_grad=True),
             "a_rather_long_input_name_of_forty_chars": Tensor(x()[:2], requires_grad=True)}
    report = minise.gradcheck(lambda a, b: (a * 2).sum() + (b ** 2).sum(), names)
    header, first, second = str(report).splitlines()[1:4]
    for column in ("shape", "checked", "max abs err", "worst element"):
        start = header.index(column)
        assert first[start - 1] == " " and second[start - 1] == " ", column
    end = header.index("checked") + len("checked")            # numbers are right-aligned under their header
    assert first[end - 2:end] == "12" and second[end - 1] == "8" and second[end] == " "
    assert table([("a", "bb"), ("ccc", "d")], right=(1,)) == ["a    bb", "ccc   d"]


def test_the_report_says_which_reruns_ran():
    report = minise.gradcheck(lambda t: Cube()(t), [Tensor(x(), requires_grad=True)])
    assert report.variants == {"strided": "checked", "float32": "checked"}
    assert "strided inputs checked, float32 inputs checked" in str(report).splitlines()[0]
    weights = Tensor(x())                                     # float64, not an input: float32 cannot mix
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report = minise.gradcheck(lambda t: minise.functional.linear(t, weights), [Tensor(x()[:, :4].copy(),
                                                                                         requires_grad=True)])
    assert report and report.variants["float32"].startswith("skipped")


def test_a_gradient_small_only_by_cancellation_is_no_float32_alarm():
    """Batch norm's input gradient on a batch of two is ~1e-6 (x̂ = ±1 whatever x is), the rest of
    terms of size one cancelling: float32 cannot reproduce it to 1 %, and that is not a bug."""
    rng = np.random.default_rng(3)
    for seed in range(10):
        inputs = {"x": Tensor(rng.standard_normal((2, 3)), requires_grad=True),
                  "gamma": Tensor(rng.standard_normal(3), requires_grad=True),
                  "beta": Tensor(rng.standard_normal(3), requires_grad=True)}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", GradcheckWarning)       # its round-off note is right: x's gradient is tiny
            warnings.simplefilter("error", RuntimeWarning)
            report = minise.gradcheck(lambda x, g, b: minise.functional.batch_norm(x, None, None, g, b, training=True),
                                      inputs, seed=seed)
        assert report and report.variants["float32"] == "checked"
