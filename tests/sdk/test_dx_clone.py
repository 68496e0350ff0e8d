"""Unmodified dxpy and `dx cp` against Ferry: clone of objects and folders, `exists`,
listProjects, and every PermissionDenied, InvalidState and SpendingLimitExceeded case of
shared/seeds/dnanexus-clone.txt as dxpy's own exception classes.

Project flags, regions and spending limits have no DNAnexus call a project member could make, so
the tests set them in the database, as an operator would.
"""

import sqlite3
import subprocess
import time
import uuid

import dxpy
import pytest
from dxpy.exceptions import (
    InvalidInput,
    InvalidState,
    PermissionDenied,
    ResourceNotFound,
    SpendingLimitExceeded,
)

from conftest import DX, psql

@pytest.fixture
def sql(database_url):
    """Runs one statement on the server's database."""

    def run(statement):
        if database_url.startswith("sqlite://"):
            with sqlite3.connect(database_url.removeprefix("sqlite://")) as db:
                db.execute(statement)
        else:
            psql(database_url, statement)

    return run


def new_project(label="Clone", **kwargs):
    return dxpy.api.project_new({"name": f"{label} {uuid.uuid4().hex[:8]}"}, **kwargs)["id"]


def record(project, name, folder="/", hidden=False, links=(), close=True):
    return dxpy.new_dxrecord(
        project=project,
        folder=folder,
        parents=True,
        name=name,
        hidden=hidden,
        tags=["t1"],
        properties={"sample": name},
        details={"links": [dxpy.dxlink(link.get_id()) for link in links]},
        close=close,
    )


def described(object_id, project):
    return dxpy.api.record_describe(
        object_id, {"project": project, "fields": {"project": True, "folder": True, "name": True}}
    )


def test_a_cloned_record_keeps_its_id_and_a_second_clone_reports_it_in_exists(dx_env):
    source, dest = new_project("Source"), new_project("Dest")
    original = record(source, "first")

    cloned = original.clone(dest)
    assert (cloned.get_id(), cloned.get_proj_id()) == (original.get_id(), dest)
    assert described(original.get_id(), dest) == {
        "id": original.get_id(),
        "project": dest,
        "folder": "/",
        "name": "first",
    }
    assert cloned.get_properties() == {"sample": "first"}

    again = dxpy.api.project_clone(
        source, {"objects": [original.get_id()], "project": dest, "destination": "/"}
    )
    assert again == {"id": source, "project": dest, "exists": [original.get_id()]}


def test_a_folder_clone_brings_the_hidden_objects_its_visible_objects_link(dx_env):
    source, dest = new_project("Source"), new_project("Dest")
    tail = record(source, "tail", folder="/lib", hidden=True)
    middle = record(source, "middle", folder="/data/sub", hidden=True, links=[tail])
    head = record(source, "head", folder="/data", links=[middle])
    orphan = record(source, "orphan", folder="/data", hidden=True)

    result = dxpy.DXProject(source).clone(
        dest, destination="/in", folders=["/data"], parents=True
    )
    assert result == {"id": source, "project": dest, "exists": []}
    assert described(head.get_id(), dest)["folder"] == "/in/data"
    assert described(middle.get_id(), dest)["folder"] == "/in/data/sub"
    assert described(tail.get_id(), dest)["folder"] == "/in", "outside the cloned folder"
    assert dest not in orphan.list_projects(), "hidden and linked by nothing cloned"

    # The root: its contents go into the destination folder; what exists is left alone.
    again = dxpy.api.project_clone(
        source, {"folders": ["/"], "project": new_project("Root"), "destination": "/"}
    )
    assert again["exists"] == []
    # `exists` holds the hidden objects reached through links as well, sorted.
    repeated = dxpy.api.project_clone(source, {"objects": [head.get_id()], "project": dest})
    assert repeated["exists"] == sorted([head.get_id(), middle.get_id(), tail.get_id()])


def test_list_projects_gives_each_visible_project_with_the_callers_level(dx_env, as_bob):
    source, dest = new_project("Source"), new_project("Dest")
    original = record(source, "listed")
    original.clone(dest)
    assert original.list_projects() == {source: "ADMINISTER", dest: "ADMINISTER"}

    dxpy.api.project_invite(dest, {"invitee": "user-bob", "level": "VIEW"})
    assert dxpy.api.record_list_projects(original.get_id(), auth=as_bob) == {dest: "VIEW"}
    with pytest.raises(ResourceNotFound):
        dxpy.api.record_list_projects(record(source, "unseen").get_id(), auth=as_bob)


def test_each_permission_denied_case(dx_env, as_bob, sql):
    source, dest = new_project("Source"), new_project("Dest")
    original = record(source, "guarded")
    body = {"objects": [original.get_id()], "project": dest}

    with pytest.raises(PermissionDenied, match="VIEW"):
        dxpy.api.project_clone(source, body, auth=as_bob)
    dxpy.api.project_invite(source, {"invitee": "user-bob", "level": "VIEW"})
    dxpy.api.project_invite(dest, {"invitee": "user-bob", "level": "VIEW"})
    with pytest.raises(PermissionDenied, match="UPLOAD"):
        dxpy.api.project_clone(source, body, auth=as_bob)

    for flags, reason in [
        ("restricted = TRUE", "RESTRICTED"),
        ("contains_phi = TRUE", "PHI"),
        ("region = 'azure:westus'", "region"),
    ]:
        sql(f"UPDATE projects SET {flags} WHERE dx_id = '{source}'")
        with pytest.raises(PermissionDenied, match=reason):
            dxpy.api.project_clone(source, body)
        sql(
            "UPDATE projects SET restricted = FALSE, contains_phi = FALSE, "
            f"region = 'aws:us-east-1' WHERE dx_id = '{source}'"
        )
    assert original.list_projects() == {source: "ADMINISTER"}, "nothing was cloned"


def test_each_invalid_state_case(dx_env, sql):
    source, dest = new_project("Source"), new_project("Dest")
    still_open = record(source, "open", close=False)
    with pytest.raises(InvalidState):
        still_open.clone(dest)

    record(source, "inside", folder="/bar")
    dxpy.api.project_new_folder(dest, {"folder": "/bar"})
    with pytest.raises(InvalidState, match="conflict with the route of an existing folder"):
        dxpy.DXProject(source).clone(dest, folders=["/bar"])

    # Third-party sponsorship: an object sponsored by another project cannot come in.
    next_year = int((time.time() + 365 * 86400) * 1000)
    third = new_project("Third")
    shared = record(source, "shared")
    shared.clone(third)
    dxpy.api.project_update_sponsorship(third, {"sponsoredUntil": next_year})
    dxpy.api.project_update_sponsorship(dest, {"sponsoredUntil": next_year})
    with pytest.raises(InvalidState) as refused:
        shared.clone(dest)
    assert refused.value.details == {"alreadySponsored": [{"id": shared.get_id(), "project": third}]}

    # Nor can an object the platform sponsors.
    platform = record(source, "platform")
    sql(
        "INSERT INTO sponsored_objects (object_id, created_at) "
        f"SELECT id, created_at FROM objects WHERE dx_id = '{platform.get_id()}'"
    )
    with pytest.raises(InvalidState, match="sponsored by the platform"):
        platform.clone(dest)

    dxpy.api.project_update_sponsorship(dest, {"sponsoredUntil": None})
    assert platform.clone(dest).get_proj_id() == dest


def test_a_destination_at_its_spending_limit(dx_env, ferry, sql):
    dana = dxpy.DXHTTPOAuth2(
        {"auth_token_type": "Bearer", "auth_token": ferry.create_user("dxclone-dana")}
    )
    dest = new_project("Dana's", auth=dana)
    dxpy.api.project_invite(dest, {"invitee": "user-alice", "level": "UPLOAD"}, auth=dana)
    source = new_project("Source")
    original = record(source, "billed")
    sql(
        "UPDATE billing_groups SET spending_limit_cents = 0, spent_cents = 0 "
        "WHERE bill_to = 'user-dxclone-dana'"
    )
    with pytest.raises(SpendingLimitExceeded):
        original.clone(dest)
    assert original.list_projects() == {source: "ADMINISTER"}


def test_bad_input_is_invalid_input(dx_env):
    source = new_project("Source")
    with pytest.raises(InvalidInput):
        dxpy.api.project_clone(source, {"objects": [""], "project": new_project("Dest")})
    with pytest.raises(InvalidInput):
        dxpy.api.project_clone(source, {"project": source})


def test_dx_cp_clones_into_a_folder_and_reports_what_exists(dx_env):
    source, dest = new_project("Source"), new_project("Dest")
    original = record(source, "copied.rec", folder="/from")
    dxpy.api.project_new_folder(dest, {"folder": "/to"})

    def cp():
        return subprocess.run(
            [DX, "cp", f"{source}:/from/copied.rec", f"{dest}:/to"],
            env=dx_env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    first = cp()
    assert first.returncode == 0, first.stderr
    assert described(original.get_id(), dest)["folder"] == "/to"
    second = cp()
    assert second.returncode == 0, second.stderr
    assert "already existed in the destination" in second.stdout + second.stderr
