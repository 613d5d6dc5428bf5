#!/usr/bin/env bash
# End-to-end tests in real editors, headless: Neovim (the shipped EditorConfigs/neovim module) and Emacs (the
# shipped EditorConfigs/emacs/codegen-lsp-eglot.el) drive `BINARY lsp` against a real model.
#
#   bash Tests/Editors/run.sh BINARY       run both editors against BINARY (e.g. .build/release/codegen-lsp)
#   bash Tests/Editors/run.sh --self-test  check the harness itself against Tests/Editors/fake_server.py: it must
#                                          pass on the well-behaved fake and fail on each injected fault
#
# The server runs behind lsp_wire_check.py, which checks that nothing but LSP messages leaves its stdout and
# records the transcript, stderr and exit status; check_sessions.py then checks for a clean shutdown.
# Environment:
#   CODEGEN_LSP_EDITORS_MODEL     preset or GGUF path (default smollm2-135m)
#   CODEGEN_LSP_MODELS_DIR        where presets are found (default ~/.cache/codegen-lsp/models)
#   CODEGEN_LSP_EDITORS_TIMEOUT   seconds per editor run (default 300)
#   CODEGEN_LSP_EDITORS_ONLY      nvim or emacs to run one editor
#   CODEGEN_LSP_EDITORS_NVIM      the nvim to run (default: nvim on PATH), to check another Neovim version
#   CODEGEN_LSP_EDITORS_KEEP=1    keep the work directory (it is always kept when something failed)
# Prints `editors: N passed, M failed` last; exits non-zero when anything failed.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

if [[ "${1:-}" == "--self-test" ]]; then
  # The harness must pass a well-behaved server and catch each kind of misbehaviour.
  work="$(mktemp -d "${TMPDIR:-/tmp}/codegen-editors-selftest.XXXXXX")"
  printf '#!/bin/sh\nexec python3 %q "$@"\n' "$here/fake_server.py" >"$work/fake-codegen-lsp"
  chmod +x "$work/fake-codegen-lsp"
  passed=0
  failed=0
  for fault in none stdout-noise crash dirty-exit; do
    log="$work/$fault.log"
    FAKE_SERVER_FAULT="$fault" CODEGEN_LSP_EDITORS_FAKE=1 CODEGEN_LSP_EDITORS_TIMEOUT="${CODEGEN_LSP_EDITORS_TIMEOUT:-120}" \
      CODEGEN_EDITORS_REQUEST_TIMEOUT_MS=10000 \
      bash "$0" "$work/fake-codegen-lsp" >"$log" 2>&1
    status=$?
    case "$fault" in # the check that must catch each fault, in both editors
      none) expected='' ;;
      stdout-noise) expected='only LSP messages on the wire' ;;
      crash) expected='server exited by itself with status 0 -- code=3' ;;
      dirty-exit) expected='server exited by itself with status 0 -- code=1' ;;
    esac
    caught=$(grep -c "^not ok wire([a-z]*): $expected" "$log")
    if [[ "$fault" == none && $status -eq 0 ]] || [[ "$fault" != none && $status -ne 0 && $caught -eq 2 ]]; then
      echo "ok self-test: fault=$fault -> exit $status"
      passed=$((passed + 1))
    else
      echo "not ok self-test: fault=$fault -> exit $status (log: $log)"
      sed 's/^/    /' "$log"
      failed=$((failed + 1))
    fi
  done
  echo "editors self-test: $passed passed, $failed failed"
  [[ $failed -eq 0 ]] && rm -rf "$work"
  [[ $failed -eq 0 ]]
  exit
fi

if [[ $# -ne 1 ]]; then
  echo "usage: bash Tests/Editors/run.sh BINARY | --self-test" >&2
  exit 2
fi

binary="$1"
[[ "$binary" == /* ]] || binary="$PWD/$binary"
timeout_s="${CODEGEN_LSP_EDITORS_TIMEOUT:-300}"
model="${CODEGEN_LSP_EDITORS_MODEL:-smollm2-135m}"
models_dir="${CODEGEN_LSP_MODELS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/codegen-lsp/models}"
only="${CODEGEN_LSP_EDITORS_ONLY:-}"
work="$(mktemp -d "${TMPDIR:-/tmp}/codegen-editors.XXXXXX")"
results="$work/results.txt"
: >"$results"

fail() { # a failure found by this script itself
  echo "not ok $1" >>"$results"
}

summary() {
  local passed failed
  passed=$(grep -c '^ok ' "$results")
  failed=$(grep -c '^not ok ' "$results")
  cat "$results"
  if [[ $failed -gt 0 || $passed -eq 0 ]]; then
    echo "logs: $work"
  elif [[ "${CODEGEN_LSP_EDITORS_KEEP:-}" != 1 ]]; then
    rm -rf "$work"
  else
    echo "logs: $work"
  fi
  echo "editors: $passed passed, $failed failed"
  [[ $failed -eq 0 && $passed -gt 0 ]]
}

if [[ ! -x "$binary" ]]; then
  fail "setup: server binary $binary is not an executable file (build it first)"
  summary
  exit
fi
model_spec="$model"
if [[ -z "${CODEGEN_LSP_EDITORS_FAKE:-}" && "$model" != */* && "$model" != *.gguf ]]; then
  if [[ ! -f "$models_dir/$model.gguf" ]]; then
    fail "setup: model $models_dir/$model.gguf is missing (python3 Scripts/fetch_model.py $model)"
    summary
    exit
  fi
fi
export CODEGEN_LSP_MODELS_DIR="$models_dir"

# Settings sent as initializationOptions: the fast model, greedy, and a deadline long enough that a loaded
# 2-core machine still gets whole answers.
init_options="{\"model\": \"$model_spec\", \"temperature\": 0, \"deadlineMilliseconds\": 30000, \"logLevel\": \"debug\"}"

sample() { # the file each editor opens; the tests rewrite its text
  printf 'import math\n\n\ndef area(radius):\n    return math.pi * radius ** 2\n' >"$work/$1"
}

server_cmd() { # JSON array: the wire checker in front of the server
  python3 -c 'import json, sys; print(json.dumps(sys.argv[1:]))' \
    python3 "$here/lsp_wire_check.py" --session-root "$work/$1-wire" -- "$binary" lsp --log-level debug
}

run_editor() { # NAME COMMAND...: run one editor under timeout, then check its wire sessions
  local name="$1"
  shift
  local status
  sample "${name}_sample.py"
  (
    cd "$work" &&
      CODEGEN_EDITORS_REPO="$repo" CODEGEN_EDITORS_WORK="$work" CODEGEN_EDITORS_RESULTS="$results" \
        CODEGEN_EDITORS_CMD="$(server_cmd "$name")" CODEGEN_EDITORS_INIT_OPTIONS="$init_options" \
        timeout -k 10 "$timeout_s" "$@" </dev/null
  ) >"$work/$name.log" 2>&1
  status=$?
  if [[ $status -eq 124 || $status -eq 137 ]]; then
    fail "$name: finished within $timeout_s s (timed out; see $work/$name.log)"
  elif [[ $status -ne 0 ]]; then
    fail "$name: editor exited with status $status (see $work/$name.log)"
  fi
  # Eglot 1.9 does not announce window.workDoneProgress, so only Neovim gets progress.
  local expect=(--expect-apply-edit)
  [[ "$name" == nvim ]] && expect+=(--expect-progress)
  python3 "$here/check_sessions.py" "$name" "$work/$name-wire" "${expect[@]}" >>"$results"
}

if [[ -z "$only" || "$only" == nvim ]]; then
  nvim="${CODEGEN_LSP_EDITORS_NVIM:-nvim}"
  if command -v "$nvim" >/dev/null; then
    mkdir -p "$work/nvim-home"
    XDG_CONFIG_HOME="$work/nvim-home/config" XDG_DATA_HOME="$work/nvim-home/data" \
      XDG_STATE_HOME="$work/nvim-home/state" XDG_CACHE_HOME="$work/nvim-home/cache" \
      run_editor nvim "$nvim" --headless -n -i NONE --noplugin -u "$here/nvim_test.lua"
  else
    fail "nvim: installed (apt-get install neovim, or bash Scripts/setup.sh --test)"
  fi
fi

if [[ -z "$only" || "$only" == emacs ]]; then
  if command -v emacs >/dev/null; then
    mkdir -p "$work/emacs-home"
    HOME="$work/emacs-home" run_editor emacs emacs --batch -q -l "$here/emacs_test.el"
  else
    fail "emacs: installed (apt-get install emacs-nox elpa-eglot, or bash Scripts/setup.sh --test)"
  fi
fi

summary
