"""Run an ablation grid, cell by cell, into a CSV file that survives interruption.

A cell is one variant trained with one seed. After every cell the whole CSV is rewritten through a
temporary file and renamed onto the old one (atomic: a crash or Ctrl-C leaves the previous file, never
half a row). Run the same grid again and finished cells are read back instead of trained again, so
an interrupted grid resumes where it stopped. The settings (dataset, epochs, model size, ...) are
kept beside the CSV in ``ablation.json``; resuming with other settings is refused, naming them.
"""
import csv
import io
import json
import os
import time

from .. import optim, rng
from ..data import DataLoader
from ..io.atomic import atomic_write
from ..train import evaluate, fit
from .variants import FACTORS, build_model, format_value

COLUMNS = ("variant", "seed", *FACTORS, "params", "train_loss", "test_loss", "test_accuracy", "seconds")


def read_rows(path):
    """The rows of a grid's CSV (dicts of strings), [] when there is no file yet."""
    if not os.path.exists(path):
        return []
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if tuple(reader.fieldnames or ()) != COLUMNS:
            raise ValueError(f"{path} is not an ablation grid of this version: its columns are "
                             f"{reader.fieldnames}, expected {list(COLUMNS)}")
        return list(reader)


def write_rows(path, rows):
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    with atomic_write(path) as f:
        f.write(buffer.getvalue().encode("utf-8"))


def check_settings(out_dir, settings):
    """Write ``ablation.json`` the first time; later, refuse settings that differ from it."""
    path = os.path.join(out_dir, "ablation.json")
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            before = json.load(f)
        changed = [f"{k}: {before.get(k)!r} then, {v!r} now" for k, v in settings.items() if before.get(k) != v]
        if changed:
            raise ValueError(f"the grid in {out_dir} was run with other settings ({'; '.join(changed)}); "
                             "use the same settings to resume it, or another folder")
    else:
        with atomic_write(path) as f:
            f.write(json.dumps(settings, indent=1, sort_keys=True).encode("utf-8"))


def train_cell(options, seed, train_set, test_set, settings):
    """Train one variant from ``seed``; returns its row of results (no files written)."""
    started = time.perf_counter()
    rng.manual_seed(seed)
    image_shape = train_set[0][0].shape
    model = build_model(options, settings["depth"], settings["width"], image_shape[0], settings["num_classes"])
    optimizer = optim.SGD(model.parameters(), lr=settings["lr"], momentum=0.9, nesterov=True,
                          weight_decay=settings["weight_decay"])
    scheduler = optim.CosineAnnealingLR(optimizer, T_max=settings["epochs"])
    loader = DataLoader(train_set, batch_size=settings["batch_size"], shuffle=True, seed=seed)
    history = fit(model, loader, None, optimizer, scheduler, epochs=settings["epochs"], progress=False, log=None,
                  seed=seed)
    test = evaluate(model, DataLoader(test_set, batch_size=256))
    return {"params": sum(p.size for p in model.parameters()), "train_loss": history[-1]["train_loss"],
            "test_loss": test["loss"], "test_accuracy": test["accuracy"],
            "seconds": round(time.perf_counter() - started, 2)}


def run_grid(variants, seeds, train_set, test_set, settings, out_dir, log=print, train=train_cell):
    """Train every (variant, seed) cell not yet in ``out_dir/ablation.csv``; returns all rows.

    ``variants`` maps a name to its options (see :func:`~minise.ablation.variants.one_at_a_time`),
    ``settings`` holds depth, width, num_classes, epochs, batch_size, lr, weight_decay (and anything
    else that must match on resume). ``train`` is the function that trains one cell (a stand-in in tests).
    """
    os.makedirs(out_dir, exist_ok=True)
    check_settings(out_dir, settings)
    path = os.path.join(out_dir, "ablation.csv")
    rows = read_rows(path)
    done = {(r["variant"], int(r["seed"])) for r in rows}
    cells = [(name, seed) for name in variants for seed in seeds]
    todo = [cell for cell in cells if cell not in done]
    if log and done:
        log(f"resuming {path}: {len(cells) - len(todo)} of {len(cells)} cells already done")
    for index, (name, seed) in enumerate(todo, start=1):
        options = variants[name]
        result = train(options, seed, train_set, test_set, settings)
        row = {"variant": name, "seed": seed, **{f: format_value(options[f]) if options else "" for f in FACTORS},
               **result}
        rows.append({k: str(v) for k, v in row.items()})
        write_rows(path, rows)                          # after every cell: an interruption loses one cell at most
        if log:
            log(f"[{index}/{len(todo)}] {name:<22} seed {seed}  test accuracy {100 * result['test_accuracy']:.1f}%  "
                f"({result['seconds']:.1f} s)")
    wanted = set(cells)
    return [r for r in rows if (r["variant"], int(r["seed"])) in wanted]
