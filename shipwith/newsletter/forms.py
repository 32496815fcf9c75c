from django import forms

from shipwith.catalog.models import Category


class SubscribeForm(forms.Form):
    email = forms.EmailField(max_length=254, label="Email address")
    categories = forms.ModelMultipleChoiceField(
        queryset=Category.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Leave all unticked to get every category.",
    )
