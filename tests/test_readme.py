"""README.md's Python examples run as written, and the output it shows is the output they give."""
import pathlib
import re

import pytest

import minise

README = (pathlib.Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```python\n(.*?)```", README, re.S)


def test_readme_has_python_examples():
    assert len(BLOCKS) >= 4


def test_readme_examples_run_and_show_the_real_gradcheck_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace = {}
    caught = None
    for block in BLOCKS:
        block = block.replace("epochs=15", "epochs=1")            # the lesson, not the wait
        try:
            exec(compile(block, "README.md", "exec"), namespace)
        except minise.GradcheckError as exc:                        # the Cube example fails on purpose
            caught = exc
    assert caught is not None, "the planted Cube bug was not caught"
    shown = re.search(r"GradcheckError: (.*?)\n(gradcheck FAILED.*?)\n```", README, re.S)
    assert " ".join(shown.group(1).split()) == str(caught).splitlines()[0]
    assert shown.group(2).strip() == "\n".join(str(caught).splitlines()[1:]).strip()
    assert (tmp_path / "runs" / "demo" / "metrics.jsonl").exists()
