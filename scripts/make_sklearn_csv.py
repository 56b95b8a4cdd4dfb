#!/usr/bin/env python3
"""scikit-learn's bundled iris and diabetes data sets as CSV files (crates/cli/tests/data/).

Run from the repository root with a Python that has scikit-learn (a venv outside the repo,
e.g. `python3 -m venv /work/venv-sk && /work/venv-sk/bin/pip install scikit-learn`):

    /work/venv-sk/bin/python scripts/make_sklearn_csv.py

It writes (committed; the Rust tests need no Python):
  iris.csv      150 rows: sepal_length, sepal_width, petal_length, petal_width, species
                (the species as names: setosa, versicolor, virginica); Fisher, 1936.
  diabetes.csv  442 rows: age, sex, bmi, bp, s1 ... s6 (scikit-learn's scaled features) and
                target (disease progression one year after baseline); Efron et al., 2004.
Both ship inside scikit-learn (BSD licence), so no download is involved.
"""
import csv
import os

from sklearn.datasets import load_diabetes, load_iris

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "crates", "cli", "tests", "data")


def write(name, header, rows):
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, name), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


iris = load_iris()
names = [n.replace(" (cm)", "").replace(" ", "_") for n in iris.feature_names]
write(
    "iris.csv",
    names + ["species"],
    [[repr(float(v)) for v in x] + [iris.target_names[t]] for x, t in zip(iris.data, iris.target)],
)

diabetes = load_diabetes()
write(
    "diabetes.csv",
    list(diabetes.feature_names) + ["target"],
    [["%.6g" % v for v in x] + ["%g" % t] for x, t in zip(diabetes.data, diabetes.target)],
)
