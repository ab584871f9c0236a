"""`init_chat_model`: spec parsing and errors. No model is loaded: only types and settings."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from chainkit.models import ChatAnthropic, ChatLlamaCpp, ChatOpenAI, init_chat_model
from chainkit.models.llamacpp import bundled_model_path


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CHAINKIT_MODEL", "OPENAI_BASE_URL", "OPENAI_API_BASE", "ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


def test_default_is_the_local_model() -> None:
    model = init_chat_model()
    assert isinstance(model, ChatLlamaCpp)
    assert model.model_path is None and model.model_file == bundled_model_path().resolve()


@pytest.mark.parametrize("spec", ["local", "LOCAL", " local ", "llamacpp"])
def test_local_specs_pass_kwargs(spec: str) -> None:
    model = init_chat_model(spec, temperature=0, max_tokens=8, seed=3)
    assert isinstance(model, ChatLlamaCpp)
    assert (model.temperature, model.max_tokens, model.seed) == (0, 8, 3)


def test_llamacpp_spec_with_a_path() -> None:
    path = str(bundled_model_path())
    model = init_chat_model(f"llamacpp:{path}", n_ctx=512)
    assert isinstance(model, ChatLlamaCpp)
    assert model.model_path == path and model.n_ctx == 512


def test_llamacpp_spec_with_a_missing_file_names_it(tmp_path: Any) -> None:
    with pytest.raises(FileNotFoundError, match=r"missing\.gguf"):
        init_chat_model(f"llamacpp:{tmp_path / 'missing.gguf'}")


def test_env_var_picks_the_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHAINKIT_MODEL", "openai:gpt-4o-mini")
    model = init_chat_model(api_key="sk-test")
    assert isinstance(model, ChatOpenAI) and model.model_name == "gpt-4o-mini"
    monkeypatch.setenv("CHAINKIT_MODEL", "  ")
    assert isinstance(init_chat_model(), ChatLlamaCpp)
    monkeypatch.setenv("CHAINKIT_MODEL", "nope:x")
    with pytest.raises(ValueError, match=r"\(from \$CHAINKIT_MODEL\)"):
        init_chat_model()


def test_an_explicit_spec_wins_over_the_env_var(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHAINKIT_MODEL", "openai:gpt-4o-mini")
    assert isinstance(init_chat_model("local"), ChatLlamaCpp)


def test_openai_spec() -> None:
    model = init_chat_model("openai:gpt-4o-mini", api_key="sk-test", temperature=0)
    assert isinstance(model, ChatOpenAI)
    assert model.model_name == "gpt-4o-mini" and model.temperature == 0


@pytest.mark.parametrize(
    ("spec", "model_name", "url"),
    [
        ("openai:llama3@http://127.0.0.1:8080/v1", "llama3", "http://127.0.0.1:8080/v1"),
        ("openai: m @ http://u:p@host/v1", "m", "http://u:p@host/v1"),  # split at the first @
    ],
)
def test_openai_spec_with_a_base_url(spec: str, model_name: str, url: str) -> None:
    model = init_chat_model(spec, api_key="none")
    assert isinstance(model, ChatOpenAI)
    assert model.model_name == model_name and model.openai_api_base == url


def test_anthropic_spec() -> None:
    model = init_chat_model("anthropic:claude-3-5-haiku-latest", api_key="sk-ant-test")
    assert isinstance(model, ChatAnthropic) and model.model_name == "claude-3-5-haiku-latest"
    model = init_chat_model("anthropic:claude-x@http://127.0.0.1:9/v1", api_key="k")
    assert isinstance(model, ChatAnthropic) and model.anthropic_api_url == "http://127.0.0.1:9/v1"


@pytest.mark.parametrize("spec", ["nope", "gpt-4o", "hf:some/model", ""])
def test_unknown_provider_lists_the_valid_ones(spec: str) -> None:
    with pytest.raises(ValueError, match="valid providers: local, llamacpp, openai, anthropic"):
        init_chat_model(spec)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("openai", "needs a model name, e.g. 'openai:<model>'"),
        ("openai:", "needs a model name"),
        ("anthropic:@http://x", "needs a model name"),
        ("openai:gpt-4o@", "has '@' but no base URL"),
        ("local:tiny", "'local' takes no model"),
    ],
)
def test_malformed_specs(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        init_chat_model(spec)


def test_a_setting_given_twice_is_an_error() -> None:
    with pytest.raises(ValueError, match="model= was passed too"):
        init_chat_model("openai:a", model="b", api_key="k")
    with pytest.raises(ValueError, match="base_url= was passed too"):
        init_chat_model("openai:a@http://x/v1", base_url="http://y/v1", api_key="k")
    with pytest.raises(ValueError, match="model_path= was passed too"):
        init_chat_model(f"llamacpp:{bundled_model_path()}", model_path="other.gguf")


def test_spec_must_be_a_string() -> None:
    with pytest.raises(TypeError, match="spec must be a str, got int"):
        init_chat_model(42)  # type: ignore[arg-type]


def test_a_missing_provider_module_is_a_clear_import_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "chainkit.models.anthropic", None)
    with pytest.raises(ImportError, match=r"needs chainkit\.models\.anthropic\.ChatAnthropic"):
        init_chat_model("anthropic:claude-x", api_key="k")


def test_secrets_stay_out_of_errors() -> None:
    with pytest.raises(ValueError) as info:
        init_chat_model("nope:model", api_key="sk-secret-canary")
    assert "sk-secret-canary" not in str(info.value)


def test_constructing_loads_nothing() -> None:
    from chainkit.models import _llamacpp_engine

    before = len(_llamacpp_engine.cached_engines())
    init_chat_model("local", n_ctx=333)
    assert len(_llamacpp_engine.cached_engines()) == before
