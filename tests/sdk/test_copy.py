"""Single, folder and bulk copies: names, the N_name rule, metadata and tags, permissions."""

import pytest
import sevenbridges as sbg

NO_COPY = {"read": True, "write": True, "copy": False, "execute": False, "admin": False}


def test_a_copy_keeps_the_name_or_takes_the_given_one(api, source, new_project):
    dest = new_project()
    original = api.files.get(id=source.ids["/a.txt"])

    same_name = original.copy(project=dest.id)
    assert same_name.name == "a.txt"
    assert same_name.id != original.id
    assert (same_name.project, same_name.parent) == (dest.id, dest.root_folder)
    assert same_name.size == original.size

    renamed = original.copy(project=dest.id, name="renamed.txt")
    assert renamed.name == "renamed.txt"
    assert renamed.id not in (original.id, same_name.id)

    again = original.copy(project=dest.id)
    assert again.name == "1_a.txt"
    listed = sorted(f.name for f in api.files.query(project=dest.id).all())
    assert listed == ["1_a.txt", "a.txt", "renamed.txt"]
    assert api.files.get(id=original.id).project == source.project.id


def test_a_copy_into_a_folder(api, source, new_project):
    dest = new_project()
    inbox = api.files.create_folder(name="inbox", project=dest)
    original = api.files.get(id=source.ids["/b.txt"])

    copied = original.copy_to_folder(parent=inbox, name="b-copy.txt")
    assert (copied.name, copied.parent, copied.project) == ("b-copy.txt", inbox.id, dest.id)
    assert copied.id != original.id
    assert [(f.id, f.name) for f in inbox.list_files().all()] == [(copied.id, "b-copy.txt")]


def test_bulk_copy_renames_what_collides(api, source, new_project):
    dest = new_project()
    names = ["a.txt", "b.txt", "c.txt"]
    source_ids = [source.ids[f"/{name}"] for name in names]

    first = api.actions.bulk_copy_files(files=source_ids, destination_project=dest.id)
    second = api.actions.bulk_copy_files(files=source_ids, destination_project=dest.id)

    for result, expected_names in ((first, names), (second, [f"1_{n}" for n in names])):
        assert sorted(result) == sorted(source_ids)
        for source_id, expected in zip(source_ids, expected_names):
            assert result[source_id]["status"] == "OK"
            assert result[source_id]["new_file_name"] == expected
    new_ids = [r[s]["new_file_id"] for r in (first, second) for s in source_ids]
    assert len(set(new_ids)) == 6
    assert not set(new_ids) & set(source_ids)

    listed = {f.id: f.name for f in api.files.query(project=dest.id).all()}
    assert listed == {
        first[s]["new_file_id"]: first[s]["new_file_name"] for s in source_ids
    } | {second[s]["new_file_id"]: second[s]["new_file_name"] for s in source_ids}


def test_metadata_and_tags_survive_a_copy(ferry, api, new_project, local_files):
    project = new_project("Annotated")
    imported = ferry.import_files("alice", project.id, local_files({"s1.bam": b"BAM"}) / "s1.bam")
    original = api.files.get(id=imported["/s1.bam"])
    original.metadata = {"sample_id": "S1", "library": "L7"}
    original.tags = ["WGS", "hg38"]
    original.save()
    assert dict(original.metadata.items()) == {"sample_id": "S1", "library": "L7"}
    assert original.tags == ["WGS", "hg38"]

    copied = original.copy(project=new_project().id)
    reloaded = api.files.get(id=copied.id)
    assert dict(reloaded.metadata.items()) == {"sample_id": "S1", "library": "L7"}
    assert reloaded.tags == ["WGS", "hg38"]


def test_a_member_without_the_copy_permission_cannot_copy(
    ferry, api, bob_token, source, new_project
):
    project = new_project("Guarded")
    original = api.files.get(id=source.ids["/c.txt"]).copy(project=project.id)
    member = project.add_member(user="bob", permissions=NO_COPY)
    assert member.username == "bob"
    assert member.permissions["copy"] is False

    bob = ferry.api(bob_token)
    bobs_project = bob.projects.create(name="Bob's Own")
    seen_by_bob = bob.files.get(id=original.id)
    assert seen_by_bob.name == "c.txt"
    with pytest.raises((sbg.errors.Forbidden, sbg.errors.NotFound)) as refused:
        seen_by_bob.copy(project=bobs_project.id)
    assert (refused.value.status, refused.value.code) == (403, 5014)
    assert list(bob.files.query(project=bobs_project.id).all()) == []
