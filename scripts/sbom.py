#!/usr/bin/env python3
"""`make sbom`: a CycloneDX 1.5 (JSON) inventory of what frostsign's release binary is built from.

Reads `cargo tree -e normal` (the dependency graph and features of the release build, for one target
platform), `cargo metadata` (each crate's licence, links and description) and Cargo.lock (the SHA-256 of
every crate file, which cargo checks before it builds), all with `--locked --offline`, and walks the graph
from the frostsign package along NORMAL dependency edges only: dev-dependencies (tests) and
build-dependencies (build scripts) are left out.

- Crates reached without passing through a proc-macro crate are compiled and linked into the binary:
  scope "required".
- Proc-macro crates, and crates reached only through them, run inside the compiler while frostsign is built
  and are not linked into the binary. They are listed too (they shape the generated code), with scope
  "excluded" and the property `cargo:build-time-only` = `proc-macro`, so the inventory is complete.

Every component carries its version, package URL, SPDX licence expression (as the crate declares it) and,
for crates from crates.io, the SHA-256 of the .crate file from Cargo.lock. The file is deterministic: the
same commit and Cargo.lock give the same bytes (the timestamp is the commit's time, the serial number is
derived from the inputs), so two people can compare SBOMs as they compare binaries.

Python 3.11 standard library only (tomllib); no network.
"""

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import uuid

if sys.version_info < (3, 11):
    sys.exit("sbom: error: Python 3.11 or newer is needed (for tomllib); this is " + sys.version.split()[0])
import tomllib  # noqa: E402
from datetime import datetime, timezone

CRATES_IO = "registry+https://github.com/rust-lang/crates.io-index"


def die(msg, hint=None):
    print(f"sbom: error: {msg}", file=sys.stderr)
    if hint:
        print(f"  help: {hint}", file=sys.stderr)
    sys.exit(2)


def run(cmd, cwd):
    try:
        out = subprocess.run(cmd, cwd=cwd, check=True, capture_output=True, text=True)
    except FileNotFoundError:
        die(f"`{cmd[0]}` is not installed", "install a Rust toolchain (cargo, rustc) and git")
    except subprocess.CalledProcessError as e:
        die(f"`{' '.join(cmd)}` failed:\n{e.stderr.strip()}",
            "run `cargo fetch --locked` once (with network) so every locked crate is in the local cache")
    return out.stdout


def spdx(expr):
    # A few old crates write "MIT/Apache-2.0"; SPDX (and CycloneDX) spell it "MIT OR Apache-2.0".
    return " OR ".join(part.strip() for part in expr.split("/")) if expr else expr


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="where to write the CycloneDX JSON file")
    ap.add_argument("--manifest-dir", default=".", help="the folder holding Cargo.toml and Cargo.lock")
    ap.add_argument("--target", help="target triple (default: the host triple of rustc)")
    ap.add_argument("--binary", help="also record the SHA-256 of this built frostsign binary")
    ap.add_argument("--commit", help="the git commit the manifest folder holds (default: ask git there)")
    args = ap.parse_args()

    root_dir = os.path.abspath(args.manifest_dir)
    rustc_vv = run(["rustc", "-vV"], root_dir)
    rustc_info = dict(line.split(": ", 1) for line in rustc_vv.splitlines()[1:] if ": " in line)
    target = args.target or rustc_info.get("host")
    if not target:
        die("cannot read the host triple from `rustc -vV`")

    meta = json.loads(run(["cargo", "metadata", "--locked", "--offline", "--format-version", "1",
                           "--filter-platform", target], root_dir))
    lock_path = os.path.join(root_dir, "Cargo.lock")
    with open(lock_path, "rb") as f:
        lock_bytes = f.read()
    lock = tomllib.loads(lock_bytes.decode())
    checksums = {(p["name"], p["version"], p.get("source")): p.get("checksum") for p in lock["package"]}

    # cargo metadata resolves features for every kind of build at once (tests included), so its graph
    # holds optional crates that the release build does not compile. `cargo tree -e normal` resolves
    # features as `cargo build --release` does, so the graph comes from it and the metadata (licence,
    # links, description) from `cargo metadata`.
    by_name_version = {}
    for p in meta["packages"]:
        by_name_version.setdefault((p["name"], p["version"]), []).append(p)
    tree = run(["cargo", "tree", "--locked", "--offline", "-e", "normal", "--target", target,
                "--prefix", "depth", "--format", "{p}|{f}"], root_dir)
    line_re = re.compile(r"^(\d+)(\S+) v(\S+)((?: \([^)]*\))*)\|(.*)$")
    packages, edges, features, proc_macros = {}, {}, {}, set()
    path, root = [], None
    for line in tree.splitlines():
        m = line_re.match(line)
        if not m:
            die(f"cannot read this line of `cargo tree`: {line!r}")
        depth, name, version, notes, feats = int(m[1]), m[2], m[3], m[4], m[5]
        cands = by_name_version.get((name, version), [])
        if len(cands) != 1:
            die(f"{name} {version} is {'missing from' if not cands else 'twice in'} `cargo metadata`")
        pid = cands[0]["id"]
        packages[pid] = cands[0]
        edges.setdefault(pid, set())
        features[pid] = feats
        if "(proc-macro)" in notes:
            proc_macros.add(pid)
        del path[depth:]
        if depth == 0:
            root = pid
        else:
            edges[path[-1]].add(pid)
        path.append(pid)
    if root is None or packages[root]["name"] != "frostsign":
        die("`cargo tree` did not start at the frostsign package", "run from the frostsign checkout")

    def is_proc_macro(pid):
        return pid in proc_macros

    def normal_deps(pid):
        return edges.get(pid, ())

    # Linked: reachable along normal edges without entering a proc-macro crate.
    linked, stack = {root}, [root]
    while stack:
        for dep in normal_deps(stack.pop()):
            if dep not in linked and not is_proc_macro(dep):
                linked.add(dep)
                stack.append(dep)
    # Build-time only: the proc-macro crates used by linked crates, and everything they need.
    build_only = set()
    stack = [d for pid in linked for d in normal_deps(pid) if is_proc_macro(d)]
    build_only.update(stack)
    while stack:
        for dep in normal_deps(stack.pop()):
            if dep not in linked and dep not in build_only:
                build_only.add(dep)
                stack.append(dep)

    def ref(pid):
        p = packages[pid]
        return f"pkg:cargo/{p['name']}@{p['version']}"

    def licenses(p):
        if p.get("license"):
            return [{"expression": spdx(p["license"])}]
        if p.get("license_file"):
            return [{"license": {"name": f"see the crate's file {p['license_file']}"}}]
        return []

    def component(pid, scope):
        p = packages[pid]
        c = {
            "type": "library",
            "bom-ref": ref(pid),
            "name": p["name"],
            "version": p["version"],
            "scope": scope,
        }
        if p.get("description"):
            c["description"] = " ".join(p["description"].split())
        lic = licenses(p)
        if lic:
            c["licenses"] = lic
        if p.get("source") == CRATES_IO:
            c["purl"] = ref(pid)
            digest = checksums.get((p["name"], p["version"], p["source"]))
            if not digest:
                die(f"Cargo.lock has no checksum for {p['name']} {p['version']}")
            c["hashes"] = [{"alg": "SHA-256", "content": digest}]
        else:
            # Not from crates.io: deny.toml forbids this, so say so loudly rather than invent a purl.
            c["properties"] = [{"name": "cargo:source", "value": p.get("source") or "local path"}]
        refs = []
        for key, kind in (("repository", "vcs"), ("homepage", "website"), ("documentation", "documentation")):
            if p.get(key):
                refs.append({"type": kind, "url": p[key]})
        if refs:
            c["externalReferences"] = refs
        if features.get(pid):
            c.setdefault("properties", []).append({"name": "cargo:features", "value": features[pid]})
        if scope == "excluded":
            c.setdefault("properties", []).append({"name": "cargo:build-time-only", "value":
                                                   "proc-macro" if is_proc_macro(pid) else "proc-macro dependency"})
        return c

    # The commit this SBOM describes, and a timestamp that does not change between runs.
    def git(*a):
        r = subprocess.run(["git", *a], cwd=root_dir, capture_output=True, text=True)
        return r.stdout.strip() if r.returncode == 0 else None

    commit = args.commit or git("rev-parse", "HEAD")
    dirty = None
    if not args.commit and commit:
        dirty = git("status", "--porcelain", "--untracked-files=no", "--", "Cargo.lock", ":(glob)**/Cargo.toml") != ""
    epoch = os.environ.get("SOURCE_DATE_EPOCH") or (commit and git("show", "-s", "--format=%ct", commit)) or "0"
    epoch = int(epoch)
    timestamp = datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    rp = packages[root]
    app = {
        "type": "application",
        "bom-ref": ref(root),
        "name": rp["name"],
        "version": rp["version"],
        "description": rp.get("description") or "",
        "licenses": licenses(rp),
        "properties": [
            {"name": "cargo:target", "value": target},
            {"name": "cargo:profile", "value": "release"},
            {"name": "rustc:version", "value": rustc_vv.splitlines()[0]},
            {"name": "cargo:lock-sha256", "value": hashlib.sha256(lock_bytes).hexdigest()},
        ],
    }
    if commit:
        app["properties"].append({"name": "git:commit", "value": commit})
        if dirty:
            app["properties"].append({"name": "git:dirty", "value": "true: Cargo.toml or Cargo.lock differ from the commit"})
    if args.binary:
        with open(args.binary, "rb") as f:
            app["hashes"] = [{"alg": "SHA-256", "content": hashlib.sha256(f.read()).hexdigest()}]

    order = sorted(linked - {root}, key=lambda pid: (packages[pid]["name"], packages[pid]["version"]))
    order_b = sorted(build_only, key=lambda pid: (packages[pid]["name"], packages[pid]["version"]))
    components = [component(pid, "required") for pid in order] + [component(pid, "excluded") for pid in order_b]
    included = linked | build_only
    deps = []
    for pid in [root] + order + order_b:
        on = sorted({ref(d) for d in normal_deps(pid) if d in included})
        deps.append({"ref": ref(pid), "dependsOn": on})

    seed = f"frostsign sbom|{commit}|{dirty}|{target}|{app['properties'][3]['value']}"
    bom = {
        "$schema": "http://cyclonedx.org/schema/bom-1.5.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, seed)}",
        "version": 1,
        "metadata": {
            "timestamp": timestamp,
            "tools": {"components": [{"type": "application", "name": "frostsign scripts/sbom.py",
                                      "description": "cargo tree -e normal, cargo metadata and Cargo.lock checksums"}]},
            "component": app,
            "properties": [
                {"name": "frostsign:linked-crates", "value": str(len(order))},
                {"name": "frostsign:build-time-only-crates", "value": str(len(order_b))},
            ],
        },
        "components": components,
        "dependencies": deps,
    }
    out = os.path.abspath(args.out)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    tmp = out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(bom, f, indent=2, sort_keys=False)
        f.write("\n")
    os.replace(tmp, out)
    print(f"sbom: wrote {args.out}: CycloneDX 1.5, frostsign {rp['version']} for {target}, "
          f"{len(order)} crates linked into the binary, {len(order_b)} build-time-only (proc-macro) crates")
    if dirty:
        print("sbom: note: Cargo.toml or Cargo.lock has uncommitted changes; the SBOM describes them as they are "
              "now, not exactly commit " + commit)


if __name__ == "__main__":
    main()
