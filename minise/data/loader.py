"""DataLoader: cut a dataset into batches, shuffled reproducibly, on the chosen device.

    loader = DataLoader(Digits(train=True), batch_size=64, shuffle=True, seed=0)
    for x, y in loader:          # Tensors: x (B, C, H, W) float32, y (B,) int64, on the current backend
        x, y = x.to(device), y.to(device)  # as in PyTorch (they are already there)

The batches are Tensors outside the graph, as PyTorch's are; their arrays are ``x.data``.

Reproducibility. One ``seed`` fixes every epoch. Epoch k uses two independent random streams
derived from (seed, k): one shuffles the order, the other feeds random transforms. Epochs
differ from each other, yet a run repeated with the same seed repeats exactly. Without a
``seed``, ``minise.manual_seed`` fixes the order too, as ``torch.manual_seed`` does PyTorch's
(see :func:`minise.rng.seed_for_a_loader`).

Resuming. ``state_dict()`` returns plain JSON-able data (the seed, the epoch counter, how many
batches of the current epoch were handed out and the transform stream's generator state).
``load_state_dict()`` on a fresh loader continues with the very next batch, bit for bit, as if
training had never stopped. A ``for`` loop that stops early (``break``) abandons its epoch: the
next ``iter(loader)`` starts the following epoch, as in PyTorch.
"""
import math

import numpy as np

from minise import backend, rng
from minise.data.dataset import stack_items
from minise.tensor import Tensor

_DEVICES = ("cpu", "cuda", "numpy", "cupy", "gpu")
# PyTorch's DataLoader arguments that change how it loads, not what it yields: accepted, no effect.
_NO_EFFECT = {"num_workers": "minise loads in the main process", "pin_memory": "minise has no pinned memory",
              "persistent_workers": "minise starts no workers", "prefetch_factor": "minise starts no workers",
              "timeout": "minise starts no workers", "worker_init_fn": "minise starts no workers",
              "multiprocessing_context": "minise starts no workers"}
_INSTEAD = {"sampler": "shuffle=True visits every example once per epoch in random order; shuffle=False in order",
            "batch_sampler": "batch_size=, shuffle= and drop_last= make the batches",
            "collate_fn": "a dataset stacks its own batches: give it a get_batch(indices, generator) method",
            "generator": "seed= fixes the order of every epoch (or minise.manual_seed, without seed=)"}


class DataLoader:
    """Iterate over ``dataset`` in batches ``(x, y)``.

    Args:
        dataset: anything with ``__len__`` and ``__getitem__`` returning (image (C, H, W), label);
            a ``get_batch(indices, generator)`` method is used when present (ArrayDataset).
        batch_size: examples per batch (the last one may be smaller unless ``drop_last``).
        shuffle: visit the examples in a new random order every epoch.
        drop_last: skip a final batch smaller than ``batch_size``.
        seed: integer fixing the order and the random transforms of every epoch; None takes one that
            ``minise.manual_seed`` repeats (random without it; readable as ``loader.seed``).
        device: 'cpu' or 'cuda' for the batches; None follows minise's default backend when a
            batch is made.
        num_workers, pin_memory, ...: PyTorch's options for how batches are loaded are accepted and
            change nothing (minise loads in the main process); ``sampler``, ``collate_fn`` and
            ``generator`` are refused with the minise way to get the same.
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, seed=None, device=None,
                 **torch_options):
        for name in torch_options:
            if name in _INSTEAD and torch_options[name] is not None:
                raise TypeError(f"DataLoader: minise has no {name}=; {_INSTEAD[name]}")
            if name not in _NO_EFFECT and name not in _INSTEAD:
                raise TypeError(f"DataLoader got an unexpected keyword argument {name!r}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer; got {batch_size!r}")
        size = len(dataset)
        if size == 0:
            raise ValueError(f"the dataset is empty ({type(dataset).__name__} has no examples); "
                             "there is nothing to load")
        if drop_last and size < batch_size:
            raise ValueError(f"drop_last=True with batch_size={batch_size} and only {size} examples "
                             "gives no batch at all; lower batch_size or set drop_last=False")
        if device is not None and device not in _DEVICES:
            raise ValueError(f"unknown device {device!r}; expected 'cpu', 'cuda' or None")
        if seed is None:
            seed = rng.seed_for_a_loader()
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer or None; got {seed!r}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.device = device
        self.seed = int(seed)
        self.epoch = 0                 # the epoch the next batch belongs to
        self._batches_done = 0         # batches of that epoch already handed out
        self._transform_state = None   # generator state after the last batch handed out
        self._resume = False           # set by load_state_dict: continue the epoch in progress

    def __len__(self):
        """The number of batches in one epoch."""
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def set_epoch(self, epoch):
        """Start the next iteration at ``epoch`` (its order and transforms follow from seed and epoch)."""
        self.epoch, self._batches_done, self._transform_state, self._resume = int(epoch), 0, None, False

    def order(self, epoch):
        """The example indices of ``epoch`` in visiting order: (N,) int64."""
        n = len(self.dataset)
        if not self.shuffle:
            return np.arange(n)
        return np.random.default_rng([self.seed, epoch, 0]).permutation(n)

    def __iter__(self):
        if self._batches_done >= len(self) or (self._batches_done and not self._resume):
            self.set_epoch(self.epoch + 1)          # the previous epoch ended or was abandoned
        self._resume = False
        transform_rng = np.random.default_rng([self.seed, self.epoch, 1])
        if self._transform_state is not None:
            transform_rng.bit_generator.state = self._transform_state
        order = self.order(self.epoch)
        for b in range(self._batches_done, len(self)):
            indices = order[b * self.batch_size:(b + 1) * self.batch_size]
            x, y = self._gather(indices, transform_rng)
            self._batches_done = b + 1
            self._transform_state = transform_rng.bit_generator.state
            device = self.device or backend.default_device()
            yield Tensor(backend.to_device(x, device)), Tensor(backend.to_device(y, device))
        self.set_epoch(self.epoch + 1)

    def _gather(self, indices, generator):
        if hasattr(self.dataset, "get_batch"):
            x, y = self.dataset.get_batch(indices, generator=generator)
        else:
            x, y = stack_items([self.dataset[int(i)] for i in indices])
        x, y = (v.data if isinstance(v, Tensor) else v for v in (x, y))
        if x.shape[:1] != (len(indices),) or y.shape[:1] != (len(indices),):
            raise ValueError(f"the dataset returned a batch x {x.shape}, y {y.shape}; expected "
                             f"{len(indices)} rows in each")
        if getattr(self.dataset, "keeps_shapes_and_dtypes", False):       # a TensorDataset: as it is
            return x, y
        if x.ndim == 4:                                                     # images (B, C, H, W)
            x = x.astype(np.float32, copy=False)
        if y.dtype.kind in "iub":                                           # class indices
            y = y.astype(np.int64, copy=False)
        return x, y

    # -- resuming ---------------------------------------------------------------------------

    def state_dict(self):
        """Where this loader stands, as JSON-able data (ints, strings, dicts)."""
        return {"seed": self.seed, "epoch": self.epoch, "batches_done": self._batches_done,
                "shuffle": self.shuffle, "batch_size": self.batch_size, "dataset_size": len(self.dataset),
                "transform_generator": self._transform_state}

    def load_state_dict(self, state):
        """Continue exactly where the loader that wrote ``state`` stood."""
        expected = {"seed", "epoch", "batches_done", "transform_generator"}
        if not isinstance(state, dict) or not expected <= set(state):
            raise ValueError(f"a DataLoader state must be a dict with keys {sorted(expected)}; "
                             f"got {state if not isinstance(state, dict) else sorted(state)}")
        for key, mine in (("batch_size", self.batch_size), ("shuffle", self.shuffle),
                          ("dataset_size", len(self.dataset))):
            if key in state and state[key] != mine:
                raise ValueError(f"this state was saved by a loader with {key}={state[key]!r}, "
                                 f"but this loader has {key}={mine!r}; the batches would differ")
        self.seed = int(state["seed"])
        self.epoch = int(state["epoch"])
        self._batches_done = int(state["batches_done"])
        self._transform_state = state["transform_generator"]
        self._resume = True

    def __repr__(self):
        return (f"DataLoader({type(self.dataset).__name__}, batch_size={self.batch_size}, "
                f"shuffle={self.shuffle}, drop_last={self.drop_last}, seed={self.seed}, "
                f"device={self.device!r}, batches={len(self)})")
