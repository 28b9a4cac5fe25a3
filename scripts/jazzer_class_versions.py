#!/usr/bin/env python3
"""Relabels Java 25 class files (major version 69) as Java 23 (67) so that Jazzer 0.24.0, whose
ASM and JaCoCo stop at 67, can instrument them for coverage-guided fuzzing (the -Pfuzz profile
runs this after compiling each module; see docs/FUZZING.md).

Only the version field changes: javac 25 emits no bytecode construct that Java 23 lacks for this
code base, the JDK 25 runtime accepts older versions, and the Vector API calls resolve as before.
A normal build recompiles nothing (sources are unchanged), and runs the relabelled classes as is.
"""
import pathlib
import sys

JAVA_25, JAVA_23 = 69, 67


def relabel(directory: pathlib.Path) -> int:
    count = 0
    for path in directory.rglob("*.class"):
        data = bytearray(path.read_bytes())
        if data[:4] == b"\xca\xfe\xba\xbe" and int.from_bytes(data[6:8], "big") == JAVA_25:
            data[6:8] = JAVA_23.to_bytes(2, "big")
            path.write_bytes(bytes(data))
            count += 1
    return count


if __name__ == "__main__":
    total = sum(relabel(pathlib.Path(d)) for d in sys.argv[1:] if pathlib.Path(d).is_dir())
    print(f"jazzer_class_versions: relabelled {total} class files 69 -> 67 in {' '.join(sys.argv[1:])}")
