"""The case's § 55(2) page: what is kept apart from file inspection, marking an item later and removing a mark (a
POST with ``remove``). For the case's lead only (coordinator or supervisor); the rows carry no content
(``casework.selectors.kept_apart``)."""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from casework.case_forms import CaseForm
from casework.case_views.common import header, viewer
from casework.models import KeptApartReason
from casework.selectors.kept_apart import MarkableItem, kept_apart_items, markable_items
from casework.services.kept_apart import kept_apart_mark, kept_apart_unmark
from permissions.access import access_case_as_lead, require_case_lead


class KeptApartMarkForm(CaseForm):
    item = forms.ChoiceField(label=gettext_lazy("Item"))
    reason = forms.ChoiceField(
        label=gettext_lazy("Why it is kept apart (§ 55(2))"), choices=[("", "—"), *KeptApartReason.choices]
    )

    def __init__(self, *args: object, items: list[MarkableItem], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.items = {f"{item.item_type}:{item.item_id}": item for item in items}
        self.fields["item"].choices = [("", "—"), *((key, item.label) for key, item in self.items.items())]  # type: ignore[attr-defined]

    def chosen(self) -> MarkableItem:
        return self.items[self.cleaned_data["item"]]


@login_required
@require_http_methods(["GET", "POST"])
def case_kept_apart(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    user = viewer(request)
    case, access = access_case_as_lead(user, case_id, purpose="§ 55(2) marks")
    if request.method == "POST" and "remove" in request.POST:
        require_case_lead(user, case, purpose="remove § 55(2) mark")
        try:
            kept_apart_unmark(case=case, by=user, mark_id=int(request.POST["remove"]))
        except (ValueError, ValidationError):
            messages.error(request, _("This mark does not exist."))
        else:
            messages.success(request, _("The mark was removed."))
        return redirect("case_kept_apart", case_id=case.pk)
    form = KeptApartMarkForm(request.POST or None, items=list(markable_items(case=case)))
    if request.method == "POST":
        require_case_lead(user, case, purpose="mark kept apart (§ 55(2))")
        if form.is_valid():
            item = form.chosen()
            try:
                kept_apart_mark(
                    case=case,
                    by=user,
                    item_type=item.item_type,
                    item_id=item.item_id,
                    reason=form.cleaned_data["reason"],
                )
            except ValidationError as exc:
                form.apply_service_errors(exc)
            else:
                messages.success(request, _("The item is kept apart from file inspection."))
                return redirect("case_kept_apart", case_id=case.pk)
    return render(
        request,
        "casework/case_kept_apart.html",
        {
            "case": header(case, access),
            "form": form if access.may_manage else None,
            "rows": kept_apart_items(case=case),
            "may_manage": access.may_manage,
        },
    )
