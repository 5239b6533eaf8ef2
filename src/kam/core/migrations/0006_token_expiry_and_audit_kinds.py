"""API tokens always expire and say why they were revoked; audit events say what they concerned.

Tokens issued before had no expiry: they get API_TOKEN_DAYS from now, so that nobody's script
stops the day of the upgrade, and none lives for ever."""

from datetime import timedelta

from django.conf import settings
from django.db import migrations, models
from django.utils import timezone


def expire_old_tokens(apps, schema_editor):
    ApiToken = apps.get_model("core", "ApiToken")
    ApiToken.objects.filter(expires_at__isnull=True).update(
        expires_at=timezone.now() + timedelta(days=settings.KAM["API_TOKEN_DAYS"]))


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0005_worker_heartbeat'),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='auditevent',
            options={'ordering': ['-at', '-id'], 'verbose_name': 'audit event', 'verbose_name_plural': 'audit events'},
        ),
        migrations.AddField(
            model_name='apitoken',
            name='revoked_because',
            field=models.CharField(blank=True, choices=[('asked', 'revoked on request'), ('password', 'password changed'), ('deactivated', 'user deactivated')], max_length=12),
        ),
        migrations.AddField(
            model_name='auditevent',
            name='target',
            field=models.CharField(blank=True, max_length=255, verbose_name='concerning'),
        ),
        migrations.RunPython(expire_old_tokens, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='apitoken',
            name='expires_at',
            field=models.DateTimeField(),
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='kind',
            field=models.CharField(choices=[('login', 'Login'), ('login_failed', 'Failed login'), ('locked_out', 'Login locked'), ('unlocked', 'Login unlocked'), ('logout', 'Logout'), ('account_view', 'Account card viewed'), ('api_list', 'API list read'), ('export', 'Export'), ('download', 'File downloaded'), ('permission', 'Permission change'), ('password', 'Password changed'), ('token', 'API token issued'), ('token_revoked', 'API token revoked'), ('purged', 'Old audit events removed')], max_length=16, verbose_name='event'),
        ),
        migrations.AddIndex(
            model_name='auditevent',
            index=models.Index(fields=['kind', 'at'], name='core_audit_kind_at'),
        ),
    ]
