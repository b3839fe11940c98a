"""The variants of an SE ablation: one factor changed at a time from a default SE network.

The SENet paper (Hu et al., arXiv 1709.01507, Sec. 6) ablates its design one question at a time,
each time from SE-ResNet-50 with r = 16, average squeeze, sigmoid gate, SE in every stage, SE on
the residual branch. ``one_at_a_time`` builds the same kind of grid: the default, then for each
factor each value with the other factors left at their defaults (the default appears once).

    reduction    r, the bottleneck C → C/r → C of the excitation        (paper: Table 10)
    squeeze      "avg" (global average pooling) or "max"                 (paper: Table 11)
    se_position  "standard", "pre", "post", "identity"                   (paper: Table 14, Fig. 5)
    stages       the stages whose blocks carry SE, e.g. (2, 3)           (paper: Table 13)

Stages are numbered 1, 2, 3 (``layer1``, ``layer2``, ``layer3`` of the CIFAR ResNets).
"""
from ..models.blocks import SE_POSITIONS, SQUEEZES
from ..models.cifar import CifarResNet

DEFAULT = {"reduction": 16, "squeeze": "avg", "se_position": "standard", "stages": (1, 2, 3)}
FACTORS = tuple(DEFAULT)
NO_SE = "no SE"


def variant_name(options):
    """A short, stable name: "r=4", "squeeze=max", "position=pre", "stages=2,3", "default", "no SE"."""
    if options is None:
        return NO_SE
    changed = [f for f in FACTORS if options[f] != DEFAULT[f]]
    if not changed:
        return "default"
    short = {"reduction": "r", "squeeze": "squeeze", "se_position": "position", "stages": "stages"}
    return " ".join(f"{short[f]}={format_value(options[f])}" for f in changed)


def format_value(value):
    return ",".join(map(str, value)) if isinstance(value, tuple) else str(value)


def parse_stages(text):
    """"2,3" -> (2, 3); the stages must be a non-empty subset of 1, 2, 3."""
    try:
        stages = tuple(sorted({int(s) for s in str(text).split(",") if s.strip()}))
    except ValueError:
        stages = ()
    if not stages or not set(stages) <= {1, 2, 3}:
        raise ValueError(f"stages must be a comma-separated subset of 1,2,3 (e.g. '2,3'), got {text!r}")
    return stages


def check_options(options):
    r = options["reduction"]
    if isinstance(r, bool) or not isinstance(r, int) or r < 1:
        raise ValueError(f"reduction must be a positive int, got {r!r}")
    if options["squeeze"] not in SQUEEZES:
        raise ValueError(f"squeeze must be one of {SQUEEZES}, got {options['squeeze']!r}")
    if options["se_position"] not in SE_POSITIONS:
        raise ValueError(f"se_position must be one of {SE_POSITIONS}, got {options['se_position']!r}")
    parse_stages(format_value(options["stages"]))


def one_at_a_time(reductions=(), squeezes=(), positions=(), stages=(), baseline=True):
    """{name: options} for the default, each value of each factor on its own, and (``baseline``) the
    plain network without SE (options None). Values equal to the default are not repeated."""
    values = {"reduction": reductions, "squeeze": squeezes, "se_position": positions,
              "stages": [parse_stages(format_value(s)) for s in stages]}
    grid = {NO_SE: None} if baseline else {}
    grid["default"] = dict(DEFAULT)
    for factor in FACTORS:
        for value in values[factor]:
            options = dict(DEFAULT, **{factor: value})
            check_options(options)
            grid.setdefault(variant_name(options), options)
    return grid


def build_model(options, depth, width, in_channels, num_classes):
    """A CIFAR-shaped ResNet-``depth`` with the variant's SE blocks (None: no SE at all)."""
    if options is None:
        return CifarResNet(depth, num_classes=num_classes, in_channels=in_channels, width=width)
    model = CifarResNet(depth, num_classes=num_classes, in_channels=in_channels, width=width, se=True,
                        reduction=options["reduction"], squeeze=options["squeeze"],
                        se_position=options["se_position"])
    for stage in (1, 2, 3):
        if stage not in options["stages"]:
            for block in getattr(model, f"layer{stage}"):
                block.se = None                          # this stage's blocks run without SE
    return model
