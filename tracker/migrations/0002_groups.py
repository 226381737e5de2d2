"""The three roles of PRODUCT.md section 2 as groups. Superusers have every permission.

Viewer reads everything; Analyst also tracks recommendations (status, owner,
priority, review date) and writes notes; Editor also enters and corrects every
record in the admin (editors need "staff status" to open the admin). Nobody may
change or delete a status update or history entry: they are immutable.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

APPS = ("dialogue", "tracker")
DIALOGUE_MODELS = (
    "organization",
    "person",
    "theme",
    "dialogue",
    "report",
    "centralquestion",
    "participation",
    "passage",
)
HISTORY_MODELS = ("statusupdate", "fieldchange", "note")
EDITABLE_TRACKER_MODELS = ("actor", "status", "recommendation")

ANALYST = [("tracker", "track_recommendation"), ("tracker", "add_note")]
EDITOR = [
    *ANALYST,
    *[
        ("dialogue", f"{action}_{model}")
        for model in DIALOGUE_MODELS
        for action in ("add", "change", "delete")
    ],
    *[
        ("tracker", f"{action}_{model}")
        for model in EDITABLE_TRACKER_MODELS
        for action in ("add", "change", "delete")
    ],
]


def create_groups(apps, schema_editor):
    # Permissions are normally created after all migrations; make them now.
    for app_config in apps.get_app_configs():
        models_module = getattr(app_config, "models_module", None)
        app_config.models_module = models_module or True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = models_module

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")

    def permissions(pairs):
        found = []
        for app_label, codename in pairs:
            found.append(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
        return found

    view_all = [
        (app_label, f"view_{model}")
        for app_label, models in (
            ("dialogue", DIALOGUE_MODELS),
            ("tracker", (*EDITABLE_TRACKER_MODELS, *HISTORY_MODELS)),
        )
        for model in models
    ]
    for name, extra in (("Viewer", []), ("Analyst", ANALYST), ("Editor", EDITOR)):
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(permissions([*view_all, *extra]))


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(
        name__in=["Viewer", "Analyst", "Editor"]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("dialogue", "0001_initial"),
        ("tracker", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
