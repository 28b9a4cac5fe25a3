#!/usr/bin/env python3
"""Turns a JMH JSON result into the markdown tables of docs/BENCHMARKS.md: for
dev.vfuse.jmh.ModelBenchmark (SampleTime mode) the median latency per model, engine and thread
count, the ratio to ONNX Runtime measured in the same run at the same thread count, and GFLOP/s
with its share of the machine's peak (262 GFLOP/s per core); for
dev.vfuse.jmh.ConvKernelBenchmark the time per layer, GFLOP/s, share of peak and the simd
speed-up over the reference.

    python3 scripts/benchmarks_table.py jmh-result.json
"""
import collections
import json
import sys


PEAK_GFLOPS = 262.0


# N,C,H,W,K,kernel,stride,pad,groups of each ConvKernelBenchmark layer: the LAYERS map of
# jmh/src/main/java/dev/vfuse/jmh/ConvKernelBenchmark.java.
LAYERS = {
    "r18-3x3-64c-56": "1,64,56,56,64,3,1,1,1",
    "r18-3x3-128c-28": "1,128,28,28,128,3,1,1,1",
    "r18-3x3-256c-14": "1,256,14,14,256,3,1,1,1",
    "r18-3x3-512c-7": "1,512,7,7,512,3,1,1,1",
    "r18-7x7s2-stem": "1,3,224,224,64,7,2,3,1",
    "r18-3x3s2-64to128-56": "1,64,56,56,128,3,2,1,1",
    "r18-1x1s2-64to128": "1,64,56,56,128,1,2,0,1",
    "mbv2-1x1-24to144-56": "1,24,56,56,144,1,1,0,1",
    "mbv2-1x1-144to24-56": "1,144,56,56,24,1,1,0,1",
    "mbv2-1x1-96to576-14": "1,96,14,14,576,1,1,0,1",
    "mbv2-1x1-960to160-7": "1,960,7,7,160,1,1,0,1",
    "mbv3-se-1x1-576to144-1": "1,576,1,1,144,1,1,0,1",
    "mbv2-dw3x3-144c-56": "1,144,56,56,144,3,1,1,144",
    "mbv2-dw3x3s2-96c-112": "1,96,112,112,96,3,2,1,96",
    "mbv3-dw5x5s2-72c-56": "1,72,56,56,72,5,2,2,72",
    "ppocr-det-3x3-16c-160": "1,16,160,160,16,3,1,1,1",
}

# Conv and matrix-product GFLOP per run of each ModelBenchmark model, as Model.flops reports it
# (the benchmark prints a "work MODEL GFLOP" line at setup).
MODEL_GFLOP = {
    "ocr-cls": 0.0325,
    "ocr-det": 3.8236,
    "ocr-rec-v3": 1.3137,
    "ocr-rec-v4": 1.4049,
    "resnet18": 3.6281,
    "mobilenet_v2": 0.6015,
    "mobilenet_v3_small": 0.1114,
}


def conv_flops(layer):
    n, c, h, w, k, kernel, stride, pad, groups = map(int, LAYERS[layer].split(","))
    p = (h + 2 * pad - kernel) // stride + 1
    q = (w + 2 * pad - kernel) // stride + 1
    return 2.0 * n * k * p * q * (c // groups) * kernel * kernel


def kernels(results):
    rows = collections.defaultdict(dict)
    for r in results:
        p = r["params"]
        backend = p["backend"] if p["backend"] == "reference" else "simd"
        rows[(p["layer"], p.get("threads", "1"), p.get("winograd", "on"))][backend] = r["primaryMetric"]["score"]
    for key in list(rows):
        if "reference" not in rows[key]:
            for other, e in rows.items():
                if other[:2] == key[:2] and "reference" in e:
                    rows[key]["reference"] = e["reference"]
    print("| layer | N,C,H,W,K,kernel,stride,pad,groups | threads | winograd | reference ms | simd ms | simd GFLOP/s | % of peak | simd / reference speed-up |")
    print("|---|---|---|---|---|---|---|---|---|")
    for (layer, threads, wino), e in rows.items():
        if "simd" not in e:
            continue
        gflops = conv_flops(layer) / (e["simd"] * 1e6) if "simd" in e else 0
        peak = PEAK_GFLOPS * int(threads)
        speedup = f"{e['reference'] / e['simd']:.1f}" if "reference" in e and "simd" in e else ""
        ref = f"{e['reference']:.3f}" if "reference" in e else ""
        print(f"| {layer} | {LAYERS[layer]} | {threads} | {wino} | {ref} | {e['simd']:.3f} | {gflops:.1f} | {100 * gflops / peak:.0f}% | {speedup} |")


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
    print("| model | threads | " + " | ".join(e + " ms" for e in engines)
          + " | vfuse-simd / onnxruntime | fused / unfused | vfuse-simd GFLOP/s | % of peak |")
    print("|---|---|" + "---|" * (len(engines) + 4))
    for (model, threads), e in sorted(rows.items()):
        cells = [f"{e[k]:.2f}" if k in e else "" for k in engines]
        ratio = f"{e['vfuse-simd'] / e['onnxruntime']:.2f}" if "vfuse-simd" in e and "onnxruntime" in e else ""
        fused = f"{e['vfuse-simd'] / e['vfuse-simd-nofuse']:.2f}" if "vfuse-simd" in e and "vfuse-simd-nofuse" in e else ""
        gflops = MODEL_GFLOP.get(model, 0) / (e["vfuse-simd"] / 1e3) if "vfuse-simd" in e else 0
        rate = f"{gflops:.0f}" if gflops else ""
        share = f"{100 * gflops / (PEAK_GFLOPS * int(threads)):.0f}%" if gflops else ""
        print(f"| {model} | {threads} | " + " | ".join(cells) + f" | {ratio} | {fused} | {rate} | {share} |")


if __name__ == "__main__":
    main(sys.argv[1])
