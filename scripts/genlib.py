"""Shared by the scripts/gen_*.py source generators: writes their outputs, or with --check
compares them.

    python3 scripts/gen_X.py           writes the file(s)
    python3 scripts/gen_X.py --check   writes nothing; prints a unified diff and exits 1 when a
                                       committed file differs from what the script would write

Per-width copies: C2 turns Vector API calls into machine vectors only when the species is a
constant in the compiled method, so each vector loop exists once per width (methods suffixed 512,
256 and 128, each on its own static final species). The generators write those copies from one
template, so that nobody edits them one by one.

Templates (expand): Java text in which a block between a line `$for W in 512, 256, 128` and a
line `$endfor` stands once and is written once per listed width, $W replaced by the width, the
copies separated by a blank line.

Not a generator itself (its name does not match gen_*.py, which GeneratedSourcesTest runs).
"""
import difflib
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
SIMD = ROOT / "simd/src/main/java/dev/vfuse/simd"


def emit(outputs, argv=None):
    """outputs: {path: text}. Writes each, or with --check in argv diffs each and exits 1 on a
    difference."""
    args = sys.argv[1:] if argv is None else argv
    unknown = [a for a in args if a != "--check"]
    if unknown:
        sys.exit("usage: %s [--check]" % pathlib.Path(sys.argv[0]).name)
    if "--check" not in args:
        for path, text in outputs.items():
            path.write_text(text, encoding="utf-8")
            print("wrote", path.relative_to(ROOT))
        return
    differs = False
    for path, text in outputs.items():
        name = str(path.relative_to(ROOT))
        old = path.read_text(encoding="utf-8") if path.exists() else ""
        if old != text:
            differs = True
            sys.stdout.writelines(difflib.unified_diff(
                old.splitlines(keepends=True), text.splitlines(keepends=True),
                "a/" + name + " (committed)", "b/" + name + " (generated)"))
    sys.exit(1 if differs else 0)


# Pieces of the register-tile micro-kernels (broadcast A, FMA into rows × vectors accumulators
# acc{i}{v}), shared by the GEMM-like templates. Each returns source lines, newline-terminated.

def acc_zero(rows, vectors, indent="    "):
    """The accumulators acc{i}{v}, one line a row, all zero."""
    return "".join("%sFloatVector %s;\n" % (indent, ", ".join("acc%d%d = FloatVector.zero(sp)" % (i, v)
                                                              for v in range(vectors)))
                   for i in range(rows))


def broadcast_fma(rows, vectors, broadcast, indent="      "):
    """Row by row: av = broadcast(i), then acc{i}{v} = av·b{v} + acc{i}{v} for each vector v."""
    out = []
    for i in range(rows):
        out.append("%s%s = %s;\n" % (indent, "FloatVector av" if i == 0 else "av", broadcast(i)))
        out.extend("%sacc%d%d = av.fma(b%d, acc%d%d);\n" % (indent, i, v, v, i, v) for v in range(vectors))
    return "".join(out)


def broadcast_from(array):
    """broadcast_fma's A operand read from a float array at ai + i (the panel's MR floats of one l)."""
    return lambda i: "FloatVector.broadcast(sp, %s[%s])" % (array, "ai" if i == 0 else "ai + %d" % i)


def tile_pieces(rows, vectors, array):
    """$ACC_ZERO and $FMA for a template: the zeroed accumulators and the loop body after the B
    vectors b{v} are loaded, A broadcast from array."""
    return {"ACC_ZERO": acc_zero(rows, vectors).rstrip("\n"),
            "FMA": broadcast_fma(rows, vectors, broadcast_from(array)).rstrip("\n")}


def spill(rows, vectors, offset, scaled=lambda i: "", indent="    "):
    """acc{i}{v}[scaled(i)] stored to tile at offset(k), k = i·vectors + v the row-major vector index."""
    return "".join("%sacc%d%d%s.intoArray(tile, %s);\n" % (indent, i, v, scaled(i), offset(i * vectors + v))
                   for i in range(rows) for v in range(vectors))


FOR = re.compile(r"\$for W in ([0-9, ]+)\n")


def expand(template, **per_width):
    """The template with each $for W … $endfor block written once per width (see the module doc).
    Keyword arguments are further parameters of the blocks: NAME={512: text, 256: text, 128: text}
    stands for $NAME in the copy of each width, NAME=text in every copy."""
    out = []
    pos = 0
    for m in FOR.finditer(template):
        if m.start() != 0 and template[m.start() - 1] != "\n":
            raise ValueError("$for not at the start of a line: " + template[m.start():m.end()])
        end = template.index("$endfor\n", m.end())
        block = template[m.end():end]
        widths = [int(w) for w in m.group(1).split(",")]
        out.append(template[pos:m.start()])
        out.append("\n".join(substitute(block, w, per_width) for w in widths))
        pos = end + len("$endfor\n")
    out.append(template[pos:])
    text = "".join(out)
    for name in ["W", "endfor"] + list(per_width):
        if "$" + name in text:
            raise ValueError("$%s outside a $for block" % name)
    return text


def substitute(block, width, per_width):
    """The block for one width: $NAME replaced by per_width[NAME][width] (longer names first), $W by
    the width."""
    for name in sorted(per_width, key=len, reverse=True):
        value = per_width[name]
        block = block.replace("$" + name, value if isinstance(value, str) else value[width])
    return block.replace("$W", str(width))
