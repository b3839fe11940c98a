"""``minise gradcheck OP``: one op's backward against finite differences, on drawn float64 inputs.

The gallery is a table: each op names the layout of its input (an image batch N C H W, or a batch
of vectors N FEATURES) and a function that draws the rest of its inputs and returns the function
to check. The SE block is the library's own ``nn.SEBlock``, its weights checked with the input.
"""
import numpy as np

from .. import functional as F
from .. import nn
from ..gradcheck import gradcheck
from ..tensor import Tensor
from .common import UsageError, add_command, non_negative, positive

IMAGE, VECTOR = "N C H W", "N FEATURES"
DEFAULT_SHAPE = {IMAGE: (2, 3, 5, 5), VECTOR: (4, 5)}


def _conv2d(args, draw, x):
    C, k = x.shape[1], args.kernel_size
    conv = (lambda x, w, b: F.conv2d(x, w, b, stride=args.stride or 1, padding=args.padding))
    return conv, {"x": x, "w": draw(4, C, k, k), "b": draw(4)}


def _pool(name):
    def problem(args, draw, x):
        pool = getattr(F, name)
        return (lambda x: pool(x, args.kernel_size, stride=args.stride, padding=args.padding)), {"x": x}
    return problem


def _batch_norm(args, draw, x):
    C = x.shape[1]
    mean, var = np.zeros(C), np.ones(C)
    norm = (lambda x, weight, bias: F.batch_norm(x, mean.copy(), var.copy(), weight, bias, training=True))
    return norm, {"x": x, "weight": draw(C), "bias": draw(C)}


def _se_block(args, draw, x):
    """nn.SEBlock in float64; its four weights are checked along with x."""
    block = nn.SEBlock(x.shape[1], reduction=args.reduction).double()
    weights = {"fc1.weight": draw(block.hidden, block.channels), "fc2.weight": draw(block.channels, block.hidden),
               "fc1.bias": Tensor(0.5 + np.abs(draw(block.hidden).data), requires_grad=True),  # a live ReLU: the
               "fc2.bias": draw(block.channels)}                                # check sees every weight
    layers = dict(block.named_modules())

    def se_block(x, *values):
        for name, value in zip(weights, values):                 # gradcheck's copies become the weights
            owner, _, leaf = name.rpartition(".")
            layers[owner]._parameters[leaf] = value
        return block(x)
    return se_block, {"x": x, **weights}


def _cross_entropy(args, draw, x):
    target = Tensor(draw.rng.integers(0, x.shape[1], size=x.shape[0]))
    return (lambda x, target: F.cross_entropy(x, target)), {"input": x, "target": target}


def _on_dim_1(name):
    return lambda args, draw, x: ((lambda x: getattr(F, name)(x, 1)), {"x": x})


def _elementwise(name):
    return lambda args, draw, x: (getattr(F, name), {"x": x})


# op -> (input layout, problem(args, draw, x) -> (function, named input Tensors))
GALLERY = {
    "conv2d": (IMAGE, _conv2d),
    "max_pool2d": (IMAGE, _pool("max_pool2d")),
    "avg_pool2d": (IMAGE, _pool("avg_pool2d")),
    "adaptive_avg_pool2d": (IMAGE, lambda args, draw, x: ((lambda x: F.adaptive_avg_pool2d(x, args.output_size)),
                                                         {"x": x})),
    "scale_channels": (IMAGE, lambda args, draw, x: (F.scale_channels, {"x": x, "s": draw(x.shape[0], x.shape[1])})),
    "batch_norm": (IMAGE, _batch_norm),
    "se_block": (IMAGE, _se_block),
    "linear": (VECTOR, lambda args, draw, x: (F.linear, {"x": x, "w": draw(3, x.shape[1]), "b": draw(3)})),
    "relu": (VECTOR, _elementwise("relu")),
    "sigmoid": (VECTOR, _elementwise("sigmoid")),
    "tanh": (VECTOR, _elementwise("tanh")),
    "softmax": (VECTOR, _on_dim_1("softmax")),
    "log_softmax": (VECTOR, _on_dim_1("log_softmax")),
    "cross_entropy": (VECTOR, _cross_entropy),
}
AWAY_FROM_ZERO = ("relu", "se_block")          # inputs kept off ReLU's kink at 0
IMAGE_OPS = tuple(op for op, (layout, _) in GALLERY.items() if layout == IMAGE)
VECTOR_OPS = tuple(op for op, (layout, _) in GALLERY.items() if layout == VECTOR)


class Draw:
    """draw(*shape) -> a float64 Tensor of standard normal values that requires grad."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)

    def __call__(self, *shape, away_from_zero=False):
        a = self.rng.standard_normal(shape)
        if away_from_zero:
            a = np.sign(a) * (0.1 + np.abs(a))
        return Tensor(a, requires_grad=True)


def gradcheck_problem(args):
    """(function, dict of float64 input Tensors) for ``minise gradcheck OP``, drawn from --seed."""
    layout, problem = GALLERY[args.op]
    shape = tuple(args.shape) if args.shape else DEFAULT_SHAPE[layout]
    if len(shape) != len(layout.split()):
        raise UsageError(f"{args.op} takes an input of {len(layout.split())} dimensions ({layout}); "
                         f"--shape got {len(shape)} numbers")
    draw = Draw(args.seed)
    return problem(args, draw, draw(*shape, away_from_zero=args.op in AWAY_FROM_ZERO))


EXAMPLES = ("minise gradcheck conv2d", "minise gradcheck conv2d --shape 2 3 7 7 --kernel-size 3 --stride 2 --padding 1",
            "minise gradcheck max_pool2d --kernel-size 2", "minise gradcheck se_block --shape 2 8 4 4 --reduction 4",
            "minise gradcheck softmax --shape 3 6")


def register(commands):
    p = add_command(commands, "gradcheck", "check one op's backward against finite differences",
                    "Draw random float64 inputs for one op, compare its analytic gradients with central\n"
                    "finite differences under a random upstream gradient, and print the report.\n"
                    "Exit status 0 when every element agrees, 1 otherwise.", EXAMPLES)
    p.add_argument("op", choices=list(GALLERY), metavar="OP", help="one of " + ", ".join(GALLERY))
    p.add_argument("--shape", type=positive(int), nargs="+", default=None,
                   help="input shape: N C H W for image ops (default 2 3 5 5), N FEATURES otherwise (4 5)")
    p.add_argument("--kernel-size", type=positive(int), default=3, help="kernel size (conv2d, pooling)")
    p.add_argument("--stride", type=positive(int), default=None,
                   help="stride (default 1 for conv2d, the kernel size for pooling)")
    p.add_argument("--padding", type=non_negative(int), default=0, help="zero padding on each side")
    p.add_argument("--output-size", type=positive(int), default=2, help="adaptive_avg_pool2d's output size")
    p.add_argument("--reduction", type=positive(int), default=2, help="se_block's reduction ratio")
    p.add_argument("--seed", type=non_negative(int), default=0, help="seed of the inputs and upstream gradient")
    p.add_argument("--eps", type=positive(float), default=1e-6, help="finite-difference step")
    p.add_argument("--atol", type=non_negative(float), default=1e-5, help="absolute tolerance")
    p.add_argument("--rtol", type=non_negative(float), default=1e-3, help="relative tolerance")
    p.set_defaults(handler=run)


def run(args):
    fn, inputs = gradcheck_problem(args)
    report = gradcheck(fn, inputs, eps=args.eps, atol=args.atol, rtol=args.rtol, seed=args.seed,
                       raise_exception=False)
    print(f"{args.op}: " + ", ".join(f"{k} {tuple(v.shape)}" for k, v in inputs.items()))
    print(report)
    return 0 if report else 1
