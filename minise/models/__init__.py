"""The ResNet / SE-ResNet family, in ImageNet and CIFAR shapes, and a model summary.

    model = minise.models.se_resnet20(num_classes=10)            # CIFAR shape, 32×32 inputs
    model = minise.models.get_model("se_resnet50")                 # ImageNet shape, by name
    print(minise.models.summary(model, (3, 224, 224)))             # parameters and MACs per layer

Every model returns logits (no softmax). Parameter names follow torchvision's ResNet, with the SE
block of each residual block under ``se`` (``layer1.0.se.fc1.weight``).
"""
from .blocks import SE_POSITIONS, BasicBlock, Bottleneck
from .cifar import (
                    CifarResNet,
                    resnet20,
                    resnet32,
                    resnet56,
                    resnet110,
                    se_resnet20,
                    se_resnet32,
                    se_resnet56,
                    se_resnet110,
)
from .registry import get_model, list_models
from .resnet import (
                    ResNet,
                    resnet18,
                    resnet34,
                    resnet50,
                    resnet101,
                    resnet152,
                    resnext50_32x4d,
                    se_resnet18,
                    se_resnet34,
                    se_resnet50,
                    se_resnet101,
                    se_resnet152,
                    se_resnext50_32x4d,
)
from .summary import ModelSummary, summary

__all__ = ["BasicBlock", "Bottleneck", "ResNet", "CifarResNet", "SE_POSITIONS", "get_model", "list_models",
           "summary", "ModelSummary",
           "resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "resnext50_32x4d",
           "se_resnet18", "se_resnet34", "se_resnet50", "se_resnet101", "se_resnet152", "se_resnext50_32x4d",
           "resnet20", "resnet32", "resnet56", "resnet110", "se_resnet20", "se_resnet32", "se_resnet56",
           "se_resnet110"]
