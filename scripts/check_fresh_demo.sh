#!/usr/bin/env bash
# Proves that `./vfuse demo` works on a fresh clone for a user with neither root nor Python
# packages: it clones the committed tree, makes scripts/fixtures.sh fail, and runs the launcher
# (as the unprivileged user vfuse-demo, with its own empty ~/.m2, when started as root).
# Any attempt of the launcher's build to export the torch fixtures then fails the check.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git clone -q "$root" "$work/vfuse"
printf '%s\n' '#!/usr/bin/env bash' \
  'echo "check_fresh_demo: the launcher build ran the torch fixture export" >&2' 'exit 1' \
  > "$work/vfuse/scripts/fixtures.sh"
run=(bash -c 'cd "$1" && ./vfuse demo --out "$1/demo.png"' _ "$work/vfuse")
if [ "$(id -u)" = 0 ]; then
  id vfuse-demo >/dev/null 2>&1 || useradd --create-home vfuse-demo
  chmod 755 "$work"
  chown -R vfuse-demo "$work/vfuse"
  run=(runuser -u vfuse-demo -- "${run[@]}")
fi
start=$SECONDS
"${run[@]}" | tee "$work/demo.out"
grep -q '^png ' "$work/demo.out" && [ -s "$work/vfuse/demo.png" ] \
  || { echo "check_fresh_demo: the demo did not write its image" >&2; exit 1; }
grep -q '^read *3 of 3 drawn lines exactly' "$work/demo.out" \
  || { echo "check_fresh_demo: the demo did not read every drawn line exactly" >&2; exit 1; }
who=$(id -un); [ "$(id -u)" = 0 ] && who=vfuse-demo
echo "check_fresh_demo: passed as $who, the fixture export disabled, in $((SECONDS - start)) s"
