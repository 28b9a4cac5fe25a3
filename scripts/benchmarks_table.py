#!/usr/bin/env python3
"""Turns a JMH JSON result of dev.vfuse.jmh.ModelBenchmark (SampleTime mode) into the markdown
table of docs/BENCHMARKS.md: median latency per model and engine, and the ratio to ONNX Runtime
measured in the same run at the same thread count.

    python3 scripts/benchmarks_table.py jmh-result.json
"""
import collections
import json
import sys


def main(path):
    rows = collections.defaultdict(dict)
    for r in json.load(open(path)):
        p = r["params"]
        median = r["primaryMetric"]["scorePercentiles"]["50.0"]
        rows[(p["model"], p.get("threads", "1"))][p["engine"]] = median
    engines = ["onnxruntime", "vfuse-simd", "vfuse-simd-nofuse", "vfuse-reference"]
    print("| model | threads | " + " | ".join(e + " ms" for e in engines) + " | vfuse-simd / onnxruntime | fused / unfused |")
    print("|---|---|" + "---|" * (len(engines) + 2))
    for (model, threads), e in sorted(rows.items()):
        cells = [f"{e[k]:.2f}" if k in e else "" for k in engines]
        ratio = f"{e['vfuse-simd'] / e['onnxruntime']:.1f}" if "vfuse-simd" in e and "onnxruntime" in e else ""
        fused = f"{e['vfuse-simd'] / e['vfuse-simd-nofuse']:.2f}" if "vfuse-simd" in e and "vfuse-simd-nofuse" in e else ""
        print(f"| {model} | {threads} | " + " | ".join(cells) + f" | {ratio} | {fused} |")


if __name__ == "__main__":
    main(sys.argv[1])
