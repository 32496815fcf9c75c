"""The catalog tools nearest a candidate, with why dedupe did (or did not) take them."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from shipwith.catalog.models import Tool, Vendor
from shipwith.ingest.models import Candidate
from shipwith.ingest.nearest import tools_nearest

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog(categories) -> dict[str, Tool]:
    meta = Vendor.objects.create(name="Meta", slug="meta")
    models = categories["open-weight-models"]
    rows = [
        ("Llama 3.1 8B", "llama-3-1-8b", meta, {}),
        ("Llama 3.1 70B", "llama-3-1-70b", meta, {}),
        ("Llama 3.1 8B Vision", "llama-3-1-8b-vision", meta, {}),
        ("Lama 3.1 8B", "lama-3-1-8b", Vendor.objects.create(name="Lamaco", slug="lamaco"), {}),
        ("Qdrant", "qdrant", None, {"github_repo": "qdrant/qdrant"}),
        ("Weaviate", "weaviate", None, {}),
    ]
    return {
        slug: Tool.objects.create(name=name, slug=slug, vendor=vendor, category=models, **ids)
        for name, slug, vendor, ids in rows
    }


def reasons(nearest, slug: str) -> list[str]:
    return list(next(n for n in nearest if n.slug == slug).reasons)


def test_the_nearest_tools_come_by_name_with_the_rule_that_kept_each_apart(catalog):
    candidate = Candidate.objects.create(name="Llama 3.1 8B Instruct Turbo", vendor="Meta")
    nearest = tools_nearest(candidate, limit=4)
    assert [n.slug for n in nearest][:1] == ["llama-3-1-8b"]
    assert all(not n.matches for n in nearest)
    assert nearest[0].score >= 80 and nearest[0].score > nearest[-1].score
    assert reasons(nearest, "llama-3-1-8b")[0].endswith("below the 90% threshold")
    assert "no shared identifier" in reasons(nearest, "llama-3-1-8b")


def test_numbers_words_and_vendors_are_named(catalog):
    candidate = Candidate.objects.create(name="Llama 3.1 80B", vendor="Meta")
    assert (
        "different numbers (3.1 80 vs 3.1 70)"
        in reasons(tools_nearest(candidate), "llama-3-1-70b")[0]
    )
    candidate = Candidate.objects.create(name="Llama 3.1 8B Vision X", vendor="Meta")
    assert (
        'a whole word differs ("x")' in reasons(tools_nearest(candidate), "llama-3-1-8b-vision")[0]
    )
    candidate = Candidate.objects.create(name="Lama 3.1 8B", vendor="Meta")
    assert "different vendor (Meta vs Lamaco)" in reasons(tools_nearest(candidate), "lama-3-1-8b")


def test_a_tool_that_matches_now_or_shares_an_identifier_comes_first(catalog):
    candidate = Candidate.objects.create(name="Qdrant Vector DB", github_repo="qdrant/qdrant")
    [first, *_] = tools_nearest(candidate)
    assert first.slug == "qdrant" and first.matches
    assert first.reasons == ("matches now by github repo: the tool changed or arrived since",)
    other = Candidate.objects.create(name="Qdrant Cloud", github_repo="qdrant/cloud")
    assert "different GitHub repository (qdrant/cloud vs qdrant/qdrant)" in reasons(
        tools_nearest(other), "qdrant"
    )


def test_the_tool_it_is_matched_to_is_listed_as_such(catalog):
    candidate = Candidate.objects.create(name="Weaviate", tool=catalog["weaviate"])
    [first, *_] = tools_nearest(candidate)
    assert first.slug == "weaviate" and first.matches
    assert first.reasons == ("the catalog tool this candidate is matched to",)


def test_one_query_reads_the_catalog(catalog):
    candidate = Candidate.objects.create(name="Llama 3.1 8B Instruct Turbo", vendor="Meta")
    with CaptureQueriesContext(connection) as queries:
        tools_nearest(candidate)
    assert len(queries) == 1


def test_an_empty_catalog_or_a_name_without_letters_has_no_nearest_tool(db, categories):
    assert tools_nearest(Candidate.objects.create(name="Anything")) == []
    Tool.objects.create(name="Qdrant", slug="qdrant", category=categories["vector-databases"])
    assert tools_nearest(Candidate.objects.create(name="!!!")) == []
