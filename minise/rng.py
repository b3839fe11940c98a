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


def manual_seed(seed):
    """Restart the generator from ``seed`` (a non-negative int); returns the new generator."""
    global _generator, _seed
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"manual_seed needs a non-negative integer, got {seed!r}")
    _seed = int(seed)
    _generator = np.random.default_rng(_seed)
    return _generator


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
