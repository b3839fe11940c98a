"""Measuring a model: mean loss and accuracy over a loader, in eval mode and without a graph."""
from ..backend import to_device
from ..function import no_grad
from ..functional.loss import cross_entropy
from ..tensor import Tensor
from .step import _array, batch_stats


def model_device(model):
    for p in model.parameters():
        return p.device
    return "cpu"


def evaluate(model, loader, loss_fn=cross_entropy):
    """Mean loss and accuracy of ``model`` over ``loader``, in eval mode and without a graph.

    Returns {'loss': float, 'accuracy': float in [0, 1], 'count': number of examples}.
    """
    was_training = model.training
    device = model_device(model)
    if hasattr(loader, "set_epoch"):
        loader.set_epoch(0)                    # the same batches at every evaluation
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    try:
        with no_grad():
            for x, y in loader:
                x, y = to_device(_array(x), device), to_device(_array(y), device)
                logits = model(Tensor(x))                                   # (B, classes)
                batch_loss, batch_correct = batch_stats(logits, y, loss_fn(logits, Tensor(y)))
                total_loss, correct, count = total_loss + batch_loss, correct + batch_correct, count + y.shape[0]
    finally:
        model.train(was_training)
    if count == 0:
        raise ValueError("evaluate() got a loader without any batch")
    return {"loss": total_loss / count, "accuracy": correct / count, "count": count}
