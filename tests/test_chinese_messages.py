"""What a user reads when the command line or a file is wrong is Chinese: typer's usage errors and
help frame, PyYAML's syntax errors, and the names and values of the settings."""

from __future__ import annotations

import re
import sys

import pytest
from typer.testing import CliRunner

from assistant.commands.main import COMMANDS, app, main
from assistant.core.errors import InputError
from assistant.core.figures import load_figures
from assistant.core.settings import LABELS, Settings, described_rows
from assistant.drafting.spec import load_spec

# Latin words a message may carry: names the user typed or reads elsewhere (commands, options,
# file formats), never a sentence of English.
ALLOWED = {"huibao", "YAML", "Tab", "true", "false"}


def english_words(text: str, allowed: set[str]) -> set[str]:
    """Latin words of three letters or more that are not on the allowed list."""
    return {w for w in re.findall(r"[A-Za-z][A-Za-z_'’]{2,}", text) if w not in allowed}


def run(*args: str):
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["show"], "缺少参数 report"),
        (["search", "新媒体", "-k", "abc"], "--k / -k 的值“abc”无效：应为整数。"),
        (["search", "新媒体", "-k", "0"], "--k / -k 的值“0”无效：不能小于 1。"),
        (["reports", "--foo"], "没有 --foo 这个选项。"),
        (["nosuch"], "没有 nosuch 这个命令。"),
        (["show", "r1", "1.1", "extra"], "多余的参数：extra。"),
        (["search", "新媒体", "--k"], "选项 --k 后面要跟一个值。"),
        (["ui", "--port", "70000"], "--port 的值“70000”无效：不能大于 65535。"),
    ],
)
def test_usage_errors_are_chinese(args, expected):
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert expected in result.output
    assert "错误：" in result.output
    # the command's own words (its name, options, argument names) are the only Latin left
    own = {a.lstrip("-") for a in args} | set(COMMANDS) | {"report", "section_id", "query", "help"}
    assert not english_words(result.output, ALLOWED | own), result.output


def test_usage_error_shows_the_usage_line_and_help_hint_in_chinese():
    result = run("show")
    assert "用法：" in result.output and "[选项]" in result.output
    assert "show --help 查看帮助" in result.output
    for english in ("Usage:", "Missing argument", "Try ", "Error"):
        assert english not in result.output


def test_help_frame_is_chinese():
    result = run("search", "--help")
    assert result.exit_code == 0
    for chinese in ("用法：", "参数", "选项", "显示本帮助并退出。", "[默认：5]", "[必填]"):
        assert chinese in result.output, chinese
    for english in ("Usage:", "Arguments", "Options", "Show this message", "[default", "[required]"):
        assert english not in result.output, english
    top = run("--help")
    assert "命令 [参数]..." in top.output and "╭─ 命令" in top.output and "Commands" not in top.output


def test_commands_still_run_and_keep_their_exit_codes():
    assert run("reports").exit_code == 0
    assert run("models").exit_code == 1  # typer.Exit(1): no endpoint configured


BROKEN_YAML = [
    # (text, line, column, words in the message)
    ("figures:\n  - id: a\n    item: 新闻: 发布会\n    value: 1\n", 3, 13, "冒号"),
    ("figures:\n\t- id: a\n", 2, 1, "制表符"),
    ("figures:\n  - id: a\n    item: '未闭合\n", 4, 1, "引号或括号"),
    ("figures: [a, b\n", 2, 1, "方括号"),
    ("figures:\n  - id: a\n   item: x\n", 3, 4, "缩进不一致"),
    ("figures:\n  - id: a\n    item: @x\n", 3, 11, "字符“@”"),
]


@pytest.mark.parametrize(("text", "line", "column", "words"), BROKEN_YAML)
def test_a_yaml_syntax_error_is_chinese_and_names_file_line_column(tmp_path, text, line, column, words):
    path = tmp_path / "数据.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_figures(path)
    message = str(err.value)
    assert err.value.line == line
    assert f"文件 {path}，第 {line} 行：YAML 格式错误（第 {column} 列）：" in message
    assert words in message
    assert not english_words(message.replace(str(path), ""), ALLOWED), message


def test_an_outline_yaml_error_reaches_the_command_line_in_chinese(tmp_path, monkeypatch, capsys):
    spec = tmp_path / "提纲.yaml"
    spec.write_text("title: 汇报\norganisation: 某办\nyear: 2026\nsections:\n  - id: intro\n    notes: [未闭合\n")
    with pytest.raises(InputError) as err:
        load_spec(spec)
    assert "方括号 [ ] 没有正确闭合" in str(err.value)
    figures = tmp_path / "数据.csv"
    figures.write_text("id,item,value,unit\na,新闻发布会,11,次\n", encoding="utf-8")
    argv = ["huibao", "draft", "--spec", str(spec), "--figures", str(figures), "--offline", "--out", str(tmp_path)]
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit) as exit_:
        main()
    assert exit_.value.code == 2
    shown = capsys.readouterr().err
    assert "YAML 格式错误（第" in shown and "方括号" in shown
    assert "expected" not in shown and "flow sequence" not in shown


def test_every_setting_has_a_chinese_label_and_none_reads_unset():
    assert set(LABELS) == set(Settings.model_fields)
    rows = described_rows(Settings())
    assert {label for label, _, _ in rows} <= set(LABELS.values())
    values = {key: value for _, key, value in rows}
    assert values["base_url"] == "未设置" and values["terms"] == "未设置" and values["api_key"] == "未设置"
    assert values["chroma_mode"] == "本机内置"
    assert "None" not in {value for _, _, value in rows}


def test_config_command_shows_chinese_names_beside_the_keys():
    result = run("config")
    assert result.exit_code == 0
    assert "模型服务地址" in result.output and "base_url" in result.output and "未设置" in result.output
    assert "None" not in result.output
