"""Module hooks: watch (or change) what goes into a layer, what comes out, and the gradients.

    h = layer.register_forward_hook(hook)            hook(module, inputs, output) -> None or new output
    h = layer.register_forward_pre_hook(hook)        hook(module, inputs) -> None or new inputs
    h = layer.register_full_backward_hook(hook)      hook(module, grad_input, grad_output)
                                                         -> None or new grad_input
    h.remove()

The names and the arguments are PyTorch's. ``inputs`` is the tuple of positional arguments of the
call; ``grad_output`` holds ∂L/∂output (one entry per Tensor output) and ``grad_input`` ∂L/∂input
(one entry per Tensor positional argument; None where that input does not require a gradient).
Gradients are arrays, as ``Tensor.grad`` is.

How a backward hook sees both ends of a layer: the call passes the layer's inputs through an
identity op before ``forward`` and its outputs through another one after. Backward reaches the
output identity first (it records ``grad_output``), then flows through the layer's own ops, then
reaches the input identity with the gradients summed over every use inside the layer: that is
``grad_input``, and the hook runs there. What it returns goes on backwards instead. A gradient that
passes the layer by (a residual shortcut using the same input) is not part of ``grad_input``.
"""
from ..function import Function, is_grad_enabled
from ..hooks import add_hook
from ..tensor import Tensor


class BackwardHookFunction(Function):
    """Identity on any number of tensors, whose backward hands the gradients to a callback.

    Shapes   x₁, …, x_k -> y₁ = x₁, …, y_k = x_k
    Forward  yᵢ = xᵢ (the same arrays, no copy)
    Backward gxᵢ = on_backward(gy₁, …, gy_k)ᵢ   (the identity, unless a hook replaces them)
    """

    def __init__(self, on_backward):
        self.on_backward = on_backward

    def forward(self, *arrays):
        return tuple(arrays)

    def backward(self, *gys):
        return tuple(self.on_backward(gys))


def _tensor_slots(values):
    """Positions of the Tensors in ``values`` that require a gradient, and the count of all Tensors."""
    tensors = [i for i, v in enumerate(values) if isinstance(v, Tensor)]
    return [i for i in tensors if values[i].requires_grad], tensors


class BackwardHookCall:
    """One call of a module with full backward hooks: wraps its inputs and outputs, runs the hooks."""

    def __init__(self, module, hooks):
        self.module, self.hooks = module, list(hooks)
        self.grad_output = None
        self.inputs_wrapped = False

    @staticmethod
    def _wrap(values, callback):
        wanted, tensors = _tensor_slots(values)
        if not wanted:
            return values, wanted, tensors
        values = list(values)
        wrapped = BackwardHookFunction(callback)(*[values[i] for i in wanted])
        for i, t in zip(wanted, wrapped):
            values[i] = t
        return values, wanted, tensors

    def setup_inputs(self, args):
        args, self.input_wanted, self.input_tensors = self._wrap(args, self._on_input_grads)
        self.inputs_wrapped = bool(self.input_wanted)
        return tuple(args)

    def setup_outputs(self, output):
        single = isinstance(output, Tensor)
        if not single and not isinstance(output, (tuple, list)):
            return output                                  # a dict or other: not watched
        values, self.output_wanted, self.output_tensors = self._wrap([output] if single else output,
                                                                     self._on_output_grads)
        if single:
            return values[0]
        return type(output)(values)

    def _spread(self, gys, wanted, tensors):
        """The gradients of the wrapped tensors, laid out one per Tensor argument (None elsewhere)."""
        by_position = dict(zip(wanted, gys))
        return tuple(by_position.get(i) for i in tensors)

    def _on_output_grads(self, gys):
        self.grad_output = self._spread(gys, self.output_wanted, self.output_tensors)
        if not self.inputs_wrapped:                        # no input wants a gradient: run the hooks now
            grad_input = (None,) * len(self.input_tensors)
            for hook in self.hooks:
                result = hook(self.module, grad_input, self.grad_output)
                if result is not None and any(g is not None for g in result):
                    raise RuntimeError(f"a full backward hook of {self.module.one_line()} returned gradients, but no "
                                       "input of this module requires a gradient: return None")
        return gys

    def _on_input_grads(self, gys):
        grad_input = self._spread(gys, self.input_wanted, self.input_tensors)
        grad_output = self.grad_output
        if grad_output is None:
            grad_output = (None,) * len(getattr(self, "output_tensors", ()))
        for hook in self.hooks:
            result = hook(self.module, grad_input, grad_output)
            if result is not None:
                grad_input = self._check_result(result, grad_input)
        position = {i: k for k, i in enumerate(self.input_tensors)}
        return [grad_input[position[i]] for i in self.input_wanted]

    def _check_result(self, result, grad_input):
        where = f"a full backward hook of {self.module.one_line()}"
        if not isinstance(result, (tuple, list)) or len(result) != len(grad_input):
            got = f"{len(result)} values" if isinstance(result, (tuple, list)) else type(result).__name__
            raise RuntimeError(f"{where} returned {got}; it must return None or a tuple of {len(grad_input)} "
                               "gradient(s), one per Tensor input (grad_input)")
        checked = []
        for k, (new, old) in enumerate(zip(result, grad_input)):
            new = new.data if isinstance(new, Tensor) else new
            if new is not None and old is not None and tuple(new.shape) != tuple(old.shape):
                raise RuntimeError(f"{where} returned a gradient of shape {tuple(new.shape)} for input {k}, "
                                   f"whose gradient has shape {tuple(old.shape)}")
            if new is not None and old is None:
                raise RuntimeError(f"{where} returned a gradient for input {k}, which does not require one")
            checked.append(new)
        return tuple(checked)


def run_forward_pre_hooks(module, hooks, args):
    for hook in list(hooks):
        result = hook(module, args)
        if result is not None:
            args = result if isinstance(result, tuple) else (result,)
    return args


def run_forward_hooks(module, hooks, args, output):
    for hook in list(hooks):
        result = hook(module, args, output)
        if result is not None:
            output = result
    return output


def backward_hook_call(module, hooks):
    """A :class:`BackwardHookCall` when there are hooks and a graph is being recorded, else None."""
    return BackwardHookCall(module, hooks) if hooks and is_grad_enabled() else None


class ModuleHooks:
    """The hook methods of :class:`~minise.nn.module.Module` (PyTorch's names and arguments); the
    hooks live in the module's ``_forward_pre_hooks``, ``_forward_hooks`` and ``_backward_hooks``."""

    def register_forward_pre_hook(self, hook, *, prepend=False):
        """``hook(module, inputs)`` before every forward; a non-None result replaces the inputs."""
        return _register(self._forward_pre_hooks, hook, prepend, "register_forward_pre_hook")

    def register_forward_hook(self, hook, *, prepend=False):
        """``hook(module, inputs, output)`` after every forward; a non-None result replaces the output.
        Returns a handle: ``handle.remove()`` takes the hook off."""
        return _register(self._forward_hooks, hook, prepend, "register_forward_hook")

    def register_full_backward_hook(self, hook, *, prepend=False):
        """``hook(module, grad_input, grad_output)`` when the gradients of this call's inputs are known;
        a non-None result (a tuple, one entry per Tensor input) replaces grad_input."""
        return _register(self._backward_hooks, hook, prepend, "register_full_backward_hook")


def _register(hooks, hook, prepend, what):
    handle = add_hook(hooks, hook, what)
    if prepend:                                  # dicts keep insertion order: rebuild with this one first
        others = {k: v for k, v in hooks.items() if k != handle.id}
        hooks.clear()
        hooks[handle.id] = hook
        hooks.update(others)
    return handle
