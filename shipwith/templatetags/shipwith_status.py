"""The operator's status on the admin's index: the same selector as `shipwith status`."""

from django import template

from shipwith.status import operator_status as operator_status_read

register = template.Library()


@register.inclusion_tag("shipwith/status.html")
def operator_status():
    """Render what `shipwith status` shows, above the admin's app list."""
    return {"status": operator_status_read()}
