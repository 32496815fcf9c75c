from django.contrib import admin
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from shipwith.newsletter.issues import issue_counts
from shipwith.newsletter.models import Delivery, Issue, Subscriber


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
    list_display = ["email", "status", "confirmed_at", "unsubscribed_at", "bounced_at"]
    list_filter = ["status", "categories"]
    search_fields = ["email"]
    filter_horizontal = ["categories"]
    readonly_fields = ["email", "confirmed_at", "unsubscribed_at", "bounced_at", "bounce_reason"]
    date_hierarchy = "confirmed_at"

    def has_add_permission(self, request) -> bool:
        return False  # double opt-in: an address joins only by clicking its confirmation link


@admin.register(Issue)
class IssueAdmin(admin.ModelAdmin):
    list_display = ["slug", "week_start", "composed_at", "send_started_at", "preview_link"]
    readonly_fields = [
        "slug",
        "week_start",
        "week_end",
        "composed_at",
        "send_started_at",
        "send_finished_at",
        "deliveries",
        "items",
    ]

    def has_add_permission(self, request) -> bool:
        return False  # issues are composed by `shipwith newsletter compose|send`

    @admin.display(description="preview")
    def preview_link(self, issue: Issue) -> str:
        url = reverse("admin:newsletter_issue_preview", args=[issue.pk])
        return format_html('<a href="{}">Preview</a>', url)

    @admin.display(description="deliveries")
    def deliveries(self, issue: Issue) -> str:
        counts = issue_counts(issue_id=issue.pk)
        return ", ".join(f"{status}: {count}" for status, count in sorted(counts.items())) or "—"

    def get_urls(self):
        preview = self.admin_site.admin_view(self.preview_view)
        return [
            path("<int:pk>/preview/", preview, name="newsletter_issue_preview")
        ] + super().get_urls()

    def preview_view(self, request, pk: int):
        issue = self.get_object(request, str(pk))
        if issue is None:
            raise Http404
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": issue,
            "title": f"Preview {issue.slug}",
            "query": f"week={issue.slug}",
        }
        return TemplateResponse(request, "admin/newsletter/issue/preview.html", context)


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["issue", "subscriber", "status", "attempts", "sent_at", "error"]
    list_filter = ["status", "issue"]
    search_fields = ["subscriber__email"]
    list_select_related = ["issue", "subscriber"]
    readonly_fields = [
        "issue",
        "subscriber",
        "status",
        "claim",
        "attempts",
        "error",
        "touched_at",
        "sent_at",
    ]

    def has_add_permission(self, request) -> bool:
        return False
