"""Every tutorial runs, start to end, in fast mode (MINISE_FAST=1), so none of them can rot.

Each lesson asserts its own claims (minise's op equals the array version, gradcheck passes the
right backward and fails the planted one), so exit code 0 means the lesson still teaches truth."""
import os
import subprocess
import sys

import pytest

TUTORIALS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tutorials")
LESSONS = sorted(f for f in os.listdir(TUTORIALS) if f[:2].isdigit() and f.endswith(".py"))


def test_the_lessons_are_there_and_listed_in_the_readme():
    assert len(LESSONS) >= 8
    with open(os.path.join(TUTORIALS, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    for lesson in LESSONS:
        assert lesson in readme, f"{lesson} is missing from tutorials/README.md"


@pytest.fixture(scope="module")
def lesson_runs():
    """Every lesson started at once (they are independent processes), each collected when a test asks."""
    env = dict(os.environ, MINISE_FAST="1", MPLBACKEND="Agg", MINISE_BACKEND="numpy")
    started = {lesson: subprocess.Popen([sys.executable, os.path.join(TUTORIALS, lesson)], stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True, env=env, cwd=TUTORIALS)
               for lesson in LESSONS}
    yield started
    for process in started.values():
        if process.poll() is None:
            process.kill()
            process.communicate()


@pytest.mark.parametrize("lesson", LESSONS)
def test_tutorial_runs_in_fast_mode(lesson, lesson_runs):
    try:
        stdout, stderr = lesson_runs[lesson].communicate(timeout=180)
    except subprocess.TimeoutExpired:
        lesson_runs[lesson].kill()
        pytest.fail(f"{lesson} took longer than 180 s in fast mode")
    assert lesson_runs[lesson].returncode == 0, f"{lesson} failed:\n{stdout[-2000:]}\n{stderr[-4000:]}"


@pytest.mark.parametrize("lesson", LESSONS)
def test_tutorial_is_a_jupytext_percent_file(lesson):
    with open(os.path.join(TUTORIALS, lesson), encoding="utf-8") as f:
        text = f.read()
    assert text.startswith("# %% [markdown]\n# # "), "a lesson opens with a markdown cell and a title"
    assert text.count("# %% [markdown]") >= 3 and text.count("\n# %%\n") >= 3
