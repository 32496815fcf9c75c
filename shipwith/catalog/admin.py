from django.contrib import admin
from django.utils.html import format_html, format_html_join

from shipwith.catalog.models import Category, PaidTier, Source, Tag, Tool, Vendor
from shipwith.catalog.selectors import FactSource, fact_history, tool_facts
from shipwith.core.freshness import tools_touch


class TouchesPagesMixin:
    """Editor changes show on the site at once: cached pages of the touched tools re-render."""

    def touched_tools(self, obj) -> list[int]:
        return list(obj.tools.values_list("pk", flat=True))

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        tools_touch(*self.touched_tools(form.instance))

    def delete_model(self, request, obj):
        ids = self.touched_tools(obj)
        super().delete_model(request, obj)
        tools_touch(*ids)

    def delete_queryset(self, request, queryset):
        ids = [pk for obj in queryset for pk in self.touched_tools(obj)]
        super().delete_queryset(request, queryset)
        tools_touch(*ids)


@admin.register(Category)
class CategoryAdmin(TouchesPagesMixin, admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name", "description"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Vendor)
class VendorAdmin(TouchesPagesMixin, admin.ModelAdmin):
    list_display = ["name", "homepage"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ["name"]


class PaidTierInline(admin.TabularInline):
    model = PaidTier
    extra = 0


class SourceInline(admin.StackedInline):
    model = Source
    extra = 0
    fields = ["url", "title", "checked_on", "snapshot", "position"]


@admin.register(Tool)
class ToolAdmin(TouchesPagesMixin, admin.ModelAdmin):
    list_display = ["name", "category", "vendor", "licence_kind", "price_kind", "updated_at"]
    list_filter = ["category", "licence_kind", "deployment", "price_kind", "vendor", "tags"]
    search_fields = ["name", "slug", "tagline", "description", "vendor__name"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["vendor", "tags"]
    list_select_related = ["category", "vendor"]
    date_hierarchy = "created_at"
    inlines = [PaidTierInline, SourceInline]
    # Facts are written by facts_record (imports, ingest), which keeps their history: shown here.
    readonly_fields = ["facts_table", "fact_history_table"]
    HISTORY_SHOWN = 50
    fieldsets = [
        (None, {"fields": ["name", "slug", "vendor", "category", "tagline", "description"]}),
        (
            "Licence and hosting",
            {"fields": ["licence", "licence_kind", "deployment", "homepage", "release_date"]},
        ),
        (
            "Entry price",
            {
                "fields": [
                    "price_kind",
                    "price_amount",
                    "price_currency",
                    "price_period",
                    "price_unit",
                ]
            },
        ),
        ("Tags", {"fields": ["tags"]}),
        (
            "Facts with their sources",
            {
                "fields": ["facts_table", "fact_history_table"],
                "description": "Read from sources by catalog imports and ingest; not edited here.",
            },
        ),
    ]

    @staticmethod
    def _source(source: FactSource | None):
        if source is None:
            return "source not known"
        if not source.url:
            return source.title
        return format_html(
            '<a href="{}" rel="noreferrer">{}</a>', source.url, source.title or source.url
        )

    @admin.display(description="facts")
    def facts_table(self, tool: Tool):
        rows = tool_facts(tool.pk) if tool.pk else []
        if not rows:
            return "No facts yet."
        return format_html(
            "<table><tr><th>Fact</th><th>Value</th><th>Source</th><th>Read</th>"
            "<th>Other sources say</th></tr>{}</table>",
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}{}</td><td>{}</td></tr>",
                (
                    (
                        row.label,
                        row.text,
                        self._source(row.source),
                        f"{row.read_at:%Y-%m-%d}",
                        " (stale)" if row.stale else "",
                        format_html_join(
                            "; ",
                            "{} ({}, {})",
                            (
                                (c.text, self._source(c.source), f"{c.read_at:%Y-%m-%d}")
                                for c in row.conflicts
                            ),
                        ),
                    )
                    for row in rows
                ),
            ),
        )

    @admin.display(description="fact history (newest first)")
    def fact_history_table(self, tool: Tool):
        changes = fact_history(tool.pk, limit=self.HISTORY_SHOWN) if tool.pk else []
        if not changes:
            return "No changes yet."
        return format_html(
            "<table><tr><th>Read</th><th>Fact</th><th>Change</th><th>Source</th></tr>{}</table>",
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                (
                    (f"{c.read_at:%Y-%m-%d %H:%M}", c.label, c.text, self._source(c.source))
                    for c in changes
                ),
            ),
        )

    def touched_tools(self, obj) -> list[int]:
        return [obj.pk]
