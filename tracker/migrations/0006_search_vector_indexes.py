"""Full-text search indexes built from Django's own ``SearchVector``, on PostgreSQL.

They replace the hand-written expression indexes of 0004. The list's search
(``tracker.filters``) filters with the very same ``SearchVector`` expressions,
so PostgreSQL matches them to these indexes; the test
``test_text_search_uses_the_full_text_indexes_on_postgresql`` checks it with
EXPLAIN. An expression index is kept current by PostgreSQL on every write.
SQLite has no full-text functions; the list searches there with ``icontains``.
"""

import importlib

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.db import migrations

CONFIG = "english"


def _indexes():
    return {
        "Recommendation": GinIndex(
            SearchVector("title", "text", config=CONFIG), name="recommendation_search_idx"
        ),
        "Note": GinIndex(SearchVector("text", config=CONFIG), name="note_search_idx"),
    }


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for model_name, index in _indexes().items():
        schema_editor.execute(f"DROP INDEX IF EXISTS {index.name}")
        schema_editor.add_index(apps.get_model("tracker", model_name), index)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for model_name, index in _indexes().items():
        schema_editor.remove_index(apps.get_model("tracker", model_name), index)
    # Back to 0004's state: its indexes, under the same names.
    migration = importlib.import_module("tracker.migrations.0004_search_indexes")
    migration.create(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [("tracker", "0005_list_count_indexes")]

    operations = [migrations.RunPython(create, drop)]
