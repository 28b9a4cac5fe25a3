#!/usr/bin/env bash
# Exports the torch fixtures (scripts/export_fixtures.py) into target/fixtures, installing
# Debian's python3-torch, python3-torchvision and python3-onnx first when they are missing.
# Idempotent: fixtures already on disk are kept. Run by the engine module before its tests.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out="${1:-$root/target/fixtures}"
py=/usr/bin/python3
if ! "$py" -c "import torch, torchvision, onnx" 2>/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "fixtures: installing Debian's python3-torch, python3-torchvision, python3-onnx" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-torch python3-torchvision python3-onnx >/dev/null
  else
    echo "fixtures: the model tests need Debian's python3-torch, python3-torchvision and python3-onnx;" \
      "install them with: sudo apt-get install python3-torch python3-torchvision python3-onnx" >&2
    exit 1
  fi
fi
"$py" "$root/scripts/export_fixtures.py" "$out"
exec "$py" "$root/scripts/export_quant_fixtures.py" "$out"
