"""A model never judges its own vendor's tool: pick the model for a seat, or say why none."""

from dataclasses import dataclass

from shipwith.panel.llm import LLMError, Model, model_for
from shipwith.panel.llm.registry import alternate_model_spec

FIX = (
    "set SHIPWITH_LLM_ALTERNATE to a model of another family (or the persona's alternate model "
    "in the admin), then run `shipwith review --incomplete`"
)


@dataclass
class ModelChoice:
    """The model that takes a seat; or none, with the reason it stays recused."""

    model: Model | None
    spec: str
    alternate_for: str = ""  # set when the alternate writes: who had to leave, and why
    recused: str = ""


def _build(spec: str, models: dict) -> Model:
    if spec not in models:
        try:
            models[spec] = model_for(spec)
        except LLMError as exc:
            models[spec] = exc
    if isinstance(models[spec], LLMError):
        raise models[spec]
    return models[spec]


def _conflict(model: Model, vendors: dict[str, str]) -> str:
    """The name of the judged vendor that made this model, or ""."""
    return vendors.get(model.vendor, "") if model.vendor else ""


def model_choose(
    *, spec: str, alternate: str = "", vendors: dict[str, str], models: dict | None = None
) -> ModelChoice:
    """Choose between `spec` and the alternate for judging tools of `vendors` (slug → name).

    `alternate` is the persona's own; empty falls back to SHIPWITH_LLM_ALTERNATE. Raise LLMError
    when `spec` itself cannot be built; `models` caches built models by spec.
    """
    models = {} if models is None else models
    model = _build(spec, models)
    vendor = _conflict(model, vendors)
    if not vendor:
        return ModelChoice(model=model, spec=spec)
    why = f"{spec} is made by {vendor}"
    alternate = (alternate or alternate_model_spec()).strip()
    if not alternate:
        return ModelChoice(model=None, spec=spec, recused=f"{why} and no alternate model is set")
    try:
        substitute = _build(alternate, models)
    except LLMError as exc:
        return ModelChoice(
            model=None, spec=spec, recused=f"{why} and the alternate {alternate} fails: {exc}"
        )
    if other := _conflict(substitute, vendors):
        return ModelChoice(
            model=None,
            spec=spec,
            recused=f"{why} and the alternate {alternate} is made by {other} too",
        )
    return ModelChoice(model=substitute, spec=alternate, alternate_for=why)
