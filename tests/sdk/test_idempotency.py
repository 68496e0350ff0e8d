"""Idempotency-Key through the unmodified SDK, which sends whatever headers its session holds:
a resent copy is answered from the first (with `Idempotent-Replayed`), and nothing is copied twice."""

import uuid


def test_a_copy_resent_with_its_key_is_made_once(ferry, alice_token, source, new_project):
    dest = new_project()
    keyed = ferry.api(alice_token)
    # GETs ignore the key, so the one session can fetch and copy.
    keyed.headers["Idempotency-Key"] = f"sdk-copy-{uuid.uuid4().hex}"
    original = keyed.files.get(id=source.ids["/a.txt"])

    first = original.copy(project=dest.id)
    again = original.copy(project=dest.id)
    assert (again.id, again.name) == (first.id, "a.txt")
    assert [(f.id, f.name) for f in keyed.files.query(project=dest.id).all()] == [
        (first.id, "a.txt")
    ]
    # The SDK's own raw call, to see the response's headers.
    replayed = keyed.post(f"/files/{original.id}/actions/copy", data={"project": dest.id})
    assert replayed.status_code == 200
    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert replayed.json()["id"] == first.id


def test_a_bulk_copy_resent_with_its_key_is_made_once(ferry, alice_token, source, new_project):
    dest = new_project()
    keyed = ferry.api(alice_token)
    keyed.headers["Idempotency-Key"] = f"sdk-bulk-{uuid.uuid4().hex}"
    ids = [source.ids["/a.txt"], source.ids["/b.txt"]]

    first = keyed.actions.bulk_copy_files(files=ids, destination_project=dest.id)
    again = keyed.actions.bulk_copy_files(files=ids, destination_project=dest.id)
    assert again == first
    assert sorted(f.name for f in keyed.files.query(project=dest.id).all()) == ["a.txt", "b.txt"]
