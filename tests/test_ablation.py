"""The ablation runner: its grid, its models, its CSV, and resuming an interrupted grid."""
import argparse
import csv
import json
import os

import numpy as np
import pytest

from minise import ablation
from minise.ablation import command
from minise.data import ArrayDataset, Digits


def test_one_at_a_time_changes_one_factor_from_the_default_and_never_repeats_it():
    grid = ablation.one_at_a_time(reductions=(4, 16), squeezes=("max", "avg"), positions=("pre",), stages=("2,3", "3"))
    assert list(grid) == ["no SE", "default", "r=4", "squeeze=max", "position=pre", "stages=2,3", "stages=3"]
    assert grid["no SE"] is None
    assert grid["r=4"] == dict(ablation.DEFAULT, reduction=4)
    assert grid["stages=2,3"]["stages"] == (2, 3)
    assert "no SE" not in ablation.one_at_a_time(reductions=(4,), baseline=False)


@pytest.mark.parametrize("kwargs, message", [({"reductions": (0,)}, "reduction must be a positive int"),
                                             ({"squeezes": ("mean",)}, "squeeze must be one of"),
                                             ({"positions": ("after",)}, "se_position must be one of"),
                                             ({"stages": ("4",)}, "subset of 1,2,3"),
                                             ({"stages": ("",)}, "subset of 1,2,3")])
def test_bad_grid_values_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ablation.one_at_a_time(**kwargs)


def test_build_model_puts_se_blocks_only_in_the_chosen_stages():
    def se_stages(model):
        return sorted({int(name[5]) for name, m in model.named_modules() if name.endswith(".se")})

    for stages in [(1, 2, 3), (2, 3), (3,)]:
        options = dict(ablation.DEFAULT, stages=stages, reduction=4)
        model = ablation.build_model(options, depth=14, width=4, in_channels=1, num_classes=10)
        assert se_stages(model) == list(stages)
    plain = ablation.build_model(None, depth=14, width=4, in_channels=1, num_classes=10)
    assert se_stages(plain) == []
    # SE on stage 3 only adds 2·(C²/r) + C/r + C per block with C = 16, r = 4: 2 blocks × (128 + 4 + 16)
    only3 = ablation.build_model(dict(ablation.DEFAULT, stages=(3,), reduction=4), 14, 4, 1, 10)
    assert sum(p.size for p in only3.parameters()) - sum(p.size for p in plain.parameters()) == 2 * (128 + 4 + 16)


SETTINGS = {"depth": 8, "width": 2, "num_classes": 10, "epochs": 1, "batch_size": 32, "lr": 0.1,
            "weight_decay": 5e-4}


def fake_train(calls, stop_at=None):
    """A stand-in for train_cell: a result that depends on the cell; KeyboardInterrupt at call ``stop_at``."""
    def train(options, seed, train_set, test_set, settings):
        calls.append((ablation.variant_name(options), seed))
        if len(calls) == stop_at:
            raise KeyboardInterrupt
        r = 0 if options is None else options["reduction"]
        return {"params": 100 + r, "train_loss": 1.0, "test_loss": 1.0, "test_accuracy": 0.5 + r / 100 + seed / 1000,
                "seconds": 0.0}
    return train


def test_an_interrupted_grid_resumes_without_training_finished_cells_again(tmp_path):
    variants = ablation.one_at_a_time(reductions=(4, 8))
    seeds = (0, 1, 2)
    calls = []
    with pytest.raises(KeyboardInterrupt):
        ablation.run_grid(variants, seeds, None, None, SETTINGS, tmp_path, log=None, train=fake_train(calls, stop_at=5))
    kept = ablation.read_rows(tmp_path / "ablation.csv")
    assert [(r["variant"], int(r["seed"])) for r in kept] == calls[:4]                 # the four finished cells
    assert sorted(os.listdir(tmp_path)) == ["ablation.csv", "ablation.json"]           # no temporary file left
    said, resumed = [], []
    rows = ablation.run_grid(variants, seeds, None, None, SETTINGS, tmp_path, log=said.append,
                             train=fake_train(resumed))
    assert resumed == [(v, s) for v in variants for s in seeds][4:]                     # only what was missing
    assert "4 of 12 cells already done" in said[0]
    assert len(rows) == 12 and rows[:4] == kept
    again = []
    ablation.run_grid(variants, seeds, None, None, SETTINGS, tmp_path, log=None, train=fake_train(again))
    assert again == []
    with open(tmp_path / "ablation.csv", newline="") as f:
        assert len(list(csv.DictReader(f))) == 12


def test_resuming_with_other_settings_or_a_foreign_csv_is_refused(tmp_path):
    variants = ablation.one_at_a_time()
    ablation.run_grid(variants, (0,), None, None, SETTINGS, tmp_path, log=None, train=fake_train([]))
    with pytest.raises(ValueError, match="epochs: 1 then, 3 now"):
        ablation.run_grid(variants, (0,), None, None, dict(SETTINGS, epochs=3), tmp_path, log=None,
                          train=fake_train([]))
    (tmp_path / "ablation.csv").write_text("variant,seed,accuracy\nx,0,0.5\n")
    with pytest.raises(ValueError, match="not an ablation grid"):
        ablation.run_grid(variants, (0,), None, None, SETTINGS, tmp_path, log=None, train=fake_train([]))


def test_summary_is_mean_and_sample_std_over_seeds_and_the_table_shows_it():
    rows = [{"variant": "a", "params": "10", "test_accuracy": str(v)} for v in (0.5, 0.6, 0.7)]
    rows.append({"variant": "b", "params": "12", "test_accuracy": "0.9"})
    s = ablation.summarize(rows)
    assert s["a"]["mean"] == pytest.approx(0.6) and s["a"]["std"] == pytest.approx(0.1)
    assert (s["a"]["min"], s["a"]["max"], s["a"]["n"]) == (0.5, 0.7, 3)
    assert np.isnan(s["b"]["std"])                                    # one seed: no spread to speak of
    table = ablation.format_table(s)
    assert "60.00 ± 10.00" in table and "[ 50.0 –  70.0]" in table


def test_train_cell_really_trains_and_is_repeatable():
    digits = Digits(train=True)
    small = ArrayDataset(digits.images[:64], digits.labels[:64], max_value=16)
    options = dict(ablation.DEFAULT, reduction=2)
    a = ablation.train_cell(options, 3, small, small, SETTINGS)
    b = ablation.train_cell(options, 3, small, small, SETTINGS)
    assert 0.0 <= a["test_accuracy"] <= 1.0 and np.isfinite(a["train_loss"])
    assert {k: v for k, v in a.items() if k != "seconds"} == {k: v for k, v in b.items() if k != "seconds"}
    c = ablation.train_cell(options, 4, small, small, SETTINGS)
    assert c["train_loss"] != a["train_loss"]                          # another seed, another run


def test_the_command_writes_csv_settings_and_plot_and_resumes(tmp_path):
    parser = argparse.ArgumentParser()
    command.add_arguments(parser)
    args = parser.parse_args(["--train-size", "64", "--test-size", "32", "--reductions", "4", "--squeezes",
                              "--positions", "--stages", "3", "--seeds", "0", "1", "--depth", "8", "--width", "2",
                              "--epochs", "1", "--out", str(tmp_path)])
    said = []
    rows = command.run(args, log=said.append)
    assert len(rows) == 4 * 2 and {r["variant"] for r in rows} == {"no SE", "default", "r=4", "stages=3"}
    assert json.loads((tmp_path / "ablation.json").read_text())["train_size"] == 64
    if (tmp_path / "ablation.png").exists():
        assert (tmp_path / "ablation.png").stat().st_size > 1000
    assert any("± " in line for line in said)
    said.clear()
    assert command.run(args, log=said.append) == rows
    assert "8 of 8 cells already done" in said[1]


def test_minise_ablate_runs_resumes_and_refuses_bad_input(tmp_path, capsys):
    from minise.cli import main
    argv = ["ablate", "--train-size", "64", "--test-size", "32", "--reductions", "--squeezes", "--positions", "post",
            "--stages", "--seeds", "0", "--depth", "8", "--width", "2", "--epochs", "1", "--out", str(tmp_path)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "3 variants × 1 seeds" in out and "position=post" in out and "ablation.csv" in out
    assert len(ablation.read_rows(tmp_path / "ablation.csv")) == 3
    assert main(argv) == 0
    assert "3 of 3 cells already done" in capsys.readouterr().out
    assert main(argv[:-2] + ["--epochs", "2", "--out", str(tmp_path)]) == 2        # other settings: refused
    assert "epochs: 1 then, 2 now" in capsys.readouterr().err
    assert main(["ablate", "--stages", "5", "--out", str(tmp_path / "x")]) == 2
    assert "subset of 1,2,3" in capsys.readouterr().err
