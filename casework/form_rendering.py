"""The project's form renderer: Django's templates from the project's template settings, with one field template
(``templates/forms/field.html``) that puts a single checkbox in front of its label, so "I confirm" boxes and other
yes/no fields read as one line everywhere (``as_div`` and ``as_field_group`` alike)."""

from __future__ import annotations

from django.forms.renderers import TemplatesSetting


class FormRenderer(TemplatesSetting):
    field_template_name = "forms/field.html"
