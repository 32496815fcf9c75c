"""The editor's view of votes: find outlier voters, exclude them with a logged reason."""

from django.contrib import admin
from django.db.models import Count, Q
from django.urls import reverse
from django.utils.html import format_html

from shipwith.votes import services
from shipwith.votes.models import PairTally, Rating, RatingFit, ToolTally, Voter, VoterExclusion


@admin.register(Voter)
class VoterAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "vote_count",
        "ship_votes",
        "pair_vote_count",
        "day_count",
        "excluded",
        "created_at",
        "exclude_link",
    ]
    list_filter = ["excluded", "created_at"]
    search_fields = ["user__username", "user__email"]
    readonly_fields = ["user", "excluded", "day", "day_count", "created_at"]
    ordering = ["-created_at"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("user")
            .annotate(
                n_votes=Count("votes", distinct=True),
                n_ships=Count("votes", filter=Q(votes__value="ship"), distinct=True),
                n_pairs=Count("pair_votes", distinct=True),
            )
        )

    @admin.display(description="votes", ordering="n_votes")
    def vote_count(self, voter):
        return voter.n_votes

    @admin.display(description="ship votes", ordering="n_ships")
    def ship_votes(self, voter):
        return voter.n_ships

    @admin.display(description="pair votes", ordering="n_pairs")
    def pair_vote_count(self, voter):
        return voter.n_pairs

    @admin.display(description="")
    def exclude_link(self, voter):
        flag = "" if voter.excluded else "1"
        url = reverse("admin:votes_voterexclusion_add") + f"?voter={voter.pk}&excluded={flag}"
        return format_html('<a href="{}">{}</a>', url, "Restore…" if voter.excluded else "Exclude…")

    def has_add_permission(self, request):
        return False


@admin.register(VoterExclusion)
class VoterExclusionAdmin(admin.ModelAdmin):
    """Adding a row excludes (or restores) the voter: the row is the log entry."""

    list_display = [
        "voter",
        "excluded",
        "vote_count",
        "pair_vote_count",
        "editor",
        "created_at",
        "reason",
    ]
    list_filter = ["excluded", "created_at"]
    fields = ["voter", "excluded", "reason"]
    raw_id_fields = ["voter"]

    def get_queryset(self, request):
        # How many of the voter's votes the entry took out of the figures (or put back).
        return (
            super()
            .get_queryset(request)
            .select_related("voter__user", "editor")
            .annotate(
                n_votes=Count("voter__votes", distinct=True),
                n_pairs=Count("voter__pair_votes", distinct=True),
            )
        )

    @admin.display(description="votes", ordering="n_votes")
    def vote_count(self, entry):
        return entry.n_votes

    @admin.display(description="pair votes", ordering="n_pairs")
    def pair_vote_count(self, entry):
        return entry.n_pairs

    def get_readonly_fields(self, request, obj=None):
        return self.fields if obj is not None else []

    def save_model(self, request, obj, form, change):
        if change:
            return
        entry = services.voter_exclude(
            voter_id=obj.voter_id, editor=request.user, reason=obj.reason, excluded=obj.excluded
        )
        obj.pk = entry.pk
        obj.editor = entry.editor
        obj.created_at = entry.created_at

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ToolTally)
class ToolTallyAdmin(admin.ModelAdmin):
    list_display = ["tool", "ships", "skips"]
    search_fields = ["tool__name"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


@admin.register(PairTally)
class PairTallyAdmin(ToolTallyAdmin):
    list_display = ["tool_a", "tool_b", "a", "b", "neither"]
    search_fields = ["tool_a__name", "tool_b__name"]


class RatingInline(admin.TabularInline):
    model = Rating
    fields = ["rank", "tool", "score", "lower", "upper", "votes"]
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(RatingFit)
class RatingFitAdmin(admin.ModelAdmin):
    list_display = ["fitted_at", "votes", "tools", "rounds", "seconds"]
    inlines = [RatingInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
