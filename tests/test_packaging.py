"""What an installed minise hands a student (the lessons, the exercise stubs), and the messages a
machine without the test tools gets instead of a traceback."""
import json
import os
import pathlib
import re
import subprocess
import sys

import pytest

from minise import lessons

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_the_lessons_are_listed_in_order_with_their_titles():
    listed = lessons.list_lessons()
    names = [name for name, _ in listed]
    assert names == sorted(p.name for p in (ROOT / "tutorials").glob("[0-9][0-9]_*.py"))
    assert len(names) >= 8 and all(title for _, title in listed)
    first = (ROOT / "tutorials" / names[0]).read_text(encoding="utf-8").splitlines()[1]
    assert first == "# # " + listed[0][1]
    assert "relu_backward.py" in lessons.list_exercises()


def test_copy_writes_lessons_readme_and_exercise_stubs(tmp_path):
    written = lessons.copy_lessons(tmp_path / "mine", notebooks=False)
    names = {str(path.relative_to(tmp_path / "mine")) for path in written}
    source = ROOT / "tutorials"
    expected = {p.name for p in source.glob("*.py")} | {"README.md"}          # lessons and their helpers
    expected |= {f"exercises/{p.name}" for p in (source / "exercises").glob("*.py")}
    assert names == expected
    for name in expected:
        assert (tmp_path / "mine" / name).read_bytes() == (source / name).read_bytes()
    assert not list((tmp_path / "mine").glob("*.ipynb"))
    assert not list((tmp_path / "mine").rglob("*.tmp"))         # no temporary file left behind


def test_copy_writes_a_notebook_per_lesson_with_jupytext(tmp_path):
    pytest.importorskip("jupytext")
    lessons.copy_lessons(tmp_path, notebooks=True)
    first = lessons.list_lessons()[0][0]
    notebook = json.loads((tmp_path / first).with_suffix(".ipynb").read_text(encoding="utf-8"))
    assert notebook["nbformat"] == 4
    kinds = [cell["cell_type"] for cell in notebook["cells"]]
    assert kinds[0] == "markdown" and "code" in kinds
    assert len(list(tmp_path.glob("*.ipynb"))) == len(lessons.list_lessons())
    assert not list((tmp_path / "exercises").glob("*.ipynb"))   # stubs stay files to grade


def test_copy_refuses_to_overwrite_and_writes_nothing(tmp_path):
    (tmp_path / "exercises").mkdir()
    mine = tmp_path / "exercises" / "relu_backward.py"
    mine.write_text("# my own work\n", encoding="utf-8")
    with pytest.raises(FileExistsError, match="relu_backward.py"):
        lessons.copy_lessons(tmp_path, notebooks=False)
    assert mine.read_text(encoding="utf-8") == "# my own work\n"
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["relu_backward.py"]
    lessons.copy_lessons(tmp_path, notebooks=False, overwrite=True)
    assert mine.read_bytes() == (ROOT / "tutorials" / "exercises" / "relu_backward.py").read_bytes()


def test_lessons_come_from_the_packaged_copy_first(tmp_path, monkeypatch):
    packaged = tmp_path / "_tutorials"
    (packaged / "exercises").mkdir(parents=True)
    (packaged / "01_only.py").write_text("# %% [markdown]\n# # Only lesson\n", encoding="utf-8")
    monkeypatch.setattr(lessons, "PLACES", (packaged, ROOT / "tutorials"))
    assert lessons.list_lessons() == [("01_only.py", "Only lesson")]
    monkeypatch.setattr(lessons, "PLACES", (tmp_path / "nowhere",))
    with pytest.raises(FileNotFoundError, match="reinstall"):
        lessons.list_lessons()


def _without_hypothesis(code, tmp_path):
    """Run ``code`` in a fresh interpreter where importing hypothesis fails, as where it is missing."""
    (tmp_path / "hypothesis").mkdir()
    (tmp_path / "hypothesis" / "__init__.py").write_text('raise ImportError("No module named hypothesis")\n')
    path = os.pathsep.join([str(tmp_path), str(ROOT), os.environ.get("PYTHONPATH", "")])
    env = dict(os.environ, PYTHONPATH=path, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env,
                          timeout=120)


def test_strategies_without_hypothesis_name_the_extra(tmp_path):
    result = _without_hypothesis("import minise.testing.strategies", tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        'ImportError: minise.testing.strategies needs hypothesis: pip install "minise[test]"')


def test_the_suite_without_hypothesis_says_what_to_install(tmp_path):
    result = _without_hypothesis("import sys, pytest; sys.exit(pytest.main(['-q', '-p', 'no:cacheprovider', "
                                 "'tests/test_tensor.py']))", tmp_path)
    assert result.returncode == pytest.ExitCode.USAGE_ERROR
    output = result.stdout + result.stderr
    assert 'the tests need hypothesis (and pytest): pip install "minise[test]"' in output
    assert "Traceback" not in output


def test_a_copied_lesson_runs_where_it_was_copied(tmp_path):
    """The helpers a lesson imports travel with it, and it needs nothing from the clone."""
    lessons.copy_lessons(tmp_path, notebooks=False)
    env = dict(os.environ, MINISE_FAST="1", MPLBACKEND="Agg", MINISE_BACKEND="numpy",
               MINISE_FIGURES=str(tmp_path / "figures"), PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, "01_autograd.py"], cwd=tmp_path, env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]


def test_the_tutorials_command_lists_and_copies(tmp_path, capsys):
    from minise.cli import main
    assert main(["tutorials", "list"]) == 0
    out = capsys.readouterr().out
    for name, title in lessons.list_lessons():
        assert f"{name}" in out and title in out
    assert "relu_backward.py" in out
    assert main(["tutorials", "copy", str(tmp_path / "mine"), "--no-notebooks"]) == 0
    assert "start with: python" in capsys.readouterr().out
    assert (tmp_path / "mine" / "exercises" / "relu_backward.py").exists()
    assert not list((tmp_path / "mine").glob("*.ipynb"))
    assert main(["tutorials", "copy", str(tmp_path / "mine")]) == 2          # never over a student's work
    assert "--force" in capsys.readouterr().err
    assert main(["tutorials", "copy", str(tmp_path / "mine"), "--force", "--no-notebooks"]) == 0


def test_readme_links_work_on_the_package_index_page():
    """The README is the package's long description, shown away from the repository: a link must be
    absolute (the files themselves are named in plain text)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)]*)\)", readme) + re.findall(r'(?:src|href)="([^"]*)"', readme)
    relative = [t for t in targets if not re.match(r"https?://", t)]
    assert not relative, f"relative links in README.md: {relative}"


def _build_system_or_skip():
    """The build system pyproject.toml names (setuptools>=61 and wheel), in this environment."""
    pytest.importorskip("setuptools", minversion="61", reason="building needs setuptools>=61 (pyproject.toml)")
    import importlib.util
    if importlib.util.find_spec("wheel") is None and importlib.util.find_spec("setuptools.command.bdist_wheel") is None:
        pytest.skip('building the wheel needs the build system of pyproject.toml: pip install "setuptools>=61" wheel')


def test_the_sdist_and_wheel_build_without_warnings_and_carry_what_a_student_needs(tmp_path):
    """The wheel holds the lessons, the exercise stubs and py.typed; neither the wheel nor the sdist holds a
    reference solution or a planted wrong one (one bug away from the answer key; the sdist carries the
    fixtures its own suite needs, and the tests that grade those files skip there); and setuptools has
    nothing to warn about in the package list or the manifest."""
    import tarfile
    import zipfile

    from minise.exercises.handout import STUBS
    _build_system_or_skip()
    code = ("import sys; from setuptools import build_meta as b; out = sys.argv[1]; "   # setuptools rewrites argv
            "print(b.build_sdist(out)); print(b.build_wheel(out))")
    built = subprocess.run([sys.executable, "-c", code, str(tmp_path)], cwd=ROOT, capture_output=True, text=True,
                           timeout=300, check=False)
    assert built.returncode == 0, built.stderr[-2000:]
    log = built.stdout + built.stderr
    # What setuptools says about the package list, the package data and the manifest (not, say, a
    # FutureWarning of an old wheel package about where bdist_wheel lives).
    about_packages_or_data = (r"would be ignored|absent from the .packages. configuration|previously-included|"
                              r"no files found|as data is deprecated|package_data|data_files|"
                              r"warning: (manifest|sdist|check|build_py|egg_info)")
    complaints = [line for line in log.splitlines() if re.search(about_packages_or_data, line, re.I)]
    assert not complaints, "setuptools warns:\n" + "\n".join(complaints)
    (wheel,), (sdist,) = tmp_path.glob("*.whl"), tmp_path.glob("*.tar.gz")
    in_wheel = set(zipfile.ZipFile(wheel).namelist())
    with tarfile.open(sdist) as archive:
        in_sdist = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    answers = [n for n in in_wheel | in_sdist if "exercise_solutions/" in n and n.endswith(".py")]
    assert answers == [], "the reference and planted solutions stay out of both: the answer key and its neighbours"
    assert {f"minise/exercises/stubs/{name}.py" for name in STUBS} <= in_wheel
    assert {"minise/py.typed", "minise/data/digits.npz", "minise/data/DIGITS_LICENSE.txt"} <= in_wheel
    lessons_shipped = {f"minise/_tutorials/{p.relative_to(ROOT / 'tutorials')}"
                       for pattern in ("*.py", "*.md", "exercises/*.py") for p in (ROOT / "tutorials").glob(pattern)}
    assert lessons_shipped <= in_wheel and any(n.startswith("minise/_tutorials/01_") for n in in_wheel)
    assert not [n for n in in_wheel | in_sdist if "__pycache__" in n or n.endswith((".pyc", ".ipynb"))]
    needed = {"tests/conftest.py", "tests/accuracy.py", "setup.py", "MANIFEST.in", "LICENSE", "minise/py.typed",
              "tutorials/README.md", "benchmarks/run.py"}
    assert needed <= in_sdist
    assert {f"tests/{p.name}" for p in (ROOT / "tests").glob("test_*.py")} <= in_sdist
