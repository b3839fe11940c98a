"""Build step that setup.cfg cannot declare: the lessons travel inside the package.

tutorials/ (the numbered lessons, their README and the exercise stubs) is copied into the built
package as ``minise/_tutorials``, so a plain ``pip install minise`` gives ``minise tutorials copy
DIR``. The copy is made at build time from tutorials/, which stays the one place the lessons live;
an editable install or a clone reads tutorials/ directly (see minise/lessons.py).
"""
import pathlib
import shutil

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = pathlib.Path(__file__).resolve().parent
LESSON_PATTERNS = ("*.py", "*.md", "exercises/*.py")


class BuildPyWithLessons(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):       # an editable install reads tutorials/ in place
            return
        source = ROOT / "tutorials"
        files = sorted(path for pattern in LESSON_PATTERNS for path in source.glob(pattern))
        if not any(path.name[:2].isdigit() for path in files):
            raise SystemExit(f"no lessons found in {source}: the package would ship without its tutorials")
        target = pathlib.Path(self.build_lib) / "minise" / "_tutorials"
        shutil.rmtree(target, ignore_errors=True)
        for path in files:
            destination = target / path.relative_to(source)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, destination)


setup(cmdclass={"build_py": BuildPyWithLessons})
