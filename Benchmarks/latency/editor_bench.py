#!/usr/bin/env python3
"""Suggestions as an editor gets them: `codegen-lsp lsp` over stdio, each file freshly opened, then a line typed.

The same files and lines as typing_bench.py (the first 300 lines of modules of Python's standard library, one line in
the lower half written anew). For each file: `didOpen`, a pause (--open-delay-ms, default 300: the editor's first
request comes a moment after the file is shown), then `textDocument/inlineCompletion` at the cursor ("first": the
first suggestion in a freshly opened file), then the line typed 1 to 3 characters at a time, one step every
--step-ms (default 250, a steady typist), each step a `didChange` and an inline completion request ("typing"). A step
waits for the previous answer, so a slow answer delays the typing after it, as a user would wait for it. Then
`didClose`. The server runs with its defaults (the editor's deadline of 1,000 ms, background prefill after didOpen
and typing pauses) unless flags after `--` say otherwise (`-- --slowdown 4` runs the engine four times slower).

Reported: first suggestion p50 / p95 / max, empty share and how often its first line is the rest of the original
line (exactly, whitespace aside), the same for typing, and every window/showMessage the server sent.

Usage: python3 Benchmarks/latency/editor_bench.py --binary .build/release/codegen-lsp [--files 16] [--steps 6]
       [--model qwen2.5-coder-0.5b] [--open-delay-ms 300] [--step-ms 250] [--dump out.jsonl] [-- extra lsp flags]
"""

import argparse
import json
import os
import sysconfig
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from typing_bench import percentile, typing_cases  # noqa: E402


class Server:
    """A `codegen-lsp lsp` process: framed JSON-RPC requests with their answers, notifications collected."""

    def __init__(self, command, log=None):
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=open(log, "w") if log else subprocess.DEVNULL)
        self.lock = threading.Condition()
        self.answers = {}
        self.messages = []
        self.next_id = 0
        self.reader = threading.Thread(target=self.read, daemon=True)
        self.reader.start()

    def read(self):
        stream = self.process.stdout
        while True:
            length = None
            while True:
                line = stream.readline()
                if not line:
                    with self.lock:
                        self.lock.notify_all()
                    return
                line = line.strip()
                if not line:
                    break
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            message = json.loads(stream.read(length))
            now = time.monotonic()
            with self.lock:
                if "id" in message and "method" not in message:
                    self.answers[message["id"]] = (now, message)
                    self.lock.notify_all()
                elif message.get("method") == "window/showMessage":
                    self.messages.append(message["params"]["message"])
                elif "id" in message:  # a request from the server (workDoneProgress/create, ...): accept it
                    self.send({"jsonrpc": "2.0", "id": message["id"], "result": None})

    def send(self, message):
        body = json.dumps(message).encode()
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        self.process.stdin.flush()

    def notify(self, method, params):
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def request(self, method, params, timeout=600):
        """Sends a request and waits for its answer: (seconds, message)."""
        with self.lock:
            self.next_id += 1
            ident = self.next_id
        sent = time.monotonic()
        self.send({"jsonrpc": "2.0", "id": ident, "method": method, "params": params})
        with self.lock:
            while ident not in self.answers:
                if self.process.poll() is not None or not self.lock.wait(timeout):
                    raise SystemExit("editor_bench: no answer to %s (server exit code %s)" % (
                        method, self.process.poll()))
            received, message = self.answers.pop(ident)
        return received - sent, message


def position(text):
    """The LSP position (UTF-16 columns) of the end of `text`."""
    line = text.count("\n")
    column = text[text.rfind("\n") + 1:]
    return {"line": line, "character": len(column.encode("utf-16-le")) // 2}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--binary", default=".build/release/codegen-lsp")
    parser.add_argument("--files", type=int, default=16)
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--model", default=None)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--open-delay-ms", type=int, default=300)
    parser.add_argument("--step-ms", type=int, default=250)
    parser.add_argument("--dump", help="write every request's answer (one JSON line each) here")
    parser.add_argument("--server-log", help="write the server's stderr here (with -- --log-level debug: every decision)")
    parser.add_argument("--workspace", action="store_true",
                        help="open the standard library (where the files come from) as the workspace: the server "
                             "indexes it in the background and gives completions repository context")
    parser.add_argument("extra", nargs="*")
    args = parser.parse_args()
    command = [args.binary, "lsp"] + (["--model", args.model] if args.model else []) + args.extra
    server = Server(command, args.server_log)
    stdlib = sysconfig.get_paths()["stdlib"]
    root_uri = "file://" + stdlib if args.workspace else None
    _, init = server.request("initialize", {"processId": os.getpid(), "rootUri": root_uri, "capabilities": {}})
    if "error" in init:
        raise SystemExit("editor_bench: initialize failed: %s" % init["error"])
    server.notify("initialized", {})
    records = []
    for case in typing_cases(args.files, args.steps, args.seed):
        uri = ("file://" + os.path.join(stdlib, case["name"])) if args.workspace else "file:///bench/" + case["name"]
        version = 1
        prefix, suffix = case["steps"][0]
        server.notify("textDocument/didOpen", {"textDocument": {
            "uri": uri, "languageId": "python", "version": version, "text": prefix + suffix}})
        time.sleep(args.open_delay_ms / 1000)
        for step, (prefix, suffix) in enumerate(case["steps"]):
            step_started = time.monotonic()
            if step > 0:
                version += 1
                server.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": version},
                                                         "contentChanges": [{"text": prefix + suffix}]})
            seconds, answer = server.request("textDocument/inlineCompletion", {
                "textDocument": {"uri": uri}, "position": position(prefix),
                "context": {"triggerKind": 2}})
            result = answer.get("result") or {}
            items = result.get("items", []) if isinstance(result, dict) else result
            text = items[0].get("insertText", "") if items else ""
            if isinstance(text, dict):
                text = text.get("value", "")
            typed = prefix[len(case["steps"][0][0]):]
            expected = case["line"][len(typed):]
            records.append({"file": case["name"], "kind": "first" if step == 0 else "typing", "ms": seconds * 1000,
                            "empty": not text.strip(), "text": text, "expected": expected,
                            "exact": text.split("\n")[0].strip() == expected.strip(), "error": answer.get("error")})
            rest = args.step_ms / 1000 - (time.monotonic() - step_started)
            if rest > 0 and step < len(case["steps"]) - 1:
                time.sleep(rest)
        server.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
    server.request("shutdown", None)
    server.notify("exit", None)
    server.process.wait(timeout=60)

    print("command: %s (open delay %d ms, a typing step every %d ms)" % (" ".join(command), args.open_delay_ms,
                                                                       args.step_ms))
    print("files: %d, typing requests: %d, errors: %d" % (
        sum(r["kind"] == "first" for r in records), sum(r["kind"] == "typing" for r in records),
        sum(bool(r["error"]) for r in records)))
    print("| requests | p50 ms | p95 ms | max ms | empty | first line = the original line's rest |")
    print("|---|---|---|---|---|---|")
    for kind, label in (("first", "first suggestion in a freshly opened file"), ("typing", "typing (1-3 characters)")):
        rows = [r for r in records if r["kind"] == kind]
        ms = [r["ms"] for r in rows]
        print("| %s | %.0f | %.0f | %.0f | %d of %d (%.0f%%) | %d of %d |" % (
            label, percentile(ms, 50), percentile(ms, 95), max(ms), sum(r["empty"] for r in rows), len(rows),
            100.0 * sum(r["empty"] for r in rows) / len(rows), sum(r["exact"] for r in rows), len(rows)))
    for message in server.messages:
        print("showMessage: %s" % message)
    if args.dump:
        with open(args.dump, "w") as f:
            for r in records:
                f.write(json.dumps(r) + "\n")


if __name__ == "__main__":
    main()
