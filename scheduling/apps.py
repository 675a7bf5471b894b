from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class SchedulingAdminConfig(admin_apps.AdminConfig):
    """Django's admin with the back-office's own site (scheduling/admin_site.py) as the default."""

    default = False
    default_site = "scheduling.admin_site.SchedulingAdminSite"


class SchedulingConfig(AppConfig):
    default = True
    name = "scheduling"
    verbose_name = "Scheduling"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Every receiver (booking notices, owner grants, e-mail tracking) registers on import.
        from scheduling import signals  # noqa: F401

        # The audited models and the audit context's hook (docs/spec.md §15.1).
        from scheduling import audit

        audit.register_audited_models()

        # Registers the deploy check that anymail's webhooks are mounted behind their guard.
        from scheduling import webhooks  # noqa: F401
