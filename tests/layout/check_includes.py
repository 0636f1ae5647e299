#!/usr/bin/env python3
"""Fails when a module includes a module it must not (docs/ARCHITECTURE.md).

Each directory of src/ and include/skiff/ is a module; a file may include
the headers of its own module and of the modules its line below names.
"""
import pathlib
import re
import sys

# Module -> the modules it may use, lowest layer first.
ALLOWED = {
    "util": set(),
    "store": {"util"},
    "userns": {"util", "store"},
    "image": {"util", "store"},
    "registry": {"util", "store", "image"},
    "runtime": {"util", "store", "userns"},
    "net": {"util", "store", "userns", "runtime"},
    "storage": {"util", "store", "userns", "image", "runtime"},
    "engine": {"util", "store", "userns", "image", "registry", "runtime", "net", "storage"},
    "build": {"util", "store", "userns", "image", "registry", "runtime", "net", "storage", "engine"},
    "cli": {"util", "store", "userns", "image", "registry", "runtime", "net", "storage", "engine", "build"},
}

INCLUDE = re.compile(r'^\s*#\s*include\s+"skiff/([a-z_]+)/', re.M)


def module_of(path, root):
    rel = path.relative_to(root).parts
    if rel[0] == "include":
        return rel[2]
    return rel[1] if len(rel) > 2 else None  # src/main.cpp: the binary, anything goes


def main():
    root = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parents[2]
    files = sorted(
        p for d in ("src", "include/skiff") for p in (root / d).rglob("*") if p.suffix in (".cpp", ".hpp", ".h")
    )
    bad = []
    modules = set()
    for path in files:
        mod = module_of(path, root)
        if mod is None:
            continue
        modules.add(mod)
        if mod not in ALLOWED:
            bad.append(f"{path.relative_to(root)}: module {mod} is not in the layer table of this test")
            continue
        for used in INCLUDE.findall(path.read_text()):
            if used != mod and used not in ALLOWED[mod]:
                bad.append(f"{path.relative_to(root)}: {mod} includes {used}")
    for line in bad:
        print(line)
    if not files or not modules:
        print("no sources found under", root)
        return 1
    print(f"{len(files)} files of {len(modules)} modules checked, {len(bad)} forbidden includes")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
