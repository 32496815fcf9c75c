from functools import partial

from django.contrib import admin, messages
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from shipwith.ingest import review
from shipwith.ingest.decisions import candidate_accept, candidate_reject
from shipwith.ingest.errors import IngestError
from shipwith.ingest.models import Candidate, IngestSource, Mention
from shipwith.ingest.run import ingest_run


@admin.register(IngestSource)
class IngestSourceAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "kind",
        "enabled",
        "autopublish",
        "last_success_at",
        "items_seen",
        "failures_in_row",
        "last_error_short",
    ]
    list_filter = ["kind", "enabled"]
    readonly_fields = [
        "last_run_at",
        "last_success_at",
        "last_error",
        "last_error_at",
        "items_seen",
        "failures_in_row",
    ]
    actions = ["run_now"]

    @admin.display(description="last error")
    def last_error_short(self, obj: IngestSource) -> str:
        return obj.last_error[:120]

    @admin.action(description="Run the selected sources now")
    def run_now(self, request, queryset):
        for report in ingest_run(names=list(queryset.values_list("name", flat=True))):
            level = messages.ERROR if report.error else messages.SUCCESS
            self.message_user(request, str(report), level)


class MentionInline(admin.TabularInline):
    model = Mention
    extra = 0
    can_delete = False
    fields = ["source_name", "url", "fetched_at", "release", "facts"]
    readonly_fields = fields


@admin.register(Candidate)
class CandidateAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "status",
        "tool",
        "category",
        "sources",
        "change_list",
        "updated_at",
        "review_link",
    ]
    list_filter = ["status", "category"]
    search_fields = ["name", "vendor", "huggingface_id", "openrouter_slug", "github_repo"]
    list_select_related = ["tool", "category"]
    readonly_fields = [
        "status",
        "tool",
        "category_chosen",
        "facts",
        "fact_mentions",
        "changes",
        "release",
        "decided_at",
        "submitted_by",
    ]
    inlines = [MentionInline]
    actions = ["accept", "reject"]
    change_list_template = "ingest/candidate_change_list.html"
    change_form_template = "ingest/candidate_change_form.html"

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "review/",
                view(partial(review.queue, model_admin=self)),
                name="ingest_candidate_queue",
            ),
            path(
                "<int:pk>/review/",
                view(partial(review.candidate_review, model_admin=self)),
                name="ingest_candidate_review",
            ),
            *super().get_urls(),
        ]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("mentions")

    def save_model(self, request, obj, form, change):
        if "category" in form.changed_data:
            obj.category_chosen = True  # an editor's choice: runs no longer propose one
        super().save_model(request, obj, form, change)

    @admin.display(description="sources")
    def sources(self, obj: Candidate) -> str:
        return ", ".join(dict.fromkeys(m.source_name for m in obj.mentions.all()))

    @admin.display(description="review")
    def review_link(self, obj: Candidate):
        url = reverse("admin:ingest_candidate_review", args=[obj.pk])
        return format_html('<a href="{}">Review</a>', url)

    @admin.display(description="changes")
    def change_list(self, obj: Candidate):
        return format_html_join(
            ", ", "{}: {} → {}", ((k, old, new) for k, (old, new) in obj.changes.items())
        )

    @admin.action(description="Accept (new tools get their proposed category; panel queued)")
    def accept(self, request, queryset):
        self._decide(request, queryset, lambda c: candidate_accept(candidate_id=c.pk))

    @admin.action(description="Reject with the reason written on each candidate")
    def reject(self, request, queryset):
        def decide(candidate):
            return candidate_reject(candidate_id=candidate.pk, reason=candidate.rejection_reason)

        self._decide(request, queryset, decide)

    def _decide(self, request, queryset, decide) -> None:
        done = 0
        for candidate in queryset:
            try:
                decide(candidate)
                done += 1
            except IngestError as exc:
                self.message_user(request, str(exc), messages.ERROR)
        if done:
            self.message_user(request, f"{done} candidates decided.", messages.SUCCESS)
