"""The frame of the admin's own wide pages (calendar, board): the admin's context, no side bar."""

from django.template.response import TemplateResponse


def wide_page(model_admin, request, template: str, title: str, **context) -> TemplateResponse:
    return TemplateResponse(
        request,
        template,
        {
            **model_admin.admin_site.each_context(request),
            "is_nav_sidebar_enabled": False,  # the grid needs the width
            "opts": model_admin.model._meta,
            "title": title,
            **context,
        },
    )
