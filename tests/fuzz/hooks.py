"""Schemathesis checks of Ferry's own: every 4xx is a JSON error in the shape its operation
declares in /openapi.json (the `4XX` response's schema), never a shape guessed from the path."""

import json

import schemathesis

SHAPES = {
    "#/components/schemas/SbgErrorBody": "sbg",
    "#/components/schemas/DxErrorBody": "dx",
}


def declared_shape(operation):
    """The error shape the document declares for `operation`, or None if it declares none."""
    try:
        ref = operation["responses"]["4XX"]["content"]["application/json"]["schema"]["$ref"]
    except KeyError:
        return None
    return SHAPES.get(ref)


@schemathesis.check
def dialect_error_shape(ctx, response, case):
    """A 4xx body is SBG `{status, code, message}` or DX `{error: {type, message}}`, as the
    operation's `4XX` response declares (SBG under /v2 and /admin, DX elsewhere)."""
    if not 400 <= response.status_code < 500:
        return None
    shape = declared_shape(case.operation.definition.raw)
    if shape is None:
        raise AssertionError(f"{response.status_code} from an operation that declares no 4XX")
    try:
        body = json.loads(response.content)
    except ValueError as error:
        raise AssertionError(f"{response.status_code} body is not JSON: {response.content[:200]!r}") from error
    if shape == "sbg":
        ok = (
            isinstance(body, dict)
            and body.get("status") == response.status_code
            and isinstance(body.get("code"), int)
            and isinstance(body.get("message"), str)
        )
        described = "SBG {status, code, message}"
    else:
        error = body.get("error") if isinstance(body, dict) else None
        ok = (
            isinstance(error, dict)
            and isinstance(error.get("type"), str)
            and isinstance(error.get("message"), str)
        )
        described = "DX {error: {type, message}}"
    if not ok:
        raise AssertionError(f"{response.status_code} body is not {described}: {body!r}"[:400])
    return None
