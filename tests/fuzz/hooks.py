"""Schemathesis checks of Ferry's own: every 4xx is a JSON error in its dialect's shape."""

import json

import schemathesis


def dialect(path):
    return "sbg" if path == "/v2" or path.startswith("/v2/") else "dx"


@schemathesis.check
def dialect_error_shape(ctx, response, case):
    """A 4xx body is SBG `{status, code, message}` under /v2, DX `{error: {type, message}}` else."""
    if not 400 <= response.status_code < 500:
        return None
    try:
        body = json.loads(response.content)
    except ValueError as error:
        raise AssertionError(f"{response.status_code} body is not JSON: {response.content[:200]!r}") from error
    if dialect(case.path) == "sbg":
        ok = (
            isinstance(body, dict)
            and body.get("status") == response.status_code
            and isinstance(body.get("code"), int)
            and isinstance(body.get("message"), str)
        )
        shape = "SBG {status, code, message}"
    else:
        error = body.get("error") if isinstance(body, dict) else None
        ok = (
            isinstance(error, dict)
            and isinstance(error.get("type"), str)
            and isinstance(error.get("message"), str)
        )
        shape = "DX {error: {type, message}}"
    if not ok:
        raise AssertionError(f"{response.status_code} body is not {shape}: {body!r}"[:400])
    return None
