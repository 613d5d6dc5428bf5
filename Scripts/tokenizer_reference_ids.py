#!/usr/bin/env python3
"""Expected token ids of real source files, from the Hugging Face tokenizer built from each model's GGUF.

Writes Tests/TokenizationTests/Fixtures/hf-ids-<model>.json.gz, read by RealModelTokenizerTests. Run with the
reference venv (transformers, gguf); the tests never need Python:

    .venv-ref/bin/python Scripts/tokenizer_reference_ids.py [--models-dir ~/.cache/codegen-lsp/models]

The source files come from places every machine of this kind has, picked deterministically:
  - Swift: files of the bare git repositories under /opt/swift-packages (read with `git cat-file`, by blob id),
  - Python: the standard library in /usr/lib/python3.11 and /root/.pyenv/versions/3.11.7/lib/python3.11,
  - C: the headers in /usr/include.
Each entry records where the text came from, the sha256 of the whole file, and the ids of its first
MAX_SCALARS Unicode scalars (so the fixtures stay small). The test skips an entry whose file is missing or whose
hash differs, and fails when fewer than 200 entries could be compared.
"""

import argparse
import glob
import gzip
import hashlib
import json
import os
import subprocess
import sys

MAX_SCALARS = 6000
SWIFT_COUNT = 100
PYTHON_COUNT = 100
C_COUNT = 100
MODELS = ["qwen2.5-coder-0.5b.gguf", "smollm2-135m.gguf"]
SWIFT_ROOT = "/opt/swift-packages"
PYTHON_DIRS = ["/usr/lib/python3.11", "/root/.pyenv/versions/3.11.7/lib/python3.11"]
C_DIR = "/usr/include"
MIN_BYTES = 512
# Edge cases, stored inline: digits after spaces, contractions in any case, Unicode whitespace, CRLF, emoji
# sequences, combining marks, CJK, special tokens written in the text, long runs, control and zero-width characters.
EXTRA_TEXTS = [
    "x =  1;\ny = 22  + 333\n\tz=4444 55555\n",
    "It's I'M we'LL you'Re they'd she'S 'tis",
    "\u00a0\u3000 tabs\t\t\tand\r\n\r\nCRLF \u2028 \u2029 \u0085 end",
    "emoji 😶‍🌫️ 👨‍👩‍👧 flags 🇫🇷 ✅ 🦙.cpp",
    "combining e\u0301 and precomposed \u00e9, A\u030a \u212b",
    "中文代码 // 注释\nlet 变量 = 1 // 한국어 日本語のテキスト",
    "<|endoftext|><|fim_prefix|>def f():<|fim_suffix|>\n<|fim_middle|>",
    "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n",
    "<tool_call>x</tool_call> <|file_sep|>a.py\n<|repo_name|>r",
    " " * 200 + "x" + "\t" * 20 + "y",
    "\n" * 40 + "z",
    "résumé naïve Ωμέγα Привет мир ăâîșț ß ﬁ",
    "3.14159e-10 0xDEADBEEF 1_000_000 ٣٤٥ ²³ ½ Ⅻ",
    "\x00\x01\x7f\x1b[0m\x0b\x0c done",
    "a\u200bb\u200dc\ufeffd \ue000 \U0010fffd",
    "a" * 3000 + " " + "ab" * 1500,
    "func f<T: Equatable>(_ x: [T]) -> T? { x.first { $0 == x.last } }",
    "#include <stdio.h>\nint main(void){printf(\"%d\\n\", 42);return 0;}",
    "    def __init__(self, *args, **kwargs) -> None:\n        super().__init__()\n",
]


def random_texts(count=300, seed=20261123):
    """Random mixtures of the characters and fragments the pre-tokenizers treat differently (seeded)."""
    import random

    rng = random.Random(seed)
    pool = (
        list("abcXYZ_019 .,;:(){}[]<>=+-*/\\|&^%$#@!?~`'\"")
        + [" ", "  ", "\t", "\n", "\r\n", "\r", "\u00a0", "\u3000", "\u2009", "\u0085", "\u000b", "\u000c"]
        + ["é", "ß", "Ω", "ж", "中", "한", "の", "ا", "٣", "²", "½", "Ⅻ", "\u0301", "\u200d", "\ufeff", "😀", "👍🏽", "🇫🇷"]
        + ["'s", "'S", "'ll", "'LL", "'re", "'ve", "'d", "'m", "'t", "123", "4567", "0x1F", "3.14", "1e-9"]
        + ["<|endoftext|>", "<|fim_prefix|>", "<|im_start|>", "<|im_end|>", "<tool_call>", "<file_sep>", "<|fim"]
        + ["def ", "func ", "return ", "#include ", "    ", "\t\t", "// ", "/* ", " */", "\"\"\"", "=>", "->"]
    )
    return ["".join(rng.choice(pool) for _ in range(rng.randint(1, 60))) for _ in range(count)]


def git(*args):
    return subprocess.run(["git", "-c", "safe.directory=*", *args], check=True, capture_output=True).stdout


def evenly(items, count):
    """`count` items spread evenly over the sorted list (all of them when there are fewer)."""
    if len(items) <= count:
        return items
    step = len(items) / count
    return [items[int(i * step)] for i in range(count)]


def decodable(data):
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def swift_sources():
    candidates = []
    for repo in sorted(glob.glob(os.path.join(SWIFT_ROOT, "*", "*.git"))):
        try:
            listing = git("--git-dir", repo, "ls-tree", "-r", "-l", "HEAD").decode("utf-8", "replace")
        except subprocess.CalledProcessError:
            continue
        files = []
        for line in listing.splitlines():
            meta, name = line.split("\t", 1)
            _, kind, blob, size = meta.split()
            if kind == "blob" and name.endswith(".swift") and size.isdigit() and int(size) >= MIN_BYTES:
                files.append((name, blob))
        # Up to two files per repository, the first ones in path order under Sources/ when there are any.
        files.sort()
        preferred = [f for f in files if f[0].startswith("Sources/")] or files
        for name, blob in preferred[:2]:
            candidates.append({"kind": "git", "repo": repo, "blob": blob, "name": name})
    out = []
    for entry in evenly(candidates, SWIFT_COUNT * 2):
        data = git("--git-dir", entry["repo"], "cat-file", "blob", entry["blob"])
        text = decodable(data)
        if text is not None:
            out.append((entry, data, text))
        if len(out) == SWIFT_COUNT:
            break
    return out


def plain_sources(paths, count):
    out = []
    for path in evenly(sorted(paths), count * 2):
        if len(out) == count:
            break
        with open(path, "rb") as f:
            data = f.read()
        text = decodable(data)
        if text is not None and len(data) >= MIN_BYTES:
            out.append(({"kind": "file", "path": path}, data, text))
    return out


def sources():
    python = []
    for d in PYTHON_DIRS:
        python += plain_sources(glob.glob(os.path.join(d, "*.py")), PYTHON_COUNT // len(PYTHON_DIRS))
    c = plain_sources(glob.glob(os.path.join(C_DIR, "*.h")), C_COUNT)
    return swift_sources() + python + c


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models-dir", default=os.path.expanduser("~/.cache/codegen-lsp/models"))
    parser.add_argument(
        "--out", default=os.path.join(os.path.dirname(__file__), "..", "Tests", "TokenizationTests", "Fixtures"))
    args = parser.parse_args()

    import tokenizers
    import transformers
    from transformers import AutoTokenizer

    picked = sources()
    print(f"{len(picked)} source files", file=sys.stderr)
    for model in MODELS:
        tokenizer = AutoTokenizer.from_pretrained(args.models_dir, gguf_file=model)
        entries = []
        for source, data, text in picked:
            prefix = text[:MAX_SCALARS]
            ids = tokenizer.encode(prefix, add_special_tokens=False)
            entries.append(dict(source, sha256=hashlib.sha256(data).hexdigest(), ids=ids))
        extra = [
            {"text": t, "ids": tokenizer.encode(t, add_special_tokens=False)} for t in EXTRA_TEXTS + random_texts()
        ]
        document = {
            "model": model,
            "reference": f"transformers {transformers.__version__}, tokenizers {tokenizers.__version__}: "
            "AutoTokenizer.from_pretrained(models_dir, gguf_file=model).encode(prefix, add_special_tokens=False)",
            "maxScalars": MAX_SCALARS,
            "files": entries,
            "texts": extra,
        }
        name = "hf-ids-" + model.removesuffix(".gguf") + ".json.gz"
        path = os.path.join(args.out, name)
        payload = json.dumps(document, separators=(",", ":")).encode("utf-8")
        with open(path, "wb") as f:
            # mtime=0 keeps the output byte-identical from run to run.
            with gzip.GzipFile(fileobj=f, mode="wb", compresslevel=9, mtime=0) as z:
                z.write(payload)
        total = sum(len(e["ids"]) for e in entries)
        print(f"{model}: {len(entries)} files, {total} ids -> {path} ({os.path.getsize(path)} bytes)", file=sys.stderr)


if __name__ == "__main__":
    main()
