"""From a spec string ("local", "openai:MODEL", "anthropic:MODEL") to a model."""

import os
from collections.abc import Callable
from pathlib import Path

from django.conf import settings

from shipwith.panel.llm.base import LLMError, Model
from shipwith.panel.llm.discover import AUTO, model_auto_choose, model_setting

_factories: dict[str, Callable[[str], Model]] = {}


def register(prefix: str, factory: Callable[[str], Model]) -> None:
    """Make `prefix:MODEL` specs build models with `factory(MODEL)` (plugins, tests)."""
    _factories[prefix] = factory


def unregister(prefix: str) -> None:
    _factories.pop(prefix, None)


def default_model_spec() -> str:
    """The spec of the panel's default model: SHIPWITH_LLM, or the model `auto` found."""
    spec = model_setting()
    return model_auto_choose().spec if spec == AUTO else spec


def alternate_model_spec() -> str:
    """The model that takes a seat the default must leave ("" when none is set)."""
    return settings.SHIPWITH_LLM_ALTERNATE.strip()


def _gguf_file(spec: str, name: str) -> Path:
    # The model id recorded is the file actually loaded, so `local:NAME` must name a real file,
    # and one of the installed models: an editor's API token must not load any file it names.
    models_dir = Path(settings.SHIPWITH_LOCAL_MODELS_DIR)
    path = Path(os.path.normpath(models_dir / Path(name).expanduser()))  # a bare name: in it
    if path.suffix.lower() != ".gguf" or not path.is_file():
        raise LLMError(
            f"model spec {spec!r}: {name!r} is not a GGUF file; use 'local' for the bundled "
            "model or 'local:/path/to/model.gguf'"
        )
    if not _installed(path, models_dir):
        raise LLMError(
            f"model spec {spec!r}: {name!r} is not one of the installed models; put the GGUF "
            f"file (or a link to it) in {models_dir} (SHIPWITH_LOCAL_MODELS_DIR)"
        )
    return path


def _installed(path: Path, models_dir: Path) -> bool:
    """Is the file in the models folder (links placed there count) or the bundled package?"""
    from shipwith.panel.llm.embedded import gguf_path  # lazy: only local specs need it

    if path.is_relative_to(models_dir) or path.is_relative_to(models_dir.resolve()):
        return True
    try:
        bundled = gguf_path().parent.resolve()
    except LLMError:  # the `local` extra is not installed: no bundled model
        return False
    return path.resolve().is_relative_to(bundled)


def model_for(spec: str) -> Model:
    """Build the model a spec names; raise LLMError for a spec we cannot serve."""
    spec = (spec or default_model_spec()).strip()
    prefix, _, model_id = spec.partition(":")
    prefix = prefix.lower()
    if prefix in _factories:
        return _factories[prefix](model_id)
    if prefix == "local":
        from shipwith.panel.llm.embedded import EmbeddedModel  # lazy: llama.cpp's bindings

        return EmbeddedModel(path=_gguf_file(spec, model_id)) if model_id else EmbeddedModel()
    if not model_id:
        raise LLMError(f"model spec {spec!r} names no model: use e.g. 'openai:gpt-4o-mini'")
    if prefix == "openai":
        from shipwith.panel.llm.openai_compat import OpenAICompatibleModel  # lazy: its SDK

        return OpenAICompatibleModel(model_id, base_url=_served_at(spec))
    if prefix == "anthropic":
        from shipwith.panel.llm.anthropic_api import AnthropicModel  # lazy: an optional extra

        return AnthropicModel(model_id)
    if prefix == AUTO:
        raise LLMError("'auto' is for SHIPWITH_LLM only: leave the field empty to use it")
    raise LLMError(
        f"unknown model provider {prefix!r} in {spec!r}: use local, openai: or anthropic:"
    )


def _served_at(spec: str) -> str | None:
    """The server of the default model when it has one of its own; None: OPENAI_BASE_URL's.

    Only the default model's own spec goes there: a persona's or the alternate's openai: spec
    keeps the operator's OPENAI_BASE_URL.
    """
    configured = model_setting()
    if configured == AUTO:
        choice = model_auto_choose()
        return choice.base_url if spec == choice.spec else None
    if spec == configured:
        return settings.SHIPWITH_LLM_BASE_URL or None
    return None


def model_spec_validate(spec: str) -> None:
    """Refuse a spec no model can be built from, saying why (a validator for admin fields)."""
    from django.core.exceptions import ValidationError

    if not spec.strip():
        return
    try:
        model_for(spec)
    except LLMError as exc:
        raise ValidationError(str(exc)) from exc
