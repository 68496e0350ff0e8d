"""Creating projects and finding them by name."""

import re
import uuid

import pytest
import sevenbridges as sbg


def test_a_created_project_is_found_by_its_name_and_its_id(api):
    name = f"Query Me {uuid.uuid4().hex[:8]}"
    created = api.projects.create(name=name)
    assert created.id == f"alice/{name.lower().replace(' ', '-')}"
    assert created.name == name
    assert re.fullmatch(r"[0-9a-f]{24}", created.root_folder)

    found = api.projects.query(name=name)
    assert found.total == 1
    assert [p.id for p in found.all()] == [created.id]
    fetched = api.projects.get(id=created.id)
    assert (fetched.name, fetched.root_folder) == (name, created.root_folder)

    assert api.projects.query(name=f"{name} (no such project)").total == 0


def test_an_unknown_project_is_not_found(api):
    with pytest.raises(sbg.errors.NotFound) as missing:
        api.projects.get(id="alice/no-such-project")
    assert missing.value.code == 3002
