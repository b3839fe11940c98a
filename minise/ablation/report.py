"""Mean ± spread per variant, as a table and as a plot.

The spread is the sample standard deviation over seeds (n − 1 in the denominator) and the range
(min–max). With three seeds both are rough: a difference between two variants smaller than their
spreads is not a difference this grid can see.
"""
import math
import os

from ..io.atomic import atomic_write
from .variants import DEFAULT, FACTORS, NO_SE

FACTOR_TITLES = {"reduction": "reduction ratio r", "squeeze": "squeeze", "se_position": "SE position",
                 "stages": "SE in stages"}


def summarize(rows, metric="test_accuracy"):
    """{variant: {n, mean, std, min, max, params}} in the order the variants first appear."""
    values, params = {}, {}
    for r in rows:
        values.setdefault(r["variant"], []).append(float(r[metric]))
        params[r["variant"]] = int(r["params"])
    summary = {}
    for name, xs in values.items():
        mean, std = _mean_std(xs, one_seed=float("nan"))
        summary[name] = {"n": len(xs), "mean": mean, "std": std, "min": min(xs), "max": max(xs),
                         "params": params[name]}
    return summary


def format_table(summary, metric="test accuracy"):
    """One line per variant: parameters, mean ± std (in %), min–max, number of seeds."""
    width = max(len(name) for name in summary) + 2
    lines = [f"{'variant':<{width}}{'params':>9}   {metric} (%): mean ± std   [min – max]  seeds"]
    for name, s in summary.items():
        lines.append(f"{name:<{width}}{s['params']:>9,}   {100 * s['mean']:6.2f} ± {100 * s['std']:4.2f}"
                     f"   [{100 * s['min']:5.1f} – {100 * s['max']:5.1f}]  {s['n']:>3}")
    return "\n".join(lines)


def changed_factor(row):
    """The factor a row's variant changes from the default ("default" or NO_SE otherwise)."""
    if row["variant"] == NO_SE:
        return NO_SE
    for factor in FACTORS:
        default = ",".join(map(str, DEFAULT[factor])) if factor == "stages" else str(DEFAULT[factor])
        if row[factor] != default:
            return factor
    return "default"


def plot_ablation(rows, path=None, metric="test_accuracy", title=None):
    """A matplotlib Figure: one panel per factor, every seed a dot, mean ± std a bar, the default (and
    the network without SE) as horizontal bands. Written to ``path`` (PNG) when given; None without
    matplotlib."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        return None
    by_factor = {}
    for r in rows:
        by_factor.setdefault(changed_factor(r), {}).setdefault(r["variant"], []).append(100 * float(r[metric]))
    default_rows = [r for r in rows if r["variant"] == "default"]
    factors = [f for f in FACTORS if f in by_factor] or ["default"]
    figure = Figure(figsize=(3.2 * len(factors), 3.4))
    axes = figure.subplots(1, len(factors), sharey=True, squeeze=False)[0]
    for ax, factor in zip(axes, factors):
        if NO_SE in by_factor:
            mean, std = _mean_std(by_factor[NO_SE][NO_SE])
            ax.axhspan(mean - std, mean + std, color="C3", alpha=0.15)
            ax.axhline(mean, color="C3", lw=1, label="no SE (mean ± std)")
        points = [(row_value(rows, name, factor), xs) for name, xs in by_factor.get(factor, {}).items()]
        if default_rows and factor in FACTORS:                # the default is this factor's value too
            points.append((default_rows[0][factor] + " (default)", by_factor["default"]["default"]))
        if factor == "reduction":
            points.sort(key=lambda p: int(p[0].split()[0]))
        for i, (_label, xs) in enumerate(points):
            mean, std = _mean_std(xs)
            ax.errorbar([i], [mean], yerr=[std], fmt="o", color="k", capsize=4,
                        label="mean ± std" if i == 0 else None)
            ax.plot([i] * len(xs), xs, ".", color="C1", alpha=0.7, label="one seed" if i == 0 else None)
        ax.set_xticks(range(len(points)), [p[0] for p in points], rotation=30, fontsize=8)
        ax.set_title(FACTOR_TITLES.get(factor, factor), fontsize=10)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(f"{metric.replace('_', ' ')} (%)")
    axes[0].legend(fontsize=8, loc="lower left")
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    if path is not None:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with atomic_write(path) as f:
            figure.savefig(f, format="png", dpi=100)
    return figure


def row_value(rows, variant, factor):
    return next(r[factor] for r in rows if r["variant"] == variant)


def _mean_std(xs, one_seed=0.0):
    """Mean and sample standard deviation (n − 1); ``one_seed`` stands for the spread of a single value."""
    mean = sum(xs) / len(xs)
    std = math.sqrt(sum((x - mean) ** 2 for x in xs) / (len(xs) - 1)) if len(xs) > 1 else one_seed
    return mean, std
