"""Run lessons as notebooks: convert each one with jupytext, execute it in a fresh kernel, save it.

    python tutorials/run_notebook.py                      # every lesson -> tutorials/notebooks/
    python tutorials/run_notebook.py 03_conv2d.py --out /tmp/nb

The executed notebooks (outputs and figures included) land in `tutorials/notebooks/`, a folder git
ignores, so converted copies never show up as untracked files. The kernel runs with `tutorials/`
as its working directory, as it would when you open a lesson in Jupyter. Needs jupytext, nbclient
and ipykernel (`pip install -e ".[test]"`). The exit code is 0 only if every lesson ran to the end.
"""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def lessons():
    """The numbered lesson files, in order."""
    return sorted(f for f in os.listdir(HERE) if f[:2].isdigit() and f.endswith(".py"))


def run(lesson, out_dir, timeout=600):
    """Execute one lesson as a notebook; write `<out_dir>/<name>.ipynb` (also when a cell fails)."""
    import jupytext
    import nbclient
    import nbformat

    notebook = jupytext.read(os.path.join(HERE, lesson))
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, lesson[:-3] + ".ipynb")
    try:
        for attempt in range(3):
            client = nbclient.NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                                             resources={"metadata": {"path": HERE}})
            try:
                client.execute()
                break
            except RuntimeError as error:
                # Kernels started at the same moment can pick the same free port; the loser dies
                # before running any cell. Start it again; any other failure is the lesson's.
                if "before replying to kernel_info" not in str(error) or attempt == 2:
                    raise
    finally:
        partial = path + ".part"                    # written whole, then renamed: no half-written notebook
        nbformat.write(notebook, partial)
        os.replace(partial, path)
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lessons", nargs="*", help="lesson files (default: all of them)")
    parser.add_argument("--out", default=os.path.join(HERE, "notebooks"), help="where executed notebooks go")
    args = parser.parse_args(argv)
    try:
        from nbclient.exceptions import CellExecutionError, DeadKernelError
    except ImportError as error:
        print(f"running lessons as notebooks needs jupytext, nbclient and ipykernel: {error}", file=sys.stderr)
        return 2
    failed = []
    for lesson in args.lessons or lessons():
        lesson = os.path.basename(lesson)
        try:
            print("executed:", run(lesson, args.out))
        except (CellExecutionError, DeadKernelError, TimeoutError) as error:     # name the lesson, run the rest
            failed.append(lesson)
            print(f"{lesson} failed as a notebook: {type(error).__name__}: {error}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
