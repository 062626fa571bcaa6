from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CaseworkConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "casework"
    verbose_name = _("Casework")

    def ready(self) -> None:
        # Connects the login receiver that records whether the session needs a second factor.
        from casework import account_views  # noqa: F401
