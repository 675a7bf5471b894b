from django.db import migrations


def sync(apps, schema_editor):
    from scheduling.roles import sync_roles

    sync_roles(apps, strict=False)


class Migration(migrations.Migration):
    """The roles gain the e-mail outbox: every role reads it, managers and bookers resend."""

    dependencies = [("scheduling", "0003_notification")]

    operations = [migrations.RunPython(sync, migrations.RunPython.noop)]
