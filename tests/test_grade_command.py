"""`minise grade` and `minise exercises` as a teacher uses them: hand out, collect, grade a batch to CSV.

The workflow tested end to end is the one tutorials/README.md documents ("For teachers")."""
import csv
import io
import json
import os
import shutil
import subprocess
import sys
import time

import pytest
from process_table import end_all, wait_until_gone

from minise.exercises import EXERCISES
from minise.exercises.command import grade_main
from minise.exercises.handout import STUBS

HERE = os.path.dirname(os.path.abspath(__file__))
SOLUTIONS = os.path.join(HERE, "exercise_solutions")
WRONG = os.path.join(SOLUTIONS, "wrong")
ROOT = os.path.dirname(HERE)


def minise(*args, timeout=300):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "minise", *args], capture_output=True, text=True, timeout=timeout,
                          env=env, check=False)


@pytest.mark.usefixtures("reference_solutions", "planted_solutions")
def test_hand_out_collect_and_grade_a_class_to_csv(tmp_path):
    """tutorials/README.md, "For teachers": copy the stubs, students fill them in, one command grades them all."""
    handout = tmp_path / "handout"
    listing = minise("exercises", "list")
    assert listing.returncode == 0 and all(name in listing.stdout for name in EXERCISES)
    copied = minise("exercises", "copy", str(handout), "relu_backward")
    assert copied.returncode == 0 and os.listdir(handout) == ["relu_backward.py"], copied.stderr
    collected = tmp_path / "collected"
    collected.mkdir()
    shutil.copy(handout / "relu_backward.py", collected / "dana.py")                      # handed back untouched
    shutil.copy(os.path.join(SOLUTIONS, "relu_backward.py"), collected / "alice.py")      # derived it
    shutil.copy(os.path.join(WRONG, "relu_backward__mask_ge.py"), collected / "bob.py")   # x >= 0
    shutil.copy(os.path.join(SOLUTIONS, "linear_backward.py"), collected / "carol.py")    # the wrong exercise
    files = sorted(str(p) for p in collected.iterdir()) + [str(collected / "erin.py")]    # erin sent nothing
    out = minise("grade", "--exercise", "relu_backward", "--format", "csv", "--output", str(tmp_path / "grades.csv"),
                 *files)
    assert out.returncode == 2, out.stdout + out.stderr                  # a missing file is the worst outcome here
    with open(tmp_path / "grades.csv", encoding="utf-8") as f:
        rows = {os.path.basename(r["file"]): r for r in csv.DictReader(f)}
    assert list(rows) == ["alice.py", "bob.py", "carol.py", "dana.py", "erin.py"]
    assert rows["alice.py"]["passed"] == "yes" and rows["alice.py"]["score"] == rows["alice.py"]["maximum"] == "6"
    assert rows["bob.py"]["kinks"] == "fail" and rows["bob.py"]["backward"] == "pass" and rows["bob.py"]["score"] == "5"
    assert "graded as relu_backward" in rows["carol.py"]["error"] and rows["carol.py"]["score"] == "0"
    assert rows["dana.py"]["score"] == "0" and rows["dana.py"]["forward"] == "pass"
    assert rows["erin.py"]["status"] == "not graded" and "no such file" in rows["erin.py"]["error"]
    assert all(r["confinement"] for r in rows.values() if r["status"] == "graded")


def test_copy_never_overwrites_a_students_work(tmp_path):
    first = minise("exercises", "copy", str(tmp_path))
    assert first.returncode == 0 and sorted(os.listdir(tmp_path)) == sorted(f"{n}.py" for n in STUBS)
    (tmp_path / "relu_backward.py").write_text("my work", encoding="utf-8")
    again = minise("exercises", "copy", str(tmp_path), "relu_backward")
    assert again.returncode == 2 and "never overwritten" in again.stderr
    assert (tmp_path / "relu_backward.py").read_text(encoding="utf-8") == "my work"
    assert minise("exercises", "copy", str(tmp_path), "no_such_exercise").returncode == 2


@pytest.mark.usefixtures("reference_solutions", "planted_solutions")
def test_exit_codes_and_json_lines(tmp_path, capsys):
    good, bad = os.path.join(SOLUTIONS, "relu_backward.py"), os.path.join(WRONG, "relu_backward__inplace.py")
    assert grade_main([good, "--seed", "1"]) == 0
    assert grade_main([good, bad, "--seed", "1", "--format", "json"]) == 1
    lines = capsys.readouterr().out.splitlines()
    records = [json.loads(line) for line in lines[-2:]]
    assert [r["passed"] for r in records] == [True, False]
    assert {c["name"]: c["passed"] for c in records[1]["checks"]}["untouched"] is False
    assert all(c["scored"] != (c["name"] == "forward") for c in records[0]["checks"])
    assert grade_main([str(tmp_path / "absent.py"), good]) == 2


def test_a_file_the_grader_fails_on_is_a_row_and_the_batch_goes_on(tmp_path, monkeypatch, capsys):
    """Whatever goes wrong inside the grader on one file, that file gets a row saying so, and the next is graded."""
    import minise.exercises.command as command
    real = command.grade

    def grade(path, *args):
        if path.endswith("first.py"):
            raise RecursionError("deep inside the grader")
        return real(path, *args)
    monkeypatch.setattr(command, "grade", grade)
    files = [str(tmp_path / "first.py"), str(tmp_path / "second.py")]
    assert grade_main(files + ["--format", "json"]) == 2
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [os.path.basename(r["file"]) for r in records] == ["first.py", "second.py"]
    assert records[0]["status"] == "not graded" and "RecursionError: deep inside the grader" in records[0]["error"]
    assert "no such file" in records[1]["error"]


@pytest.mark.usefixtures("reference_solutions")
def test_require_confinement_refuses_to_run_unconfined_code(monkeypatch, capsys):
    """Where the kernel cannot confine (no Landlock), --require-confinement grades nothing (exit 3)."""
    import minise.exercises.grader as grader

    class Unconfined(grader.Solution):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.confinement = {"kernel": False, "landlock": 0, "problems": ["this kernel has no Landlock"]}

        def load(self):
            raise AssertionError("the solution's code must not run")
    monkeypatch.setattr(grader, "Solution", Unconfined)
    assert grade_main([os.path.join(SOLUTIONS, "relu_backward.py"), "--exercise", "relu_backward",
                       "--require-confinement"]) == 3
    text = capsys.readouterr().out
    assert "audit hook only: this kernel has no Landlock; not proof against a determined student" in text
    assert "--require-confinement" in text and "score 0/6: FAILED" in text


@pytest.mark.usefixtures("reference_solutions")
def test_grades_are_written_as_they_come(tmp_path):
    """A batch stopped in the middle (here: killed while a solution loops) keeps every grade before it."""
    looping = tmp_path / "looping.py"
    source = open(os.path.join(SOLUTIONS, "relu_backward.py"), encoding="utf-8").read()
    looping.write_text(source.replace("    gx = gout * (x > 0)\n", "    while True:\n        pass\n"), encoding="utf-8")
    output = tmp_path / "grades.csv"
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    batch = subprocess.Popen([sys.executable, "-m", "minise", "grade", "--format", "csv", "--output", str(output),
                              os.path.join(SOLUTIONS, "relu_backward.py"), str(looping)], env=env)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and (not output.exists() or output.read_text().count("\n") < 2):
            time.sleep(0.2)
    finally:
        batch.kill()
        batch.wait()
    rows = list(csv.DictReader(io.StringIO(output.read_text(encoding="utf-8"))))
    assert len(rows) == 1 and rows[0]["passed"] == "yes"
    if os.path.isdir("/proc/self"):                          # and the looping solution's process ended with it
        left = wait_until_gone(text=f"sandbox.py {looping} ")
        end_all(left)
        assert not left, f"the solution's process outlived the killed batch: {left}"


@pytest.mark.usefixtures("planted_solutions")
def test_a_solution_cannot_fake_the_graders_lines():
    """`grep PASSED` on the text output finds only the grader's own verdicts."""
    out = minise("grade", os.path.join(WRONG, "relu_backward__fakes_grader_output.py"), "--seed", "2")
    assert out.returncode == 1
    assert "\x1b" not in out.stdout and "\r" not in out.stdout
    assert [line for line in out.stdout.splitlines() if "PASSED" in line] == []
    assert [line for line in out.stdout.splitlines() if line.startswith("  score")] == ["  score 0/6: FAILED"]


@pytest.mark.parametrize("argv", [["grade", "--help"], ["exercises", "--help"]])
def test_help_documents_exit_codes_and_actions(argv):
    out = minise(*argv)
    assert out.returncode == 0
    assert ("exit codes" in out.stdout and "--require-confinement" in out.stdout) if argv[0] == "grade" \
        else ("copy" in out.stdout and "list" in out.stdout)
