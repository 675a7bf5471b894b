"""Template access to the permission layer, so templates ask the same rules as views."""

from django import template

from scheduling import permissions

register = template.Library()


@register.simple_tag
def can_view_reports(user) -> bool:
    return permissions.can_view_reports(user)
