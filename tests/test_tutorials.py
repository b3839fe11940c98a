"""Every tutorial runs, start to end, in fast mode (MINISE_FAST=1): as a script and as an executed
notebook, so none of them can rot in either form.

Each lesson asserts its own claims (minise's op equals the array version, gradcheck passes the
right backward and fails the planted one), so a lesson that runs to the end has checked itself.
All runs start at once, in separate processes, from a clone as it is (minise on PYTHONPATH, not
installed); each test collects its own. The notebook runs need jupytext, nbclient and ipykernel
(the `test` extra) and are skipped, saying so, where one of them is missing.
"""
import importlib.util
import json
import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TUTORIALS = os.path.join(ROOT, "tutorials")
LESSONS = sorted(f for f in os.listdir(TUTORIALS) if f[:2].isdigit() and f.endswith(".py"))
NOTEBOOK_TOOLS = ("jupytext", "nbclient", "ipykernel")
MISSING = [name for name in NOTEBOOK_TOOLS if importlib.util.find_spec(name) is None]
HAVE_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None
HAVE_GRAPHVIZ = importlib.util.find_spec("graphviz") is not None and shutil.which("dot") is not None
# what each lesson draws, where the tools to draw it are installed
FIGURES = {"01_autograd.py": ["01_graph"] if HAVE_GRAPHVIZ else [],
           "03_conv2d.py": ["03_im2col"] if HAVE_MATPLOTLIB else [],
           "07_training.py": ["07_curves"] if HAVE_MATPLOTLIB else [],
           "09_ablations.py": ["09_ablations"] if HAVE_MATPLOTLIB else [],
           "10_excitation_analysis.py": ["10_excitations"] if HAVE_MATPLOTLIB else [],
           "11_reading_se_code.py": ["11_softmax_twice"] if HAVE_MATPLOTLIB else [],
           "12_debugging_gradients.py": ["12_gradient_norms"] if HAVE_MATPLOTLIB else []}
TIMEOUT = 300


def test_the_lessons_are_there_and_listed_in_the_readme():
    assert len(LESSONS) >= 8
    with open(os.path.join(TUTORIALS, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    for lesson in LESSONS:
        assert f"[{lesson}]({lesson})" in readme, f"{lesson} is missing from the table in tutorials/README.md"


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Every lesson started at once as a script and (tools permitting) as a notebook."""
    out = tmp_path_factory.mktemp("tutorials")
    path = os.pathsep.join([ROOT] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])
    env = dict(os.environ, MINISE_FAST="1", MPLBACKEND="Agg", MINISE_BACKEND="numpy", PYTHONPATH=path)

    def start(kind, lesson, command):
        figures = out / kind / "figures"
        return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=TUTORIALS,
                                env=dict(env, MINISE_FIGURES=str(figures)))

    started = {}
    for lesson in LESSONS:
        started["script", lesson] = start("script", lesson, [sys.executable, os.path.join(TUTORIALS, lesson)])
        if not MISSING:
            started["notebook", lesson] = start("notebook", lesson, [
                sys.executable, os.path.join(TUTORIALS, "run_notebook.py"), lesson, "--out", str(out / "notebook")])
    yield out, started
    for process in started.values():
        if process.poll() is None:
            process.kill()
            process.communicate()


def finished(runs, kind, lesson):
    out, started = runs
    process = started[kind, lesson]
    try:
        output, _ = process.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        pytest.fail(f"{lesson} took longer than {TIMEOUT} s in fast mode as a {kind}")
    assert process.returncode == 0, f"{lesson} failed as a {kind}:\n{output[-6000:]}"
    return out, output


@pytest.mark.parametrize("lesson", LESSONS)
def test_tutorial_runs_as_a_script_and_saves_its_figures(lesson, runs):
    out, _ = finished(runs, "script", lesson)
    for name in FIGURES.get(lesson, []):
        assert (out / "script" / "figures" / f"{name}.png").stat().st_size > 1000, f"{lesson} saved no {name}.png"


@pytest.mark.skipif(bool(MISSING), reason=f"running lessons as notebooks needs {', '.join(MISSING)} "
                                          "(pip install -e '.[test]')")
@pytest.mark.parametrize("lesson", LESSONS)
def test_tutorial_runs_as_a_notebook_and_shows_its_figures_inline(lesson, runs):
    out, _ = finished(runs, "notebook", lesson)
    with open(out / "notebook" / (lesson[:-3] + ".ipynb"), encoding="utf-8") as f:
        cells = json.load(f)["cells"]
    outputs = [o for cell in cells if cell["cell_type"] == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o["output_type"] == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) >= len(FIGURES.get(lesson, [])), f"{lesson} showed {len(images)} figure(s) inline"


@pytest.mark.parametrize("lesson", LESSONS)
def test_tutorial_is_a_jupytext_percent_file(lesson):
    with open(os.path.join(TUTORIALS, lesson), encoding="utf-8") as f:
        text = f.read()
    assert text.startswith("# %% [markdown]\n# # "), "a lesson opens with a markdown cell and a title"
    assert text.count("# %% [markdown]") >= 3 and text.count("\n# %%\n") >= 3


def test_converted_notebooks_and_figures_are_ignored_by_git():
    """Running the lessons as notebooks, or their figures as scripts, leaves no untracked file behind."""
    if subprocess.run(["git", "-C", ROOT, "rev-parse"], capture_output=True).returncode:
        pytest.skip("not a git checkout")
    probes = ["tutorials/01_autograd.ipynb", "tutorials/notebooks/01_autograd.ipynb", "tutorials/figures/03_im2col.png",
              "tutorials/.ipynb_checkpoints/01_autograd-checkpoint.ipynb"]
    checked = subprocess.run(["git", "-C", ROOT, "check-ignore", *probes], capture_output=True, text=True)
    ignored = checked.stdout.split()
    assert sorted(ignored) == sorted(probes)
