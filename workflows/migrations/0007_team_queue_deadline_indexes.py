"""The team queue reads an authority's (or an organisation's) unowned open deadlines by due date: two partial indexes
that hold only the items waiting in a queue (SQLite supports partial indexes too)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("workflows", "0006_flow_classes_moved_into_modules"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="deadline",
            index=models.Index(
                condition=models.Q(("done_at__isnull", True), ("owner__isnull", True)),
                fields=["municipality", "due_at"],
                name="deadline_queue_authority",
            ),
        ),
        migrations.AddIndex(
            model_name="deadline",
            index=models.Index(
                condition=models.Q(("done_at__isnull", True), ("owner__isnull", True)),
                fields=["owner_organisation", "due_at"],
                name="deadline_queue_organisation",
            ),
        ),
    ]
