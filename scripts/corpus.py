#!/usr/bin/env python3
"""Packs a fuzz corpus folder into one file, or unpacks it, for `make fuzz`.

The repository keeps each target's corpus as one file of records, each a
4-byte little-endian length and the input's bytes (`make test` replays it
through `puente::fuzzing`); libFuzzer wants a folder of files.

Usage: corpus.py pack FOLDER FILE | corpus.py unpack FILE FOLDER
"""
import hashlib
import os
import struct
import sys


def pack(folder: str, path: str) -> None:
    inputs = []
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name), "rb") as handle:
            inputs.append(handle.read())
    inputs.sort()
    with open(path, "wb") as out:
        for data in inputs:
            out.write(struct.pack("<I", len(data)))
            out.write(data)
    print(f"{len(inputs)} inputs packed into {path}")


def unpack(path: str, folder: str) -> None:
    os.makedirs(folder, exist_ok=True)
    if not os.path.exists(path):
        return
    with open(path, "rb") as handle:
        packed = handle.read()
    at = 0
    while at < len(packed):
        (length,) = struct.unpack_from("<I", packed, at)
        data = packed[at + 4 : at + 4 + length]
        at += 4 + length
        with open(os.path.join(folder, hashlib.sha1(data).hexdigest()), "wb") as out:
            out.write(data)


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] not in ("pack", "unpack"):
        sys.exit(__doc__)
    (pack if sys.argv[1] == "pack" else unpack)(sys.argv[2], sys.argv[3])
