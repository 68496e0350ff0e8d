"""Async bulk copy jobs through the SDK: api.async_jobs.file_bulk_copy and get_file_copy_job."""

import time
import uuid

JOB_DEADLINE_S = 120


def wait_for_job(api, job_id):
    """Polls the job until FINISHED, with a deadline."""
    deadline = time.monotonic() + JOB_DEADLINE_S
    while time.monotonic() < deadline:
        job = api.async_jobs.get_file_copy_job(id=job_id)
        assert job.state in ("SUBMITTED", "RESOLVING", "RUNNING", "FINISHED"), job.state
        if job.state == "FINISHED":
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish within {JOB_DEADLINE_S} s")


def import_project(ferry, api, local_files, files, directory_name):
    """A new project of alice's holding `files` ({relative path: bytes}) under `/<directory_name>`."""
    project = api.projects.create(name=f"Async source {uuid.uuid4().hex[:8]}")
    directory = local_files({}, directory_name)
    for relative, contents in files.items():
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(contents)
    ids = ferry.import_files("alice", project.id, directory)
    return project, ids


def names_in(api, folder):
    return sorted(f.name for f in folder.list_files().all())


def test_an_async_job_of_250_files(ferry, api, local_files, new_project):
    files = {f"f{i:03}.txt": f"file {i}\n".encode() for i in range(250)}
    _, ids = import_project(ferry, api, local_files, files, "many")
    dest = new_project()
    items = [{"file": file_id, "project": dest.id} for file_id in ids.values()]

    submitted = api.async_jobs.file_bulk_copy(files=items)
    assert submitted.type == "COPY"
    job = wait_for_job(api, submitted.id)

    assert (job.total_files, job.completed_files, job.failed_files) == (250, 250, 0)
    records = job.get_result()
    assert len(records) == 250
    assert all(record.valid for record in records)
    copied = {record.resource.id: record.resource.name for record in records}
    assert sorted(copied.values()) == sorted(files)
    assert not set(copied) & set(ids.values()), "copies get new ids"
    listed = {f.id: f.name for f in api.files.query(project=dest.id).all()}
    assert listed == copied


def test_an_async_job_copies_a_folder_tree_three_levels_deep_and_merges(
    ferry, api, local_files, new_project
):
    tree = {
        "top.txt": b"top\n",
        "one/a.txt": b"a\n",
        "one/two/b.txt": b"b\n",
        "one/two/three/c.txt": b"c\n",
    }
    _, ids = import_project(ferry, api, local_files, tree, "tree")
    tree_folder = api.files.get(id=api.files.get(id=ids["/tree/top.txt"]).parent)
    assert tree_folder.name == "tree" and tree_folder.is_folder()
    dest = new_project()

    for _ in range(2):  # the second copy merges into the first and renames what collides
        job = wait_for_job(
            api, api.async_jobs.file_bulk_copy(files=[{"file": tree_folder.id, "project": dest.id}]).id
        )
        assert job.failed_files == 0
        [record] = job.get_result()
        assert record.valid and record.resource.name == "tree"

    [copied_tree] = [f for f in api.files.query(project=dest.id).all()]
    assert (copied_tree.name, copied_tree.type) == ("tree", "folder")
    assert copied_tree.id != tree_folder.id
    assert names_in(api, copied_tree) == ["1_top.txt", "one", "top.txt"]
    one = next(f for f in copied_tree.list_files().all() if f.name == "one")
    assert names_in(api, one) == ["1_a.txt", "a.txt", "two"]
    two = next(f for f in one.list_files().all() if f.name == "two")
    assert names_in(api, two) == ["1_b.txt", "b.txt", "three"]
    three = next(f for f in two.list_files().all() if f.name == "three")
    assert names_in(api, three) == ["1_c.txt", "c.txt"]


def test_an_item_that_cannot_be_copied_fails_alone(api, source, new_project):
    dest = new_project()
    items = [
        {"file": source.ids["/a.txt"], "project": dest.id},
        {"file": "0123456789abcdef01234567", "project": dest.id},
    ]
    job = wait_for_job(api, api.async_jobs.file_bulk_copy(files=items).id)
    assert (job.completed_files, job.failed_files) == (1, 1)
    good, bad = job.get_result()
    assert good.valid and good.resource.name == "a.txt"
    assert not bad.valid and bad.error.status == 404
