from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FiguresConfig(AppConfig):
    """Statistics and returns (docs/statistics.md): aggregates from metadata only, never a child's file."""

    name = "figures"
    verbose_name = _("Statistics")
    default_auto_field = "django.db.models.BigAutoField"
