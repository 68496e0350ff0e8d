"""Bytes out, exactly: every way each SDK reads a file returns the bytes `ferry import` stored,
at the sizes where ranged downloads change shape. sevenbridges-python's `download()` reads
anything over 5 MiB (its part size) in ranged GETs, four at a time; dxpy reads in ranged parts
too."""

import hashlib
import os
import subprocess
import uuid

import dxpy
import pytest
import requests

from conftest import CONTENT, DX

MIB = 1024 * 1024
SIZES = [0, 1, 5 * MIB - 1, 5 * MIB, 5 * MIB + 1, 40 * MIB + 3]


def pattern(size):
    """Bytes that differ at every offset a misplaced part could land on."""
    block = hashlib.sha256(str(size).encode()).digest() * (64 * 1024 // 32)
    stamp = b"".join(i.to_bytes(4, "big") for i in range(len(block) // 4))
    block = bytes(a ^ b for a, b in zip(block, stamp))
    whole = bytearray()
    index = 0
    while len(whole) < size:
        whole += index.to_bytes(8, "big") + block[8:]
        index += 1
    return bytes(whole[:size])


def sha256(data):
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module")
def sized(ferry, api, local_files):
    """A project holding one imported file per size; returns (project, {size: (id, bytes)})."""
    contents = {size: pattern(size) for size in SIZES}
    directory = local_files({f"size-{size}.bin": data for size, data in contents.items()}, "sized")
    project = api.projects.create(name=f"Bytes {uuid.uuid4().hex[:8]}")
    ids = ferry.import_files("alice", project.id, *sorted(directory.iterdir()))
    return project, {size: (ids[f"/size-{size}.bin"], data) for size, data in contents.items()}


@pytest.mark.parametrize("size", SIZES)
def test_the_sbg_sdk_reads_every_size_exactly(api, sized, size, tmp_path):
    _, files = sized
    file_id, data = files[size]
    file = api.files.get(id=file_id)
    assert file.size == size

    target = tmp_path / "downloaded"
    file.download(str(target))
    assert sha256(target.read_bytes()) == sha256(data)
    assert sha256(b"".join(file.stream(part_size=1024 * 1024))) == sha256(data)
    # content() reads the download back in text mode: latin-1 maps each byte to one character,
    # and universal newlines turn \r\n and \r into \n.
    text = data.decode("latin-1").replace("\r\n", "\n").replace("\r", "\n")
    assert file.content(encoding="latin-1") == text


@pytest.mark.parametrize("size", [0, 5 * MIB + 1])
def test_a_download_link_answers_head_and_ranges(api, sized, size):
    _, files = sized
    file_id, data = files[size]
    url = api.files.get(id=file_id).download_info().url
    if CONTENT == "s3":
        # The bucket's own presigned URL: the bytes never pass through Ferry. As on CAVATICA it
        # is signed for GET alone, so its headers are read from a GET.
        assert url.startswith(os.environ["FERRY_TEST_S3_ENDPOINT"] + "/"), url
        head = requests.get(url, timeout=10)
        assert head.content == data
    else:
        head = requests.head(url, timeout=10)
        assert head.headers["ETag"] == f'"{sha256(data)}"'
        assert head.headers["Accept-Ranges"] == "bytes"
        assert head.content == b""
    assert head.status_code == 200
    assert int(head.headers["Content-Length"]) == size
    assert f"size-{size}.bin" in head.headers["Content-Disposition"]
    if size:
        tail = requests.get(url, headers={"Range": "bytes=-7"}, timeout=10)
        assert (tail.status_code, tail.content) == (206, data[-7:])
        assert tail.headers["Content-Range"] == f"bytes {size - 7}-{size - 1}/{size}"
    past = requests.get(url, headers={"Range": f"bytes={size}-"}, timeout=10)
    assert past.status_code == 416
    if CONTENT == "local":
        assert past.headers["Content-Range"] == f"bytes */{size}"


def dx_file(project, size):
    dx_project = next(dxpy.find_projects(name=project.name, return_handler=True))
    found = dxpy.find_one_data_object(
        classname="file", name=f"size-{size}.bin", project=dx_project.get_id()
    )
    return dx_project.get_id(), found["id"]


@pytest.mark.parametrize("size", SIZES)
def test_dxpy_reads_every_size_exactly(dx_env, sized, size, tmp_path):
    project, files = sized
    _, data = files[size]
    project_id, file_id = dx_file(project, size)

    target = tmp_path / "downloaded"
    dxpy.download_dxfile(file_id, str(target), project=project_id)
    assert sha256(target.read_bytes()) == sha256(data)
    with dxpy.open_dxfile(file_id, project=project_id, mode="rb") as handle:
        assert sha256(handle.read()) == sha256(data)
    if size > 2:
        with dxpy.open_dxfile(file_id, project=project_id, mode="rb") as handle:
            handle.seek(size - 2)
            assert handle.read(2) == data[-2:]


@pytest.mark.parametrize("size", [1, 40 * MIB + 3])
def test_dx_download_writes_the_exact_bytes(dx_env, sized, size, tmp_path):
    project, files = sized
    _, data = files[size]
    project_id, file_id = dx_file(project, size)
    target = tmp_path / "by-dx"
    done = subprocess.run(
        [DX, "download", f"{project_id}:{file_id}", "-o", str(target)],
        env=dx_env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert sha256(target.read_bytes()) == sha256(data)


UPLOAD_SIZES = [0, 1, 5 * MIB - 1, 5 * MIB + 1, 40 * MIB + 3]


@pytest.mark.parametrize("size", UPLOAD_SIZES)
def test_the_sbg_sdk_uploads_every_size_exactly(api, new_project, dx_env, tmp_path, size):
    project = new_project("Upload")
    data = pattern(size)
    local = tmp_path / f"up-{size}.bin"
    local.write_bytes(data)
    upload = api.files.upload(str(local), project=project.id, part_size=5 * MIB)
    assert upload.status == "COMPLETED", upload.status
    file = upload.result()
    assert (file.name, file.size) == (f"up-{size}.bin", size)

    back = tmp_path / "back.bin"
    api.files.get(id=file.id).download(str(back))
    assert sha256(back.read_bytes()) == sha256(data)
    # The other dialect sees the same closed file, with the MD5 of its bytes.
    dx_project = next(dxpy.find_projects(name=project.name, return_handler=True))
    found = dxpy.find_one_data_object(
        classname="file", name=local.name, project=dx_project.get_id()
    )
    handler = dxpy.DXFile(found["id"], project=dx_project.get_id())
    # With the S3 store the file is `closing` until a job worker has hashed the bytes the SDK
    # sent to the bucket.
    handler.wait_on_close(timeout=60)
    described = handler.describe(fields={"state", "size", "parts"})
    assert (described["state"], described["size"]) == ("closed", size)
    assert described["parts"]["1"]["md5"] == hashlib.md5(data).hexdigest()


def test_an_upload_to_a_taken_name_fails_unless_overwrite(api, new_project, tmp_path):
    project = new_project("Overwrite")
    local = tmp_path / "same.txt"
    local.write_bytes(b"first")
    first = api.files.upload(str(local), project=project.id).result()
    local.write_bytes(b"second!")
    # The SDK uploads in a thread: a refusal there leaves the upload FAILED.
    assert api.files.upload(str(local), project=project.id).status == "FAILED"
    second = api.files.upload(str(local), project=project.id, overwrite=True).result()
    listed = list(api.files.query(project=project.id, names=["same.txt"]).all())
    assert [f.id for f in listed] == [second.id] and second.id != first.id
    assert api.files.get(id=second.id).content() == "second!"


@pytest.mark.parametrize("size", [0, 1, 5 * MIB + 1, 40 * MIB + 3])
def test_dx_upload_stores_every_size_exactly(api, new_project, dx_env, tmp_path, size):
    """`dx upload` (dxpy's parts, several at once): the file closes with the bytes' MD5, and
    both dialects read them back. With the S3 store the parts go to the bucket's presigned URLs
    and the file is `closing` until a job worker has hashed it (`--wait` waits for `closed`)."""
    project = new_project("DxUp")
    data = pattern(size)
    local = tmp_path / f"dx-up-{size}.bin"
    local.write_bytes(data)
    dx_project = next(dxpy.find_projects(name=project.name, return_handler=True)).get_id()
    done = subprocess.run(
        [DX, "upload", str(local), "--path", f"{dx_project}:/", "--wait", "--brief"],
        env=dx_env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    file_id = done.stdout.strip()
    described = dxpy.DXFile(file_id, project=dx_project).describe()
    assert (described["state"], described["size"]) == ("closed", size)
    back = tmp_path / "back.bin"
    dxpy.download_dxfile(file_id, str(back), project=dx_project)
    assert sha256(back.read_bytes()) == sha256(data)
    sbg_file = next(iter(api.files.query(project=project.id, names=[local.name]).all()))
    assert sha256(b"".join(sbg_file.stream(part_size=MIB))) == sha256(data)
