"""Learning-rate schedules, stepped once per epoch (PyTorch's ``torch.optim.lr_scheduler`` names).

    optimizer = SGD(model.parameters(), lr=0.1, momentum=0.9)
    scheduler = CosineAnnealingLR(optimizer, T_max=30)
    for epoch in range(30):
        train_one_epoch(...)            # every step uses group["lr"]
        scheduler.step()                # epoch e+1 gets its learning rate

Each schedule is a closed formula of the epoch counter e = ``last_epoch`` (0 during the first
epoch) and of the base rate η₀ of each parameter group (its ``lr`` when the schedule was made):

    StepLR              η(e) = η₀ · γ^⌊e / step_size⌋
    MultiStepLR         η(e) = η₀ · γ^(number of milestones ≤ e)
    ExponentialLR       η(e) = η₀ · γ^e
    LambdaLR            η(e) = η₀ · λ(e)                          (λ: your function of the epoch)
    CosineAnnealingLR   η(e) = η_min + (η₀ − η_min) · (1 + cos(π·e / T_max)) / 2
    LinearWarmup        η(e) = η₀ · (s + (1 − s)·e / W)          for e < W (W warm-up epochs)
                        η(e) = after's η(e − W)                  afterwards (η₀ if no ``after``)

Making a schedule sets the groups' ``lr`` to η(0), as PyTorch does.
"""
import bisect
import math

from ..pytorch_names import module_getattr as _module_getattr


class LRScheduler:
    """Base class: subclasses define ``factor(e)`` (η(e)/η₀) or ``lr_at(e)`` (one rate per group)."""

    hyperparameters = ()

    def __init__(self, optimizer, last_epoch=-1):
        if not hasattr(optimizer, "param_groups"):
            raise TypeError(f"{type(self).__name__} needs an optimizer (SGD, Adam, ...); got "
                            f"{type(optimizer).__name__}")
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self.step()

    def factor(self, epoch):
        raise NotImplementedError(f"{type(self).__name__} must define factor(epoch) or lr_at(epoch)")

    def lr_at(self, epoch):
        """The learning rate of each group during epoch ``epoch`` (0-based)."""
        f = self.factor(epoch)
        return [base * f for base in self.base_lrs]

    def step(self):
        """Move to the next epoch and set each group's ``lr``."""
        self.last_epoch += 1
        for group, lr in zip(self.optimizer.param_groups, self.lr_at(self.last_epoch)):
            group["lr"] = lr

    def get_last_lr(self):
        return [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self):
        """JSON-able: the schedule's name, hyper-parameters, epoch counter and base rates."""
        state = {"name": type(self).__name__, "last_epoch": self.last_epoch, "base_lrs": list(self.base_lrs)}
        state.update({k: getattr(self, k) for k in self.hyperparameters})
        return state

    def load_state_dict(self, state):
        if not isinstance(state, dict) or state.get("name", type(self).__name__) != type(self).__name__:
            found = state.get("name") if isinstance(state, dict) else type(state).__name__
            raise ValueError(f"this state belongs to a {found} schedule, not {type(self).__name__}")
        for key in self.hyperparameters:
            if key in state:
                setattr(self, key, state[key])
        self.last_epoch = int(state["last_epoch"])
        self.base_lrs = list(state["base_lrs"])

    def __repr__(self):
        args = ", ".join(f"{k}={getattr(self, k)!r}" for k in self.hyperparameters)
        return f"{type(self).__name__}({args}, last_epoch={self.last_epoch})"


class StepLR(LRScheduler):
    """Multiply the rate by ``gamma`` every ``step_size`` epochs: η(e) = η₀ · γ^⌊e / step_size⌋."""

    hyperparameters = ("step_size", "gamma")

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        if int(step_size) != step_size or step_size < 1:
            raise ValueError(f"step_size must be a positive integer; got {step_size!r}")
        self.step_size, self.gamma = int(step_size), gamma
        super().__init__(optimizer, last_epoch)

    def factor(self, epoch):
        return self.gamma ** (epoch // self.step_size)


class MultiStepLR(LRScheduler):
    """Multiply the rate by ``gamma`` at each milestone epoch: η(e) = η₀ · γ^#{m ≤ e}."""

    hyperparameters = ("milestones", "gamma")

    def __init__(self, optimizer, milestones, gamma=0.1, last_epoch=-1):
        milestones = [int(m) for m in milestones]
        if milestones != sorted(milestones):
            raise ValueError(f"milestones must be increasing; got {milestones}")
        self.milestones, self.gamma = milestones, gamma
        super().__init__(optimizer, last_epoch)

    def factor(self, epoch):
        return self.gamma ** bisect.bisect_right(self.milestones, epoch)


class ExponentialLR(LRScheduler):
    """Multiply the rate by ``gamma`` every epoch: η(e) = η₀ · γ^e."""

    hyperparameters = ("gamma",)

    def __init__(self, optimizer, gamma, last_epoch=-1):
        if not gamma > 0:
            raise ValueError(f"gamma must be a positive number; got {gamma!r}")
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def factor(self, epoch):
        return self.gamma ** epoch


class LambdaLR(LRScheduler):
    """η(e) = η₀ · λ(e), for a function ``lr_lambda`` of the epoch (or one function per parameter
    group). Its state holds the epoch and base rates, not the functions: give them again on resuming."""

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        groups = len(getattr(optimizer, "param_groups", ()))
        lambdas = list(lr_lambda) if isinstance(lr_lambda, (list, tuple)) else [lr_lambda] * groups
        if len(lambdas) != groups or not all(callable(f) for f in lambdas):
            raise ValueError(f"lr_lambda must be a function of the epoch, or a list of {groups} of them "
                             "(one per parameter group)")
        self.lr_lambdas = lambdas
        super().__init__(optimizer, last_epoch)

    def lr_at(self, epoch):
        return [base * f(epoch) for base, f in zip(self.base_lrs, self.lr_lambdas)]


class CosineAnnealingLR(LRScheduler):
    """Half a cosine from η₀ down to ``eta_min`` over ``T_max`` epochs (Loshchilov & Hutter 2017,
    without restarts): η(e) = η_min + (η₀ − η_min) · (1 + cos(π·e / T_max)) / 2."""

    hyperparameters = ("T_max", "eta_min")

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        if not T_max > 0:
            raise ValueError(f"T_max must be a positive number of epochs; got {T_max!r}")
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch)

    def lr_at(self, epoch):
        cosine = (1 + math.cos(math.pi * epoch / self.T_max)) / 2
        return [self.eta_min + (base - self.eta_min) * cosine for base in self.base_lrs]


class LinearWarmup(LRScheduler):
    """Raise the rate linearly for ``warmup_epochs`` epochs, then hand over to ``after``.

    η(e) = η₀ · (s + (1 − s)·e / W) for e < W, with s = ``start_factor`` (default 1/(W + 1), so
    the warm-up rates are η₀/(W+1), 2η₀/(W+1), ..., W·η₀/(W+1)); from epoch W on, ``after``
    (another schedule on the same optimizer, counting its epochs from the end of the warm-up)
    decides, or the rate stays η₀ when ``after`` is None. Equivalent to PyTorch's
    ``SequentialLR([LinearLR(opt, s, 1.0, W), after], milestones=[W])``.
    """

    hyperparameters = ("warmup_epochs", "start_factor")

    def __init__(self, optimizer, warmup_epochs, after=None, start_factor=None, last_epoch=-1):
        if int(warmup_epochs) != warmup_epochs or warmup_epochs < 0:
            raise ValueError(f"warmup_epochs must be a non-negative integer; got {warmup_epochs!r}")
        if after is not None and after.optimizer is not optimizer:
            raise ValueError("the schedule after the warm-up must drive the same optimizer")
        self.warmup_epochs = int(warmup_epochs)
        self.start_factor = 1.0 / (self.warmup_epochs + 1) if start_factor is None else float(start_factor)
        if not 0.0 < self.start_factor <= 1.0:
            raise ValueError(f"start_factor must lie in (0, 1]; got {start_factor}")
        self.after = after
        super().__init__(optimizer, last_epoch)

    def lr_at(self, epoch):
        W, s = self.warmup_epochs, self.start_factor
        if epoch < W:
            return [base * (s + (1 - s) * epoch / W) for base in self.base_lrs]
        if self.after is None:
            return list(self.base_lrs)
        self.after.last_epoch = epoch - W
        return self.after.lr_at(epoch - W)

    def state_dict(self):
        state = super().state_dict()
        state["after"] = None if self.after is None else self.after.state_dict()
        return state

    def load_state_dict(self, state):
        super().load_state_dict(state)
        if (state.get("after") is None) != (self.after is None):
            raise ValueError("the saved warm-up schedule and this one differ in what follows the warm-up")
        if self.after is not None:
            self.after.load_state_dict(state["after"])


__getattr__ = _module_getattr("minise.optim.lr_scheduler")     # a PyTorch schedule minise lacks: what to use
