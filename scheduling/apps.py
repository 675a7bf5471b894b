from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "scheduling"
    verbose_name = "Scheduling"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Signal receivers register on import.
        from scheduling import ownership  # noqa: F401

        # Booking saves write their e-mail notice; anymail's tracking webhooks update it.
        from scheduling import signals  # noqa: F401

        # Registers the deploy check that anymail's webhooks are mounted behind their guard.
        from scheduling import webhooks  # noqa: F401
