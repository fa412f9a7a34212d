#!/usr/bin/env python3
"""scikit-learn's outputs for the data preprocess_sklearn_test.cpp writes.

Usage: sklearn_reference.py DIR

Reads from DIR (written by the test):
  meta.txt        "rows cols" of the numeric matrices
  x_nan.bin       f64 [rows, cols] row-major, with NaN for missing values
  x_full.bin      f64 [rows, cols] row-major, complete
  y.bin           f64 [rows], class labels
  cat.txt         one line per row: the categorical columns, tab-separated ("" = missing)
Writes to DIR, for each result NAME: NAME.bin (f64 row-major) and a line
"NAME rows cols" in manifest.txt; string lists go to NAME.txt, one per line.
"""
import os
import sys
import warnings

import numpy as np
from sklearn.decomposition import PCA
from sklearn.feature_selection import SelectKBest, f_classif
from sklearn.impute import SimpleImputer
from sklearn.preprocessing import (KBinsDiscretizer, MinMaxScaler, OneHotEncoder, PolynomialFeatures,
                                   PowerTransformer, RobustScaler, StandardScaler)


def main():
    d = sys.argv[1]
    rows, cols = (int(v) for v in open(os.path.join(d, "meta.txt")).read().split())
    x_nan = np.fromfile(os.path.join(d, "x_nan.bin"), dtype="<f8").reshape(rows, cols)
    x_full = np.fromfile(os.path.join(d, "x_full.bin"), dtype="<f8").reshape(rows, cols)
    y = np.fromfile(os.path.join(d, "y.bin"), dtype="<f8")
    cats = []
    with open(os.path.join(d, "cat.txt"), encoding="utf-8") as f:
        for line in f:
            cats.append([v if v != "" else np.nan for v in line.rstrip("\n").split("\t")])
    cat = np.array(cats, dtype=object)

    manifest = []

    def put(name, a):
        a = np.ascontiguousarray(np.asarray(a, dtype="<f8"))
        if a.ndim == 1:
            a = a.reshape(-1, 1)
        a.tofile(os.path.join(d, name + ".bin"))
        manifest.append(f"{name} {a.shape[0]} {a.shape[1]}")

    def put_names(name, names):
        with open(os.path.join(d, name + ".txt"), "w", encoding="utf-8") as f:
            for n in names:
                f.write(str(n) + "\n")

    warnings.simplefilter("ignore")
    put("standard", StandardScaler().fit_transform(x_nan))
    put("minmax", MinMaxScaler().fit_transform(x_nan))
    put("minmax_range", MinMaxScaler(feature_range=(-2, 3)).fit_transform(x_nan))
    put("robust", RobustScaler().fit_transform(x_nan))
    for strategy in ("mean", "median", "most_frequent"):
        put("impute_" + strategy, SimpleImputer(strategy=strategy).fit_transform(x_nan))

    pca = PCA(n_components=4, svd_solver="full").fit(x_full)
    put("pca_transform", pca.transform(x_full))
    put("pca_components", pca.components_)
    put("pca_ratio", pca.explained_variance_ratio_)
    put("pca_variance", pca.explained_variance_)

    kbest = SelectKBest(f_classif, k=3).fit(x_full, y)
    put("kbest_scores", kbest.scores_)
    put("kbest_support", kbest.get_support().astype(float))

    for strategy in ("uniform", "quantile"):
        kb = KBinsDiscretizer(n_bins=5, encode="ordinal", strategy=strategy, subsample=None)
        put("kbins_" + strategy, kb.fit_transform(x_full))

    enc = OneHotEncoder(sparse_output=False).fit(cat)
    put("onehot", enc.transform(cat))
    put_names("onehot_names", enc.get_feature_names_out([f"c{i}" for i in range(cat.shape[1])]))

    poly = PolynomialFeatures(degree=2, include_bias=False).fit(x_full[:, :4])
    put("poly", poly.transform(x_full[:, :4]))
    put_names("poly_names", poly.get_feature_names_out([f"x{i}" for i in range(4)]))

    power = PowerTransformer(method="yeo-johnson").fit(x_nan)
    put("power", power.transform(x_nan))
    put("power_lambdas", power.lambdas_)
    boxcox = PowerTransformer(method="box-cox").fit(x_nan[:, 1:2])  # the positive column
    put("boxcox", boxcox.transform(x_nan[:, 1:2]))
    put("boxcox_lambdas", boxcox.lambdas_)

    with open(os.path.join(d, "manifest.txt"), "w") as f:
        f.write("\n".join(manifest) + "\n")


if __name__ == "__main__":
    main()
