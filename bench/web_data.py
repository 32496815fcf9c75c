"""Build a large catalog for the web benchmarks: N tools, four personas, four reviews each."""

import random
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from shipwith.catalog.models import Category, PaidTier, Source, Tool, Vendor
from shipwith.panel.models import Persona, Review

WORDS = (
    "serving inference vector agent model open weights fast cheap hosted cloud local gpu cpu "
    "quantised batching retrieval embeddings evals tracing prompt cache context tokens latency "
    "throughput rust python typescript kubernetes streaming tools function calling multimodal"
).split()
PERSONAS = ["builder", "skeptic", "futurist", "operator"]


def populate(tools: int, *, categories: int = 8, seed: int = 7) -> list[Tool]:
    """Create `tools` tools with a complete current panel each (4 × tools reviews)."""
    rng = random.Random(seed)
    with transaction.atomic():
        cats = [
            Category.objects.create(name=f"Category {n}", slug=f"category-{n}")
            for n in range(categories)
        ]
        vendor = Vendor.objects.create(name="Bench Vendor", slug="bench-vendor")
        personas = [
            Persona.objects.get_or_create(
                key=key,
                defaults={
                    "name": key.title(),
                    "position": n,
                    "lens": f"The {key}'s lens.",
                    "priorities": "One\nTwo",
                    "deal_breakers": "Three",
                    "voice": "Plain.",
                },
            )[0]
            for n, key in enumerate(PERSONAS)
        ]
        made = Tool.objects.bulk_create(
            [
                Tool(
                    name=f"Tool {n}",
                    slug=f"tool-{n:05d}",
                    vendor=vendor,
                    category=cats[n % categories],
                    tagline=" ".join(rng.sample(WORDS, 6)),
                    description=" ".join(rng.choices(WORDS, k=60)),
                    licence="Apache-2.0",
                    licence_kind="open_source",
                    deployment=rng.choice(["self_hosted", "api", "both"]),
                    price_kind="amount",
                    price_amount=rng.choice([0, 10, 20, 49]),
                    price_period="month",
                )
                for n in range(tools)
            ],
            batch_size=2000,
        )
        made = list(Tool.objects.order_by("pk"))
        PaidTier.objects.bulk_create(
            [PaidTier(tool=t, name="Team", amount=40, period="month") for t in made],
            batch_size=2000,
        )
        Source.objects.bulk_create(
            [Source(tool=t, url="https://example.com/", title="Docs") for t in made],
            batch_size=2000,
        )
        now = timezone.now()
        take = " ".join(rng.choices(WORDS, k=120))
        Review.objects.bulk_create(
            [
                Review(
                    tool=t,
                    persona=p,
                    version=1,
                    is_current=True,
                    verdict=rng.choice(["ship", "ship", "skip"]),
                    take=take,
                    confidence=70,
                    prompt_version=1,
                    model_id="gpt-4o-mini",
                    provider="openai",
                    created_at=now - timedelta(minutes=n),
                )
                for n, t in enumerate(made)
                for p in personas
            ],
            batch_size=4000,
        )
    return made
