#!/usr/bin/env python3
"""The WHMCS addon as the zip an administrator uploads.

    python3 scripts/dist.py [--out DIR]   build DIR/puente-whmcs-addon-<version>.zip
                                          and DIR/SHA256SUMS (DIR: dist)
    python3 scripts/dist.py --print-name  print the zip's name and stop
    python3 scripts/dist.py --check       build it twice and check it (make dist-check)

The zip holds modules/addons/puente/** and nothing else, so that unzipping
it in the WHMCS root installs the addon. The version is the crate's
(Cargo.toml), the one version of everything. The same sources give the same
bytes: entries sorted, every timestamp SOURCE_DATE_EPOCH (else the last
commit's time), every file mode 0644, no extra fields, no comment.
"""

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ADDON = ROOT / "php-shim" / "modules" / "addons" / "puente"
PREFIX = "modules/addons/puente/"
# What an addon file may be; anything else in the folder stops the build
# rather than being shipped, or left out, without anyone deciding.
SHIPPED = {".php", ".tpl", ".json", ".png"}
REQUIRED = ["puente.php", "hooks.php", "action.php", "requirements.php", "whmcs.json", "LICENSE"]
# Files from outside the addon's folder that ship beside it: the licence
# whose notice every copy must carry.
BESIDE = {"LICENSE": ROOT / "LICENSE"}
MODE = 0o100644
ZIP_EPOCH = 315532800  # 1980-01-01, the earliest time a zip can hold


class DistError(Exception):
    """A build or check that failed, with the reason."""


def version() -> str:
    """`version` of Cargo.toml's [package] (read by hand: tomllib needs Python 3.11)."""
    section = None
    for line in (ROOT / "Cargo.toml").read_text().splitlines():
        header = re.match(r"\s*\[([^\]]+)\]", line)
        if header:
            section = header.group(1).strip()
        found = re.match(r'\s*version\s*=\s*"([^"]+)"', line)
        if section == "package" and found:
            return found.group(1)
    raise DistError("Cargo.toml has no [package] version")


def zip_name() -> str:
    return f"puente-whmcs-addon-{version()}.zip"


def source_date_epoch() -> int:
    """SOURCE_DATE_EPOCH, else the time of the last commit."""
    if "SOURCE_DATE_EPOCH" in os.environ:
        return int(os.environ["SOURCE_DATE_EPOCH"])
    try:
        found = subprocess.run(
            ["git", "-C", str(ROOT), "log", "-1", "--format=%ct"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()
        return int(found)
    except (OSError, subprocess.CalledProcessError, ValueError) as error:
        raise DistError(f"no commit to date the zip by ({error}); set SOURCE_DATE_EPOCH") from error


def date_time(epoch: int) -> tuple:
    """The zip's date and time of `epoch` in UTC (a zip keeps even seconds only)."""
    year, month, day, hour, minute, second = time.gmtime(max(epoch, ZIP_EPOCH))[:6]
    return (year, month, day, hour, minute, second - second % 2)


def addon_files(source: Path) -> list[str]:
    """The addon's files, relative to its folder, sorted; hidden ones skipped."""
    files = []
    for folder, subfolders, names in os.walk(source):
        subfolders[:] = [name for name in subfolders if not name.startswith(".")]
        for name in names:
            if name.startswith("."):
                continue
            relative = Path(folder, name).relative_to(source).as_posix()
            if Path(name).suffix not in SHIPPED:
                raise DistError(f"{relative}: not a kind of file the addon ships ({', '.join(sorted(SHIPPED))}); "
                                "remove it, or add its kind to SHIPPED in scripts/dist.py")
            files.append(relative)
    return sorted(files)


def build(out: Path, source: Path = ADDON) -> Path:
    """Writes out/<zip name> and out/SHA256SUMS; returns the zip's path."""
    stamp = date_time(source_date_epoch())
    out.mkdir(parents=True, exist_ok=True)
    target = out / zip_name()
    partial = out / (target.name + ".partial")
    files = {relative: source / relative for relative in addon_files(source)}
    files.update(BESIDE)
    with zipfile.ZipFile(partial, "w") as archive:
        for relative in sorted(files):
            entry = zipfile.ZipInfo(PREFIX + relative, date_time=stamp)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.create_system = 3  # Unix, so that the mode below is read
            entry.external_attr = MODE << 16
            archive.writestr(entry, files[relative].read_bytes(), compresslevel=9)
    partial.replace(target)
    digest = hashlib.sha256(target.read_bytes()).hexdigest()
    (out / "SHA256SUMS").write_text(f"{digest}  {target.name}\n")
    return target


def scrambled_copy(destination: Path) -> Path:
    """The addon copied with other file times and modes, files created in reverse order."""
    for relative in reversed(addon_files(ADDON)):
        target = destination / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ADDON / relative, target)
        target.chmod(0o600)
        os.utime(target, (1_000_000_000, 1_000_000_000))
    return destination


def problems_of(archive_path: Path) -> list[str]:
    """What is wrong with a built zip: its name, entries, modes, times, checksum."""
    problems = []
    if archive_path.name != f"puente-whmcs-addon-{version()}.zip":
        problems.append(f"the zip is named {archive_path.name}, not after the crate version {version()}")
    stamp = date_time(source_date_epoch())
    with zipfile.ZipFile(archive_path) as archive:
        entries = archive.infolist()
        names = [entry.filename for entry in entries]
        if names != sorted(names):
            problems.append("entries are not sorted")
        if archive.comment:
            problems.append("the zip has a comment")
        bad = archive.testzip()
        if bad is not None:
            problems.append(f"{bad}: bad CRC")
        for entry in entries:
            name = entry.filename
            parts = name.split("/")
            if not name.startswith(PREFIX):
                problems.append(f"{name}: outside {PREFIX}")
            if "tests" in parts or any(part.startswith(".") for part in parts):
                problems.append(f"{name}: a test or hidden file")
            if entry.external_attr >> 16 != MODE or entry.create_system != 3:
                problems.append(f"{name}: mode {entry.external_attr >> 16:o}, not {MODE:o}")
            if entry.date_time != stamp:
                problems.append(f"{name}: dated {entry.date_time}, not {stamp}")
            if entry.extra or entry.comment:
                problems.append(f"{name}: extra fields or a comment")
        logo = json.loads(archive.read(PREFIX + "whmcs.json"))["logo"]["filename"] if PREFIX + "whmcs.json" in names else None
    for required in REQUIRED + ([logo] if logo else []):
        if PREFIX + required not in names:
            problems.append(f"{PREFIX}{required} is missing")
    tracked = git_tracked()
    for relative in tracked - {name[len(PREFIX):] for name in names}:
        problems.append(f"{PREFIX}{relative} is tracked by git but not in the zip")
    sums = (archive_path.parent / "SHA256SUMS").read_text()
    expected = f"{hashlib.sha256(archive_path.read_bytes()).hexdigest()}  {archive_path.name}\n"
    if sums != expected:
        problems.append(f"SHA256SUMS says {sums!r}, not {expected!r}")
    return problems


def git_tracked() -> set[str]:
    """The addon's files git tracks (empty outside a git checkout)."""
    try:
        listed = subprocess.run(
            ["git", "-C", str(ADDON), "ls-files", "--full-name", "."],
            capture_output=True, text=True, check=True,
        ).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        return set()
    prefix = ADDON.relative_to(ROOT).as_posix() + "/"
    return {path[len(prefix):] for path in listed if path.startswith(prefix)}


def check() -> list[str]:
    """Builds twice, the second time from a scrambled copy; compares and inspects."""
    with tempfile.TemporaryDirectory(prefix="puente-dist-") as scratch:
        scratch = Path(scratch)
        first = build(scratch / "first")
        second = build(scratch / "second", scrambled_copy(scratch / "copy"))
        problems = problems_of(first)
        for name in (first.name, "SHA256SUMS"):
            if (scratch / "first" / name).read_bytes() != (scratch / "second" / name).read_bytes():
                problems.append(f"two builds of {name} differ")
        if not problems:
            with zipfile.ZipFile(first) as archive:
                count = len(archive.infolist())
            print(f"dist-check: {first.name} ({first.stat().st_size} bytes, {count} files) built twice, byte-identical")
        return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "dist", help="where to write the zip (default: dist)")
    parser.add_argument("--print-name", action="store_true", help="print the zip's name and stop")
    parser.add_argument("--check", action="store_true", help="build twice and check the zip")
    arguments = parser.parse_args()
    try:
        if arguments.print_name:
            print(zip_name())
            return 0
        if arguments.check:
            problems = check()
            for problem in problems:
                print(f"dist-check: {problem}", file=sys.stderr)
            return 1 if problems else 0
        target = build(arguments.out)
        print(f"{target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}")
        print(f"{(target.parent / 'SHA256SUMS').read_text().strip()}")
        return 0
    except DistError as error:
        print(f"dist: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
