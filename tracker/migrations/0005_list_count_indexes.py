"""Indexes for the list's count under the status, theme and actor filters.

Each holds every column the count reads, so the database counts from the index
alone. Django makes the many-to-many tables itself, so their (filter column,
recommendation) indexes are plain SQL, the same on SQLite and PostgreSQL.
"""

from django.db import migrations, models

LINK_INDEXES = {
    "rec_themes_theme_rec_idx": ("tracker_recommendation_themes", "theme_id"),
    "rec_actors_actor_rec_idx": ("tracker_recommendation_actors", "actor_id"),
}


class Migration(migrations.Migration):
    dependencies = [("tracker", "0004_search_indexes")]

    operations = [
        migrations.AddIndex(
            model_name="recommendation",
            index=models.Index(fields=["status", "id"], name="rec_status_count_idx"),
        ),
        *(
            migrations.RunSQL(
                f"CREATE INDEX {name} ON {table} ({column}, recommendation_id)",
                f"DROP INDEX {name}",
            )
            for name, (table, column) in LINK_INDEXES.items()
        ),
    ]
