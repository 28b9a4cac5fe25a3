#!/usr/bin/env python3
"""Turns a JMH JSON result into the markdown tables of docs/BENCHMARKS.md: for
dev.vfuse.jmh.ModelBenchmark (SampleTime mode) the median latency per model and engine and the
ratio to ONNX Runtime measured in the same run at the same thread count; for
dev.vfuse.jmh.ConvKernelBenchmark the time per layer, GFLOP/s, share of the 262 GFLOP/s
single-core peak and the simd speed-up over the reference.

    python3 scripts/benchmarks_table.py jmh-result.json
"""
import collections
import json
import sys


PEAK_GFLOPS = 262.0


def conv_flops(layer):
    n, c, h, w, k, kernel, stride, pad, groups = map(int, layer.split(","))
    p = (h + 2 * pad - kernel) // stride + 1
    q = (w + 2 * pad - kernel) // stride + 1
    return 2.0 * n * k * p * q * (c // groups) * kernel * kernel


def kernels(results):
    rows = collections.defaultdict(dict)
    for r in results:
        rows[r["params"]["layer"]][r["params"]["backend"]] = r["primaryMetric"]["score"]
    print("| layer N,C,H,W,K,kernel,stride,pad,groups | reference ms | simd ms | simd GFLOP/s | % of peak | simd / reference speed-up |")
    print("|---|---|---|---|---|---|")
    for layer, e in rows.items():
        gflops = conv_flops(layer) / (e["simd"] * 1e6) if "simd" in e else 0
        speedup = e["reference"] / e["simd"] if "reference" in e and "simd" in e else 0
        print(f"| {layer} | {e.get('reference', 0):.3f} | {e.get('simd', 0):.3f} | {gflops:.1f} | {100 * gflops / PEAK_GFLOPS:.0f}% | {speedup:.1f} |")


def main(path):
    results = json.load(open(path))
    if results and "layer" in results[0]["params"]:
        kernels(results)
        return
    rows = collections.defaultdict(dict)
    for r in results:
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
