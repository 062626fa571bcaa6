"""The schema (``/api/schema/``) and its pages (Swagger UI at ``/api/docs/``, Redoc at ``/api/docs/redoc/``).

The schema answers a logged-in person (session) or a token; the two pages are ordinary pages for logged-in people
(anyone else is sent to log in). Their scripts and styles come from drf-spectacular-sidecar's static files (no CDN).
Language: Czech, or English with ``?lang=en`` (or the language switch's cookie), like the rest of the product.
"""

from __future__ import annotations

from typing import Any

from csp.constants import SELF, UNSAFE_INLINE
from csp.decorators import csp_replace
from django.contrib.auth.decorators import login_required
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import IsAuthenticated

from api.authentication import ApiTokenAuthentication

#: The pages' own inline styles (Swagger UI's, Redoc's styled components): nothing of a case is shown there.
_DOCS_CSP = {"style-src": [SELF, UNSAFE_INLINE], "worker-src": [SELF, "blob:"]}


class SchemaView(SpectacularAPIView):
    authentication_classes = [SessionAuthentication, ApiTokenAuthentication]
    permission_classes = [IsAuthenticated]


@method_decorator(login_required, name="dispatch")
@method_decorator(csp_replace(_DOCS_CSP), name="dispatch")
class SwaggerView(SpectacularSwaggerSplitView):
    authentication_classes = [SessionAuthentication]
    permission_classes = [IsAuthenticated]
    title = "SPOD API"


@method_decorator(login_required, name="dispatch")
@method_decorator(csp_replace(_DOCS_CSP), name="dispatch")
class RedocView(SpectacularRedocView):
    authentication_classes = [SessionAuthentication]
    permission_classes = [IsAuthenticated]
    template_name = "api/redoc.html"
    title = "SPOD API"


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.ApiTokenAuthentication"
    name = "personalToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "cw_<prefix>_<secret>",
            "description": str(_("A personal API token from your account page (Account security → API tokens).")),
        }


class OwnedApplicationScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.OwnedApplicationAuthentication"
    name = "organisationApplication"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "oauth2",
            "description": str(
                _("OAuth2 client credentials of an organisation's system; it acts as the account owning it.")
            ),
            "flows": {
                "clientCredentials": {"tokenUrl": "/api/oauth/token/", "scopes": {"read": "read", "write": "write"}}
            },
        }
