"""Build hook: the wheel carries copies of the top-level prompts/, examples/ and knowledge/ (and app.py, serve.py).

They stay at the top level of the project, where a newcomer edits them; an installed huibao
finds the copies under assistant/bundled/ (assistant.core.resources). An editable install
(`pip install -e .`) reads the top-level folders directly and gets no copies.
Everything else about the build is declared in pyproject.toml.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

BUNDLED = ("prompts", "examples", "knowledge")


class BuildWithBundledFolders(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return
        target = Path(self.build_lib) / "assistant" / "bundled"
        for name in BUNDLED:
            shutil.rmtree(target / name, ignore_errors=True)
            shutil.copytree(name, target / name)
        shutil.copy2("app.py", target / "app.py")  # the page's entry script, for `huibao ui`
        shutil.copy2("serve.py", target / "serve.py")  # the server `huibao ui` runs: app.py plus sign-in


setup(cmdclass={"build_py": BuildWithBundledFolders})
