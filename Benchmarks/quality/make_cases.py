#!/usr/bin/env python3
"""Builds the completion-quality evaluation from real code on this machine.

Sources: Python's standard library (the interpreter running this script) and the Swift packages that come with
the machine (bare git repositories under /opt/swift-packages, read with `git show`). Files are chosen
deterministically (sorted paths, a seeded random generator), kept between 60 and 1,500 lines, and must parse
(Python `ast`, `swiftc -parse`) so "still parses" has a meaning.

Each case is a cursor position with the original text as the reference:
- `line`: the cursor after a line's indentation (and, half of the time, after its first word), the reference
  is the rest of that line;
- `block`: the cursor on the empty, indented first line of a function body (after `def …:` in Python,
  `func … {` in Swift), the reference is the body up to the line that closes it.

Output: one JSON object per line (`{"id", "kind", "language", "fileName", "text" (with the cursor marker),
"reference"}`), the format `codegen-lsp complete --jsonl` reads, plus the fields the scorer needs.

Usage: python3 Benchmarks/quality/make_cases.py [--python N] [--swift N] > Benchmarks/quality/cases.jsonl
"""

import argparse
import ast
import json
import os
import random
import re
import subprocess
import sys
import sysconfig
import tempfile

MARKER = "<|cursor|>"
SWIFT_REPOS = [
    ("apple/swift-argument-parser", "1.8.2"),
    ("apple/swift-collections", "1.6.0"),
    ("apple/swift-algorithms", "1.2.1"),
    ("apple/swift-log", "1.16.2"),
    ("apple/swift-nio", "2.101.3"),
]


def python_files():
    root = sysconfig.get_paths()["stdlib"]
    for name in sorted(os.listdir(root)):
        if name.endswith(".py"):
            path = os.path.join(root, name)
            with open(path, encoding="utf-8", errors="replace") as handle:
                yield path, handle.read()


def swift_files():
    for repo, tag in SWIFT_REPOS:
        git_dir = "/opt/swift-packages/%s.git" % repo
        if not os.path.isdir(git_dir):
            continue
        names = subprocess.run(["git", "-C", git_dir, "ls-tree", "-r", "--name-only", tag],
                               capture_output=True, text=True).stdout.split("\n")
        for name in sorted(n for n in names if n.startswith("Sources/") and n.endswith(".swift")):
            text = subprocess.run(["git", "-C", git_dir, "show", "%s:%s" % (tag, name)],
                                  capture_output=True, text=True).stdout
            yield "%s/%s" % (repo, name), text


def python_parses(text):
    try:
        ast.parse(text)
        return True
    except (SyntaxError, ValueError):
        return False


def swift_parses(text):
    with tempfile.NamedTemporaryFile("w", suffix=".swift", delete=False) as handle:
        handle.write(text)
        path = handle.name
    try:
        return subprocess.run(["swiftc", "-parse", path], capture_output=True).returncode == 0
    finally:
        os.unlink(path)


def line_cases(lines, rng, count):
    """Cursor inside a non-trivial line; reference = the rest of the line."""
    candidates = [i for i, line in enumerate(lines)
                  if len(line.strip()) >= 12 and not line.strip().startswith(("#", "//", "/*", "*", '"""', "'''"))]
    rng.shuffle(candidates)
    for index in candidates[:count]:
        line = lines[index]
        indent = len(line) - len(line.lstrip())
        cut = indent
        if rng.random() < 0.5:
            match = re.match(r"\s*\S+\s", line)
            if match and match.end() < len(line.rstrip()) - 3:
                cut = match.end()
        yield index, cut, line.rstrip("\n")[cut:]


def block_cases(lines, language, rng, count):
    """Cursor at the start of a function body; reference = the body."""
    opener = re.compile(r"^(\s*)(async\s+)?def\s.*:\s*$") if language == "python" else \
        re.compile(r"^(\s*)(.*\s)?func\s[^{]*\{\s*$")
    found = []
    for i, line in enumerate(lines[:-2]):
        match = opener.match(line)
        if not match:
            continue
        base = len(match.group(1))
        body = []
        for j in range(i + 1, len(lines)):
            text = lines[j]
            stripped = text.strip()
            if language == "python":
                if stripped and len(text) - len(text.lstrip()) <= base:
                    break
            else:
                if stripped == "}" and len(text) - len(text.lstrip()) == base:
                    break
            body.append(text)
        # Skip docstrings-only and very long bodies.
        if 1 <= len(body) <= 12 and body[0].strip() and not body[0].strip().startswith(('"""', "'''", "//")):
            found.append((i, body))
    rng.shuffle(found)
    for i, body in found[:count]:
        yield i, body


def make(language, files, per_file_lines, per_file_blocks, limit, rng, parses):
    cases = []
    for path, text in files:
        if len(cases) >= limit:
            break
        lines = text.splitlines(keepends=True)
        if not 60 <= len(lines) <= 1500 or not parses(text):
            continue
        if rng.random() < 0.5:
            continue
        base = os.path.basename(path)
        for index, cut, reference in line_cases(lines, rng, per_file_lines):
            prefix = "".join(lines[:index]) + lines[index][:cut]
            suffix = lines[index][len(lines[index].rstrip("\n")):] + "".join(lines[index + 1:])
            cases.append({"kind": "line", "language": language, "fileName": base, "source": path,
                          "text": prefix + MARKER + suffix, "reference": reference})
        for index, body in block_cases(lines, language, rng, per_file_blocks):
            indent = body[0][:len(body[0]) - len(body[0].lstrip())]
            prefix = "".join(lines[:index + 1]) + indent
            suffix = "\n" + "".join(lines[index + 1 + len(body):])
            reference = "".join(body)[len(indent):].rstrip("\n")
            cases.append({"kind": "block", "language": language, "fileName": base, "source": path,
                          "text": prefix + MARKER + suffix, "reference": reference})
    return cases[:limit]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--python", type=int, default=160, help="number of Python cases")
    parser.add_argument("--swift", type=int, default=80, help="number of Swift cases")
    parser.add_argument("--seed", type=int, default=1234)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    cases = make("python", python_files(), 3, 1, args.python, rng, python_parses)
    cases += make("swift", swift_files(), 3, 1, args.swift, rng, swift_parses)
    for number, case in enumerate(cases):
        case["id"] = number
        print(json.dumps(case, ensure_ascii=False))
    print("cases: %d python, %d swift" % (sum(c["language"] == "python" for c in cases),
                                         sum(c["language"] == "swift" for c in cases)), file=sys.stderr)


if __name__ == "__main__":
    main()
