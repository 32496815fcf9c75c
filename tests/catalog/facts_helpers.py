"""Tools to record facts on, and the moments the tests read sources at."""

import datetime as dt

from django.utils import timezone

from shipwith.catalog.models import Tool
from tests import factories

OPENAI = "https://openai.com/api/pricing/"
OPENROUTER = "https://openrouter.ai/openai/gpt-4o"


def make_tool(slug: str = "gpt-4o", category: str = "hosted-models") -> Tool:
    return factories.make_tool(
        slug,
        name=slug,
        category=factories.make_category(category, category),
        vendor=None,
        plain=True,
    )


def days_ago(days: float) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=days)
