from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CaseworkConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "casework"
    verbose_name = _("Casework")

    def ready(self) -> None:
        # Connects the login receiver that records whether the session needs a second factor.
        # Logins, logouts and failed logins in the audit chain (issue 19).
        from casework import (
            account_views,  # noqa: F401
            auth_audit,  # noqa: F401
        )
