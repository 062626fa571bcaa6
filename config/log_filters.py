"""Filters of the logging configuration (``LOGGING`` in ``config.settings.base``).

Imported while Django configures logging, before the apps are loaded: nothing here may import a model or the domain.
"""

from __future__ import annotations

import logging

#: Where config.urls mounts the REST API (/api/v1/, its schema, the OAuth2 token endpoint).
API_PATH_PREFIX = "/api/"


class ApiClientErrorsAtInfo(logging.Filter):
    """django.request logs every 4xx as a WARNING with the path. On the API a 4xx is the caller's mistake, answered
    to the caller (a refused or expired token, a case that is not theirs, a rate limit, an idempotency conflict) —
    expected traffic, not something for the operator: it is lowered to INFO, so a log kept at WARNING is not flooded
    by one misconfigured script. 5xx stay ERROR, and the pages' 4xx stay WARNING.

    A record lowered below the root logger's level (``LOG_LEVEL``) is dropped: records reach the root's handlers
    whatever the root's own level, so without this LOG_LEVEL=WARNING would still print them.

    The line names the status and the path only (never the query string, a header or a body): API paths carry ids,
    never protected text (api/urls.py)."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        path = getattr(getattr(record, "request", None), "path", "")
        if (
            record.levelno == logging.WARNING
            and isinstance(status, int)
            and 400 <= status < 500
            and isinstance(path, str)
            and path.startswith(API_PATH_PREFIX)
        ):
            record.levelno, record.levelname = logging.INFO, logging.getLevelName(logging.INFO)
            return logging.getLogger().isEnabledFor(logging.INFO)
        return True
