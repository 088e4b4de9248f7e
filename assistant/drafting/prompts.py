"""Prompt files (prompts/*.j2) and their rendering.

Templates render in a sandbox with StrictUndefined, so a missing variable is an error and a
template construct typed into notes or a retrieved passage (``{{ 7*7 }}``) is only data: it is
substituted as text and never evaluated. Autoescape is off: the output is plain text for a
model, not HTML.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.core.errors import HuibaoError
from assistant.core.resources import resource_dir

if TYPE_CHECKING:
    from jinja2.sandbox import SandboxedEnvironment

PROMPTS_DIR = resource_dir("prompts")


def prompts_directory(prompts_dir: Path | None = None) -> Path:
    """Where the prompt files are read from: the one place that locates them (tests pass their own)."""
    return Path(prompts_dir) if prompts_dir is not None else PROMPTS_DIR


class PromptError(HuibaoError):
    """A prompt file is missing or could not be rendered (a variable was not given)."""


@lru_cache(maxsize=4)
def _environment(directory: str) -> SandboxedEnvironment:
    from jinja2 import FileSystemLoader, StrictUndefined  # heavy: ~12 ms; every CLI command loads this module
    from jinja2.sandbox import SandboxedEnvironment  # heavy: as above, only a prompt needs it

    return SandboxedEnvironment(
        loader=FileSystemLoader(directory),
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=False,
        trim_blocks=False,
        lstrip_blocks=False,
    )


def render_prompt(name: str, *, prompts_dir: Path | None = None, **variables: object) -> str:
    """Render prompts/<name>.j2 with the given variables; any missing variable is an error."""
    from jinja2 import TemplateError, TemplateNotFound  # heavy: ~12 ms; every CLI command loads this module

    directory = prompts_directory(prompts_dir)
    try:
        template = _environment(str(directory)).get_template(f"{name}.j2")
        return template.render(**variables).strip() + "\n"
    except TemplateNotFound:
        raise PromptError(f"找不到提示词文件 {directory / (name + '.j2')}。") from None
    except TemplateError as err:
        raise PromptError(f"提示词 {name}.j2 渲染失败：{err}") from err


def prompt_files(prompts_dir: Path | None = None) -> list[Path]:
    return sorted(prompts_directory(prompts_dir).glob("*.j2"))


def prompt_version(prompts_dir: Path | None = None) -> str:
    """A short sha256 over every prompt file's name and content (provenance of a draft)."""
    digest = hashlib.sha256()
    for path in prompt_files(prompts_dir):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]
