"""The admin's adapter to the permission layer (scheduling.permissions): no rules of its own."""

from django.contrib import admin

from scheduling.permissions import can, restrict


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
