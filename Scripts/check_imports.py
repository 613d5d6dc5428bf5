#!/usr/bin/env python3
"""Checks that every target of Package.swift declares the modules it imports, and nothing else.

Reads the targets from `swift package dump-package`, the imports from the target's Swift files (`import X`,
`@testable import X`, also inside `#if` blocks), and prints each target whose declared dependencies differ from what
its files import (the toolchain's own modules aside). Exits 1 when one differs. Standard library only.

Usage: python3 Scripts/check_imports.py
"""

import glob
import json
import os
import re
import subprocess
import sys

# Modules of the toolchain and the platform, never declared as dependencies.
PLATFORM = {"Foundation", "FoundationEssentials", "XCTest", "Testing", "Dispatch", "Glibc", "Darwin", "Synchronization",
            "_Builtin_intrinsics", "os"}
IMPORT = re.compile(r"^\s*(?:@testable\s+)?import\s+(?:(?:struct|enum|class|func|protocol)\s+)?([A-Za-z_][A-Za-z0-9_]*)")


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    # CODEGEN_LSP_BENCH=1 and CODEGEN_LSP_FUZZ=1 declare the benchmark executable and the fuzz targets too, so that
    # their imports are checked as well.
    package = json.loads(subprocess.run(
        ["swift", "package", "--package-path", root, "dump-package"], check=True, capture_output=True, text=True,
        env=dict(os.environ, CODEGEN_LSP_BENCH="1", CODEGEN_LSP_FUZZ="1")).stdout)
    problems = []
    for target in package["targets"]:
        if target["type"] == "system":
            continue
        declared = set()
        for dependency in target.get("dependencies", []):
            for kind in ("byName", "target"):
                if kind in dependency:
                    declared.add(dependency[kind][0])
            if "product" in dependency:
                declared.add(dependency["product"][0])
        folder = target.get("path") or os.path.join("Tests" if target["type"] == "test" else "Sources", target["name"])
        imported = set()
        for path in glob.glob(os.path.join(root, folder, "**", "*.swift"), recursive=True):
            with open(path, encoding="utf-8") as handle:
                in_string = False
                for line in handle:
                    if line.count('"""') % 2 == 1:
                        in_string = not in_string
                        continue
                    match = None if in_string else IMPORT.match(line)
                    if match:
                        imported.add(match.group(1))
        imported -= PLATFORM
        missing, unused = sorted(imported - declared), sorted(declared - imported)
        if missing or unused:
            problems.append(f"{target['name']}: imported but not declared {missing}, declared but not imported {unused}")
    for problem in problems:
        print(problem)
    if problems:
        return 1
    print(f"imports match the declared dependencies of {len(package['targets'])} targets")
    return 0


if __name__ == "__main__":
    sys.exit(main())
