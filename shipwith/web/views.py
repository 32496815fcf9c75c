"""Minimal pages until the site issue lands."""

from django.shortcuts import get_object_or_404, render

from shipwith.catalog.models import Category, Tool


def home(request):
    return render(request, "web/home.html", {"categories": Category.objects.all()})


def tool_detail(request, slug: str):
    tool = get_object_or_404(Tool.objects.with_relations(), slug=slug)
    return render(request, "web/tool.html", {"tool": tool})


def category_detail(request, slug: str):
    category = get_object_or_404(Category, slug=slug)
    return render(
        request, "web/category.html", {"category": category, "tools": category.tools.all()}
    )
