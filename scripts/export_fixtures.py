#!/usr/bin/python3
"""Export ONNX test fixtures for the vfuse inference engine.

Usage:
    /usr/bin/python3 scripts/export_fixtures.py OUTDIR [--only NAME ...] [--force] [--list]

For every fixture NAME this writes

    OUTDIR/NAME/model.onnx   the exported graph (weights embedded as initializers)
    OUTDIR/NAME/input.npy    float32, C-order input tensor
    OUTDIR/NAME/output.npy   float32, C-order output of the *torch* model on that
                             input (eval mode, float32) -- the reference vfuse
                             must reproduce

and one OUTDIR/manifest.json describing every fixture present in OUTDIR (name,
input/output name and shape, opset, ONNX op-type histogram, ...).

Fixtures: torchvision resnet18 / mobilenet_v2 / mobilenet_v3_small (opset 13
and 14 each; the two opset variants of a model share weights and input),
a RepVGG-style train-time model (parallel 3x3 / 1x1 / identity-BN branches,
one stride-2 block and one grouped block), grouped/depthwise ConvTranspose+BN,
and BN placed *before* padded / dilated / depthwise / strided convolutions on
odd spatial sizes.  No pretrained weights are used (no network): models are
randomly initialised under fixed seeds.

Why BatchNormalization is preserved: with the default TrainingMode.EVAL,
torch.onnx.export runs an "eval peephole" pass that folds every BN into the
preceding Conv, so the exported graph would never contain BatchNormalization
and vfuse's own BN-folding (Conv->BN, ConvTranspose->BN, BN->Conv, multi-branch
RepVGG re-parameterisation) would go untested.  We therefore call model.eval()
(so the *semantics* are inference semantics: running statistics, no dropout)
but export with training=TrainingMode.PRESERVE and do_constant_folding=False,
which keeps the BN nodes.  Every BN additionally gets random, non-trivial
statistics (running_mean ~ N(0, 0.2), running_var ~ U(0.5, 2), gamma ~
U(0.5, 1.5) with about 1 in 8 entries negated, beta ~ N(0, 0.2)) so that a
wrong fold cannot accidentally pass as an identity.  nn.Linear layers are
re-initialised He-normal so classifier outputs are O(1)-O(10) rather than the
~0.03 that torchvision's N(0, 0.01) MobileNet classifier init would give;
the script asserts the output is finite with 0.1 < max|y| < 1000.  After
export the graph is checked with onnx.checker and the number of
BatchNormalization nodes is asserted to equal the number of BatchNorm modules
in the torch model.

Graph quirks the engine must accept (this is what torch 1.13 emits): Clip
bounds as Constant nodes (MobileNetV2), Identity nodes aliasing de-duplicated
identical initializers (MobileNetV3 SE biases), HardSigmoid+Mul instead of
HardSwish at opset 13, Flatten+Gemm classifier heads.

The script is deterministic (seeds derived from the fixture's model name) and
idempotent: a fixture whose three files already exist is skipped unless
--force is given.  manifest.json is always regenerated from the files on disk.
"""

import argparse
import collections
import hashlib
import json
import math
import os
import sys
import time
import warnings
import zlib

import numpy as np
import onnx
import torch
import torch.nn as nn
import torchvision

# ---------------------------------------------------------------------------
# BatchNorm randomisation
# ---------------------------------------------------------------------------


def randomize_batchnorms(model, seed):
    """Give every BatchNorm module random (but fixed-seed) stats and affine params."""
    g = torch.Generator().manual_seed(seed)
    count = 0
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                c = m.num_features
                m.running_mean.copy_(torch.randn(c, generator=g) * 0.2)
                m.running_var.copy_(0.5 + 1.5 * torch.rand(c, generator=g))
                gamma = 0.5 + torch.rand(c, generator=g)  # in [0.5, 1.5): never ~0
                # negate a few entries (about 1 in 8, at least one)
                n_neg = max(1, c // 8)
                neg = torch.randperm(c, generator=g)[:n_neg]
                gamma[neg] = -gamma[neg]
                m.weight.copy_(gamma)
                m.bias.copy_(torch.randn(c, generator=g) * 0.2)
                count += 1
    return count


def reinit_linears(model, seed):
    """He-normal re-init of every nn.Linear (weight ~ N(0, 2/fan_in), bias ~ N(0, 0.2)).

    torchvision initialises the MobileNet classifiers with N(0, 0.01), which
    together with random (non-pretrained) features gives logits of ~0.03: too
    small to make an absolute-tolerance comparison meaningful.  With He init
    all classifier outputs come out O(1)-O(10).
    """
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Linear):
                m.weight.copy_(torch.randn(m.weight.shape, generator=g)
                               * math.sqrt(2.0 / m.in_features))
                if m.bias is not None:
                    m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.2)


# ---------------------------------------------------------------------------
# Custom models
# ---------------------------------------------------------------------------


def conv_bn(cin, cout, k, stride=1, padding=0, groups=1):
    return nn.Sequential(
        nn.Conv2d(cin, cout, k, stride=stride, padding=padding, groups=groups, bias=False),
        nn.BatchNorm2d(cout),
    )


class RepVGGBlock(nn.Module):
    """Train-time RepVGG block: ReLU(BN(conv3x3 x) + BN(conv1x1 x) [+ BN(x)])."""

    def __init__(self, cin, cout, stride=1, groups=1):
        super().__init__()
        self.dense = conv_bn(cin, cout, 3, stride=stride, padding=1, groups=groups)
        self.one = conv_bn(cin, cout, 1, stride=stride, padding=0, groups=groups)
        self.identity = nn.BatchNorm2d(cin) if (cin == cout and stride == 1) else None
        self.act = nn.ReLU()

    def forward(self, x):
        y = self.dense(x) + self.one(x)
        if self.identity is not None:
            y = y + self.identity(x)
        return self.act(y)


class RepVGGBlocks(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU()
        )
        self.blocks = nn.Sequential(
            RepVGGBlock(16, 16, stride=1),             # identity branch
            RepVGGBlock(16, 32, stride=2),             # no identity branch
            RepVGGBlock(32, 32, stride=1, groups=4),   # grouped, identity branch
        )
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(32, num_classes)

    def forward(self, x):
        x = self.blocks(self.stem(x))
        return self.fc(torch.flatten(self.pool(x), 1))


class DBBBlock(nn.Module):
    """Train-time Diverse Branch Block (Ding et al. 2021) in the form vfuse merges on the graph.

    ReLU(BN(conv3x3 x) + BN(conv1x1 x) + BN(AvgPool3x3(BN(conv1x1 x))) [+ BN(x)]); a depthwise block
    (groups == cout) averages x itself, as DBB does.  The pool pads 1 with count_include_pad=True,
    which torch exports as Pad(0) -> AveragePool.
    """

    def __init__(self, cin, cout, stride=1, groups=1):
        super().__init__()
        self.dense = conv_bn(cin, cout, 3, stride=stride, padding=1, groups=groups)
        self.one = conv_bn(cin, cout, 1, stride=stride, padding=0, groups=groups)
        avg = [] if groups == cout else [nn.Conv2d(cin, cout, 1, groups=groups, bias=False), nn.BatchNorm2d(cout)]
        self.avg = nn.Sequential(*avg, nn.AvgPool2d(3, stride=stride, padding=1), nn.BatchNorm2d(cout))
        self.identity = nn.BatchNorm2d(cin) if (cin == cout and stride == 1) else None
        self.act = nn.ReLU()

    def forward(self, x):
        y = self.dense(x) + self.one(x) + self.avg(x)
        if self.identity is not None:
            y = y + self.identity(x)
        return self.act(y)


class DBBBlocks(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU()
        )
        self.blocks = nn.Sequential(
            DBBBlock(16, 16, stride=1),             # identity branch
            DBBBlock(16, 32, stride=2),             # strided pool, no identity
            DBBBlock(32, 32, stride=1, groups=2),   # grouped
            DBBBlock(32, 32, stride=1, groups=32),  # depthwise: the pool averages x
        )
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(32, num_classes)

    def forward(self, x):
        x = self.blocks(self.stem(x))
        return self.fc(torch.flatten(self.pool(x), 1))


class ConvTransposeBN(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU()
        )
        self.up1 = nn.ConvTranspose2d(16, 8, 3, stride=2, padding=1, output_padding=1, groups=2)
        self.bn1 = nn.BatchNorm2d(8)
        self.act1 = nn.ReLU()
        self.up2 = nn.ConvTranspose2d(8, 8, 4, stride=2, padding=1, groups=8, bias=False)
        self.bn2 = nn.BatchNorm2d(8)

    def forward(self, x):
        x = self.stem(x)
        x = self.act1(self.bn1(self.up1(x)))
        return self.bn2(self.up2(x))


class BNBeforeConv(nn.Module):
    """BN placed before (padded / dilated / depthwise+strided / biased) convs.

    Folding a BN into the *following* conv is only exact if the padding is
    handled (padded zeros are not BN-transformed), hence the odd input size
    and the variety of paddings.  Only the 5x5 conv has a bias.
    """

    def __init__(self):
        super().__init__()
        self.bn0 = nn.BatchNorm2d(3)
        self.conv0 = nn.Conv2d(3, 16, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.conv1 = nn.Conv2d(16, 16, 3, padding=2, dilation=2, bias=False)
        self.bn2 = nn.BatchNorm2d(16)
        self.conv2 = nn.Conv2d(16, 16, 3, stride=2, padding=1, groups=16, bias=False)
        self.bn3 = nn.BatchNorm2d(16)
        self.conv3 = nn.Conv2d(16, 16, 5, padding=2, bias=True)
        self.bn4 = nn.BatchNorm2d(16)  # after the last conv: the ordinary Conv -> BN fold

    def forward(self, x):
        # A ReLU after each conv keeps every BN from being folded backwards into the
        # conv before it: only the forward BN -> padded conv fold can remove them.
        # The feature map is the output, so border errors are not averaged away.
        x = torch.relu(self.conv0(self.bn0(x)))
        x = torch.relu(self.conv1(self.bn1(x)))
        x = torch.relu(self.conv2(self.bn2(x)))
        x = self.conv3(self.bn3(x))
        return self.bn4(x)


# ---------------------------------------------------------------------------
# Fixture registry
# ---------------------------------------------------------------------------

# name -> (model-key, builder, input shape, opset).  The model-key determines
# the seed, so e.g. resnet18_op13 and resnet18_op14 share weights and input.
FIXTURES = collections.OrderedDict()


def _register(name, key, builder, shape, opset):
    FIXTURES[name] = dict(key=key, builder=builder, shape=tuple(shape), opset=opset)


_TORCHVISION = (
    ("resnet18", lambda: torchvision.models.resnet18(weights=None)),
    ("mobilenet_v2", lambda: torchvision.models.mobilenet_v2(weights=None)),
    ("mobilenet_v3_small", lambda: torchvision.models.mobilenet_v3_small(weights=None)),
)
for _key, _builder in _TORCHVISION:
    for _op in (13, 14):
        _register(f"{_key}_op{_op}", _key, _builder, (1, 3, 224, 224), _op)
_register("repvgg_blocks", "repvgg_blocks", RepVGGBlocks, (2, 3, 32, 32), 13)
_register("dbb_blocks", "dbb_blocks", DBBBlocks, (2, 3, 31, 30), 13)
_register("convtranspose_bn", "convtranspose_bn", ConvTransposeBN, (1, 3, 20, 24), 13)
_register("bn_before_conv", "bn_before_conv", BNBeforeConv, (1, 3, 33, 31), 13)

FILES = ("model.onnx", "input.npy", "output.npy")


def seed_for(key):
    return zlib.crc32(key.encode("utf-8")) & 0x7FFFFFFF


# ---------------------------------------------------------------------------
# Export
# ---------------------------------------------------------------------------


def op_histogram(model_proto):
    return dict(sorted(collections.Counter(n.op_type for n in model_proto.graph.node).items()))


def default_opset(model_proto):
    for imp in model_proto.opset_import:
        if imp.domain in ("", "ai.onnx"):
            return int(imp.version)
    raise AssertionError("model has no default-domain opset import")


def value_info_shape(vi):
    dims = []
    for d in vi.type.tensor_type.shape.dim:
        dims.append(int(d.dim_value) if d.HasField("dim_value") else d.dim_param)
    return dims


def export_fixture(name, spec, outdir):
    seed = seed_for(spec["key"])
    torch.manual_seed(seed)
    np.random.seed(seed)

    model = spec["builder"]()
    n_bn = randomize_batchnorms(model, seed + 1)
    reinit_linears(model, seed + 2)
    model.eval()
    model.float()

    x = np.random.standard_normal(spec["shape"]).astype(np.float32)
    x = np.ascontiguousarray(x)
    xt = torch.from_numpy(x.copy())
    with torch.no_grad():
        y = model(xt).detach().float().contiguous().numpy()
    y = np.ascontiguousarray(y, dtype=np.float32)

    max_abs = float(np.max(np.abs(y)))
    if not np.all(np.isfinite(y)):
        raise AssertionError(f"{name}: torch output is not finite")
    if not (0.1 < max_abs < 1e3):
        raise AssertionError(f"{name}: output max |y| = {max_abs:g} is outside a sane range")

    fdir = os.path.join(outdir, name)
    os.makedirs(fdir, exist_ok=True)
    tmp_onnx = os.path.join(fdir, "model.onnx.tmp")

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with torch.no_grad():
            torch.onnx.export(
                model,
                (xt,),
                tmp_onnx,
                export_params=True,
                training=torch.onnx.TrainingMode.PRESERVE,
                do_constant_folding=False,
                opset_version=spec["opset"],
                input_names=["input"],
                output_names=["output"],
            )
    warns = sorted({f"{w.category.__name__}: {str(w.message).strip()}" for w in caught})

    # The model must not have been switched to training mode by the export.
    assert not model.training, f"{name}: model left in training mode"

    proto = onnx.load(tmp_onnx)
    onnx.checker.check_model(proto)
    hist = op_histogram(proto)
    n_bn_onnx = hist.get("BatchNormalization", 0)
    if n_bn_onnx != n_bn or n_bn == 0:
        raise AssertionError(
            f"{name}: expected {n_bn} BatchNormalization nodes (one per BatchNorm "
            f"module), graph has {n_bn_onnx}; histogram={hist}")
    # In eval semantics every BN must have exactly one output (no training outputs).
    for node in proto.graph.node:
        if node.op_type == "BatchNormalization":
            outs = [o for o in node.output if o]
            assert len(outs) == 1, f"{name}: BN node {node.name} has outputs {outs}"
            for a in node.attribute:
                if a.name == "training_mode":
                    assert a.i == 0, f"{name}: BN node {node.name} has training_mode=1"
    assert default_opset(proto) == spec["opset"], f"{name}: opset mismatch"
    assert [i.name for i in proto.graph.input] == ["input"], f"{name}: graph inputs"
    assert [o.name for o in proto.graph.output] == ["output"], f"{name}: graph outputs"
    assert value_info_shape(proto.graph.input[0]) == list(x.shape), f"{name}: input shape"
    assert value_info_shape(proto.graph.output[0]) == list(y.shape), f"{name}: output shape"

    # Write the npy files first, the model last, each atomically: the presence
    # of all three files then means the fixture is complete.
    for fname, arr in (("input.npy", x), ("output.npy", y)):
        tmp = os.path.join(fdir, fname + ".tmp.npy")
        np.save(tmp, arr)
        os.replace(tmp, os.path.join(fdir, fname))
    os.replace(tmp_onnx, os.path.join(fdir, "model.onnx"))

    return dict(max_abs=max_abs, warnings=warns, hist=hist, n_bn=n_bn)


# ---------------------------------------------------------------------------
# Manifest
# ---------------------------------------------------------------------------


def manifest_entry(name, spec, outdir):
    fdir = os.path.join(outdir, name)
    path = os.path.join(fdir, "model.onnx")
    proto = onnx.load(path)
    x = np.load(os.path.join(fdir, "input.npy"))
    y = np.load(os.path.join(fdir, "output.npy"))
    with open(path, "rb") as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    return collections.OrderedDict([
        ("name", name),
        ("model", "model.onnx"),
        ("input_file", "input.npy"),
        ("output_file", "output.npy"),
        ("input_name", proto.graph.input[0].name),
        ("input_shape", list(x.shape)),
        ("output_name", proto.graph.output[0].name),
        ("output_shape", list(y.shape)),
        ("dtype", "float32"),
        ("opset", default_opset(proto)),
        ("seed", seed_for(spec["key"])),
        ("output_max_abs", float(np.max(np.abs(y)))),
        ("model_bytes", os.path.getsize(path)),
        ("model_sha256", sha),
        ("op_counts", op_histogram(proto)),
    ])


def write_manifest(outdir):
    entries = []
    for name, spec in FIXTURES.items():
        if all(os.path.exists(os.path.join(outdir, name, f)) for f in FILES):
            entries.append(manifest_entry(name, spec, outdir))
    manifest = collections.OrderedDict([
        ("generator", "scripts/export_fixtures.py"),
        ("torch", torch.__version__),
        ("torchvision", torchvision.__version__),
        ("onnx", onnx.__version__),
        ("fixtures", entries),
    ])
    tmp = os.path.join(outdir, "manifest.json.tmp")
    with open(tmp, "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    os.replace(tmp, os.path.join(outdir, "manifest.json"))
    return len(entries)


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("outdir", nargs="?")
    ap.add_argument("--only", nargs="+", metavar="NAME", help="export only these fixtures")
    ap.add_argument("--force", action="store_true", help="re-export existing fixtures")
    ap.add_argument("--list", action="store_true", help="list fixture names and exit")
    args = ap.parse_args(argv)

    if args.list:
        for name, spec in FIXTURES.items():
            print(f"{name}  input={list(spec['shape'])} opset={spec['opset']}")
        return 0
    if not args.outdir:
        ap.error("OUTDIR is required")

    names = list(FIXTURES)
    if args.only:
        unknown = [n for n in args.only if n not in FIXTURES]
        if unknown:
            ap.error(f"unknown fixture(s): {', '.join(unknown)}; known: {', '.join(FIXTURES)}")
        names = [n for n in FIXTURES if n in set(args.only)]

    os.makedirs(args.outdir, exist_ok=True)
    torch.set_grad_enabled(False)

    t_all = time.time()
    for name in names:
        spec = FIXTURES[name]
        fdir = os.path.join(args.outdir, name)
        if not args.force and all(os.path.exists(os.path.join(fdir, f)) for f in FILES):
            print(f"{name}: skipped (exists; use --force to re-export)", flush=True)
            continue
        t0 = time.time()
        r = export_fixture(name, spec, args.outdir)
        size = os.path.getsize(os.path.join(fdir, "model.onnx"))
        ops = " ".join(f"{k}={v}" for k, v in r["hist"].items())
        print(f"{name}: opset={spec['opset']} in={list(spec['shape'])} "
              f"bn={r['n_bn']} max|out|={r['max_abs']:.4g} size={size}B "
              f"{time.time() - t0:.1f}s ops[{ops}]", flush=True)
        for w in r["warnings"]:
            print(f"  warning: {w}", flush=True)

    n = write_manifest(args.outdir)
    print(f"manifest: {os.path.join(args.outdir, 'manifest.json')} ({n} fixtures), "
          f"total {time.time() - t_all:.1f}s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
