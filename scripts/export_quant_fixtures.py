#!/usr/bin/env python3
"""Exports the quantization fixtures: torchvision models whose BatchNorm statistics are true.

Data-free bias correction reads E[x] of each layer's input from the BatchNorm before it: that
is only right when the BN's running statistics describe the data that flows through the model,
as they do in a trained model. The fusion fixtures (export_fixtures.py) draw those statistics at
random, so for quantization they would be a test of a lie. Here each model keeps random
(fixed-seed) weights and random BN affine parameters gamma and beta, but its running mean and
variance are measured on calibration images in inference (eval) mode, as training with large
batches leaves them; then the model is exported with its BNs kept (TrainingMode.PRESERVE on an eval() model).

Images: smooth random colour fields (low-resolution normal noise upsampled bilinearly, plus a
little pixel noise) in [0, 1], normalized with ImageNet's mean and std: no real photographs are
available offline, and these have the spatial correlation a conv net's BN statistics depend on.

Writes OUTDIR/quant/NAME/{model.onnx, calibration/NN.npy, evaluation/NN.npy} (1x3xHxW
float32 each: 224x224 for the torchvision models, the fusion fixtures' sizes for the blocks); calibration and evaluation images come from disjoint seeds. Deterministic;
existing complete fixtures are kept unless --force.
"""

import argparse
import os
import sys
import zlib

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_fixtures import (  # noqa: E402
    BNBeforeConv, ConvTransposeBN, DBBBlocks, RepVGGBlocks, randomize_batchnorms, reinit_linears)

# name -> (builder, image height, width): the torchvision models at 224x224, and the fusion
# fixtures' blocks (RepVGG and DBB branches, BN before padded/dilated/depthwise convs,
# ConvTranspose -> BN) at their fusion fixtures' spatial sizes, one image per sample.
MODELS = (
    ("resnet18", lambda: torchvision.models.resnet18(weights=None), 224, 224),
    ("mobilenet_v2", lambda: torchvision.models.mobilenet_v2(weights=None), 224, 224),
    ("mobilenet_v3_small", lambda: torchvision.models.mobilenet_v3_small(weights=None), 224, 224),
    ("repvgg_blocks", RepVGGBlocks, 32, 32),
    ("dbb_blocks", DBBBlocks, 31, 30),
    ("convtranspose_bn", ConvTransposeBN, 20, 24),
    ("bn_before_conv", BNBeforeConv, 33, 31),
)
BN_IMAGES = 64
CALIBRATION = 32
EVALUATION = 16
MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


def images(n, seed, height=224, width=224):
    g = torch.Generator().manual_seed(seed)
    coarse = torch.randn(n, 3, 7, 7, generator=g) * 0.25 + 0.45
    x = F.interpolate(coarse, size=(height, width), mode="bilinear", align_corners=False)
    x = x + torch.randn(n, 3, height, width, generator=g) * 0.02
    return ((x.clamp(0, 1) - MEAN) / STD).float()


def calibrate_batchnorms(model, x):
    """Each BN's running statistics = the mean and variance of its input over all of x, as the
    eval()-mode model computes it: one forward pass, in which a pre-hook on each BN measures its
    input (already normalized upstream by the statistics just set) and sets them before it runs.
    This is what a trained model's statistics approximate (large batches); measuring in train mode
    instead would describe inputs normalized by per-batch statistics, not what inference sees."""
    def measure(bn, args):
        (inp,) = args
        dims = [d for d in range(inp.dim()) if d != 1]
        bn.running_mean.copy_(inp.mean(dim=dims))
        bn.running_var.copy_(inp.var(dim=dims, unbiased=False))

    model.eval()
    hooks = [m.register_forward_pre_hook(measure) for m in model.modules()
             if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()


def export(key, builder, height, width, outdir):
    seed = zlib.crc32(("quant_" + key).encode()) & 0x7FFFFFFF
    torch.manual_seed(seed)
    model = builder()
    randomize_batchnorms(model, seed + 1)  # gamma, beta random; the running stats are replaced below
    reinit_linears(model, seed + 2)
    calibrate_batchnorms(model, images(BN_IMAGES, seed + 3, height, width))
    fdir = os.path.join(outdir, key)
    for sub, count, s in (("calibration", CALIBRATION, seed + 4), ("evaluation", EVALUATION, seed + 5)):
        os.makedirs(os.path.join(fdir, sub), exist_ok=True)
        batch = images(count, s, height, width)
        for i in range(count):
            np.save(os.path.join(fdir, sub, f"{i:02d}.npy"), np.ascontiguousarray(batch[i:i + 1].numpy()))
    tmp = os.path.join(fdir, "model.onnx.tmp")
    with torch.no_grad():
        torch.onnx.export(model, (images(1, seed + 6, height, width),), tmp, export_params=True,
                          training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False,
                          opset_version=13, input_names=["input"], output_names=["output"])
    assert not model.training
    os.replace(tmp, os.path.join(fdir, "model.onnx"))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("outdir")
    ap.add_argument("--force", action="store_true")
    args = ap.parse_args(argv)
    outdir = os.path.join(args.outdir, "quant")
    torch.set_grad_enabled(False)
    for key, builder, height, width in MODELS:
        if not args.force and os.path.exists(os.path.join(outdir, key, "model.onnx")):
            print(f"quant/{key}: skipped (exists; use --force to re-export)", flush=True)
            continue
        export(key, builder, height, width, outdir)
        print(f"quant/{key}: exported", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
