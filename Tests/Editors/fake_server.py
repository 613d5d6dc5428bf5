#!/usr/bin/env python3
"""A stand-in language server for checking the editor harness itself (`run.sh --self-test`), never the product.

It speaks the same wire contract as `codegen-lsp lsp` (completion, inline completion, the generate-code command
with progress and workspace/applyEdit, shutdown/exit) with fixed, obviously fake answers, so the harness can be
shown to pass on a well-behaved server and to fail on a misbehaving one:

  FAKE_SERVER_FAULT=stdout-noise   writes a line of plain text to stdout before the first message
  FAKE_SERVER_FAULT=crash          exits with status 3 when asked for a completion
  FAKE_SERVER_FAULT=dirty-exit     exits with status 1 on `exit` even after `shutdown`
"""

import json
import os
import sys

FAULT = os.environ.get("FAKE_SERVER_FAULT", "")
stdin = sys.stdin.buffer
stdout = sys.stdout.buffer
documents = {}
pending = {}  # id of a request we sent -> function(result)
next_id = [0]
shutdown_requested = [False]


def send(message):
  message["jsonrpc"] = "2.0"
  body = json.dumps(message).encode("utf-8")
  stdout.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
  stdout.flush()


def request(method, params, then):
  next_id[0] += 1
  request_id = "fake-%d" % next_id[0]
  pending[request_id] = then
  send({"id": request_id, "method": method, "params": params})


def read_message():
  length = None
  while True:
    line = stdin.readline()
    if not line:
      return None
    line = line.strip()
    if not line:
      break
    name, _, value = line.decode("ascii").partition(":")
    if name.lower() == "content-length":
      length = int(value)
  return json.loads(stdin.read(length).decode("utf-8"))


def line_at(uri, line):
  lines = documents.get(uri, "").split("\n")
  return lines[line] if line < len(lines) else ""


def word_start(text, character):
  start = character
  while start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_"):
    start -= 1
  return start


def position(line, character):
  return {"line": line, "character": character}


def handle(message):
  method, params, request_id = message.get("method"), message.get("params") or {}, message.get("id")
  if method is None:
    then = pending.pop(request_id, None)
    if then:
      then(message.get("result"))
    return
  if method == "initialize":
    send({"id": request_id, "result": {
      "capabilities": {
        "textDocumentSync": 1,
        "completionProvider": {"resolveProvider": False},
        "inlineCompletionProvider": {},
        "executeCommandProvider": {"commands": ["codegen-lsp.generateCode"]},
      },
      "serverInfo": {"name": "fake-server", "version": "0"},
    }})
  elif method == "textDocument/didOpen":
    documents[params["textDocument"]["uri"]] = params["textDocument"]["text"]
  elif method == "textDocument/didChange":
    documents[params["textDocument"]["uri"]] = params["contentChanges"][-1]["text"]
  elif method == "textDocument/completion":
    if FAULT == "crash":
      sys.exit(3)
    uri, pos = params["textDocument"]["uri"], params["position"]
    text = line_at(uri, pos["line"])
    start = word_start(text, pos["character"])
    word = text[start:pos["character"]]
    new_text = (word or "None") + "  # fake completion"
    send({"id": request_id, "result": {"isIncomplete": False, "items": [{
      "label": new_text, "kind": 1, "filterText": new_text,
      "textEdit": {"range": {"start": position(pos["line"], start), "end": pos}, "newText": new_text},
    }]}})
  elif method == "textDocument/inlineCompletion":
    pos = params["position"]
    send({"id": request_id, "result": {"items": [
      {"insertText": "None  # fake inline", "range": {"start": pos, "end": pos}}]}})
  elif method == "workspace/executeCommand":
    argument = (params.get("arguments") or [{}])[0]
    uri = argument.get("uri")
    pos = argument.get("position") or argument.get("range", {}).get("start") or position(0, 0)
    text = "return 0  # fake generate-code"
    token = "fake-progress-%s" % request_id

    def after_apply(result):
      send({"method": "$/progress", "params": {"token": token, "value": {"kind": "end"}}})
      send({"id": request_id, "result": {"applied": bool(result and result.get("applied")), "text": text}})

    def after_create(_result):
      send({"method": "$/progress", "params": {"token": token, "value": {"kind": "begin", "title": "fake"}}})
      request("workspace/applyEdit", {"label": "fake generate", "edit": {"changes": {
        uri: [{"range": {"start": pos, "end": pos}, "newText": text}]}}}, after_apply)

    request("window/workDoneProgress/create", {"token": token}, after_create)
  elif method == "shutdown":
    shutdown_requested[0] = True
    send({"id": request_id, "result": None})
  elif method == "exit":
    sys.exit(1 if FAULT == "dirty-exit" or not shutdown_requested[0] else 0)
  elif request_id is not None:
    send({"id": request_id, "error": {"code": -32601, "message": "method not found: %s" % method}})


def main():
  if FAULT == "stdout-noise":
    stdout.write(b"fake server starting\n")
    stdout.flush()
  while True:
    message = read_message()
    if message is None:
      return 1
    handle(message)


if __name__ == "__main__":
  sys.exit(main())
