#!/usr/bin/env python3
"""Single-line infilling on real code of a second language, built the way HumanEval's single-line infilling is.

HumanEval covers Python only, and no infilling set for another language is on PyPI, so the tasks are built from
real files on this machine with the construction of Bavarian et al. (2022): inside function bodies, each non-blank
line is masked in turn; the cursor sits after the masked line's indentation (as an editor leaves it), the text
before is the rest of the file up to there, the text after starts with the line's newline; the reference is the
masked line without its indentation. Lines that are only closing brackets or comments are not masked.

- `--language swift` (default): the Swift packages that come with this kind of machine (bare git repositories
  under /opt/swift-packages, the same repositories and tags as make_cases.py); `func ... {` bodies.
- `--language python`: Python's standard library; `def ...:` bodies (a check against HumanEval's figures).

Files are chosen deterministically (sorted paths shuffled by a seeded generator), kept between 60 and 1,500 lines, and must
parse (`swiftc -parse`, Python `ast`), so "parses as before" has a meaning. Each file gives at most
`--per-file` tasks.

Measured per system (codegen-lsp `complete --jsonl` on the whole file; the llama.cpp anchor of humaneval.py,
greedy fill-in-the-middle in llama.cpp's /infill order with at most 64 tokens, given the last 3,000 characters
before the cursor and the first 1,000 after, since its low-level API does not window a long file):
- exact match of the completion's first line against the reference (both stripped);
- edit similarity of the first line (1 - Levenshtein distance / longer length);
- parses as before: the file with the whole completion inserted still parses;
- empty rate, latency p50 / p95.

Usage:
  python3 Benchmarks/quality/infill_lines.py [--language swift|python] [--tasks 200] [--per-file 4]
      [--binary .build/release/codegen-lsp] [--model qwen2.5-coder-0.5b] [--reference auto|none|llama-cpp]
      [--chunk 16] [--out rows.jsonl] [--json summary.json] [--markdown] [--self-check]
"""

import argparse
import json
import os
import random
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import humaneval  # noqa: E402  (drivers of codegen-lsp and of the llama.cpp anchor)
import make_cases  # noqa: E402  (the real files and parsers)
from run_eval import similarity  # noqa: E402

ANCHOR_BEFORE = 3000
ANCHOR_AFTER = 1000
SKIP_LINE = re.compile(r"^\s*([})\]]+[;,]?|//.*|#.*|/\*.*|\*.*)\s*$")


def bodies(lines, language):
    """(first, last) line indices (inclusive) of function bodies."""
    opener = re.compile(r"^(\s*)(async\s+)?def\s.*:\s*$") if language == "python" else \
        re.compile(r"^(\s*)(.*\s)?func\s[^{]*\{\s*$")
    for i, line in enumerate(lines):
        match = opener.match(line)
        if not match:
            continue
        base = len(match.group(1))
        end = i
        for j in range(i + 1, len(lines)):
            text = lines[j]
            stripped = text.strip()
            indent = len(text) - len(text.lstrip())
            if language == "python":
                if stripped and indent <= base:
                    break
            elif stripped.startswith("}") and indent == base:
                break
            end = j
        if end > i:
            yield i + 1, end


def build_tasks(language, total, per_file, seed):
    rng = random.Random(seed)
    files = list(make_cases.swift_files() if language == "swift" else make_cases.python_files())
    rng.shuffle(files)  # every repository, not the first ones in path order
    parses = make_cases.swift_parses if language == "swift" else make_cases.python_parses
    tasks = []
    for path, text in files:
        if len(tasks) >= total:
            break
        lines = text.splitlines(keepends=True)
        if not 60 <= len(lines) <= 1500 or not parses(text):
            continue
        candidates = []
        for first, last in bodies(lines, language):
            for index in range(first, last + 1):
                line = lines[index]
                if line.strip() and not SKIP_LINE.match(line) and not line.strip().startswith(('"""', "'''")):
                    candidates.append(index)
        rng.shuffle(candidates)
        for index in sorted(set(candidates[:per_file])):
            line = lines[index]
            indent = len(line) - len(line.lstrip())
            before = "".join(lines[:index]) + line[:indent]
            content = line[indent:].rstrip("\n")
            after = line[indent + len(content):] + "".join(lines[index + 1:])
            tasks.append({"task_id": "%s:%d" % (path, index + 1), "language": language, "before": before,
                          "after": after, "reference": content})
    return tasks[:total]


class WindowedAnchor(humaneval.LlamaCpp):
    """The llama.cpp anchor on a window of the file around the cursor."""

    def infill(self, task):
        windowed = dict(task, before=task["before"][-ANCHOR_BEFORE:], after=task["after"][:ANCHOR_AFTER])
        return super().infill(windowed)


class Reference:
    """--self-check: the reference line as the completion."""
    name = "reference"

    def infill(self, task):
        return {"text": task["reference"], "ms": 0.0}

    def close(self):
        pass


def score(tasks, outputs, parses):
    rows = []
    for name, outs in outputs.items():
        for task, out in zip(tasks, outs):
            text = out.get("text", "")
            first = humaneval.first_line(text)
            rows.append({
                "system": name, "task_id": task["task_id"], "reference": task["reference"], "text": text,
                "exact": first.strip() == task["reference"].strip(),
                "similarity": similarity(first.strip(), task["reference"].strip()),
                "parses": parses(task["before"] + text + task["after"]),
                "empty": not text.strip(), "ms": out.get("ms", 0.0), "error": out.get("error")})
    return rows


def summarise(rows):
    n = len(rows)
    ms = [r["ms"] for r in rows]
    return {"tasks": n, "exact match": sum(r["exact"] for r in rows) / n,
            "edit similarity": sum(r["similarity"] for r in rows) / n,
            "parses as before": sum(r["parses"] for r in rows) / n, "empty": sum(r["empty"] for r in rows) / n,
            "errors": sum(1 for r in rows if r["error"]),
            "p50 ms": humaneval.percentile(ms, 50), "p95 ms": humaneval.percentile(ms, 95)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--language", choices=["swift", "python"], default="swift")
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument("--per-file", type=int, default=4)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--binary", default=".build/release/codegen-lsp")
    parser.add_argument("--model", default=None,
                        help="preset or GGUF path, which then answers every task; default: the binary's defaults")
    parser.add_argument("--extra-flags", default="", help="more flags for the binary")
    parser.add_argument("--reference", choices=["auto", "none", "llama-cpp"], default="auto")
    parser.add_argument("--chunk", type=int, default=16)
    parser.add_argument("--tasks-file", help="read the tasks from this JSON-lines file if it exists, else build them "
                                             "and write them there (building reads every file of the packages)")
    parser.add_argument("--self-check", action="store_true",
                        help="score the reference lines themselves (exact 1.0, parses 1.0), with no binary")
    parser.add_argument("--out")
    parser.add_argument("--json")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    # The drivers of humaneval.py read these.
    args.generate_timeout = 600
    args.anchor_stop = "standard"

    if args.tasks_file and os.path.exists(args.tasks_file):
        with open(args.tasks_file, encoding="utf-8") as handle:
            tasks = [json.loads(line) for line in handle]
    else:
        tasks = build_tasks(args.language, args.tasks, args.per_file, args.seed)
        if args.tasks_file:
            with open(args.tasks_file, "w", encoding="utf-8") as handle:
                for task in tasks:
                    handle.write(json.dumps(task) + "\n")
    if not tasks:
        raise SystemExit("no %s files found to build tasks from" % args.language)
    humaneval.progress("%d %s tasks from %d files" % (
        len(tasks), args.language, len({t["task_id"].rsplit(":", 1)[0] for t in tasks})))
    parses = make_cases.swift_parses if args.language == "swift" else make_cases.python_parses
    if args.self_check:
        systems = [Reference()]
        described = "self-check: the reference lines"
    else:
        systems = [humaneval.Ours(args)]
        described = "codegen-lsp: %s complete --jsonl %s" % (
            args.binary, " ".join(systems[0].model_flags + systems[0].extra) or "(defaults)")
        model_file = humaneval.model_path(args.model)
        if args.reference == "llama-cpp" or (args.reference == "auto" and os.path.exists(humaneval.LLAMA_PYTHON)
                                             and os.path.exists(model_file)):
            systems.append(WindowedAnchor(args))
            described += "; anchor: " + systems[1].describe()
    try:
        outputs = humaneval.generate_all(tasks, systems, args.chunk, "infill")
    finally:
        for system in systems:
            system.close()
    rows = score(tasks, outputs, parses)
    summaries = {system.name: summarise([r for r in rows if r["system"] == system.name]) for system in systems}

    columns = [system.name for system in systems]
    print(("## " if args.markdown else "") + "Single-line infilling, %s, %d tasks; %s" % (
        args.language, len(tasks), described))
    print()
    metrics = ["exact match", "edit similarity", "parses as before", "empty", "errors", "p50 ms", "p95 ms"]
    if args.markdown:
        print("| | " + " | ".join(columns) + " |")
        print("|---|" + "---|" * len(columns))
    for metric in metrics:
        values = []
        for name in columns:
            value = summaries[name][metric]
            values.append("%d" % value if metric == "errors" else
                          "%.0f" % value if metric.endswith("ms") else "%.3f" % value)
        print(("| %s | " % metric + " | ".join(values) + " |") if args.markdown else
              "%-18s %s" % (metric, "  ".join("%12s" % v for v in values)))
    humaneval.write_outputs(args, rows, summaries)
    if args.self_check:
        reference = summaries["reference"]
        if reference["exact match"] != 1.0 or reference["parses as before"] != 1.0:
            bad = [r["task_id"] for r in rows if not (r["exact"] and r["parses"])]
            raise SystemExit("self-check failed: %s" % ", ".join(bad[:10]))
        print("self-check passed: every reference line matches and parses in place")


if __name__ == "__main__":
    main()
