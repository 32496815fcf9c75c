"""Newsletter pages: sign-up, confirm, unsubscribe, archive and previews."""

from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from shipwith.catalog.models import Category
from shipwith.core.client import client_ip
from shipwith.core.csrf import fetch_metadata_protect
from shipwith.core.limits import limit_exceeded
from shipwith.core.rates import rate_setting
from shipwith.newsletter import links, tasks
from shipwith.newsletter.digest import digest_render
from shipwith.newsletter.forms import SubscribeForm
from shipwith.newsletter.models import Issue
from shipwith.newsletter.selectors import Week, digest_sections, items_for, week_items
from shipwith.newsletter.subscribers import subscriber_unsubscribe, subscription_confirm

# The email preview is a document of its own: inline styles are what an email is made of.
EMAIL_PREVIEW_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
)


# Sign-up and confirm sit on shared, cached pages: Fetch Metadata rather than a per-reader token.
@fetch_metadata_protect
@require_http_methods(["GET", "POST"])
def signup(request):
    form = SubscribeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        # Each sign-up mails a stranger's address: cap how many one client can trigger.
        rate = rate_setting("NEWSLETTER_SIGNUP_RATE")
        if wait := limit_exceeded(f"newsletter-signup:{client_ip(request)}", rate):
            response = render(request, "newsletter/signup.html", {"form": form, "busy": True})
            response.status_code = 429
            response["Retry-After"] = str(wait)
            return response
        email = form.cleaned_data["email"]
        category_ids = [category.pk for category in form.cleaned_data["categories"]]
        # Same work for every address, known or not: the response reveals nothing.
        tasks.confirmation_enqueue(email=email, category_ids=category_ids)
        return redirect("newsletter:check_inbox")
    status = 400 if form.errors else 200
    return render(request, "newsletter/signup.html", {"form": form}, status=status)


def check_inbox(request):
    return render(request, "newsletter/check_inbox.html")


@fetch_metadata_protect
@require_http_methods(["GET", "POST"])
def confirm(request, token: str):
    link = links.confirm_token_read(token)
    if link is None:
        return render(request, "newsletter/link_invalid.html", status=400)
    email, category_ids, issued_at = link
    categories = Category.objects.filter(pk__in=category_ids).order_by("name")
    if request.method == "POST":
        subscriber = subscription_confirm(
            email=email, category_ids=category_ids, issued_at=issued_at
        )
        if subscriber is None:
            return render(request, "newsletter/link_used.html", status=410)
        context = {
            "email": email,
            "categories": categories,
            "unsubscribe_url": links.unsubscribe_url(subscriber.pk),
        }
        return render(request, "newsletter/confirmed.html", context)
    return render(request, "newsletter/confirm.html", {"email": email, "categories": categories})


# RFC 8058: mail providers POST here without a CSRF token; the signed URL is the credential.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token: str):
    subscriber_id = links.unsubscribe_token_read(token)
    if subscriber_id is None:
        return render(request, "newsletter/link_invalid.html", status=400)
    if request.method == "POST":
        subscriber_unsubscribe(subscriber_id=subscriber_id)
        return render(request, "newsletter/unsubscribed.html")
    return render(request, "newsletter/unsubscribe.html")


def archive(request):
    issues = Issue.objects.filter(send_started_at__isnull=False)
    return render(request, "newsletter/archive.html", {"issues": issues})


def issue_detail(request, slug: str):
    issue = get_object_or_404(Issue, slug=slug, send_started_at__isnull=False)
    return render(request, "newsletter/issue.html", _issue_context(issue.items, issue.slug))


def _issue_context(items: list[dict], slug: str) -> dict:
    return {"slug": slug, **digest_sections(items)}


def _preview_source(request) -> tuple[list[dict], str, frozenset[str]]:
    """Items, week slug and category filter a preview request asks for."""
    try:
        week = Week.parse(request.GET["week"]) if request.GET.get("week") else None
    except ValueError:
        week = None
    week = week or Week.containing(timezone.now())
    issue = Issue.objects.filter(slug=week.slug).first()
    items = issue.items if issue else week_items(week)
    return items, week.slug, frozenset(request.GET.getlist("category"))


@staff_member_required
def preview(request):
    """Show this week's digest (or ?week=2026-w47) as a reader will get it."""
    items, slug, chosen = _preview_source(request)
    context = {
        "slug": slug,
        "count": len(items_for(items, chosen)),
        "query": request.GET.urlencode(),
        "categories": Category.objects.order_by("name"),
        "chosen": chosen,
    }
    return render(request, "newsletter/preview.html", context)


@staff_member_required
@xframe_options_sameorigin
def preview_email(request, part: str):
    if part not in ("html", "txt"):
        raise Http404
    items, slug, chosen = _preview_source(request)
    names = Category.objects.filter(slug__in=chosen).values_list("name", flat=True)
    digest = digest_render(items=items, week_slug=slug, category_slugs=chosen, category_names=names)
    text, html = digest.personal(links.absolute("/newsletter/unsubscribe/preview/"))
    if part == "txt":
        return HttpResponse(text, content_type="text/plain; charset=utf-8")
    response = HttpResponse(html)
    response["Content-Security-Policy"] = EMAIL_PREVIEW_CSP
    return response
