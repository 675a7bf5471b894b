from django.core.management.commands.createcachetable import Command as CreateCacheTable
from django.db import migrations

# The database cache's table (settings.CACHE_TABLE; frozen here as migrations are). Made by
# migrate, so a new host or a fresh test database has it without a separate createcachetable step;
# made even when CACHE_URL points at Redis, so switching back needs no manual step either.
TABLE = "scheduling_cache"


def create(apps, schema_editor):
    command = CreateCacheTable()
    command.verbosity = 0  # set by handle() when run as a command
    command.create_table(schema_editor.connection.alias, TABLE, dry_run=False)


def drop(apps, schema_editor):
    schema_editor.execute(f"DROP TABLE IF EXISTS {schema_editor.quote_name(TABLE)}")


class Migration(migrations.Migration):
    """The shared cache of the API's throttle counters (docs/spec.md §6.8, §11)."""

    dependencies = [("scheduling", "0004_roles_outbox")]

    operations = [migrations.RunPython(create, drop)]
