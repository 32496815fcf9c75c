# The Comparison model moves here from the pages app (web) with its table, web_comparison, and
# its rows: this migration only records the model in this app's state, and renames its content
# type so permissions granted on it follow; web 0003 drops it from web's state. No SQL runs.

import django.db.models.deletion
from django.db import migrations, models


def content_type_move(apps, schema_editor, source="web", target="comparisons"):
    content_types = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    if content_types.objects.using(db).filter(app_label=target, model="comparison").exists():
        return
    content_types.objects.using(db).filter(app_label=source, model="comparison").update(
        app_label=target
    )


def content_type_move_back(apps, schema_editor):
    content_type_move(apps, schema_editor, source="comparisons", target="web")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("catalog", "0004_tool_created_index"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("web", "0002_comparison_moderator_call"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Comparison",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "published_at",
                            models.DateTimeField(
                                blank=True,
                                help_text="Set when the site promotes this pair.",
                                null=True,
                            ),
                        ),
                        ("similarity", models.FloatField(blank=True, null=True)),
                        ("moderator_read", models.TextField(blank=True)),
                        ("moderator_model", models.CharField(blank=True, max_length=200)),
                        ("moderator_written_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "moderator_call",
                            models.CharField(
                                blank=True,
                                choices=[
                                    ("a", "Tool A"),
                                    ("b", "Tool B"),
                                    ("close", "Too close to call"),
                                ],
                                help_text="The moderator's pick when asked with the tools in "
                                "both orders; 'close' when the two orders disagree.",
                                max_length=5,
                            ),
                        ),
                        (
                            "moderator_source",
                            models.CharField(
                                blank=True,
                                help_text="Which review versions the read was written from.",
                                max_length=200,
                            ),
                        ),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        (
                            "tool_a",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to="catalog.tool",
                            ),
                        ),
                        (
                            "tool_b",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to="catalog.tool",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "web_comparison",
                        "ordering": ["-published_at", "-created_at"],
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("tool_a", "tool_b"), name="one_comparison_per_pair"
                            )
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_type_move, content_type_move_back, elidable=True),
    ]
