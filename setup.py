"""Build step: carry the top-level data folders into the wheel as package data.

DESIGN.md fixes ``rules/``, ``reference_data/``, ``pipelines/`` and ``fixtures/`` at the top of the repository.
A wheel must carry them, so ``build_py`` copies them to ``cdq/data/<folder>`` inside the built package, where
``cdq.resources`` finds them with ``importlib.resources``. An editable install reads them in place instead.
"""

from __future__ import annotations

import os
import shutil

from setuptools import setup
from setuptools.command.build_py import build_py

DATA_FOLDERS = ("rules", "reference_data", "pipelines", "fixtures")


class BuildWithData(build_py):
    """``build_py`` that also copies the data folders into ``<build_lib>/cdq/data/``."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads the folders from the checkout
        for folder in DATA_FOLDERS:
            target = os.path.join(self.build_lib, "cdq", "data", folder)
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(folder, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".*"))


setup(cmdclass={"build_py": BuildWithData})
