"""Tokens minted, attenuated, sealed and extended with third-party blocks by one implementation are parsed,
attenuated further and authorized by the other, with identical outcomes and identical revocation ids."""

import base64

import biscuit_auth
import pytest

from conftest import SwiftError, python_keypair, python_outcome

AUTHORITY = """
right("invoices", "read"); right("invoices", "write"); right("reports", "read");
user("alice"); limits({"max": 10, "tags": ["a", "b"]}, null);
can($r, $op) <- right($r, $op), user("alice");
check if time($t), $t < 2100-01-01T00:00:00Z;
"""
SWIFT_BLOCK = 'check if operation($op), ["read", "list"].contains($op) && $op.length() > 2;'
PYTHON_BLOCK = 'check if resource($r), $r.starts_with("inv"); reject if operation("delete");'
READ = 'time(2030-01-01T00:00:00Z); resource("invoices"); operation("read"); allow if can($r, "read"), resource($r);'
DELETE = 'time(2030-01-01T00:00:00Z); resource("invoices"); operation("delete"); allow if true;'
LATE = 'time(2200-01-01T00:00:00Z); resource("invoices"); operation("read"); allow if true;'
REPORTS = 'time(2030-01-01T00:00:00Z); resource("reports"); operation("read"); deny if user("alice"); allow if true;'
SCENARIOS = [READ, DELETE, LATE, REPORTS]


def same_everywhere(swift, token_b64, root_public, python_token, scope_parameters=None, authorizers=SCENARIOS):
    """Both implementations authorize the same token bytes under each authorizer; returns the outcomes."""
    outcomes = []
    for authorizer in authorizers:
        ours = swift.authorize(authorizer, token_b64, root_public)
        theirs = python_outcome(authorizer, python_token, scope_parameters)
        assert ours == theirs, authorizer
        outcomes.append(ours)
    return outcomes


@pytest.mark.parametrize("algorithm", ["ed25519", "secp256r1"])
def test_swift_tokens_are_attenuated_and_authorized_by_python(swift, algorithm):
    keys = swift.call(op="keypair", algorithm=algorithm)
    token = swift.call(op="build", root_private=keys["private"], source=AUTHORITY, root_key_id=3,
                       next_algorithm=algorithm)["token"]
    token = swift.call(op="append", token=token, source=SWIFT_BLOCK)["token"]
    public = parse_public(keys["public"])
    parsed = biscuit_auth.Biscuit.from_base64(token, public)
    assert parsed.block_count() == 2
    attenuated = parsed.append(biscuit_auth.BlockBuilder(PYTHON_BLOCK))
    attenuated_b64 = attenuated.to_base64()
    outcomes = same_everywhere(swift, attenuated_b64, keys["public"], attenuated)
    assert outcomes == ["allow:0", "refused:allow:0;1:0,2:1", "refused:allow:0;0:0", "refused:deny:0;2:0"]
    inspected = swift.call(op="inspect", token=attenuated_b64, root_public=keys["public"])
    assert inspected["revocation_ids"] == attenuated.revocation_ids
    assert len(set(inspected["revocation_ids"])) == 3


@pytest.mark.parametrize("algorithm", ["ed25519", "secp256r1"])
def test_python_tokens_are_attenuated_and_authorized_by_swift(swift, algorithm):
    root = python_keypair(algorithm)
    token = biscuit_auth.BiscuitBuilder(AUTHORITY).build(root.private_key)
    token = token.append(biscuit_auth.BlockBuilder(PYTHON_BLOCK))
    root_public = str(root.public_key)
    extended = swift.call(op="append", token=token.to_base64(), source=SWIFT_BLOCK)["token"]
    parsed = biscuit_auth.Biscuit.from_base64(extended, root.public_key)
    outcomes = same_everywhere(swift, extended, root_public, parsed)
    assert outcomes == ["allow:0", "refused:allow:0;1:1,2:0", "refused:allow:0;0:0", "refused:deny:0;1:0"]
    inspected = swift.call(op="inspect", token=extended, root_public=root_public)
    assert inspected["revocation_ids"] == parsed.revocation_ids
    assert inspected["revocation_ids"][:2] == token.revocation_ids


def test_sealed_swift_tokens_verify_in_python_and_refuse_attenuation(swift):
    root = python_keypair()
    token = biscuit_auth.BiscuitBuilder(AUTHORITY).build(root.private_key).to_base64()
    sealed = swift.call(op="seal", token=token, root_public=str(root.public_key))["token"]
    parsed = biscuit_auth.Biscuit.from_base64(sealed, root.public_key)
    same_everywhere(swift, sealed, str(root.public_key), parsed)
    with pytest.raises(Exception):
        parsed.append(biscuit_auth.BlockBuilder("check if true;"))
    with pytest.raises(SwiftError):
        swift.call(op="append", token=sealed, source="check if true;")
    assert swift.call(op="inspect", token=sealed, root_public=str(root.public_key))["sealed"] is True


@pytest.mark.parametrize("algorithm", ["ed25519", "secp256r1"])
def test_swift_third_party_blocks_verify_in_python(swift, algorithm):
    root = python_keypair()
    third = swift.call(op="keypair", algorithm=algorithm)
    token = biscuit_auth.BiscuitBuilder(AUTHORITY).build(root.private_key).to_base64()
    extended = swift.call(op="append_third_party", token=token, root_public=str(root.public_key),
                          third_private=third["private"], source='verified("alice"); check if user("alice");')["token"]
    checked = swift.call(op="append", token=extended,
                         source=f'check if verified("alice") trusting {third["public"]};')["token"]
    parsed = biscuit_auth.Biscuit.from_base64(checked, root.public_key)
    assert third["public"].endswith(str(parsed.block_external_key(1)).split("/")[-1])
    trusting = f'time(2030-01-01T00:00:00Z); allow if verified("alice") trusting {third["public"]}; deny if true;'
    plain = 'time(2030-01-01T00:00:00Z); allow if verified("alice"); deny if true;'
    outcomes = same_everywhere(swift, checked, str(root.public_key), parsed, authorizers=[trusting, plain])
    assert outcomes == ["allow:0", "refused:deny:1;"]


def test_python_third_party_blocks_verify_in_swift(swift):
    root = python_keypair()
    third = python_keypair()
    token = biscuit_auth.BiscuitBuilder(AUTHORITY).build(root.private_key)
    request = token.third_party_request()
    block = request.create_block(third.private_key, biscuit_auth.BlockBuilder('verified("alice");'))
    extended = token.append_third_party(third.public_key, block)
    b64 = extended.to_base64()
    inspected = swift.call(op="inspect", token=b64, root_public=str(root.public_key))
    assert inspected["external_keys"] == ["", str(third.public_key)]
    assert inspected["revocation_ids"] == extended.revocation_ids
    trusting = f'time(2030-01-01T00:00:00Z); allow if verified("alice") trusting {third.public_key}; deny if true;'
    outcomes = same_everywhere(swift, b64, str(root.public_key), extended, authorizers=[trusting, READ])
    assert outcomes == ["allow:0", "allow:0"]
    further = swift.call(op="append", token=b64, source=f'check if verified("alice") trusting {third.public_key};')
    reparsed = biscuit_auth.Biscuit.from_base64(further["token"], root.public_key)
    same_everywhere(swift, further["token"], str(root.public_key), reparsed, authorizers=[READ])


def test_datalog_3_3_features_mean_the_same_in_both(swift):
    root = python_keypair()
    source = """
    data([1, 2, 3], {"a": 1, 2: [true]}, null, {4, 5});
    check if data($a, $m, $n, $s), $a.all($x -> $x > 0), $m.get("a") === 1, $m.get(2).get(0), $n == null,
        $s.any($y -> $y == 5), $a.type() == "array", (1 / 0).try_or(true), $a.contains(2) || 1 / 0 == 1;
    reject if data($a, $m, $n, $s), $s.contains(6);
    """
    swift_token = swift.call(op="build", root_private=str(root.private_key), source=source)["token"]
    python_token = biscuit_auth.BiscuitBuilder(source).build(root.private_key)
    for token_b64 in [swift_token, python_token.to_base64()]:
        parsed = biscuit_auth.Biscuit.from_base64(token_b64, root.public_key)
        outcomes = same_everywhere(swift, token_b64, str(root.public_key), parsed,
                                   authorizers=["allow if true;",
                                                'data([1], {"a": 1, 2: [true]}, null, {6}); allow if true;'])
        assert outcomes == ["allow:0", "refused:allow:0;0:1"]


def test_tampered_tokens_are_refused_by_both(swift):
    root = python_keypair()
    token = biscuit_auth.BiscuitBuilder(AUTHORITY).build(root.private_key).append(biscuit_auth.BlockBuilder("check if true;"))
    raw = bytearray(token.to_bytes())
    raw[len(raw) // 2] ^= 1
    tampered = base64.urlsafe_b64encode(bytes(raw)).decode()
    with pytest.raises(Exception):
        biscuit_auth.Biscuit.from_base64(tampered, root.public_key)
    assert swift.authorize("allow if true;", tampered, str(root.public_key)) in ("error:invalidSignature", "error:format")
    other = python_keypair()
    assert swift.authorize("allow if true;", token.to_base64(), str(other.public_key)) == "error:invalidSignature"
    with pytest.raises(Exception):
        biscuit_auth.Biscuit.from_base64(token.to_base64(), other.public_key)


def parse_public(text):
    algorithm, hexa = text.split("/", 1)
    if algorithm == "secp256r1":
        return biscuit_auth.PublicKey.from_bytes(bytes.fromhex(hexa), biscuit_auth.Algorithm.Secp256r1)
    return biscuit_auth.PublicKey.from_bytes(bytes.fromhex(hexa), biscuit_auth.Algorithm.Ed25519)
