from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("drills", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="scenario",
            name="attachment_body",
            field=models.TextField(blank=True, verbose_name="添付文書の本文"),
        ),
    ]
