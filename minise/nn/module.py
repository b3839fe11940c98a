"""Module: a layer (or a whole network) that owns parameters, buffers and sub-modules.

Write a network the way PyTorch does: subclass, call ``super().__init__()``, assign Parameters and
Modules as attributes, define ``forward``::

    class TwoLayer(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(4, 8)         # registered as a child: its parameters are ours
            self.fc2 = nn.Linear(8, 2)
        def forward(self, x):
            return self.fc2(F.relu(self.fc1(x)))

Assignment does the bookkeeping (``__setattr__``): a :class:`Parameter` lands in ``_parameters``,
a Module in ``_modules``, and a name given to :meth:`register_buffer` (BatchNorm's running
statistics: arrays saved with the model but not trained) in ``_buffers``. Everything else walks
those three dicts: ``named_parameters`` gives dotted names (``"layer1.0.conv1.weight"``),
``state_dict`` maps the same names to arrays, ``train``/``eval`` set ``training`` everywhere
(those, the methods that act on everything a module holds, are in ``module_state.py``).
"""

__all__ = ["Module", "Parameter", "InputShapeError", "IncompatibleKeys"]
from ..tensor import Tensor
from .hooks import ModuleHooks, backward_hook_call, run_forward_hooks, run_forward_pre_hooks
from .module_state import IncompatibleKeys, ModuleState


class Parameter(Tensor):
    """A Tensor that is a trainable weight of a Module (``requires_grad=True``)."""

    def __init__(self, data, requires_grad=True):
        super().__init__(data, requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


class InputShapeError(ValueError):
    """A layer got an input of the wrong shape. The message names the layer and, once the error
    has passed up through the model, its dotted path (``layer1.0.conv1``)."""

    def __init__(self, module, message):
        super().__init__(message)
        self.module, self.message, self.path = module, message, []

    def __str__(self):
        where = ".".join(self.path)
        return f"{where}: {self.message}" if where else self.message


class Module(ModuleHooks, ModuleState):
    """Base class of every layer and model (see the module docstring); what it does with all it
    holds at once (state_dict, load_state_dict, to, train, eval, zero_grad) is in ModuleState,
    the registration of hooks in ModuleHooks (``hooks.py``)."""

    def __init__(self):
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "training", True)
        for hooks in ("_forward_pre_hooks", "_forward_hooks", "_backward_hooks"):
            object.__setattr__(self, hooks, {})

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward(self, ...)")

    def __call__(self, *args, **kwargs):
        if self._forward_pre_hooks:
            args = run_forward_pre_hooks(self, self._forward_pre_hooks.values(), args)
        backward_hooks = backward_hook_call(self, self._backward_hooks.values()) if self._backward_hooks else None
        if backward_hooks is not None:
            args = backward_hooks.setup_inputs(args)
        try:
            output = self.forward(*args, **kwargs)
        except InputShapeError as error:         # prefix the child's name: "layer1.0.conv1: ..."
            for name, child in self._modules.items():
                if child is error.module:
                    error.path.insert(0, name)
                    error.module = self
                    break
            raise
        if self._forward_hooks:
            output = run_forward_hooks(self, self._forward_hooks.values(), args, output)
        if backward_hooks is not None:
            output = backward_hooks.setup_outputs(output)
        return output

    # -- registration ---------------------------------------------------------------------------
    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"call super().__init__() in {type(self).__name__}.__init__ before "
                                 f"assigning attributes (here: {name!r})")
        params, buffers, modules = self._parameters, self._buffers, self._modules
        if isinstance(value, Parameter):
            _forget(self, name)
            params[name] = value
        elif name in params:
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} to parameter {name!r} of "
                                f"{type(self).__name__}; expected a Parameter or None")
            params[name] = None
        elif isinstance(value, Module):
            _forget(self, name)
            modules[name] = value
        elif name in modules:
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} to child module {name!r}; "
                                "expected a Module or None")
            modules[name] = None
        elif name in buffers:
            value = value.data if isinstance(value, Tensor) else value
            if value is not None and not _is_buffer_value(value):
                raise TypeError(f"cannot assign {type(value).__name__} to buffer {name!r}; expected an array or None")
            buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name):                     # only called when normal lookup fails
        for store in ("_parameters", "_buffers", "_modules"):
            values = self.__dict__.get(store, {})
            if name in values:
                return values[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __delattr__(self, name):
        for store in (self._parameters, self._buffers, self._modules):
            if name in store:
                del store[name]
                return
        object.__delattr__(self, name)

    def register_parameter(self, name, param):
        """Add a parameter; ``None`` records an absent one (a layer built with ``bias=False``)."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter({name!r}): expected a Parameter or None, got {type(param).__name__}")
        _check_name(self, name, self._parameters)
        self._parameters[name] = param

    def register_buffer(self, name, array):
        """Add an array that belongs to the module's state but is not trained (running statistics)."""
        if isinstance(array, Tensor):
            array = array.data
        if array is not None and not _is_buffer_value(array):
            raise TypeError(f"register_buffer({name!r}): expected an array, got {type(array).__name__}")
        _check_name(self, name, self._buffers)
        self._buffers[name] = array

    def add_module(self, name, module):
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module({name!r}): expected a Module, got {type(module).__name__}")
        _check_name(self, name, self._modules)
        self._modules[name] = module

    # -- walking the tree -----------------------------------------------------------------------
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """(dotted name, module) for this module ("") and every module below it, each once; with
        ``remove_duplicate=False`` a module shared by two parents comes under both names (PyTorch's
        argument)."""
        memo = set() if memo is None else memo
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child.named_modules(memo, f"{prefix}.{name}" if prefix else name, remove_duplicate)

    def modules(self):
        return (m for _, m in self.named_modules())

    def named_children(self):
        return ((n, m) for n, m in self._modules.items() if m is not None)

    def children(self):
        return (m for _, m in self.named_children())

    def _named(self, store, recurse=True):
        seen = set()
        walk = self.named_modules() if recurse else [("", self)]
        for prefix, module in walk:
            for name, value in getattr(module, store).items():
                if value is None or id(value) in seen:
                    continue
                seen.add(id(value))
                yield (f"{prefix}.{name}" if prefix else name), value

    def named_parameters(self, recurse=True):
        """(dotted name, Parameter) pairs: ``("layer1.0.conv1.weight", Parameter(...))``; shared ones once."""
        return self._named("_parameters", recurse)

    def parameters(self, recurse=True):
        return (p for _, p in self.named_parameters(recurse))

    def named_buffers(self, recurse=True):
        return self._named("_buffers", recurse)

    def buffers(self, recurse=True):
        return (b for _, b in self.named_buffers(recurse))

    def apply(self, fn):
        """Call ``fn(module)`` on every child (recursively), then on self; returns self."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # -- printing ------------------------------------------------------------------------------------
    def extra_repr(self):
        """The layer's hyper-parameters, shown inside the parentheses of its repr."""
        return ""

    def one_line(self):
        """``Conv2d(3, 16, kernel_size=(3, 3), ...)``: the layer and its hyper-parameters, without children."""
        return f"{type(self).__name__}({self.extra_repr()})"

    def __repr__(self):
        lines = []
        for name, child in self._modules.items():
            body = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {body}")
        extra = self.extra_repr()
        if not lines:
            return f"{type(self).__name__}({extra})"
        head = f"{type(self).__name__}(" + (f"\n  {extra}" if extra else "")
        return head + "\n" + "\n".join(lines) + "\n)"

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._buffers) | set(self._modules))


def _forget(module, name):
    for store in (module._parameters, module._buffers, module._modules):
        store.pop(name, None)
    module.__dict__.pop(name, None)


def _is_buffer_value(value):
    return hasattr(value, "dtype") and hasattr(value, "shape") and not isinstance(value, Tensor)


def _check_name(module, name, store):
    if not isinstance(name, str) or not name or "." in name:
        raise KeyError(f"a name for a parameter, buffer or module must be a non-empty string without '.', got {name!r}")
    if name in module.__dict__ and name not in store:
        raise KeyError(f"attribute {name!r} already exists on {type(module).__name__}")
