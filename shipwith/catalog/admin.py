from django.contrib import admin

from shipwith.catalog.models import Category, PaidTier, Source, Tag, Tool, Vendor
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
    ]

    def touched_tools(self, obj) -> list[int]:
        return [obj.pk]
