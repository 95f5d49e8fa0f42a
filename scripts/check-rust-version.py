#!/usr/bin/env python3
"""Fails when the workspace's `rust-version` is older than what a dependency of a workspace crate declares:
users on such a toolchain would get a dependency's build error instead of cargo's clear "needs rustc X".
Every workspace crate must inherit the one `rust-version` (`rust-version.workspace = true`).

Reads `cargo metadata --locked` (offline once the lockfile's crates are fetched); dev-dependencies are
skipped, as users never build them."""

import json
import subprocess
import sys


def version(text: str) -> tuple:
    parts = [int(part) for part in text.split(".")]
    return tuple(parts + [0] * (3 - len(parts)))  # "1.89" is "1.89.0"


def main() -> int:
    metadata = json.loads(
        subprocess.run(
            ["cargo", "metadata", "--locked", "--all-features", "--format-version", "1"], check=True, capture_output=True, text=True
        ).stdout
    )
    packages = {package["id"]: package for package in metadata["packages"]}
    nodes = {node["id"]: node for node in metadata["resolve"]["nodes"]}
    problems = []
    for member in metadata["workspace_members"]:
        crate = packages[member]
        declared = crate.get("rust_version")
        if declared is None:
            problems.append(f"{crate['name']}: no rust-version (add `rust-version.workspace = true`)")
            continue
        needed, needed_by, seen, stack = version(declared), None, set(), [member]
        while stack:
            package_id = stack.pop()
            if package_id in seen:
                continue
            seen.add(package_id)
            dependency = packages[package_id]
            if package_id != member and dependency.get("rust_version"):
                if version(dependency["rust_version"]) > needed:
                    needed, needed_by = version(dependency["rust_version"]), dependency
            stack.extend(
                dep["pkg"] for dep in nodes[package_id]["deps"] if any(kind["kind"] != "dev" for kind in dep["dep_kinds"])
            )
        if needed_by is not None:
            problems.append(
                f"{crate['name']}: rust-version {declared}, but {needed_by['name']} {needed_by['version']} needs "
                f"{needed_by['rust_version']}"
            )
    for problem in problems:
        print(f"check-rust-version: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
