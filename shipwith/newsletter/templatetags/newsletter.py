"""Template tags the pages use for the newsletter sign-up."""

from django import template

register = template.Library()


@register.inclusion_tag("newsletter/_signup.html", takes_context=True)
def newsletter_signup(context):
    """Render the "Weekly AI tool verdicts" sign-up form.

    It is on every cached page, so it carries no per-reader CSRF token: the sign-up view is
    protected by Fetch Metadata (shipwith.core.csrf).
    """
    return {"request": context.get("request")}
