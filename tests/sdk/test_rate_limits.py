"""Rate limits as the real clients meet them, on a server of its own with tiny limits: 3 SBG
requests and 2 DNAnexus requests per token per 2-second window.

- sevenbridges-python: a GET is resent after Retry-After by urllib3 (its `Retry(total=6)`
  honours the header), so it succeeds; a POST raises TooManyRequests (code 1000), unless the
  opt-in `rate_limit_sleeper` is installed, which sleeps until X-RateLimit-Reset and resends.
- dxpy retries a 429 for ever, after Retry-After seconds (1 or 2 here), so every call succeeds.

The limits live in each server's memory, whatever the database: this server has a SQLite file of
its own, so that it never touches the session server's jobs.
"""

import os
import time

import dxpy
import pytest
import sevenbridges as sbg
from conftest import running_ferry
from sevenbridges.errors import TooManyRequests
from sevenbridges.http.error_handlers import rate_limit_sleeper

WINDOW_S = 2


@pytest.fixture(scope="module")
def limited(tmp_path_factory):
    directory = tmp_path_factory.mktemp("limited")
    env = {
        **os.environ,
        "FERRY_DATABASE_URL": f"sqlite://{directory / 'ferry.db'}",
        "FERRY_DATA_DIR": str(directory / "data"),
        "FERRY_HTTP_WORKERS": "2",
        "FERRY_JOB_WORKERS": "0",
        "FERRY_SBG_RATE_LIMIT": "3",
        "FERRY_SBG_RATE_WINDOW_SECONDS": str(WINDOW_S),
        "FERRY_DX_RATE_LIMIT": "2",
        "FERRY_DX_RATE_WINDOW_SECONDS": str(WINDOW_S),
    }
    with running_ferry(env, "server-rate-limits.log") as server:
        yield server


def test_sbg_gets_wait_out_retry_after_and_posts_raise_unless_the_sleeper_is_on(limited):
    token = limited.create_user("carol")
    plain = sbg.Api(url=f"{limited.base}/v2", token=token, debug=True)
    # GETs: urllib3 under the SDK honours Retry-After on a 429 and resends.
    started = time.monotonic()
    names = [plain.users.me().username for _ in range(7)]
    assert names == ["carol"] * 7
    # Seven calls at three per window cross at least two window ends.
    assert time.monotonic() - started >= WINDOW_S - 0.5

    # POSTs are not resent: ten in a row cannot all fit in the at most two windows they span.
    with pytest.raises(TooManyRequests) as refused:
        for n in range(10):
            plain.projects.create(name=f"Plain {n}")
    assert refused.value.code == 1000
    assert refused.value.status == 429

    patient = sbg.Api(
        url=f"{limited.base}/v2",
        token=token,
        debug=True,
        error_handlers=[rate_limit_sleeper],
    )
    made = [patient.projects.create(name=f"Patient {n}").name for n in range(7)]
    assert made == [f"Patient {n}" for n in range(7)]


def test_dxpy_waits_out_retry_after_and_succeeds(limited):
    token = limited.create_user("dave")
    auth = dxpy.DXHTTPOAuth2({"auth_token_type": "Bearer", "auth_token": token})
    started = time.monotonic()
    ids = [
        dxpy.DXHTTPRequest(
            f"{limited.base}/system/whoami", {}, prepend_srv=False, auth=auth
        )["id"]
        for _ in range(5)
    ]
    assert ids == ["user-dave"] * 5
    # Five calls at two per window cross at least two window ends.
    assert time.monotonic() - started >= WINDOW_S - 0.5
