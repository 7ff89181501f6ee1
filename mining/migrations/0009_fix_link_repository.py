"""A fix link's own repository (issue #20): its lower-case OWNER/NAME and GitHub's
`isPrivate` of it, fetched in the same GraphQL queries as the link. Rows mined before get
their name from their ref or url (as mining.access told it until now) and no privacy
(None: the rule for repositories known here applies to them, docs/fixes.md)."""

from django.db import migrations, models

from mining.models import link_repository_name

CHUNK = 2000


def name_old_links(apps, schema_editor):
    FixLink = apps.get_model("mining", "FixLink")
    rows = FixLink.objects.filter(repository_name="").only("pk", "kind", "ref", "url")
    pending = []
    for link in rows.order_by("pk").iterator(chunk_size=CHUNK):
        link.repository_name = link_repository_name(link.kind, link.ref, link.url)
        if link.repository_name:
            pending.append(link)
        if len(pending) >= CHUNK:
            FixLink.objects.bulk_update(pending, ["repository_name"])
            pending = []
    FixLink.objects.bulk_update(pending, ["repository_name"])


class Migration(migrations.Migration):
    dependencies = [
        ("mining", "0008_issue_similarity"),
    ]

    operations = [
        migrations.AddField(
            model_name="fixlink",
            name="repository_name",
            field=models.CharField(blank=True, max_length=250),
        ),
        migrations.AddField(
            model_name="fixlink",
            name="repository_private",
            field=models.BooleanField(blank=True, null=True),
        ),
        migrations.RunPython(name_old_links, migrations.RunPython.noop),
    ]
