"""PyTorch names that minise does not have, and what to write instead.

minise follows PyTorch's names for what it has, so a PyTorch script runs with its imports changed
(README, "Coming from PyTorch"). For a PyTorch name it lacks, ``minise.<name>``, ``Tensor.<name>``,
``minise.nn.<name>`` and the others raise an AttributeError that says so and names the minise way,
instead of the bare "has no attribute". The catalogue below is that list, by place.
"""

MISSING = {
    "minise": {
        "where": "for a condition c, write c.float() * a + (1 - c.float()) * b (the gradient flows to both a and b)",
        "clamp": "x.clamp_(min, max) clips in place outside the graph; in the graph, x.relu() is clamp(min=0)",
        "clip": "x.clamp_(min, max) clips in place outside the graph; in the graph, x.relu() is clamp(min=0)",
        "sqrt": "write x ** 0.5",
        "abs": "minise has no abs op; for a loss, ((a - b) ** 2).mean() is the mean squared error",
        "maximum": "minise has no element-wise maximum of two tensors; x.relu() is maximum(x, 0)",
        "minimum": "minise has no element-wise minimum of two tensors",
        "var": "write ((x - x.mean(dim, keepdim=True)) ** 2).mean(dim) (the biased variance; × n/(n−1) for "
               "the unbiased one)",
        "std": "write (((x - x.mean(dim, keepdim=True)) ** 2).mean(dim)) ** 0.5 (biased; see minise.var's hint)",
        "topk": "sort a NumPy copy: np.argsort(-x.numpy(), axis=dim)[..., :k]",
        "sort": "sort a NumPy copy: np.sort(x.numpy(), axis=dim)",
        "einsum": "minise has matmul (@) and the reductions; write the contraction with them",
        "bmm": "write a @ b (matmul broadcasts over the batch)",
        "mm": "write a @ b, or a.mm(b)",
        "set_default_dtype": "minise's default is float32 and stays so; give dtype= or call .double()",
        "compile": "minise runs its NumPy (or CuPy) ops directly; there is nothing to compile",
        "jit": "minise runs its NumPy (or CuPy) ops directly; there is nothing to script or trace",
        "utils": "the data tools are in minise.data (DataLoader, TensorDataset, train_val_split)",
        "Generator": "minise draws from one generator: minise.manual_seed(seed); a DataLoader takes seed=",
        "FloatTensor": "write minise.tensor(data, dtype=minise.float32) or minise.zeros(...)",
        "LongTensor": "write minise.tensor(data, dtype=minise.long)",
        "as_tensor": "write minise.tensor(data) (a copy) or minise.from_numpy(array) (shared memory)",
    },
    "minise.Tensor": {
        "clamp": "x.clamp_(min, max) clips in place outside the graph; in the graph, x.relu() is clamp(min=0)",
        "clip": "x.clamp_(min, max) clips in place outside the graph; in the graph, x.relu() is clamp(min=0)",
        "sqrt": "write x ** 0.5",
        "abs": "minise has no abs op; for a loss, ((a - b) ** 2).mean() is the mean squared error",
        "var": "write ((x - x.mean(dim, keepdim=True)) ** 2).mean(dim) (biased; × n/(n−1) for unbiased)",
        "std": "write (((x - x.mean(dim, keepdim=True)) ** 2).mean(dim)) ** 0.5",
        "prod": "minise has no product reduction; x.log().sum(dim).exp() for positive x",
        "norm": "write (x ** 2).sum() ** 0.5 for the 2-norm",
        "topk": "sort a NumPy copy: np.argsort(-x.numpy(), axis=dim)[..., :k]",
        "sort": "sort a NumPy copy: np.sort(x.numpy(), axis=dim)",
        "argsort": "sort a NumPy copy: np.argsort(x.numpy(), axis=dim)",
        "gather": "index with arrays: x[minise.arange(n), idx] picks x[i, idx[i]] (in the graph)",
        "scatter_": "minise has no scatter; build the values with NumPy and wrap them in a Tensor",
        "expand": "an op broadcasts its inputs as NumPy does; x * minise.ones(shape) gives the expanded tensor",
        "expand_as": "an op broadcasts its inputs as NumPy does; x * minise.ones_like(other) expands x",
        "repeat": "write minise.cat([x] * n, dim=d)",
        "chunk": "slice it: x[:, i * k:(i + 1) * k] (each slice stays in the graph)",
        "split": "slice it: x[:, i * k:(i + 1) * k] (each slice stays in the graph)",
        "masked_fill": "write x * (1 - mask.float()) + value * mask.float()",
        "masked_fill_": "under minise.no_grad(): x[mask] = value",
        "new_zeros": "write minise.zeros(shape, dtype=x.dtype)",
        "new_ones": "write minise.ones(shape, dtype=x.dtype)",
        "new_tensor": "write minise.tensor(data, dtype=x.dtype)",
        "data_ptr": "x.data is the NumPy (or CuPy) array; x.data.ctypes.data is its address",
        "storage": "x.data is the NumPy (or CuPy) array that holds the values",
        "is_cuda": "write x.device == 'cuda'",
        "pin_memory": "minise copies to the GPU with x.to('cuda'); there is no pinned memory",
        "share_memory_": "minise loads data in one process; there is nothing to share",
        "apply_": "write the function on the array: minise.tensor(f(x.numpy()))",
        "map_": "write the function on the array: minise.tensor(f(x.numpy()))",
        "log1p": "write (1 + x).log()",
        "expm1": "write x.exp() - 1",
        "sign": "outside the graph: minise.tensor(np.sign(x.numpy()))",
        "round": "outside the graph: minise.tensor(np.round(x.numpy()))",
        "floor": "outside the graph: minise.tensor(np.floor(x.numpy()))",
        "ceil": "outside the graph: minise.tensor(np.ceil(x.numpy()))",
        "sin": "minise has no trigonometric ops",
        "cos": "minise has no trigonometric ops",
        "cumsum": "minise has no cumulative sum op; outside the graph, np.cumsum(x.numpy(), axis=dim)",
        "logsumexp": "write x.log_softmax(dim) to normalise, or (x - m).exp().sum(dim).log() + m with "
                     "m = x.amax(dim, keepdim=True).detach()",
        "nonzero": "outside the graph: np.nonzero(x.numpy())",
        "unique": "outside the graph: np.unique(x.numpy())",
    },
    "minise.nn": {
        "MSELoss": "write ((output - target) ** 2).mean()",
        "L1Loss": "minise has no abs op; ((output - target) ** 2).mean() is the mean squared error",
        "BCELoss": "for two classes, give two logits to nn.CrossEntropyLoss",
        "BCEWithLogitsLoss": "for two classes, give two logits to nn.CrossEntropyLoss",
        "LayerNorm": "minise has nn.BatchNorm2d and nn.BatchNorm1d only",
        "GroupNorm": "minise has nn.BatchNorm2d and nn.BatchNorm1d only",
        "LeakyReLU": "minise's activations are nn.ReLU, nn.Sigmoid and nn.Tanh",
        "GELU": "minise's activations are nn.ReLU, nn.Sigmoid and nn.Tanh",
        "SiLU": "minise's activations are nn.ReLU, nn.Sigmoid and nn.Tanh",
        "ELU": "minise's activations are nn.ReLU, nn.Sigmoid and nn.Tanh",
        "PReLU": "minise's activations are nn.ReLU, nn.Sigmoid and nn.Tanh",
        "Hardsigmoid": "minise's activations are nn.ReLU, nn.Sigmoid and nn.Tanh",
        "Dropout2d": "minise has nn.Dropout (element-wise)",
        "Embedding": "minise builds convolutional networks: no embeddings",
        "LSTM": "minise builds convolutional networks: no recurrent layers",
        "GRU": "minise builds convolutional networks: no recurrent layers",
        "RNN": "minise builds convolutional networks: no recurrent layers",
        "MultiheadAttention": "minise builds convolutional networks: no attention layers",
        "Transformer": "minise builds convolutional networks: no attention layers",
        "ConvTranspose2d": "minise has Conv2d; its backward is the transposed convolution "
                           "(minise.functional.conv, conv_transpose2d)",
        "Conv1d": "minise has Conv2d; a 1-D signal is an (N, C, 1, L) image",
        "Conv3d": "minise has Conv2d only",
        "Upsample": "minise has no upsampling layer",
        "DataParallel": "minise runs on one device",
        "ParameterList": "keep Parameters as attributes, or in modules in a ModuleList",
        "ParameterDict": "keep Parameters as attributes, or in modules in a ModuleDict",
        "ZeroPad2d": "Conv2d and the pooling layers take padding=",
    },
    "minise.nn.functional": {
        "mse_loss": "write ((input - target) ** 2).mean()",
        "l1_loss": "minise has no abs op; ((input - target) ** 2).mean() is the mean squared error",
        "binary_cross_entropy": "for two classes, give two logits to F.cross_entropy",
        "binary_cross_entropy_with_logits": "for two classes, give two logits to F.cross_entropy",
        "one_hot": "outside the graph: minise.tensor(np.eye(num_classes, dtype=np.float32)[target.numpy()])",
        "leaky_relu": "minise's activations are relu, sigmoid, tanh and softmax",
        "gelu": "minise's activations are relu, sigmoid, tanh and softmax",
        "silu": "minise's activations are relu, sigmoid, tanh and softmax",
        "elu": "minise's activations are relu, sigmoid, tanh and softmax",
        "hardsigmoid": "minise's activations are relu, sigmoid, tanh and softmax",
        "pad": "conv2d and the pooling ops take padding=; minise.functional.pad_channels pads channels",
        "interpolate": "minise has no resampling op",
        "normalize": "write x / ((x ** 2).sum(dim, keepdim=True) ** 0.5 + eps)",
        "layer_norm": "minise has batch_norm only",
        "embedding": "minise builds convolutional networks: no embeddings",
        "dropout2d": "minise has dropout (element-wise)",
        "conv1d": "minise has conv2d; a 1-D signal is an (N, C, 1, L) image",
        "conv_transpose2d": "see minise.functional.conv: conv2d's backward is the transposed convolution",
        "kl_div": "write (p * (p.log() - q_log)).sum(dim).mean() with the log-probabilities q_log",
    },
    "minise.optim": {
        "RMSprop": "minise's optimizers are SGD, Adam and AdamW",
        "Adagrad": "minise's optimizers are SGD, Adam and AdamW",
        "Adadelta": "minise's optimizers are SGD, Adam and AdamW",
        "NAdam": "minise's optimizers are SGD (nesterov=True), Adam and AdamW",
        "LBFGS": "minise's optimizers are SGD, Adam and AdamW",
    },
    "minise.optim.lr_scheduler": {
        "ReduceLROnPlateau": "set optimizer.param_groups[i]['lr'] yourself when the validation loss stalls, or "
                             "use StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR, LambdaLR",
        "OneCycleLR": "LinearWarmup(optimizer, warmup_epochs, after=CosineAnnealingLR(...)) is warm-up then "
                      "cosine, stepped once per epoch",
        "CosineAnnealingWarmRestarts": "use CosineAnnealingLR (no restarts)",
        "CyclicLR": "use LambdaLR(optimizer, lambda epoch: ...) with the cycle you want",
        "LinearLR": "LinearWarmup(optimizer, warmup_epochs, start_factor=...) is the linear warm-up",
        "SequentialLR": "LinearWarmup(optimizer, warmup_epochs, after=...) chains a warm-up and a schedule",
        "PolynomialLR": "use LambdaLR(optimizer, lambda epoch: (1 - epoch / total) ** power)",
        "MultiplicativeLR": "use LambdaLR with the product of the factors, or ExponentialLR",
    },
    "minise.data": {
        "random_split": "minise.data.train_val_split(dataset, val_fraction=0.1, seed=0) splits off a stratified "
                        "validation set",
        "Subset": "minise.data.train_val_split(dataset, ...) returns the two subsets",
        "SubsetRandomSampler": "DataLoader(..., shuffle=True) visits every example once per epoch in random order",
        "WeightedRandomSampler": "minise's DataLoader shuffles or keeps the order; it has no samplers",
        "ConcatDataset": "concatenate the arrays and make one TensorDataset",
        "default_collate": "minise's DataLoader stacks the examples itself",
        "IterableDataset": "minise's datasets have __len__ and __getitem__",
        "get_worker_info": "minise's DataLoader loads in the main process",
    },
}


def missing(owner, name):
    """The AttributeError for ``owner.name``: when PyTorch has the name, it says what minise offers instead."""
    hint = MISSING.get(owner, {}).get(name)
    message = f"{owner} has no attribute {name!r}"
    if hint:
        message += f" (PyTorch's {name} is not part of minise: {hint})"
    return AttributeError(message)


def module_getattr(owner):
    """A module-level ``__getattr__`` (PEP 562) raising :func:`missing`'s error for ``owner``."""
    def __getattr__(name):
        raise missing(owner, name)
    return __getattr__
