#!/usr/bin/env bash
# Exports the torch fixtures (scripts/export_fixtures.py) into target/fixtures, installing
# Debian's python3-torch, python3-torchvision and python3-onnx first when they are missing and
# this runs as root. Without them and without root it says how to install them and exits 0:
# the model tests that need the fixtures are then skipped (each names the same command), and
# every other test runs. Idempotent: fixtures already on disk are kept. Run by the engine
# module before its tests, never by a build that skips them.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out="${1:-$root/target/fixtures}"
py=/usr/bin/python3
packages="python3-torch python3-torchvision python3-onnx"
if ! "$py" -c "import torch, torchvision, onnx" 2>/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "fixtures: installing Debian's $packages" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $packages >/dev/null
  else
    echo "fixtures: SKIPPED. The torch model tests need Debian's $packages;" \
      "install them with 'sudo apt-get install $packages' and run the tests again." >&2
    exit 0
  fi
fi
"$py" "$root/scripts/export_fixtures.py" "$out"
exec "$py" "$root/scripts/export_quant_fixtures.py" "$out"
