"""README.md's Python examples run as written, and the output it shows is the output they give."""
import pathlib
import re
import subprocess

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


def test_readme_opens_with_a_quick_start_of_two_commands_the_second_being_what_ci_runs():
    """The first section is "Quick start": one bash block of exactly two commands, the main job and
    the tests; .ci/run reads the second line of the first bash block and runs it."""
    sections = re.findall(r"^## (.+)$", README, re.M)
    assert sections[0] == "Quick start"
    quick_start = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```(\w*)\n(.*?)```", quick_start, re.S)
    assert [language for language, _ in blocks] == ["bash"]
    commands = [line for line in blocks[0][1].splitlines() if line.strip()]
    assert len(commands) == 2
    assert "pip install" in commands[0] and "minise" in commands[0]
    assert '".[test]"' in commands[1] and "pytest" in commands[1]
    assert README.index("```bash") == README.index("```")       # the first fenced block of the file
    root = pathlib.Path(__file__).resolve().parent.parent
    ci = (root / ".ci" / "run").read_text(encoding="utf-8")
    (extract,) = [line for line in ci.splitlines() if line.startswith("test_command=")]
    found = subprocess.run(["bash", "-c", extract + '\nprintf %s "$test_command"'], cwd=root,
                           capture_output=True, text=True, check=True).stdout
    assert found == commands[1]
    assert 'eval "$test_command"' in ci
