#!/usr/bin/env python3
"""Writes the seed corpus of one fuzz target (Tests/Fuzz) from the project's own fixtures and transcripts.

- FuzzFramer: the client side of each recorded LSP session (Tests/CompletionServerTests/Transcripts), framed, after
  the five bytes the target reads first (limits and chunking seed);
- FuzzJSON: each message of those sessions;
- FuzzGGUF: small GGUF files written here (header, metadata with a byte-level BPE vocabulary, one tensor), in
  versions 2 and 3, and the first 8 KiB of the GGUF fixtures of the tests;
- FuzzTokenizer: source files of the project (first 2 KiB each), with and without special-token parsing;
- FuzzSyntax: prefix, suffix and candidate triples in several languages, encoded as the target reads them;
- FuzzTextDocument: documents with each kind of line break and a few edits.

Usage: python3 Scripts/fuzz_seeds.py TARGET DIRECTORY
"""

import glob
import json
import os
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def fuzz_int(value, lower, upper):
    """The bytes FuzzInput.int(in: lower...upper) reads as `value` (big-endian, as many bytes as the span needs)."""
    span = upper - lower
    width, read = 0, 0
    while read < span and read < 1 << 32:
        width += 1
        read = (read << 8) | 0xFF
    return (value - lower).to_bytes(width, "big") if width else b""


def fuzz_string(text, maximum):
    data = text.encode("utf-8")[:maximum]
    return fuzz_int(len(data), 0, maximum) + data


def transcripts():
    for path in sorted(glob.glob(os.path.join(ROOT, "Tests/CompletionServerTests/Transcripts/*.json"))):
        with open(path, encoding="utf-8") as handle:
            yield os.path.basename(path), json.load(handle)


def framer_seeds():
    for name, transcript in transcripts():
        stream = b""
        for entry in transcript["messages"]:
            if entry["from"] == "client":
                body = json.dumps(entry["message"]).encode()
                stream += b"Content-Length: %d\r\n\r\n" % len(body) + body
        yield name, b"\xff\xff\x03\xff\x07" + stream


def json_seeds():
    for name, transcript in transcripts():
        for index, entry in enumerate(transcript["messages"]):
            yield "%s-%d" % (name, index), json.dumps(entry["message"]).encode()


def gguf_string(text):
    data = text.encode()
    return struct.pack("<Q", len(data)) + data


def gguf_file(version):
    tokens = [chr(c) for c in range(ord("a"), ord("z") + 1)] + ["Ġ", "Ċ", "ab", "<|endoftext|>"]
    metadata = [
        ("general.architecture", 8, gguf_string("qwen2")),
        ("general.alignment", 4, struct.pack("<I", 32)),
        ("tokenizer.ggml.model", 8, gguf_string("gpt2")),
        ("tokenizer.ggml.tokens", 9, struct.pack("<IQ", 8, len(tokens)) + b"".join(gguf_string(t) for t in tokens)),
        ("tokenizer.ggml.merges", 9, struct.pack("<IQ", 8, 1) + gguf_string("a b")),
        ("tokenizer.ggml.eos_token_id", 4, struct.pack("<I", len(tokens) - 1)),
    ]
    header = b"GGUF" + struct.pack("<IQQ", version, 1, len(metadata))
    for key, kind, value in metadata:
        header += gguf_string(key) + struct.pack("<I", kind) + value
    header += gguf_string("token_embd.weight") + struct.pack("<IQQIQ", 2, 4, 2, 0, 0)
    header += b"\0" * (-len(header) % 32)
    return header + struct.pack("<8f", *range(8))


def gguf_seeds():
    for version in (2, 3):
        yield "v%d.gguf" % version, gguf_file(version)
    for path in sorted(glob.glob(os.path.join(ROOT, "Tests/*/Fixtures/*.gguf"))):
        with open(path, "rb") as handle:
            yield "head-" + os.path.basename(path), handle.read(8192)


def tokenizer_seeds():
    paths = sorted(glob.glob(os.path.join(ROOT, "Sources/*/*.swift")))[:24] + [os.path.join(ROOT, "README.md")]
    for path in paths:
        with open(path, "rb") as handle:
            text = handle.read(2048)
        yield os.path.basename(path), b"\0" + text
    yield "special", b"\1<|fim_prefix|>def f():<|fim_suffix|>\n<|fim_middle|>"
    yield "unicode", "\0é 😀 中文 \t\r\n\u00a0".encode()


# (index in Languages.all: 0 python, 1 c, 8 javascript, 11 rust, 12 swift; block mode; prefix; suffix; candidate)
SYNTAX_CASES = [
    (0, 0, "def add(a, b):\n    return ", "\n\nprint(add(1, 2))\n", "a + b"),
    (0, 1, "class Point:\n    def __init__(self, x):\n", "\n", "        self.x = x\n    def norm(self):\n"),
    (1, 1, "int main(void) {\n    ", "\n}\n", "printf(\"%d\\n\", 1);\n    return 0;\n}"),
    (12, 0, "let values = [1, 2, 3]\nlet total = values.", "\n", "reduce(0, +)"),
    (8, 1, "function f(x) {\n  ", "\n}\n", "if (x) {\n    return `a${x}`;\n  }\n  return /re[}]/;"),
    (11, 0, "fn main() {\n    let s = ", "\n}\n", "String::from(\"a\\\"b\");"),
]


def syntax_seeds():
    for index, (language, block, prefix, suffix, candidate) in enumerate(SYNTAX_CASES):
        data = fuzz_int(language, 0, 17) + bytes([block]) + fuzz_string(prefix, 2048)
        data += fuzz_string(suffix, 1024) + fuzz_string(candidate, 1024) + fuzz_int(3, 1, 16)
        yield "case-%d" % index, data


def text_document_seeds():
    texts = ["a\nb\r\nc\rd", "é😀x\n\tline two\n", "", "one line"]
    for index, text in enumerate(texts):
        for encoding in range(3):
            data = fuzz_int(encoding, 0, 2) + fuzz_string(text, 512)
            for line, character, insert in [(0, 1, "X"), (1, 0, "\r"), (0, 3, "\n😀"), (2, 5, "")]:
                data += fuzz_int(7, 0, 15)
                data += fuzz_int(line, 0, 40) + fuzz_int(character, 0, 80)
                data += fuzz_int(line, 0, 40) + fuzz_int(character + 1, 0, 80) + fuzz_string(insert, 32)
                data += fuzz_int(line, 0, 40) + fuzz_int(character, 0, 80)
            yield "doc-%d-%d" % (index, encoding), data


SEEDS = {
    "FuzzFramer": framer_seeds, "FuzzJSON": json_seeds, "FuzzGGUF": gguf_seeds, "FuzzTokenizer": tokenizer_seeds,
    "FuzzSyntax": syntax_seeds, "FuzzTextDocument": text_document_seeds,
}


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in SEEDS:
        raise SystemExit("usage: fuzz_seeds.py {%s} DIRECTORY" % ",".join(SEEDS))
    target, directory = sys.argv[1], sys.argv[2]
    os.makedirs(directory, exist_ok=True)
    count = 0
    for name, data in SEEDS[target]():
        with open(os.path.join(directory, "seed-" + name.replace("/", "_")), "wb") as handle:
            handle.write(data)
        count += 1
    print("%s: %d seeds in %s" % (target, count, directory))


if __name__ == "__main__":
    main()
