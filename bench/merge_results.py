"""Folds the per-compiler benchmark results into build/bench/results.json.

The first file's machine, compiler and rows become the top-level fields of
results.json; every file (the first included) is also kept under "builds",
so gcc and clang figures sit side by side.

    merge_results.py -o OUT results-gcc.json results-clang.json
"""
import argparse
import json
import os
import sys


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", required=True)
    parser.add_argument("inputs", nargs="+")
    args = parser.parse_args(argv)
    builds = []
    for path in args.inputs:
        with open(path, encoding="utf-8") as stream:
            builds.append(json.load(stream))
    merged = {
        "machine": builds[0]["machine"],
        "compiler": builds[0]["compiler"],
        "rows": builds[0]["rows"],
        "builds": builds,
    }
    temp = args.output + ".tmp"
    with open(temp, "w", encoding="utf-8") as stream:
        json.dump(merged, stream, indent=1)
        stream.write("\n")
    os.replace(temp, args.output)
    print(f"bench: wrote {args.output} ({len(builds)} builds)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
