"""Listing imported files page by page, folders, and downloading what was imported."""

import re
import urllib.request

import pytest
import sevenbridges as sbg

from seed import READS_FILES, ROOT_FILES


def test_imported_files_are_listed_over_several_pages(api, source):
    first_page = api.files.query(project=source.project, limit=2)
    # The root holds the imported files and the folder `reads`.
    assert first_page.total == len(ROOT_FILES) + 1
    assert len(first_page) == 2

    everything = list(first_page.all())
    assert sorted(f.name for f in everything) == sorted([*ROOT_FILES, "reads"])
    assert len({f.id for f in everything}) == len(everything)
    by_name = {f.name: f for f in everything}
    assert by_name["reads"].is_folder()
    for name in ROOT_FILES:
        listed = by_name[name]
        assert not listed.is_folder()
        assert listed.id == source.ids[f"/{name}"]
        assert listed.size == len(ROOT_FILES[name])
        assert listed.project == source.project.id
        assert listed.parent == source.project.root_folder


def test_a_file_is_fetched_by_the_id_import_printed(api, source):
    file = api.files.get(id=source.ids["/reads/r1.fastq"])
    assert (file.name, file.size) == ("r1.fastq", len(READS_FILES["r1.fastq"]))
    folder = api.files.get(id=file.parent)
    assert (folder.name, folder.is_folder()) == ("reads", True)
    assert [f.id for f in folder.list_files().all()] == [file.id]


def test_a_missing_file_is_not_found(api):
    with pytest.raises(sbg.errors.NotFound) as missing:
        api.files.get(id="0" * 24)
    assert missing.value.code == 5002


def test_folders_are_created_and_listed(ferry, api, new_project, local_files):
    project = new_project("Folders")
    results = api.files.create_folder(name="results", project=project)
    assert results.is_folder() and results.name == "results"
    assert results.parent == project.root_folder
    assert re.fullmatch(r"[0-9a-f]{24}", results.id)
    deep = api.files.create_folder(name="deep", parent=results)
    assert deep.parent == results.id

    imported = ferry.import_files(
        "alice", project.id, local_files({"x.vcf": b"x"}) / "x.vcf", folder="/results"
    )
    listing = results.list_files()
    assert listing.total == 2
    assert sorted((f.name, f.is_folder()) for f in listing.all()) == [
        ("deep", True),
        ("x.vcf", False),
    ]
    assert [f.id for f in deep.list_files().all()] == []
    assert {f.id for f in api.files.query(parent=results).all()} == {
        deep.id,
        imported["/results/x.vcf"],
    }

    with pytest.raises(sbg.errors.Conflict) as duplicate:
        api.files.create_folder(name="results", project=project)
    assert duplicate.value.code == 5030


def test_a_file_moves_to_a_folder_and_a_clash_becomes_n_name(ferry, api, new_project, local_files):
    project = new_project("Moves")
    results = api.files.create_folder(name="results", project=project)
    files = local_files({"a.vcf": b"new", "b.vcf": b"b"}, "moves")
    ferry.import_files("alice", project.id, files / "a.vcf", files / "b.vcf")
    ferry.import_files("alice", project.id, files / "a.vcf", folder="/results")
    by_name = {f.name: f for f in api.files.query(project=project).all()}

    moved = by_name["a.vcf"].move_to_folder(parent=results)
    assert (moved.id, moved.parent, moved.name) == (by_name["a.vcf"].id, results.id, "1_a.vcf")
    renamed = by_name["b.vcf"].move_to_folder(parent=results, name="c.vcf")
    assert renamed.name == "c.vcf"
    assert sorted(f.name for f in results.list_files().all()) == ["1_a.vcf", "a.vcf", "c.vcf"]
    assert [f.name for f in api.files.query(project=project).all()] == ["results"]


def test_download_info_gives_a_url_serving_the_imported_bytes(api, source):
    for name, contents in ROOT_FILES.items():
        info = api.files.get(id=source.ids[f"/{name}"]).download_info()
        # A plain GET, without the token: the URL itself grants access.
        with urllib.request.urlopen(info.url, timeout=10) as response:
            assert response.read() == contents
