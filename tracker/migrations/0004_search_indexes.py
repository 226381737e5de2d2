"""Full-text search indexes on PostgreSQL (the list's text search).

The expressions must stay identical to those in ``tracker.filters.SEARCH_SQL``,
or PostgreSQL will not use the indexes. SQLite has no full-text functions; the
list searches there with ``icontains``.
"""

from django.db import migrations

INDEXES = {
    "recommendation_search_idx": (
        "tracker_recommendation",
        "to_tsvector('english', coalesce(title, '') || ' ' || coalesce(text, ''))",
    ),
    "note_search_idx": ("tracker_note", "to_tsvector('english', text)"),
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, (table, expression) in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX {name} ON {table} USING gin (({expression}))")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("tracker", "0003_link_suggestions")]

    operations = [migrations.RunPython(create, drop)]
