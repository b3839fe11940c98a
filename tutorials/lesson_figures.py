"""Figures for the lessons: shown inline in a notebook, saved as PNG files when a lesson runs as a script.

    figure = new_figure(figsize=(8, 3))        # a matplotlib Figure, or None without matplotlib
    if figure is not None:
        ax = figure.subplots()
        ...
        show(figure, "03_im2col")              # -> tutorials/figures/03_im2col.png (and inline in Jupyter)
    show_dot(minise.viz.to_dot(y), "01_graph")  # a recorded graph, drawn by Graphviz

Figures go to `tutorials/figures/` (ignored by git), or to the folder named by MINISE_FIGURES.
No pyplot: nothing here depends on, or changes, matplotlib's interactive backend.
"""
import io
import os
import sys


def figure_dir():
    return os.environ.get("MINISE_FIGURES") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "figures")


def new_figure(**kwargs):
    """A fresh matplotlib Figure, or None when matplotlib is not installed (the lesson then skips its picture)."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        print("(matplotlib is not installed: no figure)")
        return None
    return Figure(**kwargs)


def in_notebook():
    """True inside a Jupyter kernel."""
    return "ipykernel" in sys.modules


def show(figure, name):
    """Save ``figure`` as <figure_dir>/<name>.png; inside a notebook, also display it. Returns the path."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return show_png(buffer.getvalue(), name)


def show_dot(dot, name):
    """Render Graphviz DOT text as <figure_dir>/<name>.png and display it in a notebook; without the
    graphviz package or its dot program, print the DOT text instead. Returns the path or None."""
    import shutil
    try:
        import graphviz
    except ImportError:
        graphviz = None
    if graphviz is None or shutil.which("dot") is None:
        print("(graphviz and its dot program are not installed: the graph as DOT text)\n" + dot)
        return None
    return show_png(graphviz.Source(dot).pipe(format="png"), name)


def show_png(png, name):
    """Save PNG bytes (or copy a PNG file, given its path) as <figure_dir>/<name>.png; display it in a notebook."""
    if isinstance(png, str):
        with open(png, "rb") as f:
            png = f.read()
    os.makedirs(figure_dir(), exist_ok=True)
    path = os.path.join(figure_dir(), name + ".png")
    with open(path + ".part", "wb") as f:           # whole file or none: write, then rename
        f.write(png)
    os.replace(path + ".part", path)
    if in_notebook():
        from IPython.display import Image, display
        display(Image(data=png))
    else:
        print("figure saved to", path)
    return path
