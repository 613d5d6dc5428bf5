#!/usr/bin/env python3
"""Runs a language server between an editor and itself and checks the wire on the way.

Usage: lsp_wire_check.py --session-root DIR -- SERVER [ARGS...]

The editor starts this script instead of the server. It starts SERVER, copies the editor's bytes to the
server's stdin and the server's stdout back to the editor unchanged, and checks both directions against the
LSP base protocol (https://microsoft.github.io/language-server-protocol/specifications/base/0.9/specification/):
every message is a header block of `Name: value\\r\\n` lines with a decimal Content-Length, a blank line, then
exactly that many bytes of UTF-8 JSON-RPC 2.0. Anything else on the server's stdout (a stray print, a log line,
a truncated message) is a violation.

It writes into DIR/<pid of this script>/ (one directory per server process, so restarts are all kept):
  transcript.jsonl   one line per message: {"dir": "c2s" | "s2c", "message": ...}
  violations.txt     one line per framing or JSON violation (absent when there were none)
  server.stderr.log  everything the server wrote to stderr
  server.exit        `code=N`, `signal=N`, or `killed` (the editor terminated this script before the server exited)

Its own exit status is the server's (128+N for a signal), so the editor sees what the server did.
Only the Python 3 standard library is used.
"""

import json
import os
import signal
import subprocess
import sys
import threading


class FrameChecker:
  """Splits a byte stream into LSP messages and records every departure from the base protocol."""

  def __init__(self, direction, on_message, on_violation):
    self.direction = direction
    self.buffer = bytearray()
    self.on_message = on_message
    self.on_violation = on_violation
    self.broken = False  # after a framing error the stream cannot be resynchronised

  def feed(self, chunk):
    if self.broken:
      return
    self.buffer.extend(chunk)
    while not self.broken:
      end = self.buffer.find(b"\r\n\r\n")
      if end < 0:
        if len(self.buffer) > 65536:
          self._violation("no header terminator within 64 KiB", bytes(self.buffer[:120]))
        return
      header_bytes = bytes(self.buffer[:end])
      length = self._content_length(header_bytes)
      if length is None:
        return
      start = end + 4
      if len(self.buffer) < start + length:
        return
      body = bytes(self.buffer[start:start + length])
      del self.buffer[:start + length]
      self._check_body(body)

  def finish(self):
    """Called at end of stream: leftover bytes are a truncated message or trailing noise."""
    if not self.broken and self.buffer:
      self._violation("stream ended inside a message or with trailing bytes", bytes(self.buffer[:120]))

  def _content_length(self, header_bytes):
    try:
      header = header_bytes.decode("ascii")
    except UnicodeDecodeError:
      self._violation("non-ASCII bytes in a header block", header_bytes[:120])
      return None
    length = None
    for line in header.split("\r\n"):
      name, sep, value = line.partition(":")
      if not sep or not name or name != name.strip():
        self._violation("malformed header line", line.encode()[:120])
        return None
      if name.lower() == "content-length":
        value = value.strip()
        if not value.isdigit():
          self._violation("Content-Length is not a decimal number", line.encode()[:120])
          return None
        length = int(value)
      elif name.lower() != "content-type":
        self._violation("unknown header field", line.encode()[:120])
        return None
    if length is None:
      self._violation("header block without Content-Length", header_bytes[:120])
    return length

  def _check_body(self, body):
    try:
      message = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
      self.on_violation(self.direction, "body is not UTF-8 JSON: %s" % error, body[:120])
      return
    if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
      self.on_violation(self.direction, "not a JSON-RPC 2.0 object", body[:120])
    elif "method" not in message and "id" not in message:
      self.on_violation(self.direction, "neither a request, a notification nor a response", body[:120])
    elif "id" in message and "method" not in message and ("result" in message) == ("error" in message):
      self.on_violation(self.direction, "a response needs exactly one of result and error", body[:120])
    elif "error" in message and "method" not in message:
      code = message["error"].get("code") if isinstance(message["error"], dict) else None
      if not isinstance(code, int) or code >= 0:
        self.on_violation(self.direction, "error code must be a negative integer", body[:120])
    self.on_message(self.direction, message)

  def _violation(self, what, excerpt):
    self.broken = True
    self.on_violation(self.direction, what, excerpt)


def main():
  argv = sys.argv[1:]
  if len(argv) < 4 or argv[0] != "--session-root" or argv[2] != "--":
    sys.stderr.write("usage: lsp_wire_check.py --session-root DIR -- SERVER [ARGS...]\n")
    return 2
  session_dir, command = os.path.join(argv[1], str(os.getpid())), argv[3:]
  os.makedirs(session_dir, exist_ok=True)
  lock = threading.Lock()
  transcript = open(os.path.join(session_dir, "transcript.jsonl"), "a", encoding="utf-8")
  stderr_log = open(os.path.join(session_dir, "server.stderr.log"), "ab")
  exit_path = os.path.join(session_dir, "server.exit")

  def record(direction, message):
    with lock:
      transcript.write(json.dumps({"dir": direction, "message": message}, ensure_ascii=False) + "\n")
      transcript.flush()

  def violation(direction, what, excerpt):
    with lock:
      with open(os.path.join(session_dir, "violations.txt"), "a", encoding="utf-8") as out:
        out.write("%s: %s: %r\n" % (direction, what, excerpt))

  try:
    server = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr_log, bufsize=0)
  except OSError as error:
    violation("s2c", "server did not start: %s" % error, b"")
    with open(exit_path, "w") as out:
      out.write("not-started\n")
    return 127

  def on_terminate(signum, _frame):
    # The editor gave up on the server: pass it on, and say so in the record.
    with open(exit_path, "w") as out:
      out.write("killed\n")
    try:
      server.send_signal(signum)
    except OSError:
      pass
    os._exit(128 + signum)

  signal.signal(signal.SIGTERM, on_terminate)
  signal.signal(signal.SIGINT, on_terminate)

  def pump_client_to_server():
    checker = FrameChecker("c2s", record, violation)
    stdin = sys.stdin.buffer
    while True:
      chunk = os.read(stdin.fileno(), 65536)
      if not chunk:
        break
      checker.feed(chunk)
      try:
        server.stdin.write(chunk)
        server.stdin.flush()
      except (BrokenPipeError, OSError):
        break
    try:
      server.stdin.close()
    except OSError:
      pass

  threading.Thread(target=pump_client_to_server, daemon=True).start()

  checker = FrameChecker("s2c", record, violation)
  out_fd = sys.stdout.buffer.fileno()
  while True:
    chunk = os.read(server.stdout.fileno(), 65536)
    if not chunk:
      break
    checker.feed(chunk)
    try:
      view = memoryview(chunk)
      while view:
        written = os.write(out_fd, view)
        view = view[written:]
    except OSError:
      pass  # the editor closed its end; keep draining so the server is not blocked
  checker.finish()
  status = server.wait()
  with open(exit_path, "w") as out:
    out.write(("signal=%d\n" % -status) if status < 0 else ("code=%d\n" % status))
  return 128 - status if status < 0 else status


if __name__ == "__main__":
  sys.exit(main())
