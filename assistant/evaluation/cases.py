"""The eval's inputs: the cases of evals/cases/ and the gate's thresholds file.

A case is a folder with ``spec.yaml``, ``figures.csv``/``figures.yaml``/``figures.xlsx`` and an
optional ``case.yaml`` (description and expectations: placeholders expected, phrases that must
(not) appear, per-case threshold overrides).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from assistant.core.errors import HuibaoError, InputError
from assistant.core.textio import yaml_error_message
from assistant.evaluation.metrics import Thresholds, threshold_keys

FIGURE_FILES = ("figures.csv", "figures.yaml", "figures.yml", "figures.xlsx")


class EvalError(HuibaoError):
    """The eval could not run (no model configured for a model run, no cases)."""


class CaseExpectations(BaseModel):
    model_config = {"extra": "forbid"}

    expect_placeholders: bool = False
    min_placeholders: int = 1  # only when expect_placeholders
    forbidden_phrases: list[str] = []  # must not appear anywhere in the draft
    required_phrases: list[str] = []  # must appear somewhere in the draft
    thresholds: dict[str, float] = {}  # per-case overrides of evals/thresholds.yaml


class EvalCase(BaseModel):
    id: str
    path: Path
    spec_path: Path
    figures_path: Path
    description: str = ""
    expectations: CaseExpectations = CaseExpectations()


def load_thresholds(path: str | Path | None) -> Thresholds:
    """The gate's limits from a thresholds file (evals/thresholds.yaml); None: the defaults."""
    if path is None:
        return Thresholds()
    path = Path(path)
    if not path.is_file():
        raise InputError("找不到门槛文件。", file=str(path))
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return Thresholds(**data)
    except yaml.YAMLError as err:
        message, line = yaml_error_message(err)
        raise InputError(message, file=str(path), line=line) from None
    except (TypeError, ValidationError) as err:
        raise InputError(f"门槛设置无效：{_first_error(err)}", file=str(path)) from None


def _first_error(err: Exception) -> str:
    if isinstance(err, ValidationError):
        e = err.errors()[0]
        where = ".".join(str(x) for x in e.get("loc", ()))
        return f"“{where}”：{e.get('msg')}"
    return str(err)


def load_case(folder: str | Path) -> EvalCase:
    folder = Path(folder)
    spec_path = folder / "spec.yaml"
    if not spec_path.is_file():
        raise InputError("案例缺少 spec.yaml。", file=str(folder))
    figures_path = next((folder / n for n in FIGURE_FILES if (folder / n).is_file()), None)
    if figures_path is None:
        raise InputError("案例缺少数据文件（figures.csv、figures.yaml 或 figures.xlsx）。", file=str(folder))
    meta: dict[str, Any] = {}
    case_file = folder / "case.yaml"
    if case_file.is_file():
        try:
            meta = yaml.safe_load(case_file.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as err:
            message, line = yaml_error_message(err)
            raise InputError(message, file=str(case_file), line=line) from None
    try:
        expectations = CaseExpectations(**(meta.get("expectations") or {}))
    except (TypeError, ValidationError) as err:
        raise InputError(f"预期设置无效：{_first_error(err)}", file=str(case_file), field="expectations") from None
    unknown = set(expectations.thresholds) - set(threshold_keys())
    if unknown:
        raise InputError(f"未知的门槛“{sorted(unknown)[0]}”。", file=str(case_file), field="expectations.thresholds")
    return EvalCase(
        id=folder.name,
        path=folder,
        spec_path=spec_path,
        figures_path=figures_path,
        description=str(meta.get("description") or "").strip(),
        expectations=expectations,
    )


def discover_cases(cases_dir: str | Path, only: list[str] | None = None) -> list[EvalCase]:
    cases_dir = Path(cases_dir)
    if not cases_dir.is_dir():
        raise InputError("找不到案例目录。", file=str(cases_dir))
    folders = sorted(p for p in cases_dir.iterdir() if p.is_dir() and (p / "spec.yaml").is_file())
    if only:
        missing = [c for c in only if not (cases_dir / c / "spec.yaml").is_file()]
        if missing:
            raise InputError(
                f"没有案例“{missing[0]}”（可用：{'、'.join(p.name for p in folders)}）。", file=str(cases_dir)
            )
        folders = [cases_dir / c for c in only]
    if not folders:
        raise EvalError(f"案例目录 {cases_dir} 中没有案例（每个案例是一个含 spec.yaml 的文件夹）。")
    return [load_case(f) for f in folders]
