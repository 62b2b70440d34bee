"""Ferry against the published Hook0 Python SDK (hook0-client 2.0.3) and Standard Webhooks verifiers.

Every test uses its own application; the organization, the service token and the Ferry process are
shared by the session (see conftest.py).
"""

from __future__ import annotations

import asyncio
import base64
import datetime
import json
import time
import uuid
from typing import Any, Callable

import pytest
import standardwebhooks
import svix.webhooks
from standardwebhooks.webhooks import WebhookVerificationError as StdWebhookVerificationError

import biscuit_auth
import hook0
from conftest import RestClient
from hook0 import generated as g
from hook0.generated import models as m

TOLERANCE = 300  # seconds, the SDK docs' recommendation
SIGNATURE_HEADER = "x-hook0-signature"


# ------------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------------


def wait_until(predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.3, what: str = "") -> Any:
    """Poll `predicate` until it returns something truthy; fail after `timeout` with the last value."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        last = predicate()
        if last:
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or predicate}; last value: {last!r}")
        time.sleep(interval)


def parse_hook0_signature(value: str) -> dict[str, str]:
    parts = {}
    for part in value.split(","):
        name, _, rest = part.partition("=")
        parts[name.strip()] = rest.strip()
    return parts


def verify_hook0(delivery, secret: str, body: bytes | None = None, headers=None) -> bool:
    """hook0.verify_webhook_signature on what the receiver got (optionally tampered)."""
    return hook0.verify_webhook_signature(
        delivery.header(SIGNATURE_HEADER),
        delivery.body if body is None else body,
        delivery.headers if headers is None else headers,
        secret,
        TOLERANCE,
    )


def new_event(event_type: str, payload: str, *, labels: dict[str, str] | None = None, content_type: str = "application/json", event_id: str | None = None) -> hook0.Event:
    return hook0.Event(
        event_type=event_type,
        payload=payload,
        payload_content_type=content_type,
        labels={"tenant": "t1"} if labels is None else labels,
        event_id=event_id,
    )


def raw_event(application_id: str, event_type: str, *, event_id: str | None = None, labels: dict | None = None, **extra: Any) -> dict:
    body = {
        "application_id": application_id,
        "event_id": event_id or str(uuid.uuid4()),
        "event_type": event_type,
        "payload": json.dumps({"raw": True}),
        "payload_content_type": "application/json",
        "labels": {"tenant": "t1"} if labels is None else labels,
        "occurred_at": datetime.datetime.now(datetime.UTC).isoformat(),
    }
    body.update(extra)
    return body


def assert_problem_shape(reply, status: int, problem_id: str) -> dict:
    assert reply.status == status, f"expected {status}, got {reply.status}: {reply.body!r}"
    content_type = reply.headers.get("content-type", "")
    assert content_type.split(";")[0].strip() == "application/problem+json", content_type
    problem = reply.json()
    for key in ("type", "title", "status", "detail", "id", "validation"):
        assert key in problem, f"problem body lacks `{key}`: {problem}"
    assert problem["id"] == problem_id, problem
    assert problem["status"] == status, problem
    # The SDK's strict decoder must accept it too.
    decoded = m.Problem.from_json(problem)
    assert decoded.id_ == m.ProblemId(problem_id)
    return problem


def events_of(rest, application_id: str) -> list[dict]:
    return rest.get("/api/v1/events", query={"application_id": application_id}).expect(200)


# ------------------------------------------------------------------------------------------------
# 1. upsert_event_types
# ------------------------------------------------------------------------------------------------


def test_upsert_event_types_creates_then_is_a_noop(sdk_client, master, application_id):
    wanted = ["billing.invoice.paid", "billing.invoice.created"]

    created = sdk_client.upsert_event_types(wanted)
    assert sorted(created) == sorted(wanted)

    listed = master.get("/api/v1/event_types", query={"application_id": application_id}).expect(200)
    assert isinstance(listed, list)
    names = {entry["event_type_name"] for entry in listed}
    assert names == set(wanted)
    for entry in listed:
        service, resource_type, verb = entry["event_type_name"].split(".")
        assert (entry["service_name"], entry["resource_type_name"], entry["verb_name"]) == (service, resource_type, verb)

    # Second call: everything already declared -> nothing created, no error.
    assert sdk_client.upsert_event_types(wanted) == []
    # Mixed call: only the missing one is created.
    assert sdk_client.upsert_event_types([*wanted, "billing.refund.issued"]) == ["billing.refund.issued"]

    listed_again = master.get("/api/v1/event_types", query={"application_id": application_id}).expect(200)
    assert sorted(entry["event_type_name"] for entry in listed_again) == sorted([*wanted, "billing.refund.issued"])


# ------------------------------------------------------------------------------------------------
# 2. send_event -> signed delivery (Hook0 signature + Standard Webhooks)
# ------------------------------------------------------------------------------------------------


def test_send_event_is_delivered_and_signed(sdk_client, application_id, create_event_types, create_subscription, receiver):
    event_type = "billing.invoice.paid"
    create_event_types(application_id, [event_type])
    subscription = create_subscription(application_id, [event_type], receiver.url("/hook"))
    secret = subscription["secret"]
    whsec = subscription["standard_webhooks_secret"]
    uuid.UUID(secret)  # the Hook0 signing key is a UUID string
    assert whsec == "whsec_" + base64.b64encode(secret.encode("utf-8")).decode("ascii"), whsec

    # Odd spacing on purpose: the body must be the submitted text, not a re-serialisation.
    payload = '{"invoice_id":  "inv_1",\n "amount": 4200, "currency": "EUR", "note": "caf\\u00e9 ✓"}'
    event_id = sdk_client.send_event(new_event(event_type, payload, labels={"tenant": "t1", "extra": "x"}))
    uuid.UUID(event_id)

    (delivery,) = receiver.wait_for(1)
    assert delivery.method == "POST"
    assert delivery.path == "/hook"
    assert delivery.body == payload.encode("utf-8")
    assert delivery.header("X-Event-Id") == event_id
    assert delivery.header("X-Event-Type") == event_type
    assert delivery.header("Content-Type") == "application/json"
    assert delivery.header("x-custom") == "abc"
    assert (delivery.header("User-Agent") or "").startswith("Ferry/"), delivery.header("User-Agent")

    # --- Hook0 signature ---------------------------------------------------------------------
    signature = delivery.header("X-Hook0-Signature")
    assert signature, delivery.headers
    parts = parse_hook0_signature(signature)
    assert abs(int(parts["t"]) - time.time()) < 60, parts
    assert parts["h"] == "content-type x-custom x-event-id x-event-type", parts
    assert len(parts["v1"]) == 64 and parts["v1"] == parts["v1"].lower(), parts
    assert verify_hook0(delivery, secret) is True

    # --- Standard Webhooks ----------------------------------------------------------------------
    headers = delivery.header_map()
    assert headers["webhook-id"] == event_id
    assert headers["webhook-timestamp"].isdigit()
    assert headers["webhook-signature"].startswith("v1,")
    assert standardwebhooks.Webhook(whsec).verify(delivery.body, headers) == json.loads(payload)
    assert svix.webhooks.Webhook(whsec).verify(delivery.body, headers) is None

    # --- every verifier must refuse a tampered request ---------------------------------------
    tampered = delivery.body.replace(b"4200", b"4201")
    assert tampered != delivery.body
    with pytest.raises(hook0.Hook0ClientError):
        verify_hook0(delivery, secret, body=tampered)
    with pytest.raises(StdWebhookVerificationError):
        standardwebhooks.Webhook(whsec).verify(tampered, headers)
    with pytest.raises(svix.webhooks.WebhookVerificationError):
        svix.webhooks.Webhook(whsec).verify(tampered, headers)

    # a covered header changed (v1 covers headers), a wrong key, a different message id
    forged_headers = [(k, "other.event.type" if k.lower() == "x-event-type" else v) for k, v in delivery.headers]
    with pytest.raises(hook0.Hook0ClientError):
        verify_hook0(delivery, secret, headers=forged_headers)
    with pytest.raises(hook0.Hook0ClientError):
        verify_hook0(delivery, str(uuid.uuid4()))
    with pytest.raises(StdWebhookVerificationError):
        standardwebhooks.Webhook("whsec_" + base64.b64encode(b"not-the-secret").decode()).verify(delivery.body, headers)
    with pytest.raises(svix.webhooks.WebhookVerificationError):
        svix.webhooks.Webhook(whsec).verify(delivery.body, {**headers, "webhook-id": str(uuid.uuid4())})


@pytest.mark.parametrize(
    ("content_type", "payload", "expected_body"),
    [
        ("text/plain", "hello, plain text ✓", "hello, plain text ✓".encode()),
        (
            "application/octet-stream+base64",
            base64.b64encode(b"\x00\x01\xfe\xffbinary").decode(),
            b"\x00\x01\xfe\xffbinary",
        ),
    ],
)
def test_delivery_body_per_content_type(content_type, payload, expected_body, sdk_client, application_id, create_event_types, create_subscription, receiver):
    create_event_types(application_id, ["files.blob.stored"])
    subscription = create_subscription(application_id, ["files.blob.stored"], receiver.url("/blob"))

    event_id = sdk_client.send_event(new_event("files.blob.stored", payload, content_type=content_type))

    (delivery,) = receiver.wait_for(1)
    assert delivery.body == expected_body  # base64 payloads are delivered decoded
    assert delivery.header("Content-Type") == content_type  # the literal payload_content_type
    assert delivery.header("X-Event-Id") == event_id
    assert verify_hook0(delivery, subscription["secret"]) is True
    try:
        expected_body.decode("utf-8")
    except UnicodeDecodeError:
        return  # standardwebhooks/svix 1.1.0/2.9.1 can only verify UTF-8 bodies (they call bytes.decode())
    standardwebhooks.Webhook(subscription["standard_webhooks_secret"]).verify(delivery.body, delivery.header_map(), json_parse=False)
    svix.webhooks.Webhook(subscription["standard_webhooks_secret"]).verify(delivery.body, delivery.header_map())


# ------------------------------------------------------------------------------------------------
# 3. idempotency
# ------------------------------------------------------------------------------------------------


def test_duplicate_event_id_answers_409_event_already_ingested(master, application_id, create_event_types):
    create_event_types(application_id, ["orders.order.placed"])
    body = raw_event(application_id, "orders.order.placed")

    first = master.post("/api/v1/event", body)
    ingested = first.expect(201)
    assert ingested["event_id"] == body["event_id"]
    assert ingested["application_id"] == application_id
    m.IngestedEvent.from_json(ingested)

    second = master.post("/api/v1/event", body)
    assert_problem_shape(second, 409, "EventAlreadyIngested")

    # the trailing-slash form (generated SDKs) is the same route
    third = master.post("/api/v1/event/", body)
    assert_problem_shape(third, 409, "EventAlreadyIngested")

    assert [e["event_id"] for e in events_of(master, application_id)] == [body["event_id"]]


def test_sdk_reports_conflict_on_a_first_attempt(sdk_client, master, application_id, create_event_types):
    """A 409 EventAlreadyIngested to a *first* attempt is a genuine conflict for the SDK."""
    create_event_types(application_id, ["orders.order.placed"])
    body = raw_event(application_id, "orders.order.placed")
    master.post("/api/v1/event", body).expect(201)

    with pytest.raises(hook0.Hook0ClientError) as raised:
        sdk_client.send_event(new_event("orders.order.placed", "{}", event_id=body["event_id"]))
    assert "EventAlreadyIngested" in str(raised.value)


def test_sdk_retry_after_lost_answer_counts_as_success(ferry, service_token, master, application_id, create_event_types, create_subscription, receiver, lossy_proxy):
    """The first answer (201) is lost on the wire; the SDK retries, gets 409 and reports success."""
    create_event_types(application_id, ["orders.order.placed"])
    create_subscription(application_id, ["orders.order.placed"], receiver.url("/orders"))
    proxy = lossy_proxy(drop_first=1)
    client = hook0.Hook0Client(proxy.api_url, application_id, service_token)

    event_id = hook0.generate_event_id()
    returned = client.send_event(new_event("orders.order.placed", '{"order": 1}', event_id=event_id))

    assert returned == event_id
    assert proxy.connections == 2, f"expected exactly one retry, proxy saw {proxy.connections} connection(s)"
    assert len(proxy.dropped_answers) == 1 and b" 201" in proxy.dropped_answers[0], proxy.dropped_answers
    # both attempts carried the same client-chosen id
    assert all(event_id.encode() in request for request in proxy.requests)

    events = events_of(master, application_id)
    assert [e["event_id"] for e in events] == [event_id]
    deliveries = receiver.wait_for(1)
    deliveries = receiver.settle(2.0)
    assert [d.header("X-Event-Id") for d in deliveries] == [event_id]


# ------------------------------------------------------------------------------------------------
# 4. routing by labels and event type
# ------------------------------------------------------------------------------------------------


def test_labels_and_event_type_routing(sdk_client, application_id, create_event_types, create_subscription, receiver):
    create_event_types(application_id, ["shop.cart.updated", "shop.cart.emptied"])
    create_subscription(application_id, ["shop.cart.updated"], receiver.url("/one-label"), labels={"tenant": "t1"})
    create_subscription(application_id, ["shop.cart.updated"], receiver.url("/two-labels"), labels={"tenant": "t1", "env": "prod"})

    def send(labels: dict[str, str], event_type: str = "shop.cart.updated") -> str:
        return sdk_client.send_event(new_event(event_type, '{"cart": 1}', labels=labels))

    # non-matching events first, so a wrongly routed one would show up before the expected ones
    wrong_value = send({"tenant": "t2"})
    missing_key = send({"region": "eu"})
    wrong_type = send({"tenant": "t1", "env": "prod"}, "shop.cart.emptied")
    only_tenant = send({"tenant": "t1"})
    both = send({"tenant": "t1", "env": "prod", "region": "eu"})

    receiver.wait_for(3)
    got = {(d.path, d.header("X-Event-Id")) for d in receiver.settle(2.5)}
    expected = {("/one-label", only_tenant), ("/one-label", both), ("/two-labels", both)}
    assert got == expected, {
        "unexpected": got - expected,
        "missing": expected - got,
        "ids": {"wrong_value": wrong_value, "missing_key": missing_key, "wrong_type": wrong_type},
    }
    assert len(receiver.snapshot()) == 3


# ------------------------------------------------------------------------------------------------
# 5. the generated client decodes Ferry's answers
# ------------------------------------------------------------------------------------------------


def wait_for_attempts(transport, application_id: str, count: int, status: m.RequestAttemptStatusType, **filters) -> list[m.RequestAttempt]:
    api = g.RequestAttemptsApi(transport)

    def done():
        attempts = api.read(application_id, **filters)
        finished = [a for a in attempts if a.status.type_ == status]
        return attempts if len(attempts) == count and len(finished) == count else None

    return wait_until(done, timeout=15, what=f"{count} request attempt(s) with status {status.value}")


def test_generated_api_decodes_ferry_answers(ferry, transport, organization_id, sdk_client, application_id, create_event_types, create_subscription, receiver):
    create_event_types(application_id, ["crm.contact.created"])
    subscription = create_subscription(application_id, ["crm.contact.created"], receiver.url("/crm"))
    payload = '{"contact": {"id": 7, "name": "Ada"}}'
    event_id = sdk_client.send_event(new_event("crm.contact.created", payload, labels={"tenant": "t1", "src": "compat"}))
    receiver.wait_for(1)

    app_uuid = uuid.UUID(application_id)

    applications = g.ApplicationsApi(transport).list(organization_id)
    assert app_uuid in {a.application_id for a in applications}
    info = g.ApplicationsApi(transport).get(application_id)
    assert info.application_id == app_uuid and info.organization_id == uuid.UUID(organization_id)
    assert info.name == "compat app"
    assert info.onboarding_steps.event_type == m.ApplicationInfoOnboardingStepsEventType.DONE
    assert info.onboarding_steps.subscription == m.ApplicationInfoOnboardingStepsSubscription.DONE
    assert info.onboarding_steps.event == m.ApplicationInfoOnboardingStepsEvent.DONE

    event_types = g.EventTypesApi(transport).list(application_id)
    assert [t.event_type_name for t in event_types] == ["crm.contact.created"]
    one_type = g.EventTypesApi(transport).get("crm.contact.created", application_id)
    assert (one_type.service_name, one_type.resource_type_name, one_type.verb_name) == ("crm", "contact", "created")

    subscriptions = g.SubscriptionsApi(transport).list(application_id)
    assert len(subscriptions) == 1
    sub = subscriptions[0]
    assert sub.subscription_id == uuid.UUID(subscription["subscription_id"])
    assert str(sub.secret) == subscription["secret"]
    assert sub.labels == {"tenant": "t1"} and (sub.label_key, sub.label_value) == ("tenant", "t1")
    assert sub.event_types == ["crm.contact.created"] and sub.is_enabled is True
    assert sub.target.type_ == "http" and sub.target.method == "POST" and sub.target.url == receiver.url("/crm")
    assert sub.target.headers == {"x-custom": "abc"}
    assert sub.description == "compat" and sub.dedicated_workers == [] and sub.metadata == {}
    assert g.SubscriptionsApi(transport).get(str(sub.subscription_id)) == sub

    events = g.EventsApi(transport).list(application_id)
    assert [e.event_id for e in events] == [uuid.UUID(event_id)]
    assert events[0].labels == {"tenant": "t1", "src": "compat"}
    event = g.EventsApi(transport).get(event_id, application_id)
    assert base64.b64decode(event.payload, validate=True) == payload.encode()  # always base64
    assert event.payload_content_type == "application/json"
    assert event.event_type_name == "crm.contact.created"
    assert event.received_at.tzinfo is not None and event.occurred_at.tzinfo is not None

    attempts = wait_for_attempts(transport, application_id, 1, m.RequestAttemptStatusType.SUCCESSFUL)
    attempt = attempts[0]
    assert attempt.event_id == uuid.UUID(event_id) and attempt.event.event_id == uuid.UUID(event_id)
    assert attempt.event.event_type_name == "crm.contact.created"
    assert attempt.subscription.subscription_id == sub.subscription_id
    assert attempt.subscription.description == "compat"
    assert attempt.retry_count == 0
    assert attempt.succeeded_at is not None and attempt.failed_at is None
    assert attempt.status.at is not None
    assert attempt.http_response_status in (None, 200)
    assert attempt.response_id is not None
    assert g.RequestAttemptsApi(transport).get(str(attempt.request_attempt_id), application_id) == attempt

    filtered = g.RequestAttemptsApi(transport).read(application_id, event_id=event_id, subscription_id=str(sub.subscription_id))
    assert [a.request_attempt_id for a in filtered] == [attempt.request_attempt_id]
    assert g.RequestAttemptsApi(transport).read(application_id, event_id=str(uuid.uuid4())) == []

    response = g.ResponseApi(transport).get(str(attempt.response_id), application_id)
    assert response.response_id == attempt.response_id
    assert response.http_code == 200
    assert response.body == "ok from receiver"
    assert response.response_error_name is None
    assert response.elapsed_time_ms is not None and response.elapsed_time_ms >= 0
    assert {k.lower(): v for k, v in (response.headers or {}).items()}.get("content-type") == "text/plain"


def test_generated_replay_redelivers(transport, sdk_client, application_id, create_event_types, create_subscription, receiver):
    create_event_types(application_id, ["crm.contact.deleted"])
    create_subscription(application_id, ["crm.contact.deleted"], receiver.url("/replay"))
    event_id = sdk_client.send_event(new_event("crm.contact.deleted", '{"id": 1}'))
    receiver.wait_for(1)

    assert g.EventsApi(transport).replay(event_id, m.ReplayEvent(uuid.UUID(application_id))) is None
    deliveries = receiver.wait_for(2)
    assert [d.header("X-Event-Id") for d in deliveries] == [event_id, event_id]
    assert deliveries[1].header("webhook-id") == event_id

    with pytest.raises(g.NotFoundError):
        g.EventsApi(transport).replay(str(uuid.uuid4()), m.ReplayEvent(uuid.UUID(application_id)))


def test_generated_application_crud(transport, organization_id):
    apps = g.ApplicationsApi(transport)
    created = apps.create(m.ApplicationPost(name="generated app", organization_id=uuid.UUID(organization_id)))
    assert created.name == "generated app" and created.organization_id == uuid.UUID(organization_id)

    info = apps.get(str(created.application_id))
    assert info.onboarding_steps.event_type == m.ApplicationInfoOnboardingStepsEventType.TO_DO
    assert info.quotas.events_per_day_limit >= 0 and info.quotas.days_of_events_retention_limit >= 0

    renamed = apps.update(str(created.application_id), m.ApplicationPost(name="renamed app", organization_id=uuid.UUID(organization_id)))
    assert renamed.application_id == created.application_id and renamed.name == "renamed app"
    assert any(a.application_id == created.application_id and a.name == "renamed app" for a in apps.list(organization_id))

    assert apps.delete(str(created.application_id)) is None
    assert created.application_id not in {a.application_id for a in apps.list(organization_id)}
    with pytest.raises((g.NotFoundError, g.ForbiddenError)):
        apps.get(str(created.application_id))


def test_generated_event_type_crud(transport, application_id):
    api = g.EventTypesApi(transport)
    created = api.create(m.EventTypePost(application_id=uuid.UUID(application_id), service="inv", resource_type="item", verb="moved"))
    assert created == m.EventType(event_type_name="inv.item.moved", resource_type_name="item", service_name="inv", verb_name="moved")
    # creating it again is not an error (Hook0 upserts)
    assert api.create(m.EventTypePost(application_id=uuid.UUID(application_id), service="inv", resource_type="item", verb="moved")) == created
    assert api.get("inv.item.moved", application_id) == created
    assert api.list(application_id) == [created]

    assert api.delete("inv.item.moved", application_id) is None
    assert api.list(application_id) == []
    with pytest.raises(g.NotFoundError):
        api.get("inv.item.moved", application_id)


def test_generated_subscription_crud(transport, application_id, create_event_types, receiver):
    create_event_types(application_id, ["inv.item.moved", "inv.item.lost"])
    api = g.SubscriptionsApi(transport)
    body = m.SubscriptionPost(
        application_id=uuid.UUID(application_id),
        event_types=["inv.item.moved"],
        is_enabled=True,
        target=m.SubscriptionPostTarget(headers={"X-Upper-Case": "kept"}, method="PUT", type_="http", url=receiver.url("/inv")),
        description="generated",
        labels={"team": "ops"},
        metadata={"owner": "compat"},
    )
    created = api.create(body)
    assert created.application_id == uuid.UUID(application_id)
    assert created.event_types == ["inv.item.moved"] and created.is_enabled is True
    assert created.target.method == "PUT" and created.target.headers == {"x-upper-case": "kept"}
    assert created.labels == {"team": "ops"} and (created.label_key, created.label_value) == ("team", "ops")
    assert created.metadata == {"owner": "compat"} and created.description == "generated"
    assert created.dedicated_workers == []

    assert api.get(str(created.subscription_id)) == created
    assert [s.subscription_id for s in api.list(application_id)] == [created.subscription_id]

    updated = api.update(
        str(created.subscription_id),
        m.SubscriptionPost(
            application_id=uuid.UUID(application_id),
            event_types=["inv.item.moved", "inv.item.lost"],
            is_enabled=False,
            target=m.SubscriptionPostTarget(headers={}, method="POST", type_="http", url=receiver.url("/inv2")),
            labels={"team": "ops"},
        ),
    )
    assert updated.subscription_id == created.subscription_id and updated.secret == created.secret
    assert sorted(updated.event_types) == ["inv.item.lost", "inv.item.moved"]
    assert updated.is_enabled is False and updated.target.url == receiver.url("/inv2") and updated.target.headers == {}
    assert updated.updated_at >= created.updated_at

    assert api.delete(str(created.subscription_id), application_id) is None
    assert api.list(application_id) == []


def test_generated_application_secrets(ferry, transport, application_id, create_event_types):
    create_event_types(application_id, ["auth.secret.used"])
    api = g.ApplicationSecretsApi(transport)
    created = api.create(m.ApplicationSecretPost(application_id=uuid.UUID(application_id), name="compat secret"))
    assert created.name == "compat secret" and created.deleted_at is None
    assert created.token in {s.token for s in api.read(application_id)}

    renamed = api.update(str(created.token), m.ApplicationSecretPost(application_id=uuid.UUID(application_id), name="renamed"))
    assert renamed.token == created.token and renamed.name == "renamed"

    # an application secret is a bearer credential for its application (D12)
    client = hook0.Hook0Client(ferry.api_url, application_id, str(created.token))
    assert client.send_event(new_event("auth.secret.used", "{}"))

    assert api.delete(str(created.token), application_id) is None
    with pytest.raises(hook0.Hook0ClientError):
        client.send_event(new_event("auth.secret.used", "{}"))


def test_generated_service_tokens(ferry, transport, organization_id):
    api = g.ServiceTokenApi(transport)
    created = api.create(m.ServiceTokenPost(name="second token", organization_id=uuid.UUID(organization_id)))
    assert created.name == "second token" and created.biscuit
    assert created.token_id in {t.token_id for t in api.list(organization_id)}
    assert api.get(str(created.token_id), organization_id).token_id == created.token_id

    edited = api.edit(str(created.token_id), m.ServiceTokenPost(name="renamed token", organization_id=uuid.UUID(organization_id)))
    assert edited.token_id == created.token_id and edited.name == "renamed token"

    other = hook0.HttpTransport(ferry.base_url, created.biscuit)
    assert isinstance(g.ApplicationsApi(other).list(organization_id), list)

    assert api.delete(str(created.token_id), organization_id) is None
    with pytest.raises(g.ProblemError) as raised:
        g.ApplicationsApi(other).list(organization_id)
    assert raised.value.status in (401, 403) and raised.value.problem is not None


def test_generated_public_endpoints(transport, organization_id, application_id):
    instance = g.InstanceApi(transport).get()
    assert isinstance(instance.registration_disabled, bool)
    quotas = g.QuotasApi(transport).get()
    assert isinstance(quotas.enabled, bool)
    problems = g.ErrorsApi(transport).list()
    ids = {p.id_ for p in problems}
    assert {m.ProblemId.EVENT_ALREADY_INGESTED, m.ProblemId.VALIDATION, m.ProblemId.NOT_FOUND} <= ids
    assert set(g.PayloadContentTypesApi(transport).list()) >= {"text/plain", "application/json", "application/octet-stream+base64"}
    assert isinstance(g.EventsPerDayApi(transport).list_for_application(application_id), list)
    assert isinstance(g.EventsPerDayApi(transport).list_for_organization(organization_id), list)
    today = datetime.date.today().isoformat()
    entries = g.EventsPerDayApi(transport).list_for_application(application_id, from_=today, to=today)
    assert all(e.application_id == uuid.UUID(application_id) for e in entries)


# ------------------------------------------------------------------------------------------------
# 6. problem bodies
# ------------------------------------------------------------------------------------------------


def test_validation_problem_is_raised_typed(transport, master, application_id, create_event_types):
    create_event_types(application_id, ["orders.order.placed"])
    post = m.EventPost(
        application_id=uuid.UUID(application_id),
        event_type="orders.order.placed",
        labels={},  # at least one label is required
        occurred_at=datetime.datetime.now(datetime.UTC),
        payload="{}",
        payload_content_type="application/json",
        event_id=uuid.uuid4(),
    )
    with pytest.raises(g.ValidationError) as raised:
        g.EventsApi(transport).ingest(post)
    assert raised.value.status == 422
    assert raised.value.problem is not None and raised.value.problem.id_ is m.ProblemId.VALIDATION
    assert isinstance(raised.value.problem.validation, dict) and "labels" in raised.value.problem.validation

    reply = master.post("/api/v1/event", post.to_json())
    problem = assert_problem_shape(reply, 422, "Validation")
    assert isinstance(problem["validation"], dict)
    assert events_of(master, application_id) == []


def test_handwritten_client_does_not_retry_a_validation_problem(service_token, application_id, create_event_types, lossy_proxy):
    create_event_types(application_id, ["orders.order.placed"])
    proxy = lossy_proxy(drop_first=0)  # counting pass-through
    client = hook0.Hook0Client(proxy.api_url, application_id, service_token)
    with pytest.raises(hook0.Hook0ClientError) as raised:
        client.send_event(new_event("orders.order.placed", "{}", labels={}))
    assert "Validation" in str(raised.value)
    assert proxy.connections == 1


def test_an_event_of_a_deleted_event_type_is_still_delivered(sdk_client, transport, application_id, create_event_types, create_subscription, receiver):
    # Hook0 soft-deletes event types and still ingests and dispatches their events; the SDK does not retry a 400,
    # so refusing them would silently drop a switching user's events.
    create_event_types(application_id, ["crm.lead.scored"])
    create_subscription(application_id, ["crm.lead.scored"], receiver.url("/deleted-type"))
    assert g.EventTypesApi(transport).delete("crm.lead.scored", application_id) is None
    assert [t.event_type_name for t in g.EventTypesApi(transport).list(application_id)] == []
    event_id = sdk_client.send_event(new_event("crm.lead.scored", '{"score": 7}', labels={"tenant": "t1"}))
    (delivery,) = receiver.wait_for(1)
    assert delivery.path == "/deleted-type"
    assert delivery.header("X-Event-Id") == event_id


def test_label_limits_count_bytes_as_hook0_does(sdk_client, master, application_id, create_event_types):
    create_event_types(application_id, ["crm.lead.tagged"])
    # 25 × "é" is 50 bytes: accepted; 26 × "é" is 52 bytes (26 characters): Hook0's 422 labels-property-length.
    sdk_client.send_event(new_event("crm.lead.tagged", "{}", labels={"env": "é" * 25}))
    with pytest.raises(hook0.Hook0ClientError) as raised:
        sdk_client.send_event(new_event("crm.lead.tagged", "{}", labels={"env": "é" * 26}))
    assert "Validation" in str(raised.value)
    reply = master.post("/api/v1/event", raw_event(application_id, "crm.lead.tagged", labels={"env": "é" * 26}))
    problem = assert_problem_shape(reply, 422, "Validation")
    assert [issue["code"] for issue in problem["validation"]["labels"]] == ["labels-property-length"]


def test_oversized_body_and_wrong_method_answer_ids_the_sdk_knows(transport, master):
    too_big = master.post("/api/v1/organizations", raw_body=b'{"name":"' + b"x" * 2_200_000 + b'"}')
    problem = assert_problem_shape(too_big, 400, "JsonPayload")
    assert "Body is too big (maximum is 2097152 bytes)" in problem["detail"]
    wrong = master.call("PATCH", "/api/v1/event_types")
    assert_problem_shape(wrong, 405, "NotFound")
    assert "POST" in wrong.headers["allow"]
    assert m.ProblemId("NotFound") is m.ProblemId.NOT_FOUND


def test_environment_variables_are_listed_without_credentials(ferry, master):
    reply = master.get("/api/v1/environment_variables", token=None)
    variables = reply.expect(200)
    by_name = {v["name"]: v for v in variables}
    assert set(by_name["worker_concurrency"]) == {"name", "env_var", "description", "default", "sensitive", "required", "group"}
    assert by_name["worker_concurrency"]["env_var"] == "FERRY_WORKER_CONCURRENCY"
    assert by_name["master_api_key"]["sensitive"] is True
    assert ferry.master_key not in reply.body.decode()


def test_a_service_token_attenuated_with_biscuit_python_is_enforced(ferry, master, organization_id, application_id, create_event_types):
    # The reference implementation reads Ferry's token with the published key, finds Hook0's facts, and appends a
    # read-only block offline; Ferry then refuses that child anything outside its allow-list.
    public_hex = master.get("/api/v1/instance", token=None).expect(200)["biscuit_public_key"]
    root_key = biscuit_auth.PublicKey.from_bytes(bytes.fromhex(public_hex), biscuit_auth.Algorithm.Ed25519)
    created = master.post("/api/v1/service_token", {"organization_id": organization_id, "name": "attenuated"}).expect(201)
    token = biscuit_auth.Biscuit.from_base64(created["biscuit"], root_key)
    authority = token.block_source(0)
    assert 'type("service_access");' in authority and "version(1);" in authority, authority
    assert f"organization_id(hex:{uuid.UUID(organization_id).hex});" in authority, authority
    assert f"token_id(hex:{uuid.UUID(created['token_id']).hex});" in authority, authority
    create_event_types(application_id, ["crm.note.added"])
    read_only = token.append(biscuit_auth.BlockBuilder(
        'check if action($a), ["event_type:list", "application:get"].contains($a);')).to_base64()
    as_child = RestClient(ferry.base_url, read_only)
    listed = as_child.get("/api/v1/event_types", query={"application_id": application_id}).expect(200)
    assert [t["event_type_name"] for t in listed] == ["crm.note.added"]
    refused = as_child.post("/api/v1/event", raw_event(application_id, "crm.note.added"))
    assert_problem_shape(refused, 403, "Forbidden")
    assert events_of(master, application_id) == []
    # Revoking the root kills the child too.
    master.delete(f"/api/v1/service_token/{created['token_id']}", query={"organization_id": organization_id}).expect(204)
    dead = as_child.get("/api/v1/event_types", query={"application_id": application_id})
    assert_problem_shape(dead, 403, "AuthInvalidBiscuit")


def test_other_problem_ids(transport, master, ferry, application_id):
    with pytest.raises(g.NotFoundError) as raised:
        g.EventsApi(transport).get(str(uuid.uuid4()), application_id)
    assert raised.value.status == 404

    with pytest.raises(g.EventTypeDoesNotExistError):
        g.EventsApi(transport).ingest(
            m.EventPost(
                application_id=uuid.UUID(application_id),
                event_type="no.such.type",
                labels={"tenant": "t1"},
                occurred_at=datetime.datetime.now(datetime.UTC),
                payload="{}",
                payload_content_type="application/json",
            )
        )

    no_auth = master.get("/api/v1/events", query={"application_id": application_id}, token=None)
    problem = assert_problem_shape(no_auth, 401, "AuthNoAuthorizationHeader")
    assert problem["validation"] is None

    bad_json = master.post("/api/v1/event", raw_body=b"{not json")
    assert_problem_shape(bad_json, 400, "JsonPayload")


# ------------------------------------------------------------------------------------------------
# extras: retries on the delivery side, the async transport, other SDKs' event shapes
# ------------------------------------------------------------------------------------------------


def test_failed_deliveries_are_retried_then_given_up(transport, sdk_client, application_id, create_event_types, create_subscription, receiver):
    """FERRY_RETRY_SCHEDULE=1s, FERRY_MAX_RETRIES=2 -> exactly 3 attempts about 1 s apart."""
    receiver.status = 500
    receiver.response_body = b"boom"
    create_event_types(application_id, ["ops.job.failed"])
    subscription = create_subscription(application_id, ["ops.job.failed"], receiver.url("/failing"))
    event_id = sdk_client.send_event(new_event("ops.job.failed", '{"job": 9}'))

    receiver.wait_for(3, timeout=15)
    deliveries = receiver.settle(3.0)
    assert len(deliveries) == 3, deliveries
    assert {d.header("X-Event-Id") for d in deliveries} == {event_id}
    assert {d.header("webhook-id") for d in deliveries} == {event_id}
    for delivery in deliveries:
        assert verify_hook0(delivery, subscription["secret"]) is True
        svix.webhooks.Webhook(subscription["standard_webhooks_secret"]).verify(delivery.body, delivery.header_map())
    gaps = [b.received_at - a.received_at for a, b in zip(deliveries, deliveries[1:])]
    assert all(0.8 <= gap <= 6.0 for gap in gaps), gaps

    attempts = wait_for_attempts(transport, application_id, 3, m.RequestAttemptStatusType.FAILED)
    assert sorted(a.retry_count for a in attempts) == [0, 1, 2]
    for attempt in attempts:
        assert attempt.failed_at is not None and attempt.succeeded_at is None
        response = g.ResponseApi(transport).get(str(attempt.response_id), application_id)
        assert response.http_code == 500 and response.body == "boom"


def test_async_client_and_transport(ferry, service_token, application_id, create_subscription, receiver):
    """Hook0AsyncClient and the generated aio layer use a hand-written HTTP/1.1 client (Connection: close)."""

    async def scenario() -> str:
        client = hook0.Hook0AsyncClient(ferry.api_url, application_id, service_token)
        created = await client.upsert_event_types(["async.thing.happened", "async.thing.removed"])
        assert sorted(created) == ["async.thing.happened", "async.thing.removed"]
        assert await client.upsert_event_types(["async.thing.happened"]) == []

        create_subscription(application_id, ["async.thing.happened"], receiver.url("/async"))
        event_id = await client.send_event(new_event("async.thing.happened", '{"async": true}'))

        aio = hook0.AsyncHttpTransport(ferry.base_url, service_token)
        types = await g.EventTypesAsyncApi(aio).list(application_id)
        assert sorted(t.event_type_name for t in types) == ["async.thing.happened", "async.thing.removed"]
        assert await g.EventTypesAsyncApi(aio).delete("async.thing.removed", application_id) is None  # 204
        event = await g.EventsAsyncApi(aio).get(event_id, application_id)
        assert base64.b64decode(event.payload) == b'{"async": true}'
        with pytest.raises(g.NotFoundError):
            await g.EventsAsyncApi(aio).get(str(uuid.uuid4()), application_id)
        return event_id

    event_id = asyncio.run(asyncio.wait_for(scenario(), 60))
    (delivery,) = receiver.wait_for(1)
    assert delivery.header("X-Event-Id") == event_id


@pytest.mark.parametrize(
    "variant",
    [
        {"metadata": None, "occurred_at": "2026-01-02T03:04:05.123456789Z"},  # Rust SDK (chrono)
        {"occurred_at": "2026-01-02T03:04:05.123Z"},  # TypeScript SDK (Date.toISOString)
        {"metadata": {"k": "v"}, "occurred_at": "2026-01-02T03:04:05.123456+00:00"},  # Python SDK
        {"occurred_at": "2026-01-02T03:04:05+00:00"},  # Python datetime without microseconds
    ],
    ids=["rust", "typescript", "python", "python-no-fraction"],
)
def test_ingest_accepts_every_sdk_event_shape(variant, master, application_id, create_event_types):
    create_event_types(application_id, ["orders.order.placed"])
    body = raw_event(application_id, "orders.order.placed", **variant)
    answer = master.post("/api/v1/event", body).expect(201)
    assert answer["event_id"] == body["event_id"]
    m.IngestedEvent.from_json(answer)
