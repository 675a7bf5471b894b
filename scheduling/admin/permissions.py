"""The admin's adapter to the permission layer (scheduling.permissions): no rules of its own."""

from auditlog.registry import auditlog
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.template.response import TemplateResponse

from scheduling import audit

from scheduling.ids import IdModelChoiceField, parse_id
from scheduling.permissions import can, resource_of, restrict


HISTORY_PAGE_SIZE = 50


class LayeredPermissionAdmin(admin.ModelAdmin):
    """A ModelAdmin whose lists and buttons follow scheduling.permissions, like the API."""

    def get_queryset(self, request):
        return restrict(request.user, super().get_queryset(request))

    def get_object(self, request, object_id, from_field=None):
        # The ORM would read "٣" in /admin/…/٣/change/ as 3: a non-id is a missing object.
        if from_field is None and parse_id(object_id) is None:
            return None
        return super().get_object(request, object_id, from_field)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        kwargs.setdefault("form_class", IdModelChoiceField)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_module_permission(self, request):
        return can(request.user, "view", model=self.model)

    def has_view_permission(self, request, obj=None):
        return can(request.user, "view", obj, model=self.model)

    def has_add_permission(self, request, obj=None):
        return can(request.user, "add", model=self.model)

    def has_change_permission(self, request, obj=None):
        return can(request.user, "change", obj, model=self.model)

    def has_delete_permission(self, request, obj=None):
        return can(request.user, "delete", obj, model=self.model)

    def history_view(self, request, object_id, extra_context=None):
        """"History": the audit trail with each field's change, for audited models (docs/spec.md §15.1)."""
        if not auditlog.contains(self.model):
            return super().history_view(request, object_id, extra_context)
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        page = Paginator(audit.entries_for(obj), HISTORY_PAGE_SIZE).get_page(request.GET.get("p"))
        entries = [
            {
                "at": entry.timestamp,
                "actor": entry.actor,
                "channel": audit.entry_channel(entry),
                "action": entry.get_action_display(),
                "changes": sorted(entry.changes_dict.items()),
                "reason": audit.entry_reason(entry),
            }
            for entry in page
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": f"History: {obj}",
            "opts": self.opts,
            "object": obj,
            "entries": entries,
            "page": page,
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/scheduling/audit_history.html", context)


class LayeredPermissionInline(admin.options.InlineModelAdmin):
    """The same for inlines, whose `obj` is the parent: the rows belong to the parent's resource."""

    def get_queryset(self, request):
        return restrict(request.user, super().get_queryset(request))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        kwargs.setdefault("form_class", IdModelChoiceField)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def _can(self, request, action, parent):
        return can(request.user, action, model=self.model, resource=resource_of(parent))

    def has_view_permission(self, request, obj=None):
        return self._can(request, "view", obj)

    def has_add_permission(self, request, obj=None):
        return self._can(request, "add", obj)

    def has_change_permission(self, request, obj=None):
        return self._can(request, "change", obj)

    def has_delete_permission(self, request, obj=None):
        return self._can(request, "delete", obj)
