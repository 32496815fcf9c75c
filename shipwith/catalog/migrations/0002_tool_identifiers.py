from django.db import migrations, models


def _unique(field):
    return models.UniqueConstraint(
        condition=~models.Q(**{field: ""}),
        fields=(field,),
        name=f"tool_unique_{field}",
    )


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="tool",
            name="aliases",
            field=models.TextField(
                blank=True,
                help_text="Other names readers, reviewers and sources use for this tool, one per line.",
            ),
        ),
        migrations.AddField(
            model_name="tool",
            name="huggingface_id",
            field=models.CharField(
                blank=True,
                help_text='e.g. "Qwen/Qwen2.5-7B-Instruct"',
                max_length=200,
                verbose_name="Hugging Face id",
            ),
        ),
        migrations.AddField(
            model_name="tool",
            name="openrouter_slug",
            field=models.CharField(
                blank=True,
                help_text='e.g. "openai/gpt-4o"',
                max_length=200,
                verbose_name="OpenRouter slug",
            ),
        ),
        migrations.AddField(
            model_name="tool",
            name="github_repo",
            field=models.CharField(
                blank=True, help_text='"owner/repo"', max_length=140, verbose_name="GitHub repository"
            ),
        ),
        migrations.AddField(
            model_name="tool",
            name="homepage_domain",
            field=models.CharField(
                blank=True,
                help_text="The homepage's host without www., kept by imports.",
                max_length=200,
            ),
        ),
        migrations.AlterField(
            model_name="source",
            name="checked_on",
            field=models.DateField(
                blank=True,
                help_text="The day the page was last fetched; empty until then.",
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="source",
            name="etag",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AddField(
            model_name="source",
            name="last_modified",
            field=models.CharField(blank=True, max_length=100),
        ),
        migrations.AddConstraint(model_name="tool", constraint=_unique("huggingface_id")),
        migrations.AddConstraint(model_name="tool", constraint=_unique("openrouter_slug")),
        migrations.AddConstraint(model_name="tool", constraint=_unique("github_repo")),
    ]
