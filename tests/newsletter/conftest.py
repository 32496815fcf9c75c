import asyncio
import datetime as dt
import email
import email.policy
import socket
import threading

import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone

from shipwith.catalog.models import Tool
from shipwith.comparisons.models import Comparison
from shipwith.newsletter.models import Subscriber
from shipwith.panel.models import Persona, Review
from tests import factories

BASE_URL = "https://shipwith.test"

# For `shipwith shell -c`: one week with a comparison and {count} confirmed readers; prints the
# composed issue's week.
SEED = """
import datetime as dt
from django.utils import timezone
from shipwith.catalog.models import Category, Tool
from shipwith.newsletter.models import Subscriber
from shipwith.newsletter.selectors import Week
from shipwith.comparisons.models import Comparison
from shipwith.newsletter.issues import issue_compose

week = Week.last_complete()
category = Category.objects.create(name="Inference servers", slug="inference-servers")
a = Tool.objects.create(name="vLLM", slug="vllm", category=category)
b = Tool.objects.create(name="TGI", slug="tgi", category=category)
Comparison.objects.create(tool_a=a, tool_b=b, published_at=week.start + dt.timedelta(days=1))
for n in range({count}):
    Subscriber.objects.create(email=f"reader{{n:02d}}@example.com", confirmed_at=timezone.now())
print(issue_compose(week=week).slug)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Recorder:
    """An aiosmtpd handler that keeps every accepted message and can refuse on cue."""

    def __init__(self):
        self.messages = []
        self.replies: dict[str, list[str]] = {}  # address -> RCPT replies to give, in order
        self.drop_during_data: set[str] = set()
        self.rcpt_attempts: dict[str, int] = {}
        self.sessions = 0
        self.lock = threading.Lock()

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        self.sessions += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.rcpt_attempts[address] = self.rcpt_attempts.get(address, 0) + 1
        queue = self.replies.get(address)
        reply = (queue.pop(0) if len(queue) > 1 else queue[0]) if queue else "250 OK"
        if not reply.startswith("2"):
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.drop_during_data.intersection(envelope.rcpt_tos):
            # Accept the body, then vanish before answering: the sender cannot know.
            with self.lock:
                self.messages.append(self._parse(envelope))
            server.transport.close()
            await asyncio.sleep(0)
            return "250 OK"
        with self.lock:
            self.messages.append(self._parse(envelope))
        return "250 OK"

    @staticmethod
    def _parse(envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        message.rcpt_tos = list(envelope.rcpt_tos)
        return message

    def to(self, address: str) -> list:
        return [m for m in self.messages if address in m.rcpt_tos]


@pytest.fixture(autouse=True)
def fresh_counters():
    """Sign-up rate counters and confirmation cooldowns start empty in every test."""
    from django.core.cache import caches

    for cache in caches.all(initialized_only=True):
        cache.clear()
    yield
    for cache in caches.all(initialized_only=True):
        cache.clear()


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server on loopback; Django's SMTP backend points at it."""
    recorder = Recorder()
    port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    settings.SHIPWITH_BASE_URL = BASE_URL
    settings.NEWSLETTER_RETRY_BASE_SECONDS = 0.01
    recorder.port = port
    yield recorder
    controller.stop()


def local_path(url: str) -> str:
    assert url.startswith(BASE_URL), url
    return url.removeprefix(BASE_URL)


@pytest.fixture
def week():
    from shipwith.newsletter.selectors import Week

    return Week.last_complete()


@pytest.fixture
def make_tool(db):
    def make(name: str, category: str = "Inference servers") -> Tool:
        slug = category.lower().replace(" ", "-")
        return factories.make_tool(
            name.lower().replace(" ", "-"),
            name=name,
            category=factories.make_category(slug, category),
            vendor=None,
            plain=True,
        )

    return make


@pytest.fixture
def make_comparison():
    def make(tool_a: Tool, tool_b: Tool, published_at: dt.datetime, read: str = "") -> Comparison:
        return Comparison.objects.create(
            tool_a=tool_a, tool_b=tool_b, published_at=published_at, moderator_read=read
        )

    return make


@pytest.fixture
def personas(db):
    """The four seats (the panel's migration may already have created them)."""
    keys = ["builder", "skeptic", "futurist", "operator"]
    Persona.objects.exclude(key__in=keys).update(active=False)
    found = []
    for position, key in enumerate(keys):
        persona, _ = Persona.objects.update_or_create(
            key=key,
            defaults={
                "name": key.title(),
                "position": position,
                "active": True,
                "lens": "x",
                "priorities": "x",
                "deal_breakers": "x",
                "voice": "x",
            },
        )
        found.append(persona)
    return found


@pytest.fixture
def make_review():
    def make(tool, persona, verdict, *, previous="", version=1, at=None) -> Review:
        Review.objects.filter(tool=tool, persona=persona, is_current=True).update(is_current=False)
        review = Review.objects.create(
            tool=tool,
            persona=persona,
            version=version,
            verdict=verdict,
            take="A take.",
            confidence=3,
            previous_verdict=previous,
            prompt_version=1,
            model_id="test",
            provider="test",
        )
        if at is not None:
            Review.objects.filter(pk=review.pk).update(created_at=at)
            review.refresh_from_db()
        return review

    return make


@pytest.fixture
def make_subscriber(db):
    def make(email: str, categories=()) -> Subscriber:
        subscriber = Subscriber.objects.create(email=email, confirmed_at=timezone.now())
        subscriber.categories.set(categories)
        return subscriber

    return make


@pytest.fixture
def digest_week(week, make_tool, make_comparison, personas, make_review):
    """A week with two comparisons in two categories and one verdict change."""
    vllm, tgi = make_tool("vLLM"), make_tool("TGI")
    chroma, qdrant = (
        make_tool("Chroma", "Vector databases"),
        make_tool("Qdrant", "Vector databases"),
    )
    for persona in personas:
        make_review(vllm, persona, "ship")
        make_review(tgi, persona, "skip")
        # Digests carry comparisons whose two panels are complete.
        make_review(chroma, persona, "ship")
        make_review(qdrant, persona, "ship")
    make_comparison(vllm, tgi, week.start + dt.timedelta(days=2), read="vLLM wins on <throughput>.")
    make_comparison(chroma, qdrant, week.start + dt.timedelta(days=5), read="Qdrant for scale.")
    make_review(
        qdrant,
        personas[1],
        "skip",
        previous="ship",
        version=2,
        at=week.start + dt.timedelta(days=3),
    )
    return week
