"""Ablations of the SE block: train a grid of variants over seeds, report mean ± spread, resume.

    from minise import ablation
    variants = ablation.one_at_a_time(reductions=(2, 4, 8, 16, 32), squeezes=("max",),
                                      positions=("pre", "post", "identity"), stages=("1", "2", "3", "2,3"))
    rows = ablation.run_grid(variants, seeds=(0, 1, 2), train_set=..., test_set=..., settings=...,
                             out_dir="runs/ablate")          # resumes: finished cells are not trained again
    print(ablation.format_table(ablation.summarize(rows)))
    ablation.plot_ablation(rows, "runs/ablate/ablation.png")

The same from the command line: ``minise ablate`` (see :mod:`minise.ablation.command`).
"""
from .report import format_table, plot_ablation, summarize
from .runner import COLUMNS, read_rows, run_grid, train_cell
from .variants import DEFAULT, FACTORS, NO_SE, build_model, one_at_a_time, parse_stages, variant_name

__all__ = ["COLUMNS", "DEFAULT", "FACTORS", "NO_SE", "build_model", "format_table", "one_at_a_time",
           "parse_stages", "plot_ablation", "read_rows", "run_grid", "summarize", "train_cell", "variant_name"]
