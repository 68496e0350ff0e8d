"""Who the token belongs to, and what an unknown token gets."""

import pytest
import sevenbridges as sbg


def test_me_is_the_owner_of_the_token(ferry, api):
    me = api.users.me()
    assert me.username == "alice"
    assert me.href == f"{ferry.base}/v2/users/alice"


def test_an_unknown_token_is_refused(ferry):
    stranger = ferry.api("0" * 32)
    with pytest.raises(sbg.errors.Unauthorized) as refused:
        stranger.users.me()
    assert refused.value.status == 401
    assert refused.value.code == 90001
