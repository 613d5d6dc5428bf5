#!/usr/bin/env python3
"""Checks what lsp_wire_check.py recorded for one editor run and prints one result line per check.

Usage: check_sessions.py EDITOR SESSION_ROOT [--expect-progress] [--expect-apply-edit]

For every server process the editor started (one directory each under SESSION_ROOT):
  - no framing or JSON violations in either direction (nothing but LSP messages on the server's stdout);
  - every request the editor sent got exactly one response;
  - no error-level window/showMessage (the server reporting a user-facing failure);
  - a shutdown request answered without error, followed by an exit notification;
  - the server exited on its own with status 0 (not killed, no signal).
With --expect-progress, generate-code must have reported progress: window/workDoneProgress/create and $/progress
begin and end with the same token. With --expect-apply-edit, the server must have sent workspace/applyEdit and
the editor must have answered it with applied: true.
Lines look like `ok wire(nvim): NAME` or `not ok wire(nvim): NAME -- DETAIL`.
"""

import json
import os
import sys


def main():
  args = [a for a in sys.argv[1:] if not a.startswith("--")]
  expect_progress = "--expect-progress" in sys.argv
  expect_apply_edit = "--expect-apply-edit" in sys.argv
  if len(args) != 2:
    sys.stderr.write(__doc__)
    return 2
  editor, root = args
  lines = []

  def check(condition, name, detail=""):
    line = ("ok" if condition else "not ok") + " wire(%s): %s" % (editor, name)
    if not condition and detail:
      line += " -- " + str(detail).replace("\n", " ")[:2000]
    lines.append(line)

  sessions = sorted(os.path.join(root, d) for d in os.listdir(root)) if os.path.isdir(root) else []
  check(len(sessions) >= 1, "the editor started the server", "no session under %s" % root)
  for index, session in enumerate(sessions):
    tag = "server %d: " % (index + 1) if len(sessions) > 1 else ""
    violations_path = os.path.join(session, "violations.txt")
    violations = open(violations_path).read() if os.path.exists(violations_path) else ""
    check(not violations, tag + "only LSP messages on the wire (no stdout noise, valid framing and JSON)", violations)

    messages = []
    with open(os.path.join(session, "transcript.jsonl"), encoding="utf-8") as transcript:
      for line in transcript:
        messages.append(json.loads(line))
    client_requests, server_responses = {}, {}
    for entry in messages:
      message = entry["message"]
      if entry["dir"] == "c2s" and "method" in message and "id" in message:
        client_requests[json.dumps(message["id"])] = message["method"]
      elif entry["dir"] == "s2c" and "method" not in message and "id" in message:
        key = json.dumps(message["id"])
        server_responses.setdefault(key, []).append(message)
    unanswered = [m for k, m in client_requests.items() if k not in server_responses]
    doubled = [k for k, v in server_responses.items() if len(v) > 1]
    stray = [k for k in server_responses if k not in client_requests]
    check(not unanswered and not doubled and not stray, tag + "every request got exactly one response",
          "unanswered: %s doubled: %s stray: %s" % (unanswered, doubled, stray))

    errors = [m["message"]["params"].get("message") for m in messages
              if m["dir"] == "s2c" and m["message"].get("method") == "window/showMessage"
              and (m["message"].get("params") or {}).get("type") == 1]
    check(not errors, tag + "no error shown to the user (window/showMessage type 1)", errors)

    shutdown_ids = [json.dumps(m["message"]["id"]) for m in messages
                    if m["dir"] == "c2s" and m["message"].get("method") == "shutdown"]
    shutdown_ok = any("result" in r for key in shutdown_ids for r in server_responses.get(key, []))
    exit_sent = any(m["dir"] == "c2s" and m["message"].get("method") == "exit" for m in messages)
    check(shutdown_ok and exit_sent, tag + "shutdown answered, then exit sent",
          "shutdown requests: %d, answered ok: %s, exit sent: %s" % (len(shutdown_ids), shutdown_ok, exit_sent))

    exit_path = os.path.join(session, "server.exit")
    status = open(exit_path).read().strip() if os.path.exists(exit_path) else "still running or vanished"
    check(status == "code=0", tag + "server exited by itself with status 0", status)

    if expect_apply_edit:
      edit_ids = {json.dumps(m["message"]["id"]) for m in messages
                  if m["dir"] == "s2c" and m["message"].get("method") == "workspace/applyEdit"}
      applied = [m["message"] for m in messages if m["dir"] == "c2s" and "method" not in m["message"]
                 and json.dumps(m["message"].get("id")) in edit_ids]
      check(any((a.get("result") or {}).get("applied") is True for a in applied),
            tag + "the server sent workspace/applyEdit and the editor applied it",
            "applyEdit requests: %d, answers: %s" % (len(edit_ids), applied))

    if expect_progress:
      created = {json.dumps(m["message"]["params"]["token"]) for m in messages
                 if m["dir"] == "s2c" and m["message"].get("method") == "window/workDoneProgress/create"}
      kinds = {}
      for m in messages:
        if m["dir"] == "s2c" and m["message"].get("method") == "$/progress":
          params = m["message"].get("params") or {}
          kinds.setdefault(json.dumps(params.get("token")), []).append((params.get("value") or {}).get("kind"))
      complete = [t for t in created if kinds.get(t, [])[:1] == ["begin"] and kinds[t][-1:] == ["end"]]
      check(bool(complete), tag + "generate-code reported progress (create, begin ... end)",
            "created: %s progress: %s" % (sorted(created), kinds))

  print("\n".join(lines))
  return 0


if __name__ == "__main__":
  sys.exit(main())
