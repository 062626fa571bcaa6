"""The product's date and time formats, one module per language (``FORMAT_MODULE_PATH``).

Every ``{{ value|date }}``, ``{{ value|date:"DATETIME_FORMAT" }}``, ``{{ value }}`` of a date or datetime and
``django.utils.formats.date_format`` reads the format from here, so a page, an e-mail and the plan's PDF show one format
per language. The short names (``SHORT_DATE_FORMAT``, ``SHORT_DATETIME_FORMAT``) are the same formats: a template that
asks for the short one does not get a second style. What is not defined here (the input formats, the first day of the
week) comes from Django's own locale module.
"""
