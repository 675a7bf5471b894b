"""The admin's adapter to the permission layer (scheduling.permissions): no rules of its own."""

from django.contrib import admin
from django.db.models import Model, QuerySet

from scheduling.models import Resource
from scheduling.permissions import GRANTS, can, granted_resources, resource_of, restrict


class LayeredPermissionAdmin(admin.ModelAdmin):
    """A ModelAdmin whose lists and buttons follow scheduling.permissions, like the API."""

    def get_queryset(self, request):
        return restrict(request.user, super().get_queryset(request))

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


class LayeredPermissionInline(admin.options.InlineModelAdmin):
    """The same for inlines, whose `obj` is the parent: the rows belong to the parent's resource."""

    def get_queryset(self, request):
        return restrict(request.user, super().get_queryset(request))

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


def permitted_resources(user, action: str, model: type[Model], queryset: QuerySet[Resource] | None = None) -> QuerySet[Resource]:
    """The resources on whose rows of `model` the user may do `action`, as one lazy query.

    `can(user, action, model=…, resource=r)` for each r would cost a query per resource for holders
    of object grants; this asks the same two sources once. It mirrors `can()` and belongs next to
    it in scheduling.permissions (reported to the lead).
    """
    queryset = Resource.objects.all() if queryset is None else queryset
    if not can(user, action, model=model):
        return queryset.none()
    if user.is_superuser or user.has_perm(f"{model._meta.app_label}.{action}_{model._meta.model_name}"):
        return queryset
    return queryset.filter(pk__in=granted_resources(user, GRANTS[model][action]).values("pk"))
