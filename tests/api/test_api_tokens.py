"""Personal API tokens end to end: made on the account page (shown once, kept only as a digest), owned only with a
second factor, scoped, expiring, revocable, rate limited, every step audited; a partner completing a plan action
from a script; idempotency keys; the schema and docs pages; OAuth2 client credentials; no protected value in the
log of API requests. Every name and text is fictional."""

from __future__ import annotations

import datetime
import logging

import pytest
import time_machine
from django.test import Client, override_settings
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from api.models import ApiToken, IdempotencyRecord
from api.tokens import digest_of, token_check, token_create, token_revoke
from casework.models import ActionReport, ActionStatus, Municipality, PlanAction, Report
from permissions.models import AuditAction, AuditEvent, AuditOutcome
from tests.api.helpers import body, client_with, page_client, token_for, with_second_factor
from tests.api.world import ACTION_MARKER, REPORT_MARKER, ApiWorld, build
from tests.permissions.test_access_matrix import World
from tests.permissions.test_access_matrix import world as world

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(world: World, olomouc: Municipality) -> ApiWorld:
    return build(world, olomouc)


# --- Lifecycle -------------------------------------------------------------------------------------------------------


def test_a_token_needs_a_second_factor(teacher) -> None:
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        token_create(user=teacher, name="školní systém", scope="read", days=30)
    assert not ApiToken.objects.exists()
    assert AuditEvent.objects.filter(
        actor=teacher, object_type="api.apitoken", outcome=AuditOutcome.DENIED, purpose="api token create"
    ).exists()
    with_second_factor(teacher)
    assert token_create(user=teacher, name="školní systém", scope="read", days=30).token.pk


def test_the_token_is_shown_once_and_kept_as_a_digest_only(teacher) -> None:
    client = page_client(with_second_factor(teacher))
    page = client.post("/accounts/api-tokens/", {"name": "Bakaláři", "scope": "write", "days": "30"})
    assert page.status_code == 200
    token = ApiToken.objects.get(user=teacher)
    text = page.context["text"]
    assert text.startswith(f"cw_{token.prefix}_")
    assert text in page.content.decode()
    assert token.digest == digest_of(text)
    assert text not in str(ApiToken.objects.values_list().get())
    listing = client.get("/accounts/api-tokens/").content.decode()
    assert "Bakaláři" in listing
    assert text not in listing
    assert "cw_" + token.prefix in client.get("/accounts/security/").content.decode()
    assert AuditEvent.objects.filter(actor=teacher, object_id=token.prefix, purpose="api token create").exists()
    assert client_with(text).get("/api/v1/me/").json()["username"] == teacher.username
    client.post(f"/accounts/api-tokens/{token.pk}/revoke/")
    assert AuditEvent.objects.filter(actor=teacher, object_id=token.prefix, purpose="api token revoke").exists()
    refused = client_with(text).get("/api/v1/me/")
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "authentication_failed"
    assert AuditEvent.objects.filter(
        actor=teacher, action=AuditAction.DENY, object_id=token.prefix, purpose="api token revoked"
    ).exists()


def test_the_form_gives_field_errors_and_nobody_revokes_anothers_token(teacher, coordinator) -> None:
    client = page_client(with_second_factor(teacher))
    page = client.post("/accounts/api-tokens/", {"name": " ", "scope": "admin", "days": "9999"})
    assert set(page.context["form"].errors) == {"name", "scope", "days"}
    theirs = token_create(user=with_second_factor(coordinator), name="x", scope="read", days=5).token
    assert client.post(f"/accounts/api-tokens/{theirs.pk}/revoke/").status_code == 404
    assert ApiToken.objects.get(pk=theirs.pk).revoked_at is None


def test_expiry_wrong_secret_and_lost_second_factor_are_401_and_audited(teacher) -> None:
    text = token_for(teacher, days=1)
    token = ApiToken.objects.get(user=teacher)
    assert client_with(text).get("/api/v1/me/").status_code == 200
    assert token_check(text).last_used_at is not None
    forged = text[:-4] + ("AAAA" if not text.endswith("AAAA") else "BBBB")
    assert client_with(forged).get("/api/v1/me/").status_code == 401
    with time_machine.travel(timezone.now() + datetime.timedelta(days=1, seconds=1)):
        assert client_with(text).get("/api/v1/me/").status_code == 401
    TOTPDevice.objects.filter(user=teacher).delete()
    assert client_with(text).get("/api/v1/me/").status_code == 401
    purposes = set(
        AuditEvent.objects.filter(object_id=token.prefix, action=AuditAction.DENY).values_list("purpose", flat=True)
    )
    assert purposes == {"api token wrong secret", "api token expired", "api token owner not allowed"}


def test_a_read_token_reads_but_never_writes(teacher) -> None:
    client = client_with(token_for(teacher, scope="read"))
    assert client.get("/api/v1/notifications/").status_code == 200
    refused = client.post("/api/v1/notifications/read-all/")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "permission_denied"


def test_no_session_opens_the_api(teacher) -> None:
    client = Client()
    client.force_login(teacher)
    assert client.get("/api/v1/me/").status_code == 401


def test_a_bearer_token_that_is_no_token_of_ours_is_refused_as_invalid_not_as_missing(db: None) -> None:
    # Neither a personal token (cw_…) nor an access token of an application: the caller sent credentials, so the
    # answer says they are not valid (in Czech first), and keeps the challenge; no header at all stays "not provided".
    refused = client_with("neznamy-token-1234567890").get("/api/v1/me/")
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "authentication_failed"
    assert refused.json()["error"]["message"] == "Token není platný, vypršel, nebo byl zneplatněn."
    assert refused["WWW-Authenticate"] == 'Bearer realm="api"'
    english = client_with("neznamy-token-1234567890").get("/api/v1/me/?lang=en").json()["error"]
    assert english["message"] == "The token is not valid, has expired or was revoked."
    missing = client_with(None).get("/api/v1/me/")
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "not_authenticated"
    assert missing["WWW-Authenticate"] == 'Bearer realm="api"'


# --- Rate limits ---------------------------------------------------------------------------------------------------


@override_settings(API_RATES={"token": "3/min", "token_write": "2/min"})
def test_each_token_has_its_own_rate_limit(teacher, coordinator) -> None:
    from django.core.cache import caches

    caches["api"].clear()
    first, second = client_with(token_for(teacher)), client_with(token_for(coordinator))
    assert [first.get("/api/v1/me/").status_code for _ in range(3)] == [200, 200, 200]
    limited = first.get("/api/v1/me/")
    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "throttled"
    assert "Retry-After" in limited
    assert second.get("/api/v1/me/").status_code == 200  # another token counts on its own
    caches["api"].clear()
    writes = [second.post("/api/v1/notifications/read-all/").status_code for _ in range(3)]
    assert writes == [200, 200, 429]


@pytest.mark.redis
@override_settings(API_RATES={"token": "2/min", "token_write": "2/min"})
def test_the_rate_limit_counts_in_redis_when_it_is_there(teacher) -> None:
    from django.core.cache import caches

    assert "Redis" in type(caches["api"]).__name__
    caches["api"].clear()
    client = client_with(token_for(teacher))
    assert [client.get("/api/v1/me/").status_code for _ in range(3)] == [200, 200, 429]


# --- A partner completes a plan action from a script -----------------------------------------------------------------


def test_a_partner_reports_progress_then_completes_the_action_with_an_idempotency_key(api: ApiWorld) -> None:
    client = client_with(api.tokens["school"])
    mine = client.get("/api/v1/tasks/mine/?type=action").json()["results"]
    assert [row["id"] for row in mine] == [api.action_task_id]
    url = f"/api/v1/tasks/{api.action_task_id}/action-reports/"
    blank = client.post(url, {"text": "  "}, format="json")
    assert blank.status_code == 400
    assert set(blank.json()["error"]["fields"]) == {"text"}
    progress = client.post(url, {"text": "Doučování běží APIMARK-progress"}, format="json")
    assert progress.status_code == 201, progress.content
    assert progress.json()["action_status"] == ActionStatus.OPEN
    headers = {"HTTP_IDEMPOTENCY_KEY": "done-2026-12-04"}
    done = client.post(url, {"text": "Hotovo APIMARK-done", "completes": True}, format="json", **headers)
    assert done.status_code == 201
    assert done.json()["action_status"] == ActionStatus.DONE
    assert "APIMARK" not in body(done)
    replay = client.post(url, {"text": "Hotovo APIMARK-done", "completes": True}, format="json", **headers)
    assert replay.status_code == 201
    assert replay.json() == done.json()
    assert replay["Idempotent-Replayed"] == "true"
    conflict = client.post(url, {"text": "Jiný text", "completes": True}, format="json", **headers)
    assert conflict.status_code == 409
    assert conflict.json()["error"]["code"] == "idempotency_conflict"
    action = PlanAction.objects.get(pk=done.json()["action_id"])
    assert action.status == ActionStatus.DONE
    assert ActionReport.objects.filter(action=action).count() == 2
    assert client.get("/api/v1/tasks/mine/").json()["results"] == []
    assert "APIMARK-done" not in str(IdempotencyRecord.objects.values_list("response", flat=True).get())


def test_filing_a_report_answers_its_number_and_status_once(api: ApiWorld) -> None:
    client = client_with(api.tokens["health"])
    payload = {
        "facts": "Opakovaná zranění APIMARK-filed",
        "child_given_name": "Eliška",
        "child_family_name": "Zkušební",
        "child_date_of_birth": "2016-05-01",
    }
    headers = {"HTTP_IDEMPOTENCY_KEY": "report-1"}
    filed = client.post("/api/v1/reports/", payload, format="json", **headers)
    assert filed.status_code == 201, filed.content
    again = client.post("/api/v1/reports/", payload, format="json", **headers)
    assert again.json() == filed.json()
    assert Report.objects.filter(reference=filed.json()["reference"]).count() == 1
    assert "APIMARK" not in body(filed)
    assert "Eliška" not in body(filed)
    status = client.get(f"/api/v1/reports/{filed.json()['id']}/")
    assert status.status_code == 200
    assert status["ETag"]
    assert client.get(f"/api/v1/reports/{filed.json()['id']}/", HTTP_IF_NONE_MATCH=status["ETag"]).status_code == 304
    invalid = client.post("/api/v1/reports/", {**payload, "child_date_of_birth": "zítra"}, format="json")
    assert invalid.status_code == 400
    assert "child_date_of_birth" in invalid.json()["error"]["fields"]


def test_errors_and_descriptions_speak_czech_first_and_english_on_request(teacher) -> None:
    client = client_with(token_for(teacher))
    assert client.post("/api/v1/reports/", {}, format="json").json()["error"]["fields"]["facts"] == [
        "Toto pole je povinné."
    ]
    english = client.post("/api/v1/reports/?lang=en", {}, format="json").json()["error"]
    assert english["fields"]["facts"] == ["This field is required."]
    assert english["message"] == "The request is not valid."


# --- Logs ----------------------------------------------------------------------------------------------------------


def test_no_protected_value_reaches_the_log_of_api_requests(api: ApiWorld, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    school = client_with(api.tokens["school"])
    team = api.world.cases["team"]
    school.get(f"/api/v1/cases/{team.case.pk}/")
    school.post(f"/api/v1/tasks/{api.action_task_id}/action-reports/", {"text": "APIMARK-log-1"}, format="json")
    school.post("/api/v1/reports/", {"facts": "APIMARK-log-2", "child_given_name": "Xaver"}, format="json")
    client_with(api.tokens["health"]).get(f"/api/v1/cases/{api.world.cases['unrelated'].case.pk}/")
    client_with(api.tokens["school"] + "x").get("/api/v1/me/")
    client_with("APIMARK-opaque-bearer").get("/api/v1/me/?APIMARK-query=1")
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for marker in ("APIMARK", "MATRIXMARK", "Xaver", ACTION_MARKER, REPORT_MARKER, api.tokens["school"]):
        assert marker not in logged, marker


@override_settings(API_RATES={"token": "600/min", "token_write": "2/min"})
def test_the_apis_client_errors_are_logged_at_info_and_server_errors_stay_errors(
    api: ApiWorld, caplog: pytest.LogCaptureFixture
) -> None:
    """An API caller's mistakes (401, 403, 404, 400, 409, 429) are the caller's business, not the operator's: they
    reach the log below WARNING. A page's 404 and any 5xx keep their level."""
    from django.core.cache import caches
    from django.http import HttpResponse
    from django.test import RequestFactory
    from django.utils.log import log_response

    caches["api"].clear()
    caplog.set_level(logging.INFO)
    school, health = client_with(api.tokens["school"]), client_with(api.tokens["health"])
    report = {"child_given_name": "Ota", "child_family_name": "Zkušební", "child_date_of_birth": "2016-05-01"}
    answers = [
        client_with("neznamy-token-1234567890").get("/api/v1/me/"),
        health.get(f"/api/v1/cases/{api.world.cases['unrelated'].case.pk}/"),
        client_with(token_for(api.world.users["school"], scope="read")).post("/api/v1/notifications/read-all/"),
        school.post(f"/api/v1/tasks/{api.action_task_id}/action-reports/", {"text": " "}, format="json"),
        school.post("/api/v1/notifications/read-all/"),
        school.post("/api/v1/notifications/read-all/"),
        health.post("/api/v1/reports/", {**report, "facts": "Zranění"}, format="json", HTTP_IDEMPOTENCY_KEY="k"),
        health.post("/api/v1/reports/", {**report, "facts": "Jiné"}, format="json", HTTP_IDEMPOTENCY_KEY="k"),
    ]
    assert [a.status_code for a in answers] == [401, 404, 403, 400, 200, 429, 201, 409]
    Client().get("/no-such-page/")
    broken = RequestFactory().get("/api/v1/me/")
    log_response("%s: %s", "Internal Server Error", broken.path, response=HttpResponse(status=500), request=broken)
    request_log = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "django.request"]
    assert ("INFO", "Unauthorized: /api/v1/me/") in request_log
    assert ("INFO", "Too Many Requests: /api/v1/notifications/read-all/") in request_log
    assert ("INFO", "Conflict: /api/v1/reports/") in request_log
    assert ("WARNING", "Not Found: /no-such-page/") in request_log
    assert ("ERROR", "Internal Server Error: /api/v1/me/") in request_log
    assert [m for level, m in request_log if level == "WARNING" and m.split(": ")[1].startswith("/api/")] == []


# --- The schema and its pages ----------------------------------------------------------------------------------------


def test_the_schema_and_docs_are_for_logged_in_people(teacher) -> None:
    anonymous = Client()
    assert anonymous.get("/api/schema/").status_code in (401, 403)
    assert anonymous.get("/api/docs/").status_code == 302
    client = Client()
    client.force_login(teacher)
    schema = client.get("/api/schema/?format=json")
    assert schema.status_code == 200
    assert "/api/v1/tasks/{task_id}/action-reports/" in schema.content.decode()
    czech = client.get("/api/schema/?format=json").content.decode()
    english = client.get("/api/schema/?format=json&lang=en").content.decode()
    assert "Report on a plan action" in english
    assert czech != english
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert "swagger-ui" in docs.content.decode()
    assert "cdn" not in docs.content.decode().lower()
    assert client.get("/api/docs/redoc/").status_code == 200


# --- OAuth2 client credentials ------------------------------------------------------------------------------------


def test_an_organisations_application_acts_as_its_2fa_protected_account(teacher) -> None:
    from oauth2_provider.models import Application

    application = Application.objects.create(
        name="Školní systém",
        user=teacher,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        client_secret="tajne-heslo-aplikace-123",
        hash_client_secret=True,
    )
    token_url = "/api/oauth/token/"
    grant = {
        "grant_type": "client_credentials",
        "client_id": application.client_id,
        "client_secret": "tajne-heslo-aplikace-123",
        "scope": "read",
    }
    access = Client().post(token_url, grant).json()["access_token"]
    client = client_with(access)
    assert client.get("/api/v1/me/").status_code == 401  # the owning account has no second factor yet
    with_second_factor(teacher)
    me = client.get("/api/v1/me/").json()
    assert me["username"] == teacher.username
    assert me["scope"] == "read"
    assert client.post("/api/v1/notifications/read-all/").status_code == 403  # a read-scoped access token
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=2)):
        expired = client.get("/api/v1/me/")
    assert expired.status_code == 401
    assert expired.json()["error"]["code"] == "authentication_failed"
    assert expired.json()["error"]["message"] == "Token není platný, vypršel, nebo byl zneplatněn."
    assert expired["WWW-Authenticate"] == 'Bearer realm="api"'
    token_revoke  # noqa: B018 (imported for the lifecycle tests)
