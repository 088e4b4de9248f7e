"""Where the shipped folders and the data folder are, in a checkout and in an installed wheel."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import get_args

import pytest

from assistant.core import resources
from assistant.core.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def test_checkout_reads_the_top_level_folders(monkeypatch):
    for var in ("HUIBAO_DATA_DIR", "HUIBAO_KNOWLEDGE_DIR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HUIBAO_CONFIG", str(ROOT / "no-such-huibao.toml"))
    assert not resources.installed()
    assert resources.resource_dir("prompts") == ROOT / "prompts"
    assert (resources.resource_dir("examples") / "report-spec.yaml").is_file()
    settings = Settings()
    assert settings.data_dir == ROOT / "data"
    assert settings.knowledge_dir == ROOT / "knowledge"


@pytest.fixture
def installed(tmp_path, monkeypatch):
    """Pretend to be an installed wheel: the bundled copies exist, the working folder is elsewhere."""
    bundled = tmp_path / "site-packages" / "assistant" / "bundled"
    for name in get_args(resources.Resource):
        (bundled / name).mkdir(parents=True)
    monkeypatch.setattr(resources, "BUNDLED", bundled)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("HUIBAO_CONFIG", str(work / "huibao.toml"))
    for var in ("HUIBAO_DATA_DIR", "HUIBAO_KNOWLEDGE_DIR"):
        monkeypatch.delenv(var, raising=False)
    return bundled, work


def test_installed_copy_reads_bundled_folders_and_keeps_data_in_the_working_folder(installed):
    bundled, work = installed
    assert resources.installed()
    assert resources.resource_dir("prompts") == bundled / "prompts"
    settings = Settings()
    assert settings.data_dir == work / "data"
    assert settings.knowledge_dir == bundled / "knowledge"


def test_installed_copy_still_honours_the_overrides(installed, monkeypatch, tmp_path):
    _, work = installed
    (work / "huibao.toml").write_text(f'knowledge_dir = "{tmp_path / "kb"}"\n', encoding="utf-8")
    monkeypatch.setenv("HUIBAO_DATA_DIR", str(tmp_path / "elsewhere"))
    settings = Settings()
    assert settings.data_dir == tmp_path / "elsewhere"
    assert settings.knowledge_dir == tmp_path / "kb"


def test_the_wheel_bundles_every_resource_folder():
    """setup.py copies exactly the folders resource_dir() can be asked for."""
    tree = ast.parse((ROOT / "setup.py").read_text(encoding="utf-8"))
    bundled = next(
        ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "BUNDLED" for t in node.targets)
    )
    assert set(bundled) == set(get_args(resources.Resource))
