"""`/openapi.json` as frontends use it: an independent validator (openapi-spec-validator) finds
it a valid OpenAPI 3.1 document, and a client generated from it (openapi-python-client)
compiles, imports and calls the server in both dialects."""

import compileall
import importlib
import json
import os
import subprocess
import sys
import urllib.request

from openapi_spec_validator import OpenAPIV31SpecValidator


def document(ferry):
    with urllib.request.urlopen(f"{ferry.base}/openapi.json") as response:
        return json.load(response)


def test_the_document_is_valid_openapi_3_1(ferry):
    errors = [str(e).splitlines()[0] for e in OpenAPIV31SpecValidator(document(ferry)).iter_errors()]
    assert errors == []


def test_the_copies_document_their_collision_policy_and_dry_run(ferry):
    paths = document(ferry)["paths"]
    for path in ["/v2/files/{id}/actions/copy", "/v2/action/files/copy"]:
        query = {p["name"]: p for p in paths[path]["post"]["parameters"] if p["in"] == "query"}
        assert set(query) >= {"collision", "dry_run"}, path
        assert query["collision"]["schema"]["pattern"] == "^(rename|skip|fail|skip_identical)$"


def test_a_client_generated_from_the_document_compiles_and_calls_both_dialects(
    ferry, alice_token, tmp_path, monkeypatch
):
    spec = tmp_path / "openapi.json"
    spec.write_text(json.dumps(document(ferry)))
    package = tmp_path / "ferry_client"
    bin_dir = os.path.dirname(sys.executable)
    generated = subprocess.run(
        [os.path.join(bin_dir, "openapi-python-client"), "generate", "--path", str(spec),
         "--output-path", str(package), "--meta", "none"],
        env={**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"},
        capture_output=True, text=True, timeout=300,
    )
    assert generated.returncode == 0, generated.stderr
    # Every operation was generated: a warning means one was skipped.
    assert "Warning" not in generated.stdout + generated.stderr, generated.stdout
    assert compileall.compile_dir(package, quiet=1)

    monkeypatch.syspath_prepend(str(tmp_path))
    client_module = importlib.import_module("ferry_client")
    me = importlib.import_module("ferry_client.api.sbg.get_v2_user")
    whoami = importlib.import_module("ferry_client.api.dx.post_system_whoami")
    client = client_module.AuthenticatedClient(base_url=ferry.base, token=alice_token)
    sbg = me.sync_detailed(client=client)
    assert sbg.status_code == 200
    assert json.loads(sbg.content)["username"] == "alice"
    dx = whoami.sync_detailed(client=client)
    assert dx.status_code == 200
    assert json.loads(dx.content) == {"id": "user-alice"}
