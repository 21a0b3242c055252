#!/usr/bin/env python3
"""Writes the product's own copy of the 2025 reform's reference data into data/ from ../shared/data.

Run once when the reference data changes (python3 scripts/reform-data.py [SHARED_DATA_DIR]); the output is
committed, so neither a build nor a user's clone needs ../shared. What it writes:

  data/units/vietnam_2025-01-04.csv  the whole country before the reform, in the project's unit-list format, in
                                     force until 2025-06-30. Codes that a 2020 list in data/units/ already names
                                     are left out: the demo's calibrated history keeps its 2020 hierarchy.
  data/units/vietnam_2025-07-01.csv  the 34 provinces and 3,321 communes, in force from 2025-07-01.
  data/conversion/2025-07-01.csv     the government's old -> new conversion table, as published.
  data/boundaries/*_2025.topojson    the boundaries of the 34 provinces and 3,321 communes (MIT; see its README).
"""
import csv
import pathlib
import shutil
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
SHARED = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "data"
DATA = ROOT / "data"
FIELDS = ["code", "parent_code", "level", "unit_type", "name", "name_with_type", "valid_from", "valid_to"]
REFORM_EVE = "2025-06-30"
REFORM = "2025-07-01"
# The 2020 lists (and so the era before the reform) start here; see data/README.md.
FIRST_DAY = "2020-01-01"


def authored_2020_codes():
    codes = set()
    for f in sorted((DATA / "units").glob("*.csv")):
        if f.name.startswith("vietnam_"):
            continue
        with f.open(encoding="utf-8") as fh:
            codes.update(row["code"] for row in csv.DictReader(fh))
    return codes


def write_units(source, target, valid_from, valid_to, skip):
    with (SHARED / "units" / source).open(encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["code"] not in skip]
    order = {"province": 0, "district": 1, "commune": 2}
    rows.sort(key=lambda r: (order[r["level"]], r["code"]))
    with (DATA / "units" / target).open("w", encoding="utf-8", newline="") as out:
        w = csv.DictWriter(out, FIELDS, lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({
                "code": r["code"], "parent_code": r["parent_code"], "level": r["level"], "unit_type": r["type"],
                "name": r["name"], "name_with_type": r["name_with_type"],
                "valid_from": valid_from, "valid_to": valid_to,
            })
    return len(rows)


def main():
    skip = authored_2020_codes()
    n0 = write_units("vietnam_units_2025-01-04.csv", "vietnam_2025-01-04.csv", FIRST_DAY, REFORM_EVE, skip)
    n1 = write_units("vietnam_units_2025-07-01.csv", "vietnam_2025-07-01.csv", REFORM, "", set())
    (DATA / "conversion").mkdir(exist_ok=True)
    shutil.copyfile(SHARED / "units" / "conversion_2025-07-01.csv", DATA / "conversion" / "2025-07-01.csv")
    (DATA / "boundaries").mkdir(exist_ok=True)
    for name in ["vietnam_provinces_2025.topojson", "vietnam_communes_2025.topojson"]:
        shutil.copyfile(SHARED / "boundaries" / name, DATA / "boundaries" / name.removeprefix("vietnam_"))
    print(f"before the reform: {n0} units (besides the 2020 lists); after: {n1}")


if __name__ == "__main__":
    main()
