from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServicesConfig(AppConfig):
    """The service network: the directory of providers and their services (and, later, referrals to them)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "services"
    verbose_name = _("Service network")
