"""People against a running Ferry, read with the Biscuit reference implementation (biscuit-python): the first-start
administrator signs in, the access token decodes to Hook0's user_access facts, a copy attenuated offline is held to
its allow-list, and logout ends it."""

from __future__ import annotations

import re
import uuid

import biscuit_auth
from conftest import RestClient
from test_sdk import assert_problem_shape


def administrator(ferry) -> tuple[str, str]:
    text = ferry.stdout_path.read_text()
    email = re.search(r"administrator:\s+(\S+)", text)
    password = re.search(r"password:\s+(\S+)", text)
    assert email and password, text
    return email.group(1), password.group(1)


def test_the_administrator_signs_in_and_its_token_reads_as_hook0s(ferry, master):
    email, password = administrator(ferry)
    anonymous = RestClient(ferry.base_url, None)
    login = anonymous.post("/api/v1/auth/login", {"email": email.upper(), "password": password}).expect(201)
    assert login["email"] == email and login["first_name"] == "Ferry"
    public_hex = anonymous.get("/api/v1/instance").expect(200)["biscuit_public_key"]
    root_key = biscuit_auth.PublicKey.from_bytes(bytes.fromhex(public_hex), biscuit_auth.Algorithm.Ed25519)
    token = biscuit_auth.Biscuit.from_base64(login["access_token"], root_key)
    authority = token.block_source(0)
    assert 'type("user_access");' in authority and "version(1);" in authority, authority
    assert f"user_id(hex:{uuid.UUID(login['user_id']).hex});" in authority, authority
    assert f'email("{email}");' in authority, authority
    for fact in ("session_id(hex:", "token_id(hex:", "created_at(", 'first_name("Ferry");'):
        assert fact in authority, authority
    assert "check if time($time), $time < " in authority, authority

    person = RestClient(ferry.base_url, login["access_token"])
    organizations = person.get("/api/v1/organizations").expect(200)
    assert [o["role"] for o in organizations] == ["editor"]
    organization_id = organizations[0]["organization_id"]
    assert f"organization_role(hex:{uuid.UUID(organization_id).hex}, \"editor\");" in authority, authority

    # Attenuated offline to reading the organization only: the child reads it and may do nothing else.
    read_only = token.append(biscuit_auth.BlockBuilder(
        'check if action($a), ["organization:get"].contains($a);')).to_base64()
    child = RestClient(ferry.base_url, read_only)
    child.get(f"/api/v1/organizations/{organization_id}").expect(200)
    refused = child.post("/api/v1/applications", {"organization_id": organization_id, "name": "not allowed"})
    assert_problem_shape(refused, 403, "Forbidden")

    # A refresh renews the pair; the refresh token read by biscuit-python has Hook0's refresh facts.
    refresh = biscuit_auth.Biscuit.from_base64(login["refresh_token"], root_key).block_source(0)
    assert 'type("refresh");' in refresh and f"user_id(hex:{uuid.UUID(login['user_id']).hex});" in refresh, refresh
    renewed = RestClient(ferry.base_url, login["refresh_token"]).post("/api/v1/auth/refresh").expect(201)
    assert renewed["access_token"] != login["access_token"]

    # Logout ends the session: the token, its attenuated child and the renewed pair all stop at once.
    RestClient(ferry.base_url, renewed["access_token"]).post("/api/v1/auth/logout").expect(204)
    assert_problem_shape(child.get(f"/api/v1/organizations/{organization_id}"), 403, "AuthInvalidBiscuit")
    assert_problem_shape(person.get("/api/v1/organizations"), 403, "AuthInvalidBiscuit")


def test_registration_and_begin_reset_answer_like_hook0(ferry):
    anonymous = RestClient(ferry.base_url, None)
    address = f"sdk-{uuid.uuid4().hex[:8]}@example.com"
    body = {"first_name": "Sdk", "last_name": "User", "email": address, "password": "marmalade-comet-51"}
    created = anonymous.post("/api/v1/register", body).expect(201)
    assert set(created) == {"organization_id", "user_id"}
    assert_problem_shape(anonymous.post("/api/v1/register", body), 409, "UserAlreadyExist")
    unverified = anonymous.post("/api/v1/auth/login", {"email": address, "password": body["password"]})
    assert_problem_shape(unverified, 401, "AuthEmailNotVerified")
    # Known and unknown addresses get the same answer.
    anonymous.post("/api/v1/auth/begin-reset-password", {"email": address}).expect(204)
    anonymous.post("/api/v1/auth/begin-reset-password", {"email": "nobody@example.com"}).expect(204)
    anonymous.post("/api/v1/auth/resend-verification-email", {"email": "nobody@example.com"}).expect(204)


def test_server_side_attenuation_matches_attenuating_offline(ferry, master, organization_id, application_id, create_event_types):
    from test_sdk import events_of, raw_event
    create_event_types(application_id, ["crm.deal.won"])
    public_hex = master.get("/api/v1/instance", token=None).expect(200)["biscuit_public_key"]
    root_key = biscuit_auth.PublicKey.from_bytes(bytes.fromhex(public_hex), biscuit_auth.Algorithm.Ed25519)
    created = master.post("/api/v1/service_token", {"organization_id": organization_id, "name": "ingest"}).expect(201)
    served = master.post(f"/api/v1/service_token/{created['token_id']}/attenuate", {
        "organization_id": organization_id, "biscuit": created["biscuit"], "preset": "ingest_only"}).expect(201)
    offline = biscuit_auth.Biscuit.from_base64(created["biscuit"], root_key).append(biscuit_auth.BlockBuilder(
        'check if action($action), ["event:ingest"].contains($action);')).to_base64()
    # biscuit-python reads the server's block as the same check.
    appended = biscuit_auth.Biscuit.from_base64(served["biscuit"], root_key).block_source(1)
    assert 'check if action($action), ["event:ingest"].contains($action);' in appended, appended
    for token in (served["biscuit"], offline):
        client = RestClient(ferry.base_url, token)
        assert_problem_shape(client.get("/api/v1/event_types", query={"application_id": application_id}), 403, "Forbidden")
        client.post("/api/v1/event", raw_event(application_id, "crm.deal.won")).expect(201)
    assert len(events_of(master, application_id)) == 2
