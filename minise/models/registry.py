"""Models by name: ``get_model("se_resnet50", num_classes=10)`` and ``list_models()``.

The names are those of the constructors in :mod:`minise.models.resnet` (ImageNet shapes) and
:mod:`minise.models.cifar` (CIFAR shapes); keyword arguments go to the constructor.
"""
import difflib

from . import cifar, resnet

__all__ = ["get_model", "list_models"]

_MODELS = {name: getattr(module, name) for module in (resnet, cifar) for name in module.__all__
           if name[0].islower()}


def list_models():
    """The names :func:`get_model` knows, sorted."""
    return sorted(_MODELS)


def get_model(name, **kwargs):
    """Build the model called ``name`` (see :func:`list_models`) with ``kwargs`` for its constructor."""
    if not isinstance(name, str):
        raise TypeError(f"a model name must be a string, got {type(name).__name__}")
    key = name.strip().lower().replace("-", "_")
    if key not in _MODELS:
        close = difflib.get_close_matches(key, list_models(), n=1, cutoff=0.6)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"unknown model {name!r}.{hint} Available models: {', '.join(list_models())}")
    return _MODELS[key](**kwargs)
