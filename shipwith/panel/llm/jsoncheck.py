"""Check a model's JSON against the subset of JSON Schema our prompts use."""

import json
import re

_TYPES = {
    "object": dict,
    "array": list,
    "string": str,
    "integer": int,
    "number": (int, float),
    "boolean": bool,
}
_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$")


def parse_and_check(output: str | dict, schema: dict) -> tuple[dict | None, str | None]:
    """Return (data, None) when the output is a JSON object that fits, else (None, problem)."""
    if isinstance(output, str):
        text = _FENCE.sub("", output.strip())
        try:
            output = json.loads(text, strict=False)  # raw newlines in strings: harmless
        except ValueError as exc:
            return None, f"not valid JSON ({exc.msg} at character {exc.pos})"
    problems = list(_problems(output, schema, "$"))
    if problems:
        return None, "; ".join(problems[:5])
    return output, None


def _is_type(value, kind: str) -> bool:
    if isinstance(value, bool):
        return kind == "boolean"
    return isinstance(value, _TYPES.get(kind, object))


def _problems(value, schema: dict, path: str):
    kind = schema.get("type")
    if kind and not _is_type(value, kind):
        yield f"{path} should be {kind}"
        return
    if "enum" in schema and value not in schema["enum"]:
        yield f"{path} should be one of {schema['enum']}, not {value!r}"
    # "x-length-hint": the lengths steer generation (a grammar) but the caller's own rule, such
    # as a word count, decides what is valid.
    if isinstance(value, str) and not schema.get("x-length-hint"):
        if len(value) < schema.get("minLength", 0):
            yield f"{path} is shorter than {schema['minLength']} characters"
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            yield f"{path} is longer than {schema['maxLength']} characters"
    if isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            yield f"{path} is below {schema['minimum']}"
        if "maximum" in schema and value > schema["maximum"]:
            yield f"{path} is above {schema['maximum']}"
    if isinstance(value, list):
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            yield f"{path} has more than {schema['maxItems']} items"
        for index, item in enumerate(value):
            yield from _problems(item, schema.get("items", {}), f"{path}[{index}]")
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        for name in schema.get("required", []):
            if name not in value:
                yield f"{path}.{name} is missing"
        for name, item in value.items():
            if name in properties:
                yield from _problems(item, properties[name], f"{path}.{name}")
