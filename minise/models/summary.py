"""A model's size and cost, layer by layer: parameters and multiply-accumulates (MACs).

    >>> s = minise.models.summary(minise.models.se_resnet50(), (3, 224, 224))
    >>> s.total_params, s.total_macs, s.se_param_share
    >>> print(s)                        # the per-layer table

MACs per image, counted for the layers that do nearly all the arithmetic:

    Conv2d   C_out · H_out · W_out · (C_in / groups) · kH · kW  =  weight.size · H_out · W_out
    Linear   in_features · out_features                         =  weight.size

How the table is made: one forward pass on a single image, under no_grad and in eval mode, records
the output shape of every leaf layer. Convolutions and linear layers are not computed (in NumPy a
224×224 ResNet-50 forward takes seconds): their output shape follows from their hyper-parameters,

    H_out = ⌊(H + 2·padding − dilation·(kH − 1) − 1) / stride⌋ + 1

and they pass zeros of that shape on. Every other layer (batch norm, ReLU, pooling, the SE block's
scaling) runs for real, so the shapes are those of the model's own forward, shortcuts included.
"""
from .. import nn
from ..arguments import conv_output_size, pair
from ..backend import get_array_module
from ..function import no_grad
from ..tensor import Tensor

__all__ = ["summary", "ModelSummary", "LayerRow"]


class LayerRow:
    """One call of a leaf layer: its dotted name, type, output shape (per image), params, MACs."""

    def __init__(self, name, kind, output_shape, params, macs, in_se):
        self.name, self.kind, self.output_shape = name, kind, output_shape
        self.params, self.macs, self.in_se = params, macs, in_se

    def __repr__(self):
        return f"LayerRow({self.name!r}, {self.kind}, {self.output_shape}, params={self.params}, macs={self.macs})"


class ModelSummary:
    """What :func:`summary` found. ``str()`` prints the table."""

    def __init__(self, model_name, input_shape, rows, total_params, se_params):
        self.model_name, self.input_shape, self.rows = model_name, input_shape, rows
        self.total_params = total_params
        self.total_macs = sum(r.macs for r in rows)
        self.se_params = se_params
        self.se_macs = sum(r.macs for r in rows if r.in_se)
        self.output_shape = rows[-1].output_shape if rows else None

    @property
    def se_param_share(self):
        """Fraction of all parameters that sit in SE blocks."""
        return self.se_params / self.total_params if self.total_params else 0.0

    @property
    def se_mac_share(self):
        """Fraction of all MACs spent in SE blocks."""
        return self.se_macs / self.total_macs if self.total_macs else 0.0

    def __getitem__(self, name):
        """The first row of the layer called ``name`` (e.g. ``"layer1.0.conv1"``)."""
        for row in self.rows:
            if row.name == name:
                return row
        raise KeyError(f"no layer named {name!r} in this summary")

    def __str__(self):
        width = max([len("Layer")] + [len(r.name) for r in self.rows])
        kind_width = max([len("Type")] + [len(r.kind) for r in self.rows])
        header = f"{'Layer':<{width}}  {'Type':<{kind_width}}  {'Output shape':<18}{'Params':>13}{'MACs':>17}"
        rule = "─" * len(header)
        lines = [f"{self.model_name}, input {self.input_shape} (figures per image)", rule, header, rule]
        for r in self.rows:
            lines.append(f"{r.name:<{width}}  {r.kind:<{kind_width}}  {str(r.output_shape):<18}"
                         f"{r.params:>13,}{r.macs:>17,}")
        lines += [rule,
                  f"Total parameters: {self.total_params:,} ({_human(self.total_params)})",
                  f"Total MACs:       {self.total_macs:,} ({_human(self.total_macs)})",
                  f"SE blocks:        {self.se_params:,} parameters ({100 * self.se_param_share:.2f}%), "
                  f"{self.se_macs:,} MACs ({100 * self.se_mac_share:.3f}%)"]
        return "\n".join(lines)

    __repr__ = __str__


def _human(n):
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= size:
            return f"{n / size:.2f} {unit}"
    return str(n)


def _conv_shape_only(conv, x):
    """Conv2d's output (zeros) and MACs per image, from its hyper-parameters alone."""
    n, c, h, w = x.shape
    w_shape = conv.weight.shape                                   # (C_out, C_in/groups, kH, kW)
    if c != w_shape[1] * conv.groups:
        raise ValueError(f"Conv2d expects {w_shape[1] * conv.groups} input channels, got {c} (input shape {x.shape})")
    (sh, sw), (ph, pw), (dh, dw) = (pair(getattr(conv, name), name) for name in ("stride", "padding", "dilation"))
    h_out = conv_output_size(h, w_shape[2], sh, ph, dh)
    w_out = conv_output_size(w, w_shape[3], sw, pw, dw)
    if h_out < 1 or w_out < 1:
        raise ValueError(f"Conv2d: input {h}×{w} is too small for its kernel, stride and padding")
    xp = get_array_module(x.data)
    out = Tensor(xp.zeros((n, w_shape[0], h_out, w_out), dtype=x.dtype))    # (N, C_out, H_out, W_out)
    return out, conv.weight.size * h_out * w_out


def _linear_shape_only(linear, x):
    """Linear's output (zeros) and MACs per image."""
    out_features, in_features = linear.weight.shape
    if x.shape[-1] != in_features:
        raise ValueError(f"Linear expects {in_features} input features, got {x.shape[-1]} (input shape {x.shape})")
    xp = get_array_module(x.data)
    out = Tensor(xp.zeros(x.shape[:-1] + (out_features,), dtype=x.dtype))   # (N, ..., out_features)
    positions = x.size // (x.shape[0] * in_features)              # 1 for (N, in) inputs
    return out, linear.weight.size * positions


def _check_input_shape(input_shape):
    shape = tuple(input_shape) if isinstance(input_shape, (tuple, list)) else None
    if shape is None or len(shape) not in (3, 4) or not all(
            isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in shape):
        raise ValueError(f"input_shape must be (C, H, W) or (N, C, H, W) of positive ints, got {input_shape!r}")
    return shape[-3:]


def summary(model, input_shape):
    """Parameters and MACs of ``model`` for images of ``input_shape`` ((C, H, W); a leading batch size
    is allowed and ignored: every figure is per image). Returns a :class:`ModelSummary`."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"summary needs a minise.nn.Module, got {type(model).__name__}")
    image_shape = _check_input_shape(input_shape)
    parameters = list(model.parameters())
    first = parameters[0].data if parameters else None
    xp = get_array_module(first)
    dtype = first.dtype if first is not None else "float32"

    se_prefixes = tuple(f"{name}." for name, m in model.named_modules() if isinstance(m, nn.SEBlock))
    se_params = sum(p.size for m in model.modules() if isinstance(m, nn.SEBlock) for p in m.parameters())
    rows, counted = [], set()

    def recording(name, module):
        def forward(*args, **kwargs):
            if isinstance(module, nn.Conv2d):
                out, macs = _conv_shape_only(module, args[0])
            elif isinstance(module, nn.Linear):
                out, macs = _linear_shape_only(module, args[0])
            else:
                out, macs = type(module).forward(module, *args, **kwargs), 0
            params = 0 if id(module) in counted else sum(p.size for p in module.parameters())
            counted.add(id(module))
            rows.append(LayerRow(name, type(module).__name__, tuple(out.shape[1:]), params, macs,
                                 name.startswith(se_prefixes)))
            return out
        return forward

    leaves = [(name or type(m).__name__, m) for name, m in model.named_modules() if not any(True for _ in m.children())]
    modes = [(m, m.training) for m in model.modules()]
    try:
        for name, module in leaves:
            object.__setattr__(module, "forward", recording(name, module))
        model.eval()
        with no_grad():
            model(Tensor(xp.zeros((1,) + image_shape, dtype=dtype)))               # (1, C, H, W)
    finally:
        for _, module in leaves:
            module.__dict__.pop("forward", None)
        for module, training in modes:
            object.__setattr__(module, "training", training)
    total = sum(p.size for p in parameters)
    return ModelSummary(type(model).__name__, image_shape, rows, total, se_params)
