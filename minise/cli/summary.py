"""``minise summary``: a model's layers, output shapes, parameters and multiply-accumulates."""
from ..models import list_models, summary
from .build import build_model, default_input_shape, model_options
from .common import add_command, positive

EXAMPLES = ("minise summary se_resnet50", "minise summary se_resnet20 --input-size 1 8 8",
            "minise summary se_resnet20 --no-se")


def register(commands):
    p = add_command(commands, "summary", "layers, output shapes, parameters and MACs of a model",
                    "Print a model's layers with output shapes, parameters and multiply-accumulates per image.\n"
                    "Models: " + ", ".join(list_models()), EXAMPLES)
    p.add_argument("model", help="model name")
    p.add_argument("--input-size", type=positive(int), nargs=3, metavar=("C", "H", "W"), default=None,
                   help="image shape (default 3 32 32 for CIFAR models, 3 224 224 for ImageNet models)")
    p.add_argument("--num-classes", type=positive(int), default=None,
                   help="outputs of the last layer (default: the model's own, 1000 for ImageNet models, 10 for CIFAR)")
    p.add_argument("--no-se", action="store_true", help="the plain twin of an SE model")
    p.add_argument("--reduction", type=positive(int), default=None, help="SE reduction ratio r")
    p.add_argument("--width", type=positive(int), default=None, help="first-stage channels (CIFAR models)")
    p.set_defaults(handler=run)


def run(args):
    name, kwargs = model_options(args)
    channels = args.input_size[0] if args.input_size else 3
    model = build_model(name, kwargs, args.num_classes, channels)
    shape = tuple(args.input_size) if args.input_size else default_input_shape(model)
    print(summary(model, shape))
    return 0
