"""Unmodified dxpy and the `dx` CLI against Ferry, everything but clone and listProjects (those
are in test_dx_clone.py): projects, members, folders, records with hidden linked records, files
written with dxpy and read back, describe, listFolder, searches, nonces."""

import json
import subprocess
import uuid

import dxpy
import pytest
from conftest import CONTENT, DX
from dxpy.exceptions import (
    DXAPIError,
    InvalidAuthentication,
    InvalidInput,
    InvalidState,
    PermissionDenied,
    ResourceNotFound,
)

def new_project(label="DX"):
    project = dxpy.DXProject()
    project.new(name=f"{label} {uuid.uuid4().hex[:8]}")
    return project


def run_dx(env, *args, project=None):
    """Runs the `dx` CLI; returns its standard output."""
    if project is not None:
        env = {**env, "DX_PROJECT_CONTEXT_ID": project}
    done = subprocess.run([DX, *args], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"dx {' '.join(args)}: {done.stderr}"
    return done.stdout


def test_whoami_and_an_unknown_token(dx_env):
    assert dxpy.whoami() == "user-alice"
    assert run_dx(dx_env, "whoami") == "alice\n"
    assert run_dx(dx_env, "whoami", "--id") == "user-alice\n"
    with pytest.raises(InvalidAuthentication):
        dxpy.api.system_whoami(
            auth=dxpy.DXHTTPOAuth2({"auth_token_type": "Bearer", "auth_token": "nope"})
        )


def test_projects_are_made_described_updated_found_and_destroyed(dx_env):
    project = dxpy.DXProject()
    name = f"Made by dxpy {uuid.uuid4().hex[:8]}"
    project.new(name=name, summary="one line", description="more", protected=True)
    described = project.describe()
    assert (described["name"], described["summary"], described["level"]) == (
        name,
        "one line",
        "ADMINISTER",
    )
    assert described["protected"] is True and described["class"] == "project"

    project.update(name=name + " renamed", restricted=True)
    described = project.describe(input_params={"fields": {"name": True, "restricted": True}})
    assert described == {"id": project.get_id(), "name": name + " renamed", "restricted": True}

    found = list(dxpy.find_projects(name=name + " renamed", describe=True))
    assert [(p["id"], p["level"]) for p in found] == [(project.get_id(), "ADMINISTER")]
    assert found[0]["describe"]["summary"] == "one line"
    globbed = list(dxpy.find_projects(name="Made by dxpy*", name_mode="glob"))
    assert project.get_id() in [p["id"] for p in globbed]

    project.destroy()
    with pytest.raises(ResourceNotFound):
        project.describe()


def test_members_are_invited_and_see_what_their_level_allows(dx_env, as_bob):
    project = new_project("Members")
    try:
        project.invite("user-bob", "VIEW")
        as_seen = dxpy.api.project_describe(project.get_id(), auth=as_bob)
        assert as_seen["level"] == "VIEW"
        with pytest.raises(PermissionDenied):
            dxpy.api.project_new_folder(project.get_id(), {"folder": "/x"}, auth=as_bob)
        project.decrease_perms("user-bob", None)
        with pytest.raises(ResourceNotFound):
            dxpy.api.project_describe(project.get_id(), auth=as_bob)
    finally:
        project.destroy()


def test_a_record_starts_from_another_with_init_from(dx_env):
    project = new_project("Init")
    try:
        pid = project.get_id()
        template = dxpy.new_dxrecord(project=pid, name="template", types=["Sample"],
                                     details={"k": 1}, tags=["old"], close=True)
        made = dxpy.new_dxrecord(project=pid, init_from=template, tags=["new"])
        described = made.describe(incl_details=True)
        assert (described["name"], described["types"], described["tags"]) == (
            "template", ["Sample"], ["new"])
        assert described["details"] == {"k": 1}
    finally:
        project.destroy()


def test_resolve_data_objects_finds_names_in_their_folders(dx_env):
    project = new_project("Resolve")
    try:
        pid = project.get_id()
        top = dxpy.new_dxrecord(project=pid, name="top")
        deep = dxpy.new_dxrecord(project=pid, name="deep", folder="/d", parents=True)
        results = dxpy.resolve_data_objects(
            [{"name": "top"}, {"name": "deep", "folder": "/d"}, {"name": "deep"}], project=pid
        )
        assert [[r["id"] for r in found] for found in results] == [
            [top.get_id()], [deep.get_id()], []
        ]
    finally:
        project.destroy()


def test_a_download_restricted_project_gives_no_download_url(dx_env):
    pid = dxpy.api.project_new({"name": "Locked", "downloadRestricted": True})["id"]
    project = dxpy.DXProject(pid)
    try:
        written = dxpy.upload_string("x", project=pid, name="x.txt", wait_on_close=True)
        assert project.describe()["downloadRestricted"] is True
        with pytest.raises(PermissionDenied):
            dxpy.api.file_download(written.get_id(), {"project": pid})
        project.update(download_restricted=False)
        assert dxpy.api.file_download(written.get_id(), {"project": pid})["url"]
    finally:
        project.destroy()


def test_records_with_hidden_links_round_trip(dx_env):
    src, dst = new_project("Source"), new_project("Destination")
    assert src.get_id() != dst.get_id()
    try:
        src.new_folder("/data", parents=True)
        hidden = dxpy.new_dxrecord(
            project=src.get_id(),
            folder="/data",
            name="index",
            hidden=True,
            details={"kind": "index"},
            close=True,
        )
        visible = dxpy.new_dxrecord(
            project=src.get_id(),
            folder="/data",
            name="sample",
            details={"index": dxpy.dxlink(hidden.get_id())},
            types=["Sample"],
            tags=["raw"],
            properties={"lane": "1"},
        )
        assert visible.describe()["state"] == "open"
        visible.add_tags(["checked"])
        visible.set_properties({"lane": None, "run": "7"})
        visible.close()
        d = visible.describe(incl_details=True, incl_properties=True)
        assert d["state"] == "closed" and d["links"] == [hidden.get_id()]
        assert d["details"] == {"index": {"$dnanexus_link": hidden.get_id()}}
        assert (d["types"], d["tags"], d["properties"]) == (
            ["Sample"],
            ["raw", "checked"],
            {"run": "7"},
        )
        assert d["folder"] == "/data" and d["project"] == src.get_id()
        assert visible.get_details() == {"index": {"$dnanexus_link": hidden.get_id()}}
        with pytest.raises(InvalidState):
            visible.set_details({})
        visible.rename("sample-1")
        assert visible.describe()["name"] == "sample-1"

        listed = src.list_folder("/data", describe=True, includeHidden=True)
        assert listed["folders"] == []
        assert sorted(o["describe"]["name"] for o in listed["objects"]) == ["index", "sample-1"]
        assert [o["id"] for o in src.list_folder("/data")["objects"]] == [visible.get_id()]
        assert src.list_folder("/", only="folders") == {"folders": ["/data"]}

        # The project is a hint: the object is not in dst, so its own project answers.
        assert not dxpy.utils.resolver.object_exists_in_project(visible.get_id(), dst.get_id())
        assert dxpy.utils.resolver.object_exists_in_project(visible.get_id(), src.get_id())

        src.remove_folder("/data", recurse=True)
        assert src.list_folder("/") == {"folders": [], "objects": []}
        with pytest.raises(ResourceNotFound):
            visible.describe()
        with pytest.raises(ResourceNotFound):
            src.list_folder("/data")
    finally:
        src.destroy()
        dst.destroy()


def test_a_file_is_written_with_dxpy_and_read_back(dx_env, tmp_path):
    project = new_project("Files")
    try:
        written = dxpy.upload_string(
            "hello world\n",
            project=project.get_id(),
            folder="/data",
            parents=True,
            name="hello.txt",
            media_type="text/plain",
            wait_on_close=True,
        )
        d = written.describe()
        assert (d["size"], d["state"], d["name"], d["media"]) == (
            12,
            "closed",
            "hello.txt",
            "text/plain",
        )
        with dxpy.open_dxfile(written.get_id(), project=project.get_id()) as f:
            assert f.read() == "hello world\n"
        with dxpy.open_dxfile(written.get_id(), mode="rb") as f:
            f.seek(6)
            assert f.read(5) == b"world"
        local = tmp_path / "hello.txt"
        dxpy.download_dxfile(written.get_id(), str(local), project=project.get_id())
        assert local.read_bytes() == b"hello world\n"
        # The URL ends in the name and carries no query, as `wget URL` wants it (a bucket's
        # presigned URL, with the S3 content store, is the bucket's own).
        url = dxpy.api.file_download(written.get_id(), {"project": project.get_id()})["url"]
        if CONTENT != "s3":
            assert url.endswith("/" + written.describe()["name"]) and "?" not in url

        # Small parts: several PUTs, some at once, concatenated in order on close. With the S3
        # store, parts but the last are 5 MiB at least (fileUploadParameters), and dxpy sends
        # this body as one.
        body = "".join(f"line {i}\n" for i in range(200))
        parts = dxpy.new_dxfile(project=project.get_id(), name="parts.txt", write_buffer_size=100)
        parts.write(body)
        parts.flush()
        parts.wait_until_parts_uploaded()
        sent = len(parts.describe(fields={"parts"})["parts"])
        assert sent > 1 if CONTENT == "local" else sent == 1
        parts.close(block=True)
        assert parts.describe()["size"] == len(body)
        with dxpy.open_dxfile(parts.get_id()) as f:
            assert f.read() == body

        # A file closed without a byte written uploads an empty part and is empty.
        empty = dxpy.new_dxfile(project=project.get_id(), name="empty.txt")
        empty.close(block=True)
        assert empty.describe()["size"] == 0

        with pytest.raises(InvalidState):
            dxpy.api.file_upload(written.get_id(), {"index": 1})
        other = new_project("Elsewhere")
        try:
            with pytest.raises(ResourceNotFound):
                dxpy.api.file_download(written.get_id(), {"project": other.get_id()})
        finally:
            other.destroy()
    finally:
        project.destroy()


def test_folders_and_objects_move_rename_and_go(dx_env):
    project = new_project("Folders")
    try:
        project.new_folder("/a/b/c/d", parents=True)
        r0 = dxpy.new_dxrecord(project=project.get_id(), name="r0", close=True)
        r1 = dxpy.new_dxrecord(project=project.get_id(), folder="/a/b", name="r1", close=True)
        project.move("/a", objects=[r0.get_id(), r1.get_id()], folders=["/a/b/c/d"])
        listed = project.list_folder("/a")
        assert listed["folders"] == ["/a/b", "/a/d"]
        assert sorted(o["id"] for o in listed["objects"]) == sorted([r0.get_id(), r1.get_id()])

        dxpy.api.project_rename_folder(project.get_id(), {"folder": "/a/b", "name": "bee"})
        assert project.list_folder("/a")["folders"] == ["/a/bee", "/a/d"]
        assert project.describe(input_params={"folders": True})["folders"] == [
            "/",
            "/a",
            "/a/bee",
            "/a/bee/c",
            "/a/d",
        ]
        # `dx mv /a/bee /a/d/renamed`: the folder is moved and renamed (renameFolder's newpath).
        run_dx(dx_env, "mv", "/a/bee", "/a/d/renamed", project=project.get_id())
        assert project.list_folder("/a/d")["folders"] == ["/a/d/renamed"]
        assert project.list_folder("/a/d/renamed")["folders"] == ["/a/d/renamed/c"]
        assert project.list_folder("/a")["folders"] == ["/a/d"]
        with pytest.raises(DXAPIError):
            project.remove_folder("/a")
        with pytest.raises(InvalidState):
            project.new_folder("/a/d")

        project.remove_objects([r0.get_id()])
        with pytest.raises(ResourceNotFound):
            r0.describe()
        project.remove_folder("/a", recurse=True)
        assert project.list_folder("/") == {"folders": [], "objects": []}
    finally:
        project.destroy()


def test_searches_and_bulk_describe(dx_env):
    project = new_project("Search")
    try:
        ids = [
            dxpy.new_dxrecord(project=project.get_id(), name=f"s{i}.bam", close=True).get_id()
            for i in range(5)
        ]
        hidden = dxpy.new_dxrecord(
            project=project.get_id(), folder="/h", parents=True, name="h.bam", hidden=True
        ).get_id()
        found = list(
            dxpy.find_data_objects(
                project=project.get_id(),
                name="*.bam",
                name_mode="glob",
                classname="record",
                describe=True,
                first_page_size=2,
            )
        )
        assert [r["id"] for r in found] == ids
        assert found[0]["describe"]["name"] == "s0.bam"
        either = dxpy.find_data_objects(project=project.get_id(), visibility="either")
        assert hidden in [r["id"] for r in either]
        in_h = dxpy.find_data_objects(project=project.get_id(), folder="/h", visibility="hidden")
        assert [r["id"] for r in in_h] == [hidden]
        one = dxpy.find_one_data_object(project=project.get_id(), name="s3.bam", zero_ok=False)
        assert one["id"] == ids[3]

        described = dxpy.describe([ids[0], ids[1]])
        assert [d["name"] for d in described] == ["s0.bam", "s1.bam"]
        with pytest.raises(InvalidInput):
            list(dxpy.find_data_objects(classname="project"))
    finally:
        project.destroy()


def test_a_nonce_makes_a_record_once(dx_env):
    project = new_project("Nonce")
    try:
        body = {"project": project.get_id(), "name": "once", "nonce": uuid.uuid4().hex}
        first = dxpy.api.record_new(body)["id"]
        assert dxpy.api.record_new(body)["id"] == first
        with pytest.raises(InvalidInput, match="Nonce was reused"):
            dxpy.api.record_new({**body, "name": "twice"})
        assert [o["id"] for o in project.list_folder("/")["objects"]] == [first]
    finally:
        project.destroy()


def test_the_dx_cli_tags_a_project_and_sets_its_properties(dx_env):
    project = new_project("Tags")
    try:
        pid = project.get_id()
        run_dx(dx_env, "tag", pid, "raw", "2024")
        run_dx(dx_env, "untag", pid, "2024")
        run_dx(dx_env, "set_properties", pid, "study=S1", "site=north")
        run_dx(dx_env, "unset_properties", pid, "site")
        described = project.describe()
        assert described["tags"] == ["raw"]
        assert described["properties"] == {"study": "S1"}
        found = dxpy.api.system_find_projects({"name": described["name"], "describe": True})
        assert found["results"][0]["describe"]["tags"] == ["raw"]
        by_tag = run_dx(dx_env, "find", "projects", "--tag", "raw", "--brief").split()
        assert pid in by_tag
        by_property = run_dx(dx_env, "find", "projects", "--property", "study=S1", "--brief")
        assert pid in by_property.split()
        assert pid not in run_dx(dx_env, "find", "projects", "--tag", "2024", "--brief").split()
    finally:
        project.destroy()


def test_dx_find_data_narrows_by_tag_property_state_and_name(dx_env):
    project = new_project("Find")
    try:
        pid = project.get_id()
        raw = dxpy.new_dxrecord(project=pid, name="raw.bam", tags=["raw"],
                                properties={"study": "S1"}, close=True)
        notes = dxpy.new_dxrecord(project=pid, name="notes.txt", tags=["final"],
                                  properties={"study": "S2"})

        def found(*args):
            out = run_dx(dx_env, "find", "data", "--brief", "--project", pid, *args)
            return [line.split(":")[-1] for line in out.split()]

        assert found("--tag", "raw") == [raw.get_id()]
        assert found("--property", "study=S1") == [raw.get_id()]
        assert found("--state", "closed") == [raw.get_id()]
        assert found("--name", "raw.*", "--name-mode", "regexp") == [raw.get_id()]
        assert len(found()) == 2
        by_sdk = list(dxpy.find_data_objects(project=pid, tags=["final"], properties={"study": True}))
        assert [result["id"] for result in by_sdk] == [notes.get_id()]
    finally:
        project.destroy()


def test_the_dx_cli_lists_and_describes(dx_env):
    project = new_project("CLI")
    try:
        pid = project.get_id()
        dxpy.upload_string(
            "ACGT\n", project=pid, folder="/reads", parents=True, name="r1.fastq", wait_on_close=True
        )
        record = dxpy.new_dxrecord(project=pid, folder="/reads", name="meta", close=True)

        listing = run_dx(dx_env, "ls", f"{pid}:/reads")
        assert listing.split() == ["meta", "r1.fastq"]
        top = run_dx(dx_env, "ls", project=pid)
        assert top.split() == ["reads/"]

        described = json.loads(run_dx(dx_env, "describe", record.get_id(), "--json"))
        assert (described["id"], described["name"], described["folder"]) == (
            record.get_id(),
            "meta",
            "/reads",
        )
        text = run_dx(dx_env, "describe", f"{pid}:/reads/r1.fastq")
        assert "r1.fastq" in text and "closed" in text
        # A bare path is also looked up as an app, a global workflow and a job.
        text = run_dx(dx_env, "describe", "/reads/r1.fastq", project=pid)
        assert "r1.fastq" in text and "closed" in text
        assert run_dx(dx_env, "cat", f"{pid}:/reads/r1.fastq") == "ACGT\n"
    finally:
        project.destroy()
