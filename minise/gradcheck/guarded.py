"""Calling backward the way a suspicious reviewer would.

A backward can be wrong in ways a single comparison with finite differences does not see:

* it writes into its upstream gradient (``gy *= 2``): if the checker then used that same array to
  weigh its finite differences, the error would cancel. In a network the same gy may feed several
  ops, so this is a bug wherever it happens;
* it writes into an input or into what forward saved: the first answer may be right, but every
  later use of that array (the next backward, the finite differences) sees the damage;
* it is right only the first time (a counter, a cache, a flag flipped on the instance or the class);
* it returns NaN or infinity.

So the checker hands backward fresh copies of each upstream gradient and keeps pristine copies of
everything to compare afterwards; calls backward three times, with upstream gradients v₁, v₂ and
v₁ again; and insists that the third answer equals the first. Each of these gets a sentence that
names the array and the element that changed.
"""
import numpy as np

from ..backend import to_numpy

REPEAT_RTOL = 1e-10          # the same call twice must give the same numbers, up to summation order


def first_change(before, after, rtol=0.0):
    """None when the arrays agree (NaN agrees with NaN), else (flat index, before, after)."""
    b = np.asarray(to_numpy(before), dtype=np.float64).reshape(-1)
    a = np.asarray(to_numpy(after), dtype=np.float64).reshape(-1)
    scale = rtol * float(np.nan_to_num(np.abs(b), posinf=0.0).max()) if b.size else 0.0
    with np.errstate(invalid="ignore"):                    # inf - inf
        same = (np.abs(b - a) <= scale) | (np.isnan(b) & np.isnan(a)) | (b == a)
    if same.all():
        return None
    i = int(np.argmin(same))
    return i, float(b[i]), float(a[i])


def at(i, shape):
    return tuple(int(j) for j in np.unravel_index(i, shape)) if shape else ()


def _grads_as_numpy(grads, shapes):
    return [np.zeros(s) if g is None else np.array(to_numpy(g), dtype=np.float64) for g, s in zip(grads, shapes)]


def _not_finite(g, shape):
    bad = ~np.isfinite(g)
    if not bad.any():
        return None
    where = at(int(np.argmax(bad.reshape(-1))), shape)
    return (f"backward returned NaN or infinity in its gradient ({int(bad.sum())} of {g.size} elements, "
            f"first at {where}); a gradient must be finite")


def _later_changes(handed, returned, general, per_input, names):
    """After every call: did a later call change what an earlier one was given or gave back?"""
    for call, upstream in enumerate(handed):
        for j, (g, kept) in enumerate(upstream):
            change = first_change(kept, g)
            if change and not general:
                general.append(f"backward wrote into the upstream gradient of call {call + 1} during a later call "
                               f"(output {j}, element {at(change[0], kept.shape)} was {change[1]:.6g}, now "
                               f"{change[2]:.6g}); it keeps the array it was given and writes into it later")
    for call, grads in enumerate(returned):
        for name, (g, kept) in zip(names, grads):
            change = None if g is None else first_change(kept, g)
            if change and not any("handed out" in s for s in per_input[name]):
                per_input[name].append(
                    f"the gradient handed out by call {call + 1} was changed by a later call (element "
                    f"{at(change[0], kept.shape)} was {change[1]:.6g}, now {change[2]:.6g}); backward keeps the "
                    "array it returns and writes into it again")


def call_three_times(backward, split, probes, names, arrays, pristine, checked):
    """Call ``backward(split(v))`` for v = probes[0], probes[1], probes[0].

    backward  takes the list of upstream gradients, returns one gradient per checked input
    split     turns a flat probe into fresh, writable upstream arrays (one per output)
    arrays    the inputs backward could reach, and their ``pristine`` copies (restored after each call)
    checked   positions in ``arrays`` of the inputs whose gradients backward returns, in order
    Returns (analytic, general problems, problems per input name); ``analytic[p][k]`` is the k-th
    checked input's gradient for probe p, as float64 NumPy arrays. The upstream gradients handed to
    backward and the gradients it returned are kept, with copies, until every call is over: a
    backward that changes them later (it keeps a reference) is caught too.
    """
    general, per_input = [], {n: [] for n in names}
    shapes = [tuple(arrays[k].shape) for k in checked]
    checked_names = [names[c] for c in checked]
    answers, handed, returned = [], [], []
    for probe in (0, 1, 0):
        upstream = split(probes[probe])
        kept = [to_numpy(g).copy() for g in upstream]
        raw = list(backward(upstream))
        grads = _grads_as_numpy(raw, shapes)
        handed.append(list(zip(upstream, kept)))
        returned.append([(g, grads[k]) for k, g in enumerate(raw)])
        for j, (g, k) in enumerate(zip(upstream, kept)):
            change = first_change(k, g)
            if change and not general:
                general.append(f"backward wrote into its upstream gradient (output {j}, element "
                               f"{at(change[0], k.shape)} was {change[1]:.6g}, now {change[2]:.6g}); work on a "
                               "copy (gy = gy * 2, not gy *= 2): in a network other ops read the same gy")
        for name, a, p in zip(names, arrays, pristine):
            change = first_change(p, a)
            if change:
                if not per_input[name]:
                    per_input[name].append(
                        f"backward changed this input in place (element {at(change[0], a.shape)} was "
                        f"{change[1]:.6g}, now {change[2]:.6g}); the checker restored it, but a network "
                        "would go on with the damaged values")
                a[...] = p
        answers.append(grads)
    _later_changes(handed, returned, general, per_input, checked_names)
    for k, name in enumerate(checked_names):
        change = first_change(answers[0][k], answers[2][k], REPEAT_RTOL)
        if change:
            per_input[name].append(
                f"backward answered differently when called again with the same upstream gradient (element "
                f"{at(change[0], shapes[k])}: first {change[1]:.6g}, then {change[2]:.6g}); it keeps state "
                "between calls or changes what forward saved")
        bad = _not_finite(answers[0][k], shapes[k]) or _not_finite(answers[1][k], shapes[k])
        if bad:
            per_input[name].append(bad)
    return answers[:2], general, per_input
