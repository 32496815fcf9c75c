"""Render the digest: subject, plain text and HTML with inlined CSS, and the email around it."""

import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import css_inline
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from shipwith.newsletter.selectors import items_for

# Stands in for the reader's own unsubscribe URL, so one render serves every reader who picked
# the same categories; it is made of characters no template or inliner ever escapes.
UNSUBSCRIBE_PLACEHOLDER = "https://unsubscribe.invalid/PLACEHOLDER"
LIST_NAME = "Weekly AI tool verdicts"

_inliner = css_inline.CSSInliner(keep_style_tags=False)


@dataclass(frozen=True)
class Digest:
    subject: str
    text: str
    html: str
    item_count: int

    def personal(self, unsubscribe_url: str) -> tuple[str, str]:
        """Return (text, html) with this reader's unsubscribe link."""
        return (
            self.text.replace(UNSUBSCRIBE_PLACEHOLDER, unsubscribe_url),
            self.html.replace(UNSUBSCRIBE_PLACEHOLDER, unsubscribe_url),
        )


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def digest_render(
    *, items: list[dict], week_slug: str, category_slugs: frozenset[str], category_names=()
) -> Digest:
    """Render the digest for one set of category preferences (placeholder unsubscribe link)."""
    chosen = items_for(items, category_slugs)
    comparisons = [item for item in chosen if item["kind"] == "comparison"]
    flips = [item for item in chosen if item["kind"] == "flip"]
    parts = []
    if comparisons:
        parts.append(_plural(len(comparisons), "new comparison"))
    if flips:
        parts.append(_plural(len(flips), "verdict change"))
    headline = ", ".join(parts) or "A quiet week: nothing new in your categories"
    year, number = week_slug.split("-w")
    context = {
        "subject": f"{LIST_NAME}, week {int(number)}: {headline}",
        "headline": headline,
        "week_label": f"week {int(number)}, {year}",
        "comparisons": comparisons,
        "flips": flips,
        "category_names": sorted(category_names),
        "base_url": settings.SHIPWITH_BASE_URL,
        "issue_path": reverse("newsletter:issue", args=[week_slug]),
        "unsubscribe_url": UNSUBSCRIBE_PLACEHOLDER,
    }
    html = _inliner.inline(render_to_string("newsletter/email/digest.html", context))
    text = render_to_string("newsletter/email/digest.txt", context)
    return Digest(context["subject"], text, html, len(chosen))


class DigestCache:
    """Render once per distinct set of category preferences within one send."""

    def __init__(self, *, items: list[dict], week_slug: str) -> None:
        self.items = items
        self.week_slug = week_slug
        self._digests: dict[frozenset[str], Digest] = {}

    def get(self, category_slugs: frozenset[str], category_names=()) -> Digest:
        digest = self._digests.get(category_slugs)
        if digest is None:
            digest = digest_render(
                items=self.items,
                week_slug=self.week_slug,
                category_slugs=category_slugs,
                category_names=category_names,
            )
            # Preferences are few in practice; a pathological spread must not grow memory.
            if len(self._digests) < 512:
                self._digests[category_slugs] = digest
        return digest


def _list_domain() -> str:
    return urlsplit(settings.SHIPWITH_BASE_URL).hostname or socket.getfqdn()


def digest_message(
    *, digest: Digest, to: str, unsubscribe_url: str, message_key: str, connection=None
) -> EmailMultiAlternatives:
    """Build one reader's email with RFC 8058 one-click unsubscribe headers."""
    text, html = digest.personal(unsubscribe_url)
    domain = _list_domain()
    message = EmailMultiAlternatives(
        subject=digest.subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        connection=connection,
        headers={
            "List-Unsubscribe": f"<{unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "List-Id": f"{LIST_NAME} <verdicts.{domain}>",
            "Precedence": "bulk",
            # Stable per delivery, so a message can be traced from the mail log to its row.
            "Message-ID": f"<{message_key}@{domain}>",
        },
    )
    message.attach_alternative(html, "text/html")
    return message
