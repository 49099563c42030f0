"""Linear regression trained where the data is (a kelp C2D algorithm).

Reads every CSV dataset under /data/inputs (a file dataset is /data/inputs/<id>/0, a folder
dataset holds *.csv files), takes the column named by the `target` parameter (default: the
last column) as y and the other numeric columns as features, fits y = X w + b, and writes:
  /data/outputs/model.json    {"features": [...], "weights": [...], "bias": b, "target": name}
  /data/outputs/metrics.json  {"rows": n, "mse": ..., "r2": ..., "method": ...}
Only these aggregates leave the sandbox, never the rows.

Parameters (algoCustomData.json): target (str), method ("lstsq" with numpy, or "gd"),
epochs (int, for gd), lr (float, for gd).
"""
import csv
import json
import os

try:
    import numpy as np
except ImportError:  # the sandbox may have only the standard library
    np = None


def input_files():
    root = "/data/inputs"
    for name in sorted(os.listdir(root)):
        path = os.path.join(root, name)
        if not os.path.isdir(path):
            continue
        for dirpath, _, files in os.walk(path):
            for f in sorted(files):
                if f == "0" or f.endswith(".csv"):
                    yield os.path.join(dirpath, f)


def load(target):
    header, rows = None, []
    for path in input_files():
        with open(path, newline="") as fh:
            reader = csv.reader(fh)
            head = next(reader)
            if header is None:
                header = head
            elif head != header:
                raise SystemExit(f"{path}: columns {head} differ from {header}")
            for r in reader:
                if r:
                    rows.append([float(v) for v in r])
    if not rows:
        raise SystemExit("no rows found under /data/inputs")
    t = header.index(target) if target else len(header) - 1
    feats = [h for i, h in enumerate(header) if i != t]
    X = [[v for i, v in enumerate(r) if i != t] for r in rows]
    y = [r[t] for r in rows]
    return feats, header[t], X, y


def fit_gd(X, y, epochs, lr):
    n, k = len(X), len(X[0])
    w, b = [0.0] * k, 0.0
    for epoch in range(epochs):
        gw, gb = [0.0] * k, 0.0
        for xi, yi in zip(X, y):
            err = sum(a * c for a, c in zip(w, xi)) + b - yi
            for j in range(k):
                gw[j] += err * xi[j]
            gb += err
        w = [wj - lr * 2 * g / n for wj, g in zip(w, gw)]
        b -= lr * 2 * gb / n
        if epoch % max(1, epochs // 5) == 0:
            print(f"epoch {epoch}: bias {b:.4f}", flush=True)
    return w, b


def fit_lstsq(X, y):
    A = np.hstack([np.asarray(X), np.ones((len(X), 1))])
    coef, *_ = np.linalg.lstsq(A, np.asarray(y), rcond=None)
    return [float(c) for c in coef[:-1]], float(coef[-1])


def main():
    params = json.load(open("/data/inputs/algoCustomData.json"))
    feats, target, X, y = load(params.get("target"))
    method = params.get("method", "lstsq" if np is not None else "gd")
    if method == "lstsq" and np is not None:
        w, b = fit_lstsq(X, y)
    else:
        method = "gd"
        w, b = fit_gd(X, y, int(params.get("epochs", 300)), float(params.get("lr", 0.05)))
    pred = [sum(a * c for a, c in zip(w, xi)) + b for xi in X]
    n = len(y)
    mse = sum((p - t) ** 2 for p, t in zip(pred, y)) / n
    mean = sum(y) / n
    var = sum((t - mean) ** 2 for t in y) / n
    r2 = 1 - mse / var if var > 0 else 0.0
    os.makedirs("/data/outputs", exist_ok=True)
    with open("/data/outputs/model.json", "w") as fh:
        json.dump({"features": feats, "weights": w, "bias": b, "target": target}, fh, indent=2)
    with open("/data/outputs/metrics.json", "w") as fh:
        json.dump({"rows": n, "mse": mse, "r2": r2, "method": method}, fh, indent=2)
    print(f"trained on {n} rows with {method}: r2={r2:.4f} mse={mse:.6f}")


if __name__ == "__main__":
    main()
