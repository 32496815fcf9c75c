# Comparison now belongs to the comparisons app (comparisons 0001), which keeps its table,
# web_comparison: drop the model from this app's state only. No SQL runs.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("web", "0002_comparison_moderator_call"),
        ("comparisons", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="Comparison")],
            database_operations=[],
        ),
    ]
