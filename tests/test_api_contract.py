"""The API keeps its contract: /api/openapi.json is valid OpenAPI 3.1, says exactly what the
parameter parser accepts, and schemathesis, sending what the document allows and what it does
not to a real ``opennews serve``, finds no failure with every check on.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import orjson
import pytest
from openapi_spec_validator import validate as validate_openapi
from starlette.testclient import TestClient

from webhome import WebHome, serving

CONFIG = Path(__file__).with_name("schemathesis.toml")
EXAMPLES = 10  # per operation and phase: the run takes some 10 s on two cores


@pytest.fixture(scope="module")
def document(client: TestClient) -> dict[str, Any]:
    return client.get("/api/openapi.json").json()


def test_the_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1.")
    validate_openapi(document)  # the OpenAPI 3.1 meta-schema, schemas against its JSON Schema dialect
    for schema in document["components"]["schemas"].values():
        jsonschema.Draft202012Validator.check_schema(schema)
    suggestions = document["components"]["schemas"]["Suggestions"]
    assert len(suggestions["prefixItems"]) == 4 and "items" not in suggestions  # a tuple, spelt the 2020-12 way


def _value(schema: dict[str, Any], text: str) -> Any:
    """A query value as a client holding the document would have meant it."""
    if schema.get("type") == "integer" and re.fullmatch(r"-?[0-9]+", text):
        return int(text)
    return text


_PROBES = [
    *["", " ", "0", "1", "007", "100", "101", "-1", "1.5", "1e3", "²", "١٢", "9" * 30, "abc"],
    *["relevance", "newest", "Newest", " oldest", "ndjson", "json", "csv", "xml"],
    *["2020-01-01", "2020-1-1", "2020-02-30", "0000-01-01", "0001-01-01", "1578-08-04", "9999-12-31"],
    *["31/12/2020", "2020-01-01 ", "20200101", "2020-01-01T00:00:00Z", "2020-01-01T00:00:00+07:00"],
    # (Not a leap second: RFC 3339 and the server take 23:59:60, rfc3339-validator does not; test_export has one.)
    *["2020-01-01T00:00:00", "2020-01-01T24:00:00Z", "2020-01-01t10:00:00.5z", "2020-01-01T10:00:00.1234567+14:00"],
    *["thủy điện", "a\x00b", "a\x1bb", "tab\there", "\ufffe", "x" * 64, "x" * 65, "ạ" * 200, "ạ" * 201, "ữ" * 500],
    "ữ" * 501,
]


@pytest.mark.parametrize("path", ["/api/search", "/api/export", "/api/suggest"])
def test_the_document_and_the_parser_agree_on_every_parameter(
    client: TestClient, document: dict[str, Any], path: str
) -> None:
    """Each parameter alone, with values at and past every edge: what the document's schema
    allows is answered 200, what it does not is a 400 (schemathesis explores further)."""
    checker = jsonschema.FormatChecker()
    assert {"date", "date-time"} <= set(checker.checkers), "a format checker is missing (rfc3339-validator?)"
    wrong = []
    for parameter in document["paths"][path]["get"]["parameters"]:
        schema = {**parameter["schema"], "components": document["components"]}
        validator = jsonschema.Draft202012Validator(schema, format_checker=checker)
        for text in _PROBES:
            valid = validator.is_valid(_value(parameter["schema"], text))
            status = client.get(path, params={parameter["name"]: text}).status_code
            if status != (200 if valid else 400):
                wrong.append(f"{parameter['name']}={text!r}: the document says {valid}, the server {status}")
    assert not wrong, "\n".join(wrong)


def test_schemathesis_finds_no_failure_on_a_real_server(web_home: WebHome, tmp_path: Path) -> None:
    """schemathesis's coverage, fuzzing and stateful phases with every check (tests/schemathesis.toml
    says which apply where and why), a bounded number of examples, against ``opennews serve``.
    Its JSON report is read rather than its console output, whose wording changes between
    versions; the timeout is that of a run on a loaded machine (10 s alone on two cores)."""
    report = tmp_path / "report.json"
    with serving(web_home.path) as base:
        command = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(CONFIG), "run"]
        command += [f"{base}/api/openapi.json", "--max-examples", str(EXAMPLES), "--request-timeout", "30"]
        command += [
            "--generation-database",
            "none",
            "--no-color",
            "--report",
            "json",
            "--report-json-path",
            str(report),
        ]
        done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=900)
    console = (done.stdout + done.stderr)[-8000:]
    assert done.returncode == 0, console
    run = orjson.loads(report.read_bytes())
    assert run["complete"] and run["exit_code"] == 0, console
    assert run["operations"]["selected"] == run["operations"]["tested"] == run["operations"]["total"] == 9, console
    assert run["failures"] == [] and run["errors"] == [], console
    assert {name: phase["status"] for name, phase in run["phases"].items() if name != "examples"} == {
        "coverage": "success",
        "fuzzing": "success",
        "stateful": "success",
    }, console
    cases = run["test_cases"]
    assert cases["generated"] > 100 and cases["with_failures"] == cases["errored"] == 0, cases
