from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse

from shipwith.api.models import ApiToken, Scope
from shipwith.api.services import api_token_create, api_token_revoke


class ApiTokenForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=Scope.choices, widget=forms.CheckboxSelectMultiple, required=True
    )

    class Meta:
        model = ApiToken
        fields = ["name", "scopes", "expires_at"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Editors create tokens here; the secret is shown once, then only its hash is kept."""

    form = ApiTokenForm
    list_display = ["name", "prefix", "scope_list", "created_at", "last_used_at", "state"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix"]
    readonly_fields = ["prefix", "created_by", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def get_readonly_fields(self, request, obj=None):
        # A token's rights are fixed once it exists: revoke it and create another instead.
        if obj is not None:
            return [*self.readonly_fields, "name", "scopes", "expires_at"]
        return self.readonly_fields

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is not None:
            kwargs["form"] = forms.ModelForm
        return super().get_form(request, obj, change, **kwargs)

    @admin.display(description="scopes")
    def scope_list(self, obj: ApiToken) -> str:
        return ", ".join(obj.scopes)

    @admin.display(description="state")
    def state(self, obj: ApiToken) -> str:
        return "revoked" if obj.is_revoked else "active"

    def save_model(self, request, obj, form, change):
        if change:
            return
        token, raw = api_token_create(
            name=form.cleaned_data["name"],
            scopes=form.cleaned_data["scopes"],
            created_by_id=request.user.pk,
            expires_at=form.cleaned_data.get("expires_at"),
        )
        obj.pk, obj.prefix, obj.digest = token.pk, token.prefix, token.digest
        request._api_token_secret = raw  # shown by response_add, never stored

    def response_add(self, request, obj, post_url_continue=None):
        # The secret goes straight into this one page: not into a message, which would keep it
        # in the session or a cookie until the next page.
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "token": obj,
            "secret": request._api_token_secret,
        }
        response = TemplateResponse(request, "admin/api/apitoken/created.html", context)
        response["Cache-Control"] = "no-store"
        return response

    def save_related(self, request, form, formsets, change):
        pass  # a token has no related rows; the service wrote everything

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # revoke instead: the row keeps the record of who used what

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request, queryset):
        for token in queryset.filter(revoked_at__isnull=True):
            api_token_revoke(token_id=token.pk)
        self.message_user(request, "Revoked.", messages.SUCCESS)
