"""Shared fixture of the JSON Schema differential suite: `swift` drives the Swift library (the `JSONSchema`
target) through the `jsonschema-interop` tool, one JSON request per line."""

import json
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


class SwiftValidator:
    """The Swift implementation, behind a long-running `jsonschema-interop` process."""

    def __init__(self, binary):
        self.process = subprocess.Popen([binary], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)

    def validate(self, schema, instances):
        """One verdict per instance, or the error text when the schema is refused."""
        self.process.stdin.write(json.dumps({"schema": schema, "instances": instances}) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("jsonschema-interop exited")
        answer = json.loads(line)
        return answer["valid"] if answer["ok"] else answer["error"]

    def close(self):
        self.process.stdin.close()
        self.process.wait(timeout=10)


@pytest.fixture(scope="session")
def swift():
    binary = os.environ.get("JSONSCHEMA_INTEROP_BIN", str(ROOT / ".build/debug/jsonschema-interop"))
    validator = SwiftValidator(binary)
    yield validator
    validator.close()
