"""Shared by the scripts/gen_*.py source generators: writes their outputs, or with --check
compares them.

    python3 scripts/gen_X.py           writes the file(s)
    python3 scripts/gen_X.py --check   writes nothing; prints a unified diff and exits 1 when a
                                       committed file differs from what the script would write

Not a generator itself (its name does not match gen_*.py, which GeneratedSourcesTest runs).
"""
import difflib
import pathlib
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
