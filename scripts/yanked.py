#!/usr/bin/env python3
"""Which crates of Cargo.lock are yanked on crates.io, read offline from cargo's local index cache.

A yanked version is one its authors withdrew (often for a bug or an advisory). cargo-deny's `advisories`
check reports them, but needs the network; this reads the index entries cargo already cached
($CARGO_HOME/registry/index/*/.cache), so the answer is only as fresh as the cache: the last time cargo
resolved these crates from crates.io. It prints each locked crate's status and when the cache file was
written, and exits 1 if a locked version is marked yanked. Used for the hand review in
docs/dependencies.md; not part of `make test`.
"""

import glob
import json
import os
import sys
import time

if sys.version_info < (3, 11):
    sys.exit("yanked: error: Python 3.11 or newer is needed (for tomllib)")
import tomllib  # noqa: E402

CRATES_IO = "registry+https://github.com/rust-lang/crates.io-index"


def cache_path(root, name):
    n = name.lower()
    if len(n) <= 2:
        return os.path.join(root, str(len(n)), n)
    if len(n) == 3:
        return os.path.join(root, "3", n[0], n)
    return os.path.join(root, n[:2], n[2:4], n)


def main():
    lock_file = sys.argv[1] if len(sys.argv) > 1 else "Cargo.lock"
    with open(lock_file, "rb") as f:
        lock = tomllib.load(f)
    home = os.environ.get("CARGO_HOME") or os.path.expanduser("~/.cargo")
    roots = [r for r in glob.glob(os.path.join(home, "registry/index/index.crates.io-*/.cache"))]
    if not roots:
        sys.exit(f"yanked: error: no crates.io index cache under {home}/registry/index (run any cargo build first)")
    yanked, missing, oldest = [], [], None
    for p in lock["package"]:
        if p.get("source") != CRATES_IO:
            continue
        found = None
        for root in roots:
            path = cache_path(root, p["name"])
            if not os.path.exists(path):
                continue
            mtime = os.path.getmtime(path)
            oldest = mtime if oldest is None else min(oldest, mtime)
            for chunk in open(path, "rb").read().split(b"\0"):
                if chunk.startswith(b"{"):
                    entry = json.loads(chunk)
                    if entry.get("vers") == p["version"]:
                        found = entry
        if found is None:
            missing.append(f"{p['name']} {p['version']}")
        elif found.get("yanked"):
            yanked.append(f"{p['name']} {p['version']}")
    total = sum(1 for p in lock["package"] if p.get("source") == CRATES_IO)
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(oldest)) if oldest else "never"
    print(f"{total} crates.io packages in {lock_file}; the oldest index cache entry read was written {when}")
    for m in missing:
        print(f"  not in the local index cache (status unknown): {m}")
    for y in yanked:
        print(f"  YANKED: {y}")
    if not yanked:
        print(f"  none of the {total - len(missing)} found is yanked")
    sys.exit(1 if yanked else 0)


if __name__ == "__main__":
    main()
