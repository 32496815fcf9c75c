"""Template tags the pages use for the newsletter sign-up.

Placeholder until the newsletter issue lands.
"""

from django import template

register = template.Library()


@register.inclusion_tag("newsletter/_signup.html", takes_context=True)
def newsletter_signup(context):
    """Render the "Weekly AI tool verdicts" sign-up form."""
    return {"request": context.get("request")}
