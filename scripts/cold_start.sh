#!/usr/bin/env bash
# Cold start, vfuse against ONNX Runtime Java, in fresh processes taken in turn (so that both see
# the same machine), for each model given:
#   process  the whole `./vfuse run MODEL --input X --output Y` (one run, 1 thread, the launcher's
#            AOT cache) against a JVM that loads the model in ONNX Runtime and runs it once
#            (ColdStart onnxruntime … 1), wall seconds from /usr/bin/time;
#   api      ColdStart in a fresh JVM with RUNS runs: load, first run, first output from JVM
#            start, runs until within 10% of steady, steady median.
# Needs `mvn -q package -DskipTests` (jmh/target/benchmarks.jar) and the models; prints lines that
# docs/BENCHMARKS.md quotes. Usage: scripts/cold_start.sh [-n ROUNDS] [-r RUNS] MODEL.onnx INPUT.npy [...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rounds=5
runs=40
while getopts "n:r:" opt; do
  case $opt in
    n) rounds=$OPTARG ;;
    r) runs=$OPTARG ;;
    *) exit 2 ;;
  esac
done
shift $((OPTIND - 1))
java_home=$(sed -n 's/^[[:space:]]*java\.home = //p' "$root/cli/target/java-settings.txt" | head -n 1)
bench="$root/jmh/target/benchmarks.jar"
jvm=("$java_home/bin/java" --add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED
  --sun-misc-unsafe-memory-access=allow -cp "$bench")
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$root/vfuse" --version >/dev/null 2>&1 # builds the jar and its AOT cache first
while [ $# -ge 2 ]; do
  model=$1 input=$2
  shift 2
  for i in $(seq "$rounds"); do
    /usr/bin/time -f %e -o "$out/v" "$root/vfuse" run "$model" --input "$input" --output "$out/y.npy" >/dev/null 2>&1
    /usr/bin/time -f %e -o "$out/o" "${jvm[@]}" dev.vfuse.jmh.ColdStart onnxruntime "$model" "$input" 1 >/dev/null 2>&1
    echo "process model=$model round=$i vfuse_s=$(tail -n 1 "$out/v") onnxruntime_s=$(tail -n 1 "$out/o")"
    "${jvm[@]}" dev.vfuse.jmh.ColdStart vfuse "$model" "$input" "$runs" 2>/dev/null | sed "s/^coldstart/api round=$i/"
    "${jvm[@]}" dev.vfuse.jmh.ColdStart onnxruntime "$model" "$input" "$runs" 2>/dev/null | sed "s/^coldstart/api round=$i/"
  done
done
