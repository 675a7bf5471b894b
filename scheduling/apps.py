from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "scheduling"
    verbose_name = "Scheduling"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Every receiver (booking notices, owner grants, e-mail tracking) registers on import.
        from scheduling import signals  # noqa: F401

        # Registers the deploy check that anymail's webhooks are mounted behind their guard.
        from scheduling import webhooks  # noqa: F401
