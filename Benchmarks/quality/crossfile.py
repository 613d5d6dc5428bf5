#!/usr/bin/env python3
"""Cross-file completion: lines that use a name defined in another file of the same project, with and without
repository context (`complete --jsonl --workspace`).

The tasks follow the construction of CrossCodeEval (Ding et al., 2023) on real multi-file Python projects installed
on this machine (packages in site-packages: click, requests, flask, jinja2, werkzeug, ...): in a function body, a
one-line statement that uses a name imported from another module of the same project (`from .utils import
make_str` then `make_str(...)`, or `from . import utils` then `utils.make_str(...)`) and not defined in the current
file. The cursor sits right before that name (for a module's attribute, right before the attribute), the text
before is the file up to there, the text after starts with the line's newline (the rest of the line is removed);
the reference is the rest of the line. Files parse (Python `ast`); each file gives at most `--per-file` tasks, each
project at most `--per-project`, chosen by a seeded shuffle.

Each project is one workspace: codegen-lsp runs once with `--workspace PROJECT` (the project is indexed first, and
the current file's own windows and definitions are never retrieved) and once without, alternated per chunk of
tasks, the same binary and model. Each task is asked twice: cold (the first request of the file) and warm (the
same position after the reference's first character is typed), for latency.

Measured: exact match of the first line (stripped), edit similarity, identifier match (the completion starts with
the cross-file name), empty rate, latency p50 / p95 of the cold and the warm request.

Usage:
  python3 Benchmarks/quality/crossfile.py [--binary .build/release/codegen-lsp] [--model qwen2.5-coder-0.5b]
      [--projects click,requests,...] [--per-project 20] [--per-file 3] [--chunk 8] [--extra-flags "..."]
      [--out rows.jsonl] [--json summary.json] [--markdown] [--self-check]
"""

import argparse
import ast
import json
import os
import random
import shlex
import sys
import sysconfig

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import humaneval  # noqa: E402  (LineProcess, percentile)
from run_eval import similarity  # noqa: E402

DEFAULT_PROJECTS = ["click", "requests", "flask", "jinja2", "werkzeug", "urllib3", "jsonschema", "packaging",
                    "dateutil", "docker", "_pytest", "jedi"]
MAX_FILE_BYTES = 200_000


def progress(message):
    print("[crossfile] %s" % message, file=sys.stderr, flush=True)


def project_root(name):
    root = os.path.join(sysconfig.get_paths()["purelib"], name)
    return root if os.path.isdir(root) else None


def python_files(root):
    found = []
    for directory, subdirectories, names in os.walk(root):
        subdirectories[:] = sorted(d for d in subdirectories if not d.startswith(".") and d != "__pycache__")
        for name in sorted(names):
            path = os.path.join(directory, name)
            if name.endswith(".py") and os.path.getsize(path) <= MAX_FILE_BYTES:
                found.append(path)
    return found


def module_name(root, path):
    """`pkg.sub.mod` for root/sub/mod.py (root's own name first); `__init__` names its package."""
    relative = os.path.relpath(path, os.path.dirname(root))[:-3].split(os.sep)
    if relative[-1] == "__init__":
        relative = relative[:-1]
    return ".".join(relative)


def top_level_names(tree):
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    names.add(target.id)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def defined_anywhere(tree):
    """Names a file defines itself: functions, classes and assigned names at any depth, parameters."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
    return names


def resolve_from(current_module, is_package, node):
    """The absolute module of a `from X import ...`."""
    if node.level == 0:
        return node.module or ""
    parts = current_module.split(".")
    if not is_package:
        parts = parts[:-1]
    if node.level > 1:
        parts = parts[:len(parts) - (node.level - 1)]
    return ".".join(parts + ([node.module] if node.module else []))


def project_tasks(project, root, per_file):
    files = python_files(root)
    modules = {}
    for path in files:
        try:
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
            tree = ast.parse(text)
        except (SyntaxError, UnicodeDecodeError, ValueError):
            continue
        modules[module_name(root, path)] = (path, text, tree, top_level_names(tree))
    tasks = []
    for module, (path, text, tree, _) in sorted(modules.items()):
        is_package = path.endswith("__init__.py")
        local = defined_anywhere(tree)
        entities = {}  # name bound in this file -> name in its defining module
        module_aliases = {}  # alias -> defining module (for `alias.attr`)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                source = resolve_from(module, is_package, node)
                for alias in node.names:
                    bound = alias.asname or alias.name
                    if source in modules and modules[source][0] != path and alias.name in modules[source][3]:
                        entities[bound] = alias.name
                    elif source + "." + alias.name in modules and modules[source + "." + alias.name][0] != path:
                        module_aliases[bound] = source + "." + alias.name
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name in modules and alias.asname and modules[alias.name][0] != path:
                        module_aliases[alias.asname] = alias.name
        for name in list(entities):
            if name in local and name not in entities.values():
                del entities[name]
        lines = text.split("\n")
        found = []
        seen_lines = set()
        for function in ast.walk(tree):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for statement in ast.walk(function):
                if not isinstance(statement, ast.stmt) or statement is function:
                    continue
                if statement.lineno != statement.end_lineno or statement.lineno in seen_lines:
                    continue
                if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.If, ast.For,
                                          ast.While, ast.With, ast.Try)):
                    continue
                best = None
                for node in ast.walk(statement):
                    column = name = None
                    if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in entities:
                        column, name = node.col_offset, node.id
                    elif (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                          and node.value.id in module_aliases
                          and node.attr in modules[module_aliases[node.value.id]][3]):
                        column, name = node.end_col_offset - len(node.attr.encode("utf-8")), node.attr
                    if column is not None and (best is None or column < best[0]):
                        best = (column, name)
                if best is None:
                    continue
                line_index = statement.lineno - 1
                line = lines[line_index].encode("utf-8")
                column, name = best
                reference = line[column:].decode("utf-8").rstrip()
                if len(reference.strip()) < 3 or "#" in reference:
                    continue
                seen_lines.add(statement.lineno)
                before = "\n".join(lines[:line_index]) + ("\n" if line_index else "") + line[:column].decode("utf-8")
                after = "\n" + "\n".join(lines[line_index + 1:])
                found.append({"task_id": "%s/%s:%d" % (project, os.path.relpath(path, root), statement.lineno),
                              "project": project, "root": root, "path": os.path.relpath(path, root),
                              "before": before, "after": after, "reference": reference, "entity": name})
        found.sort(key=lambda task: task["task_id"])
        random.Random(module).shuffle(found)
        tasks += found[:per_file]
    return tasks


def build_tasks(projects, per_project, per_file, seed):
    tasks = []
    for project in projects:
        root = project_root(project)
        if root is None:
            progress("no project %s in %s: skipped" % (project, sysconfig.get_paths()["purelib"]))
            continue
        found = project_tasks(project, root, per_file)
        random.Random("%s-%s" % (seed, project)).shuffle(found)
        chosen = sorted(found[:per_project], key=lambda task: task["task_id"])
        progress("%s: %d tasks (of %d candidates)" % (project, len(chosen), len(found)))
        tasks += chosen
    return tasks


class System:
    """codegen-lsp `complete --jsonl` on one project, with or without its workspace."""

    def __init__(self, args, name, workspace):
        self.args = args
        self.name = name
        self.workspace = workspace
        self.process = None
        self.root = None

    def ask(self, task, typed=""):
        if self.process is None or self.root != task["root"]:
            self.close()
            command = [self.args.binary, "complete", "--jsonl"]
            if self.args.model:
                command += ["--model", self.args.model, "--set", "invokedModel=same"]
            if self.workspace:
                command += ["--workspace", task["root"]]
            command += shlex.split(self.args.extra_flags)
            self.process = humaneval.LineProcess(command, "codegen-lsp complete --jsonl (%s)" % self.name)
            self.root = task["root"]
        out = self.process.ask({"text": task["before"] + typed + humaneval.MARKER + task["after"],
                                "language": "python", "fileName": task["path"], "id": task["task_id"]})
        if "error" in out:
            return {"text": "", "error": out["error"], "ms": out.get("ms", 0.0)}
        return {"text": out.get("text", ""), "ms": out.get("ms", 0.0)}

    def close(self):
        if self.process:
            self.process.close()
            self.process = None


class Reference:
    """--self-check: the reference as the completion."""

    def __init__(self, name):
        self.name = name

    def ask(self, task, typed=""):
        return {"text": task["reference"][len(typed):], "ms": 0.0}

    def close(self):
        pass


def first_line(text):
    return text.split("\n", 1)[0].strip()


def run(tasks, systems, chunk):
    rows = {system.name: [] for system in systems}
    by_project = {}
    for task in tasks:
        by_project.setdefault(task["project"], []).append(task)
    done = 0
    for project, project_tasks_ in by_project.items():
        for start in range(0, len(project_tasks_), chunk):
            part = project_tasks_[start:start + chunk]
            for system in systems:
                for task in part:
                    cold = system.ask(task)
                    warm = system.ask(task, typed=task["reference"][:1])
                    text = cold["text"]
                    rows[system.name].append({
                        "task_id": task["task_id"], "completion": text, "reference": task["reference"],
                        "exact": first_line(text) == task["reference"].strip(),
                        "similarity": similarity(first_line(text), task["reference"].strip()),
                        "identifier": text.lstrip().startswith(task["entity"]),
                        "empty": not text.strip(), "error": cold.get("error"),
                        "ms": cold["ms"], "warm_ms": warm["ms"]})
            done += len(part)
            progress("%d/%d" % (done, len(tasks)))
        for system in systems:
            system.close()
    return rows


def summarise(rows):
    n = max(1, len(rows))
    return {"tasks": len(rows),
            "exact": sum(r["exact"] for r in rows) / n,
            "similarity": sum(r["similarity"] for r in rows) / n,
            "identifier": sum(r["identifier"] for r in rows) / n,
            "empty": sum(r["empty"] for r in rows) / n,
            "errors": sum(1 for r in rows if r["error"]),
            "p50": humaneval.percentile([r["ms"] for r in rows], 50),
            "p95": humaneval.percentile([r["ms"] for r in rows], 95),
            "warm_p50": humaneval.percentile([r["warm_ms"] for r in rows], 50),
            "warm_p95": humaneval.percentile([r["warm_ms"] for r in rows], 95)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", default=os.path.join(HERE, "..", "..", ".build", "release", "codegen-lsp"))
    parser.add_argument("--model", default="qwen2.5-coder-0.5b")
    parser.add_argument("--projects", default=",".join(DEFAULT_PROJECTS))
    parser.add_argument("--per-project", type=int, default=20)
    parser.add_argument("--per-file", type=int, default=3)
    parser.add_argument("--seed", default="crossfile")
    parser.add_argument("--chunk", type=int, default=8)
    parser.add_argument("--extra-flags", default="", help="more flags for codegen-lsp complete (both systems)")
    parser.add_argument("--out", help="write one JSON row per task and system")
    parser.add_argument("--json", help="write the summary")
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--self-check", action="store_true", help="score the references themselves (1.0), no binary")
    args = parser.parse_args()

    tasks = build_tasks([p for p in args.projects.split(",") if p], args.per_project, args.per_file, args.seed)
    if not tasks:
        raise SystemExit("no tasks: none of the projects is installed")
    if args.self_check:
        systems = [Reference("reference")]
    else:
        if not os.path.exists(args.binary):
            raise SystemExit("no binary at %s (swift build -c release, or give --binary)" % args.binary)
        systems = [System(args, "with repository context", True), System(args, "without", False)]
    rows = run(tasks, systems, args.chunk)
    summaries = {name: summarise(system_rows) for name, system_rows in rows.items()}
    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            for name, system_rows in rows.items():
                for row in system_rows:
                    handle.write(json.dumps(dict(row, system=name)) + "\n")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(summaries, handle, indent=2)
    names = list(summaries)
    projects = sorted({task["project"] for task in tasks})
    print("Cross-file completion, %d tasks from %d projects (%s), model %s" % (
        len(tasks), len(projects), ", ".join(projects), args.model))
    metrics = [("exact match, first line", lambda s: "%.3f" % s["exact"]),
               ("edit similarity", lambda s: "%.3f" % s["similarity"]),
               ("identifier match", lambda s: "%.3f" % s["identifier"]),
               ("empty", lambda s: "%.1f%%" % (100 * s["empty"])),
               ("errors", lambda s: "%d" % s["errors"]),
               ("latency cold p50 / p95 ms", lambda s: "%.0f / %.0f" % (s["p50"], s["p95"])),
               ("latency warm p50 / p95 ms", lambda s: "%.0f / %.0f" % (s["warm_p50"], s["warm_p95"]))]
    if args.markdown:
        print("| | " + " | ".join(names) + " |")
        print("|---|" + "---|" * len(names))
        for label, fmt in metrics:
            print("| %s | %s |" % (label, " | ".join(fmt(summaries[n]) for n in names)))
    else:
        print("  %-28s %s" % ("", "  ".join("%-26s" % n for n in names)))
        for label, fmt in metrics:
            print("  %-28s %s" % (label, "  ".join("%-26s" % fmt(summaries[n]) for n in names)))
    if args.self_check and summaries["reference"]["exact"] != 1.0:
        raise SystemExit("self-check failed: the references do not score 1.0")


if __name__ == "__main__":
    main()
