"""Django's admin app with the product's site (``casework.admin_site``): the DPO reads the audit log there."""

from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig


class AdminConfig(DjangoAdminConfig):
    default_site = "casework.admin_site.CaseworkAdminSite"
