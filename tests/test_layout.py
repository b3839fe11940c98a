"""The README's Layout section names every module and folder of the package, and nothing that is gone."""
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent


def layout_names():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Layout\n", 1)[1].split("\n## ", 1)[0]
    (tree,) = re.findall(r"```\n(minise/\n.*?)```", section, re.S)
    names = set()
    for line in tree.splitlines()[1:]:
        if line.startswith("  ") and not line.startswith("   "):        # one level below minise/
            names.update(word for word in line.split("  ")[1].split() if word.endswith((".py", "/")))
    return names


def test_the_layout_names_every_module_and_folder_of_minise():
    package = ROOT / "minise"
    present = {p.name for p in package.glob("*.py") if p.name != "__main__.py"}
    present |= {p.name + "/" for p in package.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    listed = layout_names()
    assert present - listed == set(), "missing from README's Layout"
    assert listed - present == set(), "in README's Layout but not in minise/"
