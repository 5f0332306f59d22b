"""Output folders on the real file system: the project layout, and symlinks that lead outside the allowed roots."""

from __future__ import annotations

from pathlib import Path

import pytest

from ddbridge.daemon.outputs import Outputs
from ddbridge.protocol.errors import PathRefused


@pytest.fixture
def roots(tmp_path) -> tuple[Path, Path, Outputs]:
    allowed, outside = tmp_path / "allowed", tmp_path / "outside"
    (allowed / "project").mkdir(parents=True)
    outside.mkdir()
    return allowed, outside, Outputs([allowed], allowed / "default-project", tmp_path / "state")


def test_project_layout_is_created_under_the_project(roots):
    allowed, _outside, outputs = roots
    target = outputs.resolve(None, str(allowed / "project"), "snare")
    assert target == allowed / "project" / "Samples" / "Generated" / "snare" and target.is_dir()
    assert outputs.resolve(None, None, "kick") == allowed / "default-project" / "Samples" / "Generated" / "kick"


@pytest.mark.parametrize("link", ["Samples", "Samples/Generated", "Samples/Generated/snare"])
def test_a_layout_folder_linked_outside_is_refused_before_anything_is_created(roots, link):
    allowed, outside, outputs = roots
    project = allowed / "project"
    (project / link).parent.mkdir(parents=True, exist_ok=True)
    (project / link).symlink_to(outside, target_is_directory=True)
    with pytest.raises(PathRefused, match="outside the allowed roots"):
        outputs.resolve(None, str(project), "snare")
    assert list(outside.iterdir()) == []


def test_a_dangling_link_outside_is_refused_and_not_followed(roots):
    allowed, outside, outputs = roots
    (allowed / "project" / "Samples").symlink_to(outside / "made-later", target_is_directory=True)
    with pytest.raises(PathRefused, match="outside the allowed roots"):
        outputs.resolve(None, str(allowed / "project"), "snare")
    assert list(outside.iterdir()) == []


def test_links_that_stay_inside_the_roots_are_followed(roots):
    allowed, _outside, outputs = roots
    shared = allowed / "shared-samples"
    shared.mkdir()
    (allowed / "project" / "Samples").symlink_to(shared, target_is_directory=True)
    target = outputs.resolve(None, str(allowed / "project"), "kick")
    assert target == shared / "Generated" / "kick" and target.is_dir()


def test_a_layout_entry_that_is_a_file_is_refused(roots):
    allowed, _outside, outputs = roots
    (allowed / "project" / "Samples").write_text("not a folder")
    with pytest.raises(PathRefused, match="cannot create"):
        outputs.resolve(None, str(allowed / "project"), "kick")


def test_a_link_loop_in_the_layout_is_refused(roots):
    allowed, _outside, outputs = roots
    (allowed / "project" / "Samples").symlink_to(allowed / "project" / "Samples", target_is_directory=True)
    with pytest.raises(PathRefused, match="cannot"):
        outputs.resolve(None, str(allowed / "project"), "kick")
