from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0002_freshness_stamps'),
    ]

    operations = [
        migrations.CreateModel(
            name='WorkerBeat',
            fields=[
                ('worker_id', models.CharField(max_length=64, primary_key=True, serialize=False)),
                ('beat_at', models.DateTimeField(help_text="The database's time of the worker's last beat.")),
            ],
        ),
    ]
