"""A PyTorch user's first script, with minise's imports: tests/test_pytorch_habits.py runs it as it is
and, with the import lines switched to torch's, on PyTorch, and compares the JSON it prints last.

Both runs start from the same weights and data (drawn with NumPy) and keep the batches in order, so
every number is comparable: losses, learning rates, logits, gradients, a restored checkpoint.
"""
import json
import os
import sys
import tempfile

import numpy as np

import minise as torch
import minise.nn as nn
import minise.nn.functional as F
import minise.optim as optim
from minise.data import DataLoader, Dataset, TensorDataset

torch.manual_seed(0)
torch.cuda.manual_seed_all(0)
torch.backends.cudnn.deterministic = True
torch.backends.cudnn.benchmark = False
device = torch.device("cuda" if torch.cuda.is_available() and "--cuda" in sys.argv else "cpu")
results = {}


class SmallNet(nn.Module):
    def __init__(self, num_classes=3):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 4, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(4),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Conv2d(4, 8, 3, padding="same"),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d((1, 1)),
        )
        self.heads = nn.ModuleDict({"classes": nn.Linear(8, num_classes)})
        self.dropout = nn.Dropout(p=0.5)

    def forward(self, x):
        x = self.features(x)
        x = torch.flatten(x, 1)
        return self.heads["classes"](self.dropout(x))


def same_start(model, seed):
    """Fill every parameter in place from NumPy: both frameworks start from these weights."""
    generator = np.random.default_rng(seed)
    with torch.no_grad():
        for _, p in model.named_parameters():
            p.copy_(torch.from_numpy(generator.uniform(-0.5, 0.5, size=tuple(p.shape)).astype(np.float32)))
    return model


model = same_start(SmallNet(), seed=1).to(device)
print(model)
results["names"] = [name for name, _ in model.named_parameters()]
results["modules"] = [name for name, _ in model.named_modules()]
results["children"] = [type(m).__name__ for m in model.children()]
results["parameters"] = sum(p.numel() for p in model.parameters() if p.requires_grad)
results["state_keys"] = sorted(k for k in model.state_dict() if not k.endswith("num_batches_tracked"))

data = np.random.default_rng(2)
X = torch.from_numpy(data.standard_normal((48, 1, 6, 6)).astype(np.float32))
Y = torch.from_numpy(data.integers(0, 3, 48))
loader = DataLoader(TensorDataset(X, Y), batch_size=20, shuffle=False, drop_last=True, num_workers=0)
results["batches"] = len(loader)
criterion = nn.CrossEntropyLoss()
optimizer = optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-3, nesterov=True)
scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)

losses, learning_rates, norms = [], [], []
for _epoch in range(4):
    model.train()
    model.dropout.eval()                       # the two frameworks draw different masks: keep dropout off
    running_loss, seen = 0.0, 0
    for inputs, targets in loader:
        inputs, targets = inputs.to(device), targets.to(device)
        optimizer.zero_grad(set_to_none=True)
        outputs = model(inputs)
        loss = criterion(outputs, targets)
        loss.backward()
        norms.append(float(nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)))
        optimizer.step()
        running_loss += loss.item() * inputs.size(0)
        seen += targets.size(0)
    losses.append(running_loss / seen)
    scheduler.step()
    learning_rates.append(scheduler.get_last_lr()[0])
results["losses"], results["learning_rates"], results["grad_norms"] = losses, learning_rates, norms

model.eval()
with torch.no_grad():
    logits = model(X.to(device))
    probs = F.softmax(logits, dim=1)
    confidence, predicted = torch.max(probs, 1)
    results["accuracy"] = (predicted == Y.to(device)).float().mean().item()
    results["correct"] = int((predicted == Y.to(device)).sum())
    results["argmax_agrees"] = bool((logits.argmax(dim=1) == predicted).all())
    results["confidence"] = confidence.sum(dim=0, keepdim=True).tolist()
    results["log_probs"] = F.log_softmax(logits, dim=1).cpu().numpy().tolist()
    results["first_label"] = ["zero", "one", "two"][predicted[0]]
    guesses = logits.argmax(dim=1, keepdim=True)
    results["correct_again"] = [guesses.eq(Y.to(device).view_as(guesses)).sum().item(),
                                (logits.argmax(1) == Y.to(device)).type(torch.float).sum().item()]
    per_class = {name: 0 for name in ("zero", "one", "two")}
    for label, guess in zip(Y.to(device), predicted):
        if label == guess:
            per_class[["zero", "one", "two"][label]] += 1
    results["per_class"] = per_class
results["eval_dropout_off"] = bool((model.dropout(torch.ones(4)) == 1).all())

# fine-tune only the head, with Adam and a cosine schedule, from a copy of the trained weights
second = SmallNet()
results["load"] = repr(second.load_state_dict(model.state_dict(), strict=True))
second.requires_grad_(False)
second.heads.requires_grad_(True)
adam = optim.Adam(filter(lambda p: p.requires_grad, second.parameters()), lr=1e-2, betas=(0.9, 0.99))
cosine = optim.lr_scheduler.CosineAnnealingLR(adam, T_max=4, eta_min=1e-3)
second.eval()
for _step in range(4):
    adam.zero_grad()
    loss = F.cross_entropy(second(X[:8]), Y[:8], label_smoothing=0.1)
    loss.backward()
    adam.step()
    cosine.step()
results["head_after_adam"] = second.heads["classes"].weight.detach().cpu().numpy().tolist()
results["frozen_have_no_grad"] = all(p.grad is None for p in second.features.parameters())

# gradient descent by hand, on a leaf tensor
w = torch.zeros(3, requires_grad=True)
points = torch.linspace(-1, 1, 5)
design = torch.stack([torch.ones(5), points, points ** 2], dim=1)          # (5, 3)
target = 1 + 2 * points - points ** 2
for _ in range(20):
    loss = ((design @ w - target) ** 2).mean()
    loss.backward()
    with torch.no_grad():
        w -= 0.3 * w.grad
    w.grad = None
results["w_by_hand"] = w.detach().tolist()

# tensor habits, with backward
t = torch.tensor([[1.0, -2.0, 3.0], [0.5, 4.0, -1.0]], requires_grad=True)
u = t[:, 1:] * 2 + t[0, :2] - t[t > 0].sum() / t.numel()
v = (u.relu() + u.sigmoid() + (-u).exp()).sum(dim=1, keepdim=True).mean() + t.t().mm(t).sum() / 10
v = v + t.view(-1).unsqueeze(0).permute(1, 0).squeeze().pow(2).mean() + t.max(dim=1)[0].sum() + t.min()
v.backward()
results["t_grad"] = t.grad.tolist()
results["t_facts"] = [list(t.size()), t.size(1), t.dim(), t.numel(), str(t.long().dtype).split(".")[-1],
                      t.is_floating_point(), t.detach().requires_grad, t.requires_grad, t.is_leaf]
results["int_math"] = (torch.arange(7) // 2).tolist() + (torch.arange(7) % 3).tolist()
counts = torch.zeros(3)
for label in Y.tolist():
    counts[label] += 1
results["counts"] = counts.tolist()
x = torch.randn(2, 3)
results["like"] = [list(torch.zeros_like(x).shape), torch.ones_like(x).sum().item(), torch.full((2,), 7.0).tolist(),
                   torch.eye(2).tolist(), str(torch.randn_like(x).dtype).split(".")[-1]]
mask = torch.tensor([[True, False, True], [False, False, True]])
y = torch.ones(2, 3)
y[mask] = 0
results["masked"] = y.tolist()

# a checkpoint: saved, loaded on the CPU, training resumed from it
path = os.path.join(tempfile.mkdtemp(), "checkpoint.pt")
torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": 4}, path)
checkpoint = torch.load(path, map_location="cpu")
restored = SmallNet()
restored.load_state_dict(checkpoint["model"])
resumed = optim.SGD(restored.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-3, nesterov=True)
resumed.load_state_dict(checkpoint["optimizer"])
restored.train()
restored.dropout.eval()
for inputs, targets in loader:
    resumed.zero_grad()
    criterion(restored(inputs), targets).backward()
    resumed.step()
restored.eval()
with torch.no_grad():
    results["resumed_logits"] = restored(X[:4]).tolist()
results["epoch"] = checkpoint["epoch"]


class Squares(Dataset):
    """A dataset of one's own: (input, target) pairs of Tensors."""

    def __init__(self, n):
        self.x = torch.arange(n).float()

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i].unsqueeze(0), self.x[i] ** 2


batch_x, batch_y = next(iter(DataLoader(Squares(6), batch_size=4)))
results["own_dataset"] = [list(batch_x.shape), batch_y.tolist()]

print(json.dumps(results))
