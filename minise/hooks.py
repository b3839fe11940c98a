"""Hook handles: what ``register_*_hook`` returns, so a hook can be taken off again.

    handle = model.fc.register_forward_hook(lambda module, inputs, output: print(output.shape))
    model(x)                 # prints the shape
    handle.remove()          # the hook is gone; removing twice is harmless

A handle is also a context manager: ``with layer.register_forward_hook(h): model(x)`` removes the
hook on leaving the block, even on an error. Hooks sit in an ordinary dict (key -> hook, in
registration order), held by whatever object runs them; this file knows nothing about modules or
tensors.
"""
import itertools

_next_id = itertools.count()


class RemovableHandle:
    """Takes one hook out of the dict(s) it was registered in (PyTorch: ``torch.utils.hooks.RemovableHandle``)."""

    def __init__(self, *hook_dicts):
        self.hook_dicts = hook_dicts
        self.id = next(_next_id)

    def remove(self):
        for hooks in self.hook_dicts:
            hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
        return False

    def __repr__(self):
        return f"<RemovableHandle id={self.id}>"


def add_hook(hooks, hook, what):
    """Put ``hook`` (a callable) in ``hooks`` and return its handle; ``what`` names it in errors."""
    if not callable(hook):
        raise TypeError(f"{what}: a hook must be callable, got {type(hook).__name__}")
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    return handle
