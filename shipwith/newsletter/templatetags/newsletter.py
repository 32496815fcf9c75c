"""Template tags the pages use for the newsletter sign-up."""

from django import template

register = template.Library()


@register.inclusion_tag("newsletter/_signup.html", takes_context=True)
def newsletter_signup(context):
    """Render the "Weekly AI tool verdicts" sign-up form."""
    return {"request": context.get("request"), "csrf_token": context.get("csrf_token")}
