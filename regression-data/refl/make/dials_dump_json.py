"""Load a .refl with DIALS (as a black box) and print its contents as JSON on stdout.

Used by test/core/io/refl_dials.test.ts to check that DIALS reads the files xtalflow writes.
Usage: python3 dials_dump_json.py FILE.refl
"""
import json
import math
import sys

from dials.array_family import flex

t = flex.reflection_table.from_file(sys.argv[1])


def plain(v):
    if isinstance(v, float):
        return v if math.isfinite(v) else repr(v)
    if isinstance(v, (tuple, list)):
        return [plain(x) for x in v]
    return v


out = {"nrows": len(t), "identifiers": {str(k): v for k, v in dict(t.experiment_identifiers()).items()}, "columns": {}}
for k in t.keys():
    col = t[k]
    if k == "shoebox" or type(col).__name__ == "shoebox":
        rows = []
        for s in col:
            a = s.is_allocated()
            rows.append({"panel": s.panel, "bbox": list(s.bbox), "allocated": a,
                         "data": list(s.data) if a else None, "mask": list(s.mask) if a else None,
                         "background": list(s.background) if a else None})
        out["columns"][k] = {"type": "shoebox", "values": rows}
    else:
        out["columns"][k] = {"type": type(col).__name__, "values": [plain(v) for v in col]}
json.dump(out, sys.stdout)
