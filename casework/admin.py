"""Django admin for the people side of the product: ORPs, organisations, users, and the list of team roles.

The administrator role (``Role.ADMINISTRATOR``, ``is_staff`` without ``is_superuser``) manages users, organisations
and the configuration lists (team roles, an authority's time limits) here and nothing else: no case content is
registered in the admin, and none may be. A non-superuser cannot see or grant superuser status, staff status, groups or
individual permissions, and cannot open superuser accounts, so managing users never becomes a way to raise one's own
rights. Users are deactivated, not deleted: their name stays attached to what they did. Every account write goes
through ``casework.services.account_changes`` (audited, notified; access changes wait for a second person) and no
administrator ever sets another person's password (docs/adr/0020-administrator-is-not-a-reader.md).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from casework.models import AccountChangeStatus, Municipality, Organisation, ResidenceMunicipality, TeamRole, User
from casework.services.account_changes import (
    DETAIL_FIELDS,
    account_create,
    account_update,
    password_reset_link_send,
)
from casework.services.accounts import second_factor_remove

# django-otp's own device admins would change a person's second factor without an audit row: every change goes
# through casework.services.accounts instead (here, the user admin's reset action).
for _model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)

admin.site.site_header = _("Case coordination: administration")
admin.site.site_title = _("Case coordination")
admin.site.index_title = _("Users and organisations")

_PRIVILEGE_FIELDS = frozenset({"is_staff", "is_superuser", "groups", "user_permissions"})

# What the administrator role may do here: keep ORPs and organisations, keep users but never delete them.
ADMINISTRATOR_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "casework.municipality": ("view", "add", "change", "delete"),
    "casework.organisation": ("view", "add", "change", "delete"),
    "casework.user": ("view", "add", "change"),
    # Configuration lists, not case content: the roles offered on a case team, the authority's time limits.
    "casework.teamrole": ("view", "add", "change"),
    # The municipality → ORP table of local competence (§ 61).
    "casework.residencemunicipality": ("view", "add", "change"),
    "workflows.authoritysettings": ("view", "add", "change"),
    # The service directory (issue 21): the list of service types, providers and their cards; none is case content.
    "services.servicetype": ("view", "add", "change"),
    "services.provider": ("view", "add", "change"),
    "services.service": ("view", "add", "change"),
}


def administrator_permissions() -> QuerySet[Permission]:
    """The model permissions an administrator-role account gets (with ``is_staff``), and no others.

    Used by ``seed_demo`` and the test factories; a superuser grants the same set to a new administrator by hand.
    """
    wanted = Q(pk__in=[])
    for label, actions in ADMINISTRATOR_PERMISSIONS.items():
        app_label, model = label.split(".")
        wanted |= Q(
            content_type__app_label=app_label,
            content_type__model=model,
            codename__in=[f"{action}_{model}" for action in actions],
        )
    return Permission.objects.filter(wanted)


@admin.register(TeamRole)
class TeamRoleAdmin(admin.ModelAdmin):
    """The roles offered when someone is put on a case team. Deactivate a role instead of deleting it: memberships
    keep pointing at it."""

    list_display = ("name_cs", "name_en", "sector", "position", "is_active")
    list_editable = ("position", "is_active")
    list_filter = ("sector", "is_active")


@admin.register(Municipality)
class MunicipalityAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "case_reference_format", "partners_require_second_factor"]
    search_fields = ["name", "code"]


@admin.register(ResidenceMunicipality)
class ResidenceMunicipalityAdmin(admin.ModelAdmin):
    """The municipality → ORP table of local competence (§ 61): extend it with the region's other municipalities."""

    list_display = ["name", "orp"]
    list_filter = ["orp"]
    search_fields = ["name"]
    list_select_related = ["orp"]
    autocomplete_fields = ["orp"]


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "sector", "municipality", "ico"]
    list_filter = ["sector", "municipality"]
    search_fields = ["name", "ico"]
    list_select_related = ["municipality"]
    autocomplete_fields = ["municipality"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.users.exists():
            # Moving an organisation with people to another ORP or sector would change what all of them read, past
            # the confirmation an account's own change needs (docs/adr/0020-administrator-is-not-a-reader.md).
            readonly += ["sector", "municipality"]
        return readonly


class AccountCreateForm(forms.ModelForm):
    """A new account: who the person is, where they work, their role and their address — never a password (the
    person sets it through the link the account's creation sends; a role that reads cases waits for confirmation)."""

    class Meta:
        model = User
        fields = ("username", "first_name", "last_name", "email", "job_title", "organisation", "role")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].required = True
        self.fields["email"].help_text = _("The link to set a password is sent here.")


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Django's user admin plus organisation, system role and job title; privilege fields for superusers only.

    Nothing here writes an account directly: saving calls ``casework.services.account_changes``. Names and job title
    change at once; a change of role, organisation or e-mail, or switching an account back on, becomes a request
    that a supervisor of the authority (another administrator for a DPO or an administrator) confirms; until then
    the account keeps its old values. Nobody sets another person's password here: "send a password link" e-mails the
    person a link to set it themselves.
    """

    actions = ["send_password_link", "reset_second_factor"]
    add_form = AccountCreateForm
    add_form_template = "admin/change_form.html"
    list_display = ["username", "last_name", "first_name", "organisation", "role", "job_title", "is_active"]
    list_filter = ["role", "organisation__sector", "organisation__municipality", "is_active"]
    search_fields = ["username", "first_name", "last_name", "email", "organisation__name", "job_title"]
    list_select_related = ["organisation"]
    ordering = ["last_name", "first_name", "username"]
    autocomplete_fields = ["organisation"]
    fieldsets = (
        (None, {"fields": ("username",)}),
        (_("Person"), {"fields": ("first_name", "last_name", "email", "job_title")}),
        # The records officer flag counts only on OSPOD staff (permissions.policy.is_records_officer).
        (_("Organisation and role"), {"fields": ("organisation", "role", "is_records_officer", "pending_change")}),
        (_("Account"), {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username",)}),
        (_("Person"), {"fields": ("first_name", "last_name", "email", "job_title")}),
        (_("Organisation and role"), {"fields": ("organisation", "role")}),
    )
    readonly_fields = ["last_login", "date_joined", "pending_change"]

    def get_fieldsets(self, request: HttpRequest, obj: User | None = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.is_superuser:
            return fieldsets
        return tuple(
            (name, {**options, "fields": tuple(f for f in options["fields"] if f not in _PRIVILEGE_FIELDS)})
            for name, options in fieldsets
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.pk == request.user.pk and not request.user.is_superuser:
            # Nobody changes their own access: another administrator has to do it.
            readonly += ["organisation", "role", "email", "is_active", "is_records_officer"]
        return readonly

    @admin.display(description=_("Change awaiting confirmation"))
    def pending_change(self, obj: User) -> str:
        change = obj.account_change_requests.filter(status=AccountChangeStatus.PENDING).first() if obj.pk else None
        if change is None:
            return "—"
        return str(
            _("%(fields)s, requested by %(who)s on %(when)s; it takes effect when it is confirmed.")
            % {
                "fields": ", ".join(change.changed_fields),
                "who": change.requested_by.username,
                "when": formats.date_format(timezone.localtime(change.requested_at), "SHORT_DATETIME_FORMAT"),
            }
        )

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(is_superuser=False)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Deactivate instead: the audit log and case histories keep pointing at the person.
        return bool(request.user.is_superuser) and super().has_delete_permission(request, obj)

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> HttpResponse:
        """Setting another person's password is not offered: the person sets it through a link (the action below)
        or, for their own account, on the account page."""
        raise PermissionDenied

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        actor: User = request.user  # type: ignore[assignment]
        try:
            if not change:
                pending = account_create(account=obj, created_by=actor)
            else:
                saved = User.objects.get(pk=obj.pk)
                pending = account_update(
                    account=saved,
                    by=actor,
                    role=obj.role,
                    organisation=obj.organisation,
                    email=obj.email,
                    is_active=obj.is_active,
                    details={name: getattr(obj, name) for name in DETAIL_FIELDS},
                    privileges_changed=[f for f in form.changed_data if f in _PRIVILEGE_FIELDS],
                )
                if "is_staff" in form.changed_data or "is_superuser" in form.changed_data:
                    # Superusers only (the fields are not shown to others): written directly, audited by name above.
                    User.objects.filter(pk=obj.pk).update(is_staff=obj.is_staff, is_superuser=obj.is_superuser)
        except (ValidationError, PermissionDenied) as error:
            raise PermissionDenied(str(error)) from error
        if pending is not None:
            self.message_user(
                request,
                _(
                    "The change of %(fields)s takes effect only when it is confirmed (%(who)s). Until then the "
                    "account keeps its previous values."
                )
                % {"fields": ", ".join(pending.changed_fields), "who": pending.get_confirmer_display()},
                messages.WARNING,
            )

    @admin.action(description=_("Send a link to set the password"), permissions=["change"])
    def send_password_link(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        """The person gets an e-mail with a one-time link to set their own password (audited, notified)."""
        sent = 0
        for user in queryset:
            try:
                password_reset_link_send(account=user, by=request.user)  # type: ignore[arg-type]
            except ValidationError as error:
                self.message_user(request, f"{user.username}: {' '.join(error.messages)}", messages.ERROR)
                continue
            sent += 1
        self.message_user(request, _("A link to set the password was sent to %(count)d account(s).") % {"count": sent})

    @admin.action(description=_("Reset the second factor (lost phone)"), permissions=["change"])
    def reset_second_factor(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        """The person's authenticator and recovery codes are removed (audited, by whom); if their role requires a
        second factor they set up a new one at their next login, and an open session of theirs stops working."""
        for user in queryset:
            second_factor_remove(user=user, removed_by=request.user)  # type: ignore[arg-type]
        message = _("The second factor was reset for %(count)d account(s).") % {"count": len(queryset)}
        self.message_user(request, message)
