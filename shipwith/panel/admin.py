from django.contrib import admin

from shipwith.panel.models import PanelEval, PanelRun, Persona, Review, Seat
from shipwith.panel.personas import persona_save


@admin.register(Persona)
class PersonaAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "position",
        "active",
        "model_spec",
        "alternate_spec",
        "prompt_version",
        "updated_at",
    ]
    list_editable = ["position", "active"]
    readonly_fields = ["prompt_version", "updated_at"]
    fields = [
        "key",
        "name",
        "position",
        "active",
        "lens",
        "priorities",
        "deal_breakers",
        "voice",
        "model_spec",
        "alternate_spec",
        "prompt_version",
        "updated_at",
    ]

    def save_model(self, request, obj, form, change):
        persona_save(persona=obj, changed_fields=form.changed_data if change else [])


class SeatInline(admin.TabularInline):
    model = Seat
    extra = 0
    can_delete = False
    fields = ["persona", "status", "model_spec", "attempts", "retry_after", "error"]
    readonly_fields = fields


@admin.register(PanelRun)
class PanelRunAdmin(admin.ModelAdmin):
    list_display = ["tool", "status", "model_spec", "reason", "created_at", "finished_at"]
    list_filter = ["status"]
    search_fields = ["tool__name"]
    readonly_fields = ["tool", "status", "model_spec", "reason", "started_at", "finished_at"]
    inlines = [SeatInline]


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = [
        "tool",
        "persona",
        "version",
        "verdict",
        "previous_verdict",
        "is_current",
        "provider",
        "model_id",
        "created_at",
    ]
    list_filter = ["persona", "verdict", "is_current", "provider"]
    search_fields = ["tool__name", "take"]
    # Reviews are records of what a model said: editors read them, never rewrite them.
    readonly_fields = [field.name for field in Review._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(Seat)
class SeatAdmin(admin.ModelAdmin):
    """Every seat that did not answer, and why: what `review --incomplete` will ask again."""

    list_display = ["run", "persona", "status", "model_spec", "attempts", "retry_after", "error"]
    list_filter = ["status", "persona"]
    search_fields = ["run__tool__name", "error"]
    readonly_fields = [field.name for field in Seat._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(PanelEval)
class PanelEvalAdmin(admin.ModelAdmin):
    list_display = ["model_spec", "model_id", "tools", "created_at"]
    readonly_fields = ["model_spec", "model_id", "tools", "figures", "created_at"]

    def has_add_permission(self, request):
        return False
