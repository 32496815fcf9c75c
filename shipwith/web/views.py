"""The pages readers see; each view reads through selectors and renders one template."""

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponsePermanentRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_safe

from shipwith.catalog.pairs import canonical, pair_slug
from shipwith.comparisons.pick import RULE
from shipwith.comparisons.pricing import VolumeError, pricing_read, reader_workload
from shipwith.ingest.selectors import tools_new_this_week
from shipwith.panel.llm import LOW_CAPABILITY_NOTE
from shipwith.panel.models import is_low_capability
from shipwith.panel.selectors import panel_summary
from shipwith.web import facts, selectors, seo
from shipwith.web.badges import badge_parts
from shipwith.web.caching import (
    AGES_KEPT,
    freshness_cached,
    page_depends,
    page_expires,
    page_shows,
    render_page,
)

# A reader's own monthly volumes on a comparison: rendered for them alone, never cached.
VOLUMES = ("input", "output")


def _common(**context) -> dict:
    return {
        "base_url": settings.SHIPWITH_BASE_URL,
        "low_capability_note": LOW_CAPABILITY_NOTE,
        **context,
    }


@require_safe
@freshness_cached
def home(request):
    comparisons, shipped = selectors.latest_comparisons(), selectors.most_shipped()
    new_tools = tools_new_this_week()
    pairs = [(c.tool_a_id, c.tool_b_id) for c in comparisons]
    page_shows(
        request,
        *[card.tool.pk for card in shipped],
        *[pk for pair in pairs for pk in pair],
        *[tool.pk for tool in new_tools],
    )
    categories = selectors.categories_with_counts()
    context = _common(
        comparisons=comparisons, shipped=shipped, categories=categories, new_tools=new_tools
    )
    return render_page(request, "web/home.html", context)


@require_safe
@freshness_cached
def tool_detail(request, slug: str):
    tool_id = selectors.tool_id(slug)
    if tool_id is None:
        raise Http404("No such tool")
    page_depends(request, tool_id)
    page_expires(request, AGES_KEPT)
    page = selectors.tool_page(slug)
    if page is None:
        raise Http404("No such tool")
    context = _common(page=page, tool=page.card.tool, jsonld=seo.tool_jsonld(page.card))
    return render_page(request, "web/tool.html", context)


def _with_query(request: HttpRequest, path: str) -> str:
    return f"{path}?{request.GET.urlencode()}" if request.GET else path


@require_safe
@freshness_cached(uncached_when=VOLUMES)
def compare(request, pair: str):
    found = selectors.pair_tools(pair)
    if found is None:
        raise Http404("No such pair of tools")
    a, b = canonical(*found)
    if (a, b) != found:
        path = reverse("web:compare", args=[pair_slug(a, b)])
        return HttpResponsePermanentRedirect(_with_query(request, path))
    page_depends(request, a.pk, b.pk)
    page_expires(request, AGES_KEPT)
    page = selectors.comparison_page(a, b)
    jsonld = seo.comparison_jsonld(page, request.path)
    context = _common(page=page, rule=RULE, jsonld=jsonld, **_reader_volumes(request, page))
    status = 400 if context.get("volume_error") else 200
    return render_page(request, "web/compare.html", context, status=status)


def _reader_volumes(request: HttpRequest, page: selectors.ComparisonPage) -> dict:
    """The reader's own volumes priced (never cached: see VOLUMES), or why they cannot be."""
    if not page.pricing.applies or not any(name in request.GET for name in VOLUMES):
        return {}  # tokens mean nothing to two tools that are not models
    typed = {name: request.GET.get(name, "")[:40] for name in VOLUMES}
    try:
        workload = reader_workload(typed["input"], typed["output"])
    except VolumeError as exc:
        return {"volumes": typed, "volume_error": str(exc)}
    (read,) = pricing_read(page.pricing.a, page.pricing.b, [workload]).workloads
    return {"volumes": typed, "reader_read": read}


@require_safe
@freshness_cached
def category_detail(request, slug: str):
    found = selectors.category_page(slug, request.GET.get("page", 1))
    if found is None:
        raise Http404("No such category")
    category, listing, cards = found
    page_shows(request, *[card.tool.pk for card in cards])
    context = _common(category=category, listing=listing, cards=cards)
    return render_page(request, "web/category.html", context)


@require_safe
@freshness_cached
def category_facts(request, slug: str):
    try:
        table = facts.category_facts(
            slug, request.GET.get("sort", "")[:80], request.GET.get("page", 1)
        )
    except facts.SortError as exc:
        category = selectors.category_named(slug)
        if category is None:
            raise Http404("No such category") from None
        context = _common(category=category, sort_error=str(exc), table=None)
        return render_page(request, "web/category_facts.html", context, status=400)
    if table is None:
        raise Http404("No such category")
    page_shows(request, *[tool.pk for tool, _ in table.rows])
    page_expires(request, AGES_KEPT)
    context = _common(category=table.category, table=table)
    return render_page(request, "web/category_facts.html", context)


@require_safe
@freshness_cached
def search(request):
    # Control characters match nothing and PostgreSQL refuses NUL: drop them, never a 500.
    query = "".join(ch for ch in request.GET.get("q", "") if ch.isprintable()).strip()[:200]
    results = selectors.tools_search(query) if query else []
    page_shows(request, *[card.tool.pk for card in results])
    return render_page(request, "web/search.html", _common(query=query, results=results))


@require_safe
def methodology(request):
    # Not cached: it reads the live personas and the latest eval on every request.
    return render(
        request,
        "web/methodology.html",
        _common(
            personas=selectors.active_personas(),
            models=selectors.models_in_use(),
            default_model=settings.SHIPWITH_LLM,
            default_is_low_capability=is_low_capability(settings.SHIPWITH_LLM),
            alternate_model=settings.SHIPWITH_LLM_ALTERNATE,
            evaluation=selectors.latest_eval(settings.SHIPWITH_LLM),
            rule=RULE,
        ),
    )


@require_safe
@freshness_cached(max_age=300)
def badge(request, slug: str):
    tool_id = selectors.tool_id(slug)
    if tool_id is None:
        raise Http404("No such tool")
    page_depends(request, tool_id)
    parts = badge_parts(panel_summary(tool_id))
    return render(request, "web/badge.svg", parts, content_type="image/svg+xml; charset=utf-8")
