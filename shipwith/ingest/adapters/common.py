"""What every adapter does alike: read a JSON body, and turn one record at a time into an Item."""

import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

from pydantic import ValidationError

from shipwith.ingest.adapters.base import Adapter, SourceFormatError
from shipwith.ingest.fetch import Fetched
from shipwith.ingest.items import Item, ItemProblem

logger = logging.getLogger(__name__)


def json_body(fetched: Fetched) -> Any:
    """The parsed body, or SourceFormatError saying where the JSON breaks."""
    try:
        return json.loads(fetched.body)
    except UnicodeDecodeError as exc:
        raise SourceFormatError(f"{fetched.url}: body is not UTF-8 JSON ({exc.reason})") from None
    except json.JSONDecodeError as exc:
        raise SourceFormatError(
            f"{fetched.url}: malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    except RecursionError:
        raise SourceFormatError(f"{fetched.url}: JSON nested too deeply to read") from None


def json_records(
    adapter: Adapter, *, field: str | None, keys: tuple[str, ...], build: Callable[..., Item | None]
) -> Iterator[Item | ItemProblem]:
    """Fetch the adapter's JSON listing and yield `build(record, fetched)` for each record.

    The records are the list at `field` of the body (the body itself when None). A listing
    answered 304 yields nothing; a record that `build` cannot read is an ItemProblem.
    """
    fetched = adapter.fetcher.get(adapter.url, expect="json")
    if fetched.not_modified:
        return
    document = json_body(fetched)
    if field is not None:
        document = document.get(field) if isinstance(document, dict) else None
    if not isinstance(document, list):
        where = f'a "{field}" list' if field else "a JSON list"
        raise SourceFormatError(f"{adapter.url}: expected {where}")
    for index, record in enumerate(document):
        yield from guarded(
            record_key(record, *keys, index=index),
            lambda record=record: build(record_dict(record), fetched),
        )


# What a record that breaks its source's documented format raises; anything else is a bug the
# record tripped, logged with its traceback.
RECORD_ERRORS = (ValueError, TypeError, KeyError, AttributeError)


def problem_message(exc: Exception) -> str:
    if not isinstance(exc, RECORD_ERRORS):
        return f"{type(exc).__name__}: {exc}"
    if isinstance(exc, ValidationError):
        return "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'item'}: {error['msg']}"
            for error in exc.errors()
        )
    if isinstance(exc, KeyError):
        return f"missing field {exc.args[0]!r}"
    return str(exc)


def guarded(key: str, build: Callable[[], Item | None]) -> Iterator[Item | ItemProblem]:
    """Yield the Item `build` makes, or an ItemProblem naming `key` when its record is bad.

    Whatever one record raises stays with it (RecursionError, ArithmeticError included): an
    exception escaping here would end the adapter's generator and lose every record after it.
    """
    try:
        item = build()
    except Exception as exc:  # noqa: BLE001 - one record never stops its source
        if not isinstance(exc, RECORD_ERRORS):
            logger.warning("record %r could not be read", key, exc_info=True)
        yield ItemProblem(key=key, message=problem_message(exc))
        return
    if item is not None:
        yield item


def record_key(record: Any, *fields: str, index: int) -> str:
    """The record's own id for error messages, else its position ("#3")."""
    if isinstance(record, dict):
        for field in fields:
            value = record.get(field)
            if isinstance(value, str | int) and not isinstance(value, bool) and str(value):
                return str(value)[:200]  # a hostile id must not flood the error report
    return f"#{index}"


def record_dict(record: Any) -> dict:
    if not isinstance(record, dict):
        raise ValueError(f"{type(record).__name__} where an object was expected")
    return record


def required_text(record: dict, field: str) -> str:
    value = record.get(field)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{field} {value!r} is missing or not text")
    return value.strip()


class OptionError(SourceFormatError, ValueError):
    """A source row's option that cannot be read (the CLI gives options as strings)."""


# -- options from the source row (strings from the CLI, or JSON values from the admin) -----


def option_int(options: dict[str, Any], name: str, default: int) -> int:
    value = options.get(name, default)
    if isinstance(value, str):
        value = value.strip()
        if not value.isdigit():
            raise OptionError(f"option {name}={value!r} is not a whole number")
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise OptionError(f"option {name}={value!r} is not a whole number")
    return value


def option_list(options: dict[str, Any], name: str, default: list[str]) -> list[str]:
    """A comma-separated string ("text-generation,image-text-to-text") or a list of strings."""
    value = options.get(name, default)
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, list) and all(isinstance(part, str) for part in value):
        return [part.strip() for part in value if part.strip()]
    raise OptionError(f"option {name}={value!r} is not a comma-separated list")


def option_bool(options: dict[str, Any], name: str, default: bool) -> bool:
    value = options.get(name, default)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"1", "true", "yes", "on"}:
        return True
    if isinstance(value, str) and value.strip().lower() in {"0", "false", "no", "off", ""}:
        return False
    raise OptionError(f"option {name}={value!r} is not yes or no")


def option_text(options: dict[str, Any], name: str, default: str = "") -> str:
    value = options.get(name, default)
    if not isinstance(value, str):
        raise OptionError(f"option {name}={value!r} is not text")
    return value.strip()


def options_check(options: dict[str, Any], known: set[str], kind: str) -> None:
    """Refuse options the kind does not read: a typo must not silently do nothing."""
    unknown = sorted(set(options) - known)
    if unknown:
        raise OptionError(
            f"{kind} sources have no option {', '.join(unknown)} "
            f"(known: {', '.join(sorted(known)) or 'none'})"
        )
