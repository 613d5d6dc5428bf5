#!/usr/bin/env bash
# Installs what codegen-lsp needs on Debian/Ubuntu: the C libraries it links (OpenBLAS, json-c) and, with
# --test, the editors the end-to-end editor tests drive (Neovim, Emacs with eglot). Swift 6.x must already be
# on PATH. Safe to run again.
set -euo pipefail
packages=(libopenblas-dev libjson-c-dev pkg-config python3-pip)
if [[ "${1:-}" == "--test" ]]; then
  packages+=(neovim emacs-nox elpa-eglot)
fi
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  echo "setup: installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
command -v swift >/dev/null || { echo "setup: swift is not on PATH (Swift 6.x is required)" >&2; exit 1; }
