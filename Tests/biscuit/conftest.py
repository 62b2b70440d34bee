"""Shared fixtures of the Biscuit interop and differential suites.

`swift` drives the Swift library through the `biscuit-interop` tool (one JSON request per line); `python_outcome`
runs the reference implementation (biscuit-python, pinned in Tests/compat/requirements.txt) and reduces its answer
to the same outcome strings the tool prints: `allow:N`, `refused:<allow:N|deny:N|none>;<failed checks>`,
`error:execution`, `error:limit`.
"""

import datetime
import json
import os
import pathlib
import re
import subprocess

import biscuit_auth
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
LIMITS = {"max_facts": 1000, "max_iterations": 100, "max_time_ms": 2000}


class SwiftError(Exception):
    def __init__(self, kind, message):
        super().__init__(f"{kind}: {message}")
        self.kind = kind


class SwiftBiscuit:
    """The Swift implementation, behind a long-running `biscuit-interop` process."""

    def __init__(self, binary):
        self.process = subprocess.Popen([binary], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)

    def call(self, **request):
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("biscuit-interop exited")
        answer = json.loads(line)
        if not answer.pop("ok"):
            raise SwiftError(answer["error"], answer.get("message", ""))
        return answer

    def authorize(self, authorizer, token=None, root_public=None, **limits):
        request = {"op": "authorize", "authorizer": authorizer, **LIMITS, **limits}
        if token is not None:
            request.update(token=token, root_public=str(root_public))
        return self.call(**request)["outcome"]

    def close(self):
        self.process.stdin.close()
        self.process.wait(timeout=10)


@pytest.fixture(scope="session")
def swift():
    binary = os.environ.get("BISCUIT_INTEROP_BIN", str(ROOT / ".build" / "debug" / "biscuit-interop"))
    tool = SwiftBiscuit(binary)
    yield tool
    tool.close()


CHECK = re.compile(r"Check n°(\d+) in (?:authorizer|block n°(\d+))")
REFUSED = re.compile(
    r"authorization failed: (?:an allow policy matched \(policy index: (\d+)\)|"
    r"a deny policy matched \(policy index: (\d+)\)|(no matching policy was found)), "
    r"and the following checks failed: (.*)$",
    re.S,
)


def python_outcome(authorizer, token=None, scope_parameters=None, max_facts=1000, max_iterations=100):
    """Authorizes with biscuit-python and returns the normalized outcome."""
    try:
        builder = biscuit_auth.AuthorizerBuilder(authorizer, None, scope_parameters or {})
        limits = builder.limits()
        limits.max_facts = max_facts
        limits.max_iterations = max_iterations
        limits.max_time = datetime.timedelta(seconds=2)
        builder.set_limits(limits)
        built = builder.build(token) if token is not None else builder.build_unauthenticated()
        return f"allow:{built.authorize()}"
    except biscuit_auth.AuthorizationError as error:
        return normalize(str(error))


def normalize(message):
    if "execution failure" in message:
        return "error:execution"
    if "execution limits" in message:
        return "error:limit"
    match = REFUSED.match(message)
    if not match:
        return f"error:{message}"
    allow, deny, _none, checks = match.groups()
    policy = f"allow:{allow}" if allow is not None else f"deny:{deny}" if deny is not None else "none"
    failed = [f"{block}:{index}" if block else f"authorizer:{index}" for index, block in CHECK.findall(checks)]
    return f"refused:{policy};" + ",".join(failed)


def python_keypair(algorithm="ed25519"):
    if algorithm == "secp256r1":
        private = biscuit_auth.PrivateKey.from_bytes(os.urandom(32), biscuit_auth.Algorithm.Secp256r1)
        return biscuit_auth.KeyPair.from_private_key(private)
    return biscuit_auth.KeyPair()
