"""Optimizer: the common part of SGD, Adam and AdamW (parameter groups, state, zero_grad, saving).

    optimizer = SGD(model.parameters(), lr=0.1, momentum=0.9)
    for x, y in loader:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()

Parameter groups work as in PyTorch: pass a list of dicts instead of parameters, each dict with
its own ``params`` and any hyper-parameter that should differ from the defaults::

    SGD([{"params": model.features.parameters()},
         {"params": model.fc.parameters(), "lr": 0.01}], lr=0.1, momentum=0.9)

Every update changes ``param.data`` in place, with the array module of that parameter (NumPy or
CuPy), outside any autograd graph. Per-parameter state (momentum buffers, Adam's moments) lives in
``optimizer.state``, keyed by the parameter's index in the order the groups list them.
"""
import numpy as np

from ..backend import device_of, to_device, to_numpy
from ..function import no_grad
from ..tensor import Tensor


class Optimizer:
    """Base class; subclasses define ``defaults`` (via __init__) and ``update(param, grad, state, group)``."""

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        groups = list(params) if not isinstance(params, Tensor) else None
        if groups is None:
            raise TypeError("params must be an iterable of Tensors (e.g. model.parameters()) or a list of "
                            "dicts, not a single Tensor; wrap it in a list: [tensor]")
        if not groups:
            raise ValueError("the optimizer got an empty parameter list; pass model.parameters() of a "
                             "model that has parameters")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        self.param_groups = []
        seen = set()
        for group in groups:
            self.add_param_group(group, seen)
        self.state = {}             # parameter index -> dict of arrays and numbers

    def add_param_group(self, group, seen=None):
        if not isinstance(group, dict) or "params" not in group:
            raise TypeError(f"a parameter group must be a dict with a 'params' entry; got {group!r}")
        params = group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        seen = {id(p) for g in self.param_groups for p in g["params"]} if seen is None else seen
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"the optimizer can only update Tensors; got {type(p).__name__}")
            if not p.requires_grad:
                raise ValueError(f"a parameter of shape {p.shape} has requires_grad=False; the optimizer "
                                 "would never update it. Leave it out, or set requires_grad=True")
            if id(p) in seen:
                raise ValueError("a parameter appears twice in the optimizer's groups; list each once")
            seen.add(id(p))
        unknown = set(group) - set(self.defaults) - {"params", "initial_lr"}
        if unknown:
            raise ValueError(f"unknown hyper-parameter(s) {sorted(unknown)} for {type(self).__name__}; "
                             f"expected some of {sorted(self.defaults)}")
        full = {**self.defaults, **group, "params": params}
        self.check_hyperparameters(full)
        self.param_groups.append(full)

    def check_hyperparameters(self, group):
        if not group["lr"] >= 0:
            raise ValueError(f"lr must be >= 0; got {group['lr']}")
        if not group.get("weight_decay", 0) >= 0:
            raise ValueError(f"weight_decay must be >= 0; got {group['weight_decay']}")

    def parameters(self):
        """Every parameter in group order, with its index (the key of ``self.state``)."""
        index = 0
        for group in self.param_groups:
            for p in group["params"]:
                yield index, p, group
                index += 1

    def zero_grad(self, set_to_none=True):
        """Forget the gradients of every parameter (``grad = None``, or zeros with set_to_none=False)."""
        for _, p, _ in self.parameters():
            if set_to_none or p.grad is None:
                p.grad = None
            else:
                p.grad[...] = 0

    def step(self, closure=None):
        """Update every parameter that has a gradient. ``closure`` (optional) recomputes the loss."""
        loss = None
        if closure is not None:
            loss = closure()
        with no_grad():
            for index, p, group in self.parameters():
                if p.grad is None:
                    continue
                if p.grad.shape != p.data.shape:
                    raise ValueError(f"parameter {index} has shape {p.shape} but its grad has shape "
                                     f"{tuple(p.grad.shape)}")
                self.update(p.data, p.grad, self.state.setdefault(index, {}), group)
        return loss

    def update(self, w, g, state, group):
        raise NotImplementedError(f"{type(self).__name__} must define update(w, g, state, group)")

    # -- saving and loading ----------------------------------------------------------------------
    def state_dict(self):
        """{'state': {index: {name: array or number}}, 'param_groups': [{hyper-parameters, 'params': [indices]}]}.

        Arrays are NumPy copies (taken from the device if needed); everything else is JSON-able.
        """
        groups, index = [], 0
        for group in self.param_groups:
            entry = {k: v for k, v in group.items() if k != "params"}
            entry["params"] = list(range(index, index + len(group["params"])))
            index += len(group["params"])
            groups.append(entry)
        state = {i: {k: (np.array(to_numpy(v), copy=True) if hasattr(v, "shape") else v) for k, v in s.items()}
                 for i, s in self.state.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore hyper-parameters and state saved by ``state_dict()`` of a matching optimizer."""
        if not isinstance(state_dict, dict) or "param_groups" not in state_dict or "state" not in state_dict:
            raise ValueError("an optimizer state must be a dict with 'state' and 'param_groups' "
                             "(the result of optimizer.state_dict())")
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"the saved optimizer has {len(saved_groups)} parameter group(s), this one has "
                             f"{len(self.param_groups)}")
        for k, (saved, mine) in enumerate(zip(saved_groups, self.param_groups)):
            foreign = set(saved) - set(self.defaults) - {"params", "initial_lr"}
            missing = set(self.defaults) - set(saved)
            if foreign or missing:
                raise ValueError(f"parameter group {k} of the saved state has hyper-parameters "
                                 f"{sorted(set(saved) - {'params', 'initial_lr'})}, but a {type(self).__name__} has "
                                 f"{sorted(self.defaults)}: it was saved by another kind of optimizer")
            if len(saved["params"]) != len(mine["params"]):
                raise ValueError(f"parameter group {k} holds {len(saved['params'])} parameters in the saved "
                                 f"state but {len(mine['params'])} here; was it saved for another model?")
        params = {i: p for i, p, _ in self.parameters()}
        state = {}
        for key, entries in state_dict["state"].items():
            i = int(key)
            if i not in params:
                raise ValueError(f"the saved optimizer state names parameter {i}, but there are only "
                                 f"{len(params)}")
            p = params[i]
            state[i] = {}
            for name, value in entries.items():
                if hasattr(value, "shape") and getattr(value, "ndim", 0) > 0:
                    if tuple(value.shape) != p.shape:
                        raise ValueError(f"saved state {name!r} of parameter {i} has shape {tuple(value.shape)}, "
                                         f"but the parameter has shape {p.shape}")
                    value = to_device(np.asarray(value, dtype=p.dtype) if device_of(value) == "cpu" else value,
                                      p.device).astype(p.dtype, copy=True)
                elif hasattr(value, "shape"):
                    value = value.item()
                state[i][name] = value
        for saved, mine in zip(saved_groups, self.param_groups):
            mine.update({k: (tuple(v) if isinstance(v, list) else v) for k, v in saved.items() if k != "params"})
        self.state = state

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for k, group in enumerate(self.param_groups):
            lines.append(f"  group {k}: {len(group['params'])} parameters, "
                         + ", ".join(f"{n}={v}" for n, v in group.items() if n != "params"))
        return "\n".join(lines + [")"])

