from django.contrib.sitemaps.views import sitemap
from django.urls import path

from shipwith.web import views
from shipwith.web.caching import freshness_cached
from shipwith.web.feeds import ComparisonsFeed, VerdictsFeed
from shipwith.web.sitemaps import SITEMAPS, sitemap_index

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("tools/<slug:slug>/", views.tool_detail, name="tool"),
    path("tools/<slug:slug>/badge.svg", views.badge, name="badge"),
    path("compare/<str:pair>/", views.compare, name="compare"),
    path("categories/<slug:slug>/", views.category_detail, name="category"),
    path("categories/<slug:slug>/facts/", views.category_facts, name="category-facts"),
    path("search/", views.search, name="search"),
    path("methodology/", views.methodology, name="methodology"),
    path("feeds/comparisons.atom", freshness_cached(ComparisonsFeed()), name="feed-comparisons"),
    path("feeds/verdicts.atom", freshness_cached(VerdictsFeed()), name="feed-verdicts"),
    path("sitemap.xml", freshness_cached(sitemap_index), name="sitemap"),
    path(
        "sitemap-<section>.xml",
        freshness_cached(sitemap),
        {"sitemaps": SITEMAPS},
        name="sitemap-section",
    ),
]
