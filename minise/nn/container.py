"""Containers: Sequential (a pipeline of layers), ModuleList (a list whose layers are registered) and
ModuleDict (a dict whose layers are registered).

A plain Python list of layers hides them from ``parameters()``; these register each layer under its
index ("0", "1", ...) or key, so ``named_parameters()`` gives names like ``"layer1.0.conv1.weight"``,
the names torchvision uses.
"""
from collections import OrderedDict

from .module import Module


def _index(i, length, what):
    if not isinstance(i, int):
        raise TypeError(f"{what} indices must be integers or slices, not {type(i).__name__}")
    if not -length <= i < length:
        raise IndexError(f"index {i} is out of range for a {what} of {length} modules")
    return i % length


class _Registered(Module):
    """What both containers share: a length, iteration over the layers, appending one."""

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module):
        self.add_module(str(len(self)), module)
        return self


class Sequential(_Registered):
    """Calls its layers in order, each on the previous one's output::

        block = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU())
        named = nn.Sequential(OrderedDict([("conv", nn.Conv2d(3, 16, 3)), ("relu", nn.ReLU())]))
    """

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], (dict, OrderedDict)):
            for name, module in modules[0].items():
                self.add_module(str(name), module)
        else:
            for i, module in enumerate(modules):
                self.add_module(str(i), module)

    def forward(self, x):
        for module in self._modules.values():
            x = module(x)
        return x

    def __getitem__(self, i):
        items = list(self._modules.items())
        if isinstance(i, slice):
            return Sequential(OrderedDict(items[i]))
        return items[_index(i, len(items), "Sequential")][1]


class ModuleList(_Registered):
    """A list of modules that registers them (it has no forward: you decide how to call them)."""

    def __init__(self, modules=()):
        super().__init__()
        self.extend(modules)

    def __getitem__(self, i):
        items = list(self._modules.values())
        if isinstance(i, slice):
            return ModuleList(items[i])
        return items[_index(i, len(items), "ModuleList")]

    def __setitem__(self, i, module):
        key = list(self._modules)[_index(i, len(self), "ModuleList")]
        setattr(self, key, module)


    def extend(self, modules):
        for module in modules:
            self.append(module)
        return self

    def insert(self, index, module):
        items = list(self._modules.values())
        items.insert(index, module)
        self._modules.clear()
        for i, m in enumerate(items):
            self.add_module(str(i), m)


class ModuleDict(Module):
    """A dict of modules that registers them under their keys (no forward: you decide how to call them)::

        heads = nn.ModuleDict({"digits": nn.Linear(64, 10), "parity": nn.Linear(64, 2)})
        logits = heads["digits"](features)        # parameters named heads.digits.weight, ...
    """

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key):
        if key not in self._modules:
            raise KeyError(f"ModuleDict has no module {key!r}; its keys are {list(self._modules)}")
        return self._modules[key]

    def __setitem__(self, key, module):
        if not isinstance(module, Module):
            raise TypeError(f"ModuleDict[{key!r}]: expected a Module, got {type(module).__name__}")
        self._modules.pop(key, None)
        self.add_module(key, module)

    def __delitem__(self, key):
        del self._modules[key]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def keys(self):
        return self._modules.keys()

    def values(self):
        return self._modules.values()

    def items(self):
        return self._modules.items()

    def pop(self, key):
        module = self[key]
        del self._modules[key]
        return module

    def update(self, modules):
        """Add (or replace) modules from a dict or from (key, module) pairs."""
        pairs = modules.items() if hasattr(modules, "items") else modules
        for key, module in pairs:
            self[key] = module

