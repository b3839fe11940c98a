"""The random numbers of minise: one seedable generator for everything that draws.

Parameter initialisers (and anything else in minise that needs randomness) draw from
:func:`generator`, a NumPy ``Generator``. Seeding it makes runs repeatable::

    minise.manual_seed(0)
    a = minise.models.se_resnet20()
    minise.manual_seed(0)
    b = minise.models.se_resnet20()          # the same weights as ``a``

Draws happen on the host and are then copied to the array backend in use, so one seed gives the
same numbers with NumPy and with CuPy.
"""
import numpy as np

_generator = np.random.default_rng()
_seed = None
_seeds_handed_out = 0        # seeds given by seed_for_a_loader() since the last manual_seed


def manual_seed(seed):
    """Restart the generator from ``seed`` (a non-negative int); returns the new generator."""
    global _generator, _seed, _seeds_handed_out
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"manual_seed needs a non-negative integer, got {seed!r}")
    _seed = int(seed)
    _generator = np.random.default_rng(_seed)
    _seeds_handed_out = 0
    return _generator


def seed_for_a_loader():
    """A seed for a DataLoader made without ``seed=``: after ``manual_seed(s)``, the k-th such loader
    gets the same seed in every run (as ``torch.manual_seed`` fixes PyTorch's shuffling); before any
    ``manual_seed``, a fresh random one. It never draws from :func:`generator`, so making a loader
    leaves the weights and other draws that follow unchanged."""
    global _seeds_handed_out
    if _seed is None:
        return int(np.random.SeedSequence().generate_state(1, np.uint64)[0]) >> 1
    _seeds_handed_out += 1
    return int(np.random.SeedSequence([_seed, _seeds_handed_out]).generate_state(1, np.uint64)[0]) >> 1


def initial_seed():
    """The seed last given to :func:`manual_seed` (None if it was never called)."""
    return _seed


def generator():
    """The ``numpy.random.Generator`` that minise draws from."""
    return _generator


def get_state():
    """The generator's state (a dict), to restore later with :func:`set_state`."""
    return _generator.bit_generator.state


def set_state(state):
    """Put the generator back into a state returned by :func:`get_state`."""
    _generator.bit_generator.state = state
