"""Settings, offline tokenizer and the network guard."""

from __future__ import annotations

import hashlib
import socket

import pytest

from assistant.core import tokens
from assistant.core.settings import Settings, get_settings

REFERENCE = "202x年，在市委和市人大常委会党组的坚强领导下，市人大常委会办公室紧扣宣传贯彻党的工作主线。"


def test_offline_tiktoken_reproduces_reference_counts(tmp_path):
    cache = tokens.ensure_offline_tiktoken(tmp_path / "tk")
    for _name, (sha1_name, sha256, _) in tokens.ENCODINGS.items():
        assert hashlib.sha256((cache / sha1_name).read_bytes()).hexdigest() == sha256
    assert tokens.count_tokens(REFERENCE, "cl100k_base") == 59
    assert tokens.count_tokens(REFERENCE, "o200k_base") == 31


def test_langchain_openai_counts_tokens_offline():
    from langchain_openai import ChatOpenAI

    tokens.ensure_offline_tiktoken()
    model = ChatOpenAI(model="gpt-4o", api_key="test", base_url="http://127.0.0.1:9/v1")
    assert model.get_num_tokens(REFERENCE) == 31


def test_checksum_mismatch_fails_loudly(tmp_path, monkeypatch):
    monkeypatch.setitem(tokens.ENCODINGS, "cl100k_base", ("deadbeef", "0" * 64, "cl100k.vocab"))
    with pytest.raises(tokens.TokenizerError, match="校验失败"):
        tokens.ensure_offline_tiktoken(tmp_path / "bad")


def test_settings_read_env_and_toml_and_hide_key(tmp_path, monkeypatch):
    cfg = tmp_path / "huibao.toml"
    cfg.write_text('model = "qwen-plus"\nmax_concurrency = 2\n', encoding="utf-8")
    monkeypatch.setenv("HUIBAO_CONFIG", str(cfg))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-very-secret")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:8000/v1")
    monkeypatch.setenv("HUIBAO_MAX_CONCURRENCY", "3")  # env beats the file
    s = Settings()
    assert s.model == "qwen-plus" and s.max_concurrency == 3
    assert s.base_url == "http://127.0.0.1:8000/v1" and s.model_configured
    assert "sk-very-secret" not in repr(s) and "sk-very-secret" not in str(s.describe())
    assert s.api_key.get_secret_value() == "sk-very-secret"


def test_no_endpoint_means_offline():
    assert not Settings().model_configured


def test_guard_refuses_non_loopback():
    sock = socket.socket()
    try:
        with pytest.raises(AssertionError, match="network"):
            sock.connect(("93.184.216.34", 80))
    finally:
        sock.close()


def test_config_masks_credentials_in_urls(monkeypatch):
    from typer.testing import CliRunner

    from assistant.commands.main import app

    monkeypatch.setenv("HUIBAO_BASE_URL", "http://user:pw-SECRET@127.0.0.1:8000/v1?token=tok-SECRET")
    monkeypatch.setenv("HUIBAO_EMBEDDING_BASE_URL", "http://u:p-SECRET@127.0.0.1:8001/v1?key=k-SECRET")
    get_settings.cache_clear()
    result = CliRunner().invoke(app, ["config"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "SECRET" not in result.output
    assert "http://127.0.0.1:8000/v1" in result.output and "http://127.0.0.1:8001/v1" in result.output
