"""A rules directory laid out as Kubernetes mounts a ConfigMap volume, and updated the way
the kubelet's atomic writer does it (pkg/volume/util/atomic_writer.go):

    rules/
      ..2026_12_04_18_00_00.000000001/   the files of one version, in a dated folder
        core.yaml
      ..data -> ..2026_12_04_18_00_00.000000001
      core.yaml -> ..data/core.yaml       one visible symlink per file

An update writes a new dated folder, points a `..data_tmp` symlink at it, renames that
over `..data` (the one atomic step), adds and removes visible symlinks, and deletes
the old folder.
"""

from __future__ import annotations

import itertools
import os
import shutil
import time
from collections.abc import Mapping
from pathlib import Path

DATA = "..data"
_serial = itertools.count(1)


def publish(directory: Path, files: Mapping[str, str]) -> None:
    """Make `directory` hold exactly `files` (name -> content), as one atomic ConfigMap update."""
    directory.mkdir(parents=True, exist_ok=True)
    data = directory / DATA
    old = os.readlink(data) if data.is_symlink() else None
    stamp = time.strftime("..%Y_%m_%d_%H_%M_%S", time.gmtime()) + f".{next(_serial):09d}"
    (directory / stamp).mkdir()
    for name, content in files.items():
        (directory / stamp / name).write_text(content)
    temporary = directory / "..data_tmp"
    temporary.symlink_to(stamp)
    os.replace(temporary, data)
    for name in files:
        visible = directory / name
        if not visible.is_symlink():
            visible.symlink_to(f"{DATA}/{name}")
    for entry in directory.iterdir():
        if entry.is_symlink() and not entry.name.startswith(".") and entry.name not in files:
            entry.unlink()
    if old is not None:
        shutil.rmtree(directory / old)
