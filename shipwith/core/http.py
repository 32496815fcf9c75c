"""Small HTTP helpers shared by every outgoing client (the panel's LLM layer, ingest)."""

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


def retry_after_seconds(headers) -> float | None:
    """Read Retry-After (seconds or an HTTP date) or retry-after-ms from response headers."""
    if headers is None:
        return None
    if value := headers.get("retry-after-ms"):
        try:
            return float(value) / 1000
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return None
