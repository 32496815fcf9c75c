"""The pages readers see; each view reads through selectors and renders one template."""

from django.conf import settings
from django.http import Http404, HttpResponsePermanentRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_safe

from shipwith.catalog.pairs import canonical, pair_slug
from shipwith.comparisons.pick import RULE
from shipwith.ingest.selectors import tools_new_this_week
from shipwith.panel.llm import LOW_CAPABILITY_NOTE
from shipwith.panel.models import is_low_capability
from shipwith.panel.selectors import panel_summary
from shipwith.web import selectors, seo
from shipwith.web.badges import badge_parts
from shipwith.web.caching import freshness_cached, page_depends, page_shows, render_page


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
    page = selectors.tool_page(slug)
    if page is None:
        raise Http404("No such tool")
    context = _common(page=page, tool=page.card.tool, jsonld=seo.tool_jsonld(page.card))
    return render_page(request, "web/tool.html", context)


@require_safe
@freshness_cached
def compare(request, pair: str):
    found = selectors.pair_tools(pair)
    if found is None:
        raise Http404("No such pair of tools")
    a, b = canonical(*found)
    if (a, b) != found:
        return HttpResponsePermanentRedirect(reverse("web:compare", args=[pair_slug(a, b)]))
    page_depends(request, a.pk, b.pk)
    page = selectors.comparison_page(a, b)
    jsonld = seo.comparison_jsonld(page, request.path)
    return render_page(request, "web/compare.html", _common(page=page, rule=RULE, jsonld=jsonld))


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
