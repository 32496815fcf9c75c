"""Render the digest: subject, plain text and HTML with inlined CSS, and the email around it."""

import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import css_inline
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from shipwith.newsletter.selectors import digest_sections, items_for

# Stand-ins for what differs per reader, so one render (and one MIME serialisation) serves
# every reader who picked the same categories; made of characters nothing ever escapes.
UNSUBSCRIBE_PLACEHOLDER = "https://unsubscribe.invalid/PLACEHOLDER"
TO_PLACEHOLDER = "to-placeholder@recipient.invalid"
KEY_PLACEHOLDER = "message-key-placeholder"
LIST_NAME = "Weekly AI tool verdicts"

_inliner = css_inline.CSSInliner(keep_style_tags=False)


@dataclass
class Digest:
    subject: str
    text: str
    html: str
    item_count: int
    raw: bytes | None = None  # the whole email with placeholders, when substitution is safe

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
    sections = digest_sections(chosen)
    comparisons, flips = sections["comparisons"], sections["flips"]
    parts = []
    if sections["new_tools"]:
        parts.append(_plural(len(sections["new_tools"]), "new tool"))
    if comparisons:
        parts.append(_plural(len(comparisons), "new comparison"))
    if flips:
        parts.append(_plural(len(flips), "verdict change"))
    if sections["more"] and not comparisons:
        parts.append(_plural(sections["more"][0]["count"], "comparison") + " on the site")
    headline = ", ".join(parts) or "A quiet week: nothing new in your categories"
    year, number = week_slug.split("-w")
    context = {
        "subject": f"{LIST_NAME}, week {int(number)}: {headline}",
        "headline": headline,
        "week_label": f"week {int(number)}, {year}",
        **sections,
        "category_names": sorted(category_names),
        "base_url": settings.SHIPWITH_BASE_URL,
        "issue_path": reverse("newsletter:issue", args=[week_slug]),
        "unsubscribe_url": UNSUBSCRIBE_PLACEHOLDER,
    }
    html = _inliner.inline(render_to_string("newsletter/email/digest.html", context))
    text = render_to_string("newsletter/email/digest.txt", context)
    digest = Digest(context["subject"], text, html, len(chosen))
    digest.raw = _serialised(digest)
    return digest


def _serialised(digest: Digest) -> bytes | None:
    """Serialise the email once with placeholders; None if a placeholder did not survive intact.

    Building MIME headers costs more than rendering: serialising once per preference set and
    substituting three byte strings per reader is what keeps a large send fast.
    """
    message = digest_message(
        digest=digest,
        to=TO_PLACEHOLDER,
        unsubscribe_url=UNSUBSCRIBE_PLACEHOLDER,
        message_key=KEY_PLACEHOLDER,
        prebuilt=False,
    )
    raw = message.message().as_bytes(linesep="\r\n")
    expected = (
        1 + digest.text.count(UNSUBSCRIBE_PLACEHOLDER) + digest.html.count(UNSUBSCRIBE_PLACEHOLDER)
    )
    # Folding or quoted-printable could split a placeholder: then build each email in full.
    intact = (
        raw.count(UNSUBSCRIBE_PLACEHOLDER.encode()) == expected
        and raw.count(TO_PLACEHOLDER.encode()) == 1
        and raw.count(KEY_PLACEHOLDER.encode()) == 1
    )
    return raw if intact else None


class DigestEmail(EmailMultiAlternatives):
    """A digest email that may carry its serialised form, ready for an SMTP backend.

    Backends that build their own payload (anymail) read subject, body and alternatives as
    usual; Django's SMTP backend asks for message().as_bytes() and gets the prebuilt bytes.
    """

    raw: bytes | None = None

    def message(self):
        if self.raw is None:
            return super().message()
        return _Raw(self.raw)


class _Raw:
    def __init__(self, raw: bytes) -> None:
        self.raw = raw

    def as_bytes(self, unixfrom: bool = False, linesep: str = "\n") -> bytes:
        return self.raw if linesep == "\r\n" else self.raw.replace(b"\r\n", linesep.encode())

    def as_string(self, unixfrom: bool = False, linesep: str = "\n") -> str:
        return self.as_bytes(linesep=linesep).decode()


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
    *,
    digest: Digest,
    to: str,
    unsubscribe_url: str,
    message_key: str,
    connection=None,
    prebuilt: bool = True,
) -> DigestEmail:
    """Build one reader's email with RFC 8058 one-click unsubscribe headers."""
    text, html = digest.personal(unsubscribe_url)
    domain = _list_domain()
    message = DigestEmail(
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
    if prebuilt and digest.raw is not None and to.isascii() and "\n" not in to:
        message.raw = (
            digest.raw.replace(TO_PLACEHOLDER.encode(), to.encode())
            .replace(UNSUBSCRIBE_PLACEHOLDER.encode(), unsubscribe_url.encode())
            .replace(KEY_PLACEHOLDER.encode(), message_key.encode())
        )
    return message
