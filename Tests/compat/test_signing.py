"""Standard Webhooks v1a (Ed25519) signatures and secret rotation, checked with unchanged verifiers.

standardwebhooks 1.1.0 and svix 2.9.1 verify only symmetric `v1` entries (they skip `v1a`), so the v1a
signatures are checked with the specification's algorithm: Ed25519 over "{webhook-id}.{webhook-timestamp}.{body}"
with the `whpk_` public key, using `cryptography`'s Ed25519 implementation.
"""
from __future__ import annotations

import base64
import time
import uuid

import hook0
import standardwebhooks
import svix.webhooks
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from standardwebhooks.webhooks import WebhookVerificationError as StdWebhookVerificationError

from test_sdk import new_event, wait_until

TOLERANCE = 300


def verify_v1a(delivery, public_key: str) -> bool:
    """True when some `v1a` entry of webhook-signature verifies with `public_key` (whpk_...)."""
    assert public_key.startswith("whpk_"), public_key
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key[len("whpk_"):]))
    headers = delivery.header_map()
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + delivery.body
    for entry in headers["webhook-signature"].split(" "):
        version, _, signature = entry.partition(",")
        if version != "v1a":
            continue
        try:
            key.verify(base64.b64decode(signature), signed)
            return True
        except InvalidSignature:
            continue
    return False


def verifies_standard(delivery, whsec: str) -> bool:
    headers = delivery.header_map()
    try:
        standardwebhooks.Webhook(whsec).verify(delivery.body, headers)
        svix.webhooks.Webhook(whsec).verify(delivery.body, headers)
        return True
    except StdWebhookVerificationError:
        return False


def verifies_hook0(delivery, header: str, secret: str) -> bool:
    value = delivery.header(header)
    if value is None:
        return False
    try:
        return hook0.verify_webhook_signature(value, delivery.body, delivery.headers, secret, TOLERANCE)
    except hook0.Hook0ClientError:
        return False


def deliver_one(sdk_client, receiver, event_type: str, count_before: int):
    sdk_client.send_event(new_event(event_type, '{"n": %d}' % count_before))
    return receiver.wait_for(count_before + 1)[-1]


def test_v1a_signatures_and_a_rotation_verify_with_unchanged_libraries(
    master, sdk_client, application_id, create_event_types, create_subscription, receiver
):
    event_type = "billing.invoice.paid"
    create_event_types(application_id, [event_type])
    created = create_subscription(application_id, [event_type], receiver.url("/signed"), ed25519_signing=True)
    subscription_id = created["subscription_id"]
    assert created["ed25519_signing"] is True
    public_key = created["standard_webhooks_public_key"]
    assert public_key.startswith("whpk_") and len(base64.b64decode(public_key[5:])) == 32, public_key
    assert created["previous_secret_expires_at"] is None
    old_secret, old_whsec = created["secret"], created["standard_webhooks_secret"]

    first = deliver_one(sdk_client, receiver, event_type, 0)
    versions = [entry.split(",")[0] for entry in first.header("webhook-signature").split(" ")]
    assert versions == ["v1", "v1a"], versions
    assert verify_v1a(first, public_key)
    assert not verify_v1a(first, "whpk_" + base64.b64encode(bytes(32)).decode())
    tampered = type(first)(first.method, first.path, first.headers, first.body + b" ")
    assert not verify_v1a(tampered, public_key)
    assert verifies_standard(first, old_whsec) and verifies_hook0(first, "x-hook0-signature", old_secret)

    # A Hook0 client's full replace (no ed25519_signing field) keeps v1a and its key.
    kept = master.put(
        f"/api/v1/subscriptions/{subscription_id}",
        {
            "application_id": application_id, "is_enabled": True, "event_types": [event_type],
            "labels": {"tenant": "t1"}, "description": "compat",
            "target": {"type": "http", "method": "POST", "url": receiver.url("/signed"), "headers": {}},
        },
    ).expect(200)
    assert kept["ed25519_signing"] is True and kept["standard_webhooks_public_key"] == public_key

    # Rotate with a grace period: both secrets and both keys sign until it ends.
    path = f"/api/v1/subscriptions/{subscription_id}/secret/rotate"
    for grace in (-1, 2_592_001):
        refused = master.post(path, {"application_id": application_id, "grace_period_seconds": grace})
        assert refused.status == 422 and refused.json()["id"] == "Validation", refused.body
    unknown = master.post(
        f"/api/v1/subscriptions/{uuid.uuid4()}/secret/rotate", {"application_id": application_id})
    assert unknown.status == 404, unknown.body
    grace_seconds = 4
    rotated = master.post(path, {"application_id": application_id, "grace_period_seconds": grace_seconds}).expect(200)
    new_secret, new_whsec = rotated["secret"], rotated["standard_webhooks_secret"]
    new_public_key = rotated["standard_webhooks_public_key"]
    assert new_secret != old_secret and new_public_key != public_key
    assert rotated["previous_standard_webhooks_public_key"] == public_key
    assert rotated["previous_secret_expires_at"] is not None
    rotated_at = time.monotonic()

    during = deliver_one(sdk_client, receiver, event_type, 1)
    versions = [entry.split(",")[0] for entry in during.header("webhook-signature").split(" ")]
    assert versions == ["v1", "v1", "v1a", "v1a"], versions
    assert verifies_standard(during, new_whsec), "the new secret verifies"
    assert verifies_standard(during, old_whsec), "the old secret still verifies during the grace period"
    assert verify_v1a(during, new_public_key) and verify_v1a(during, public_key)
    assert verifies_hook0(during, "x-hook0-signature", new_secret)
    assert not verifies_hook0(during, "x-hook0-signature", old_secret)
    assert verifies_hook0(during, "x-hook0-signature-previous", old_secret)
    assert not verifies_standard(during, "whsec_" + base64.b64encode(str(uuid.uuid4()).encode()).decode())

    # After the grace period only the new secret and key sign.
    time.sleep(max(0.0, grace_seconds + 0.5 - (time.monotonic() - rotated_at)))
    after = deliver_one(sdk_client, receiver, event_type, 2)
    assert verifies_standard(after, new_whsec) and not verifies_standard(after, old_whsec)
    assert verify_v1a(after, new_public_key) and not verify_v1a(after, public_key)
    assert after.header("x-hook0-signature-previous") is None
    shown = master.get(f"/api/v1/subscriptions/{subscription_id}", query={"application_id": application_id}).expect(200)
    assert shown["previous_secret_expires_at"] is None and shown["previous_standard_webhooks_public_key"] is None

    # Turning v1a off drops the key; the symmetric signatures go on.
    off = master.put(
        f"/api/v1/subscriptions/{subscription_id}",
        {
            "application_id": application_id, "is_enabled": True, "event_types": [event_type],
            "labels": {"tenant": "t1"}, "description": "compat", "ed25519_signing": False,
            "target": {"type": "http", "method": "POST", "url": receiver.url("/signed"), "headers": {}},
        },
    ).expect(200)
    assert off["ed25519_signing"] is False and off["standard_webhooks_public_key"] is None
    last = deliver_one(sdk_client, receiver, event_type, 3)
    assert last.header("webhook-signature").count("v1a,") == 0 and verifies_standard(last, new_whsec)
