"""`huibao models` and `huibao config`: what the configured endpoint offers, and the settings in force."""

from __future__ import annotations

import typer
from rich.markup import escape
from rich.table import Table

from assistant.commands.base import command_app, console
from assistant.core.settings import described_rows, get_settings
from assistant.llm import display_url, list_models

app = command_app()


@app.command("models")
def models_command() -> None:
    """列出所配置模型接口提供的模型（GET /models）。"""
    settings = get_settings()
    if not settings.model_configured:
        console.print("未配置模型接口（OPENAI_BASE_URL / OPENAI_API_KEY），当前使用离线引擎起草。")
        raise typer.Exit(1)
    names = list_models(settings)
    console.print(f"模型接口 {escape(display_url(settings.base_url))} 提供 {len(names)} 个模型：")
    for name in names:
        mark = "  ← 当前" if name == settings.model else ""
        console.print(f"  {escape(name)}{mark}")


@app.command("config")
def config_command() -> None:
    """显示当前生效的设置（不显示密钥内容）。"""
    table = Table("设置", "名称（huibao.toml）", "值")
    for label, key, value in described_rows(get_settings()):
        table.add_row(escape(label), escape(key), escape(value))
    console.print(table)
