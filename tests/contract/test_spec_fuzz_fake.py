"""Schemathesis fuzzes the fake against the seed spec (twilio-oai 1.52.0).

The checks run are the ones the fake must pass outright: no server errors, responses
that match the spec's schemas, content types and headers, authentication honoured,
deleted resources gone and created ones reachable, and the method/Allow rules. Three
checks are left out on purpose, because Twilio itself would fail them:
`status_code_conformance` (the spec documents no 4xx at all), `positive_data_acceptance`
(Twilio refuses schema-valid but empty descriptions, `null` configurations, negative
versions, absurd page numbers) and `negative_data_rejection` (Twilio ignores unknown
query parameters, which the fuzzer counts as invalid data).
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from ..support import DATA

pytest.importorskip("schemathesis")

SPEC = DATA / "twilio_events_v1.yaml"
CHECKS = [
    "not_a_server_error",
    "response_schema_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "missing_required_header",
    "ignored_auth",
    "use_after_free",
    "ensure_resource_availability",
    "unsupported_method",
    "allow_header_conformance",
]


def test_the_fake_survives_schemathesis() -> None:
    fake = subprocess.Popen(
        [sys.executable, "-m", "events_async.testing", "--port", "0", "--demo"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert fake.stdout is not None
        lines = [fake.stdout.readline().strip() for _ in range(3)]
        url = lines[0].rsplit(" ", 1)[-1]
        sid, token = (line.split("=", 1)[1] for line in lines[1:])
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "schemathesis.cli",
                "run",
                str(SPEC),
                "--url",
                url,
                "--auth",
                f"{sid}:{token}",
                "--checks",
                ",".join(CHECKS),
                "--max-examples",
                "25",
                "--seed",
                "20261123",
                "--generation-database",
                "none",
                "--workers",
                "1",
            ],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    finally:
        fake.terminate()
        fake.wait(timeout=10)
        if fake.stdout is not None:
            fake.stdout.close()
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
