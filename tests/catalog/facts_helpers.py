"""Tools to record facts on, and the moments the tests read sources at."""

import datetime as dt

from django.utils import timezone

from shipwith.catalog.models import Category, Tool

OPENAI = "https://openai.com/api/pricing/"
OPENROUTER = "https://openrouter.ai/openai/gpt-4o"


def make_tool(slug: str = "gpt-4o", category: str = "hosted-models") -> Tool:
    category, _ = Category.objects.get_or_create(slug=category, defaults={"name": category})
    return Tool.objects.create(name=slug, slug=slug, category=category)


def days_ago(days: float) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=days)
