"""Optimizers and learning-rate schedules, with PyTorch's names and update rules.

    from minise.optim import SGD, CosineAnnealingLR
    optimizer = SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4, nesterov=True)
    scheduler = CosineAnnealingLR(optimizer, T_max=epochs)

Each optimizer's docstring carries its update formula.
"""
from ..pytorch_names import module_getattr as _module_getattr
from . import lr_scheduler
from .adam import Adam, AdamW
from .lr_scheduler import CosineAnnealingLR, ExponentialLR, LambdaLR, LinearWarmup, LRScheduler, MultiStepLR, StepLR
from .optimizer import Optimizer
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "lr_scheduler", "LRScheduler", "StepLR", "MultiStepLR",
           "ExponentialLR", "LambdaLR", "CosineAnnealingLR", "LinearWarmup"]
__getattr__ = _module_getattr("minise.optim")      # a PyTorch optimizer minise lacks: what to use instead
