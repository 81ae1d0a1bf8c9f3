"""Times descent and its peers on the same data and writes BENCHMARKS.md.

Sparse: a generated RCV1-like set (descent gen sparse; 47,152 features, ~70 nonzeros per row).
Dense: descent gen dense-classification, 200,000 x 256. Every objective is computed here, the
same way for every tool: mean log loss + (lambda/2)||w||^2 (intercept not penalized).
"""
import json
import os
import platform
import subprocess
import sys
import time
import warnings

import numpy as np
import scipy.sparse as sp

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DESCENT = os.path.join(ROOT, "target", "release", "descent")
WORK = os.path.join(ROOT, "target", "bench-peers")
SPARSE_ROWS = int(os.environ.get("SPARSE_ROWS", "300000"))
DENSE_ROWS = int(os.environ.get("DENSE_ROWS", "200000"))
LAMBDA = 1e-6
# A stronger L2 (scikit-learn's default is 1e-4) at which averaged SGD is compared with LIBLINEAR too.
LAMBDA_STRONGER = 1e-5
REPEATS = 3
os.makedirs(WORK, exist_ok=True)


def descent(*args):
    out = subprocess.run([DESCENT, *args], check=True, capture_output=True, text=True)
    return json.loads(out.stdout) if "--json" in args else out.stdout


def objective(margins, y, w, lam=LAMBDA):
    s = np.where(y > 0, 1.0, -1.0)
    return float(np.mean(np.logaddexp(0.0, -s * margins)) + 0.5 * lam * np.dot(w, w))


def load_cache(path):
    meta = json.load(open(os.path.join(path, "descent-cache.json")))
    y = np.load(os.path.join(path, "labels.npy"))
    if meta["kind"] == "sparse":
        x = sp.csr_matrix(
            (np.load(os.path.join(path, "data.npy")), np.load(os.path.join(path, "indices.npy")), np.load(os.path.join(path, "indptr.npy"))),
            shape=(meta["rows"], meta["features"]),
        )
    else:
        x = np.load(os.path.join(path, "X.npy"))
    return x, y


def timed(f):
    t = time.perf_counter()
    r = f()
    return r, time.perf_counter() - t


def main():
    rows = []
    notes = []
    svm = os.path.join(WORK, f"sparse-{SPARSE_ROWS}.svm")
    cache = os.path.join(WORK, f"sparse-{SPARSE_ROWS}.descent")
    if not os.path.exists(svm):
        descent("gen", "sparse", "--rows", str(SPARSE_ROWS), "--nnz", "70", "--seed", "3", "--out", svm)
    if not os.path.exists(cache):
        descent("convert", svm, cache, "--features", "47152")
    mb = os.path.getsize(svm) / 1e6

    # Reading.
    from sklearn.datasets import load_svmlight_file

    (_, _), t_sk = timed(lambda: load_svmlight_file(svm, n_features=47152, dtype=np.float32))
    t_ds = min(descent("inspect", "--data", svm, "--features", "47152", "--json")["load_seconds"] for _ in range(3))
    rows.append(("read LibSVM", "scikit-learn load_svmlight_file", t_sk, "", f"{mb / t_sk:.0f} MB/s"))
    rows.append(("read LibSVM", "descent (parallel, mmap)", t_ds, f"{t_sk / t_ds:.1f}x", f"{mb / t_ds:.0f} MB/s"))

    x, y = load_cache(cache)
    x64 = x.astype(np.float64)
    m = x.shape[0]

    # SGD, one epoch and five, scikit-learn's 'optimal' schedule on both sides, in shuffled
    # order (both tools' default) and in file order. Best of 3 runs each, taking turns.
    from sklearn.linear_model import SGDClassifier

    warnings.simplefilter("ignore")

    def descent_train(*args, lam=LAMBDA, data=cache):
        """One descent SGD run (its model saved to sgd.json); its training seconds."""
        return descent("train", "--data", data, "--model", "logistic", "--method", "sgd", "--no-intercept", "--l2", str(lam),
                       "--json", "--force", "--save", os.path.join(WORK, "sgd.json"), *args)["train_seconds"]

    def descent_objective(lam=LAMBDA, on=None):
        """The objective of the model the last descent run saved, on `on` = (x, y) (the sparse set by default)."""
        xs, ys = on if on is not None else (x64, y)
        saved = json.load(open(os.path.join(WORK, "sgd.json")))
        w = np.array(saved["weights"])
        return objective(xs @ w + saved["intercept"], ys, w, lam)

    def descent_sgd(*args, lam=LAMBDA):
        """Best of REPEATS descent runs, and the objective reached."""
        t = min(descent_train(*args, lam=lam) for _ in range(REPEATS))
        return t, descent_objective(lam)

    for order, shuffle, sampling in (("shuffled", True, "shuffle"), ("file order", False, "cyclic")):
        for epochs in (1, 5):
            # No intercept on either side: scikit-learn damps intercept updates on sparse data
            # (intercept_decay 0.01), descent does not, so with intercepts the two would not be
            # running the same algorithm.
            task = f"SGD logistic, {epochs} epoch(s), {order}"
            clf = SGDClassifier(loss="log_loss", alpha=LAMBDA, max_iter=epochs, tol=None, shuffle=shuffle, random_state=0, fit_intercept=False)
            runs = [("descent sgd, O(nnz) (optimal rate)", ("--threads", "1"))]
            if shuffle and epochs == 5:
                runs.append(("descent Hogwild, 2 threads (not deterministic)", ("--threads", "2", "--hogwild")))
            # The tools' runs take turns (scikit-learn, then each descent run, REPEATS times), so
            # a machine that speeds up or slows down during the script moves both sides alike.
            # Each tool's objective is its last run's (serial SGD's is the same every run).
            t_sk, t_ds, f_ds = [], {tool: [] for tool, _ in runs}, {}
            for r in range(REPEATS):
                t_sk.append(timed(lambda: clf.fit(x64, y))[1])
                for tool, extra in runs:
                    t_ds[tool].append(descent_train("--schedule", "optimal", "--epochs", str(epochs), "--sampling", sampling, *extra))
                    if r == REPEATS - 1:
                        f_ds[tool] = descent_objective()
            t = min(t_sk)
            f_sk = objective(x64 @ clf.coef_[0] + clf.intercept_[0], y, clf.coef_[0])
            rows.append((task, "scikit-learn SGDClassifier (optimal rate)", t, "", f"objective {f_sk:.5f}"))
            for tool, _ in runs:
                t_best, f = min(t_ds[tool]), f_ds[tool]
                rows.append((task, tool, t_best, f"{t / t_best:.2f}x", f"objective {f:.5f} ({100 * (f / f_sk - 1):+.2f}%)"))

    # LIBLINEAR to its optimum, and averaged SGD against it, at two regularization strengths.
    from liblinear.liblinearutil import parameter, problem, train

    yl = np.where(y > 0, 1.0, -1.0)
    prob = problem(yl, x64)
    averaged = {
        LAMBDA: [("'optimal' rate, 1 epoch", ("--schedule", "optimal", "--average", "--epochs", "1")),
                 ("'optimal' rate, 3 epochs", ("--schedule", "optimal", "--average", "--epochs", "3")),
                 ("inverse-time:1e-6 --lr 3, averaging from epoch 2, 3 epochs",
                  ("--schedule", "inverse-time:1e-6", "--lr", "3", "--average", str(m), "--epochs", "3")),
                 # File order (the generator writes rows in random order) makes an epoch half as
                 # long, so there is time for a fourth, and only the last one is averaged.
                 ("inverse-time:1e-6 --lr 2.5, file order, averaging the last of 4 epochs",
                  ("--schedule", "inverse-time:1e-6", "--lr", "2.5", "--sampling", "cyclic", "--average", str(3 * m), "--epochs", "4"))],
        LAMBDA_STRONGER: [("'optimal' rate, 2 epochs", ("--schedule", "optimal", "--average", "--epochs", "2")),
                          ("constant --lr 0.5, averaging from epoch 2, 2 epochs",
                           ("--schedule", "constant", "--lr", "0.5", "--average", str(m), "--epochs", "2"))],
    }
    for lam, settings in averaged.items():
        task = f"L2 logistic to the optimum, lambda = {lam}"
        c = 1.0 / (lam * m)
        model, t_ll = timed(lambda: train(prob, parameter(f"-s 0 -c {c} -q")))
        coef, bias = model.get_decfun()
        coef = np.array(coef)
        f_ll = objective(x64 @ coef + bias, y, coef, lam)
        rows.append((task, "LIBLINEAR -s 0 (no bias)", t_ll, "", f"objective {f_ll:.5f}"))
        for label, args in settings:
            t_ds, f_ds = descent_sgd("--threads", "1", *args, lam=lam)
            rows.append((task, f"descent averaged SGD, {label}", t_ds, f"{t_ll / t_ds:.1f}x", f"objective {f_ds:.5f} ({100 * (f_ds / f_ll - 1):+.2f}% vs LIBLINEAR)"))

    # Vowpal Wabbit: one pass from its cache (logistic loss, its default adaptive updates).
    vw_file = os.path.join(WORK, f"sparse-{SPARSE_ROWS}.vw")
    if not os.path.exists(vw_file):
        with open(svm) as src, open(vw_file, "w") as dst:
            for line in src:
                label, _, feats = line.strip().partition(" ")
                dst.write(f"{'1' if float(label) > 0 else '-1'} | {feats}\n")
    try:
        from vowpalwabbit import Workspace

        cache_file = vw_file + ".cache"
        if os.path.exists(cache_file):
            os.remove(cache_file)
        Workspace(f"--loss_function logistic -d {vw_file} -c --passes 1 --quiet").finish()  # builds the cache
        model_file = os.path.join(WORK, "vw.model")
        _, t_vw = timed(lambda: Workspace(f"--loss_function logistic -d {vw_file} --cache_file {cache_file} --passes 1 --quiet -f {model_file}").finish())
        pred = os.path.join(WORK, "vw.pred")
        Workspace(f"-t -i {model_file} -d {vw_file} -p {pred} --quiet").finish()
        margins = np.loadtxt(pred)
        f_vw = objective(margins, y, np.zeros(1))
        rows.append(("SGD logistic, 1 pass", "Vowpal Wabbit (from cache, no L2)", t_vw, "", f"mean log loss {f_vw:.5f}"))
    except Exception as e:  # report, do not hide
        notes.append(f"Vowpal Wabbit not measured: {e}")

    # Full-batch gradient on the sparse data: SciPy (two passes over the CSR matrix) against
    # descent's full-batch training (one fused pass per update, plus the O(d) step), per update.
    w_s = np.full(x.shape[1], 0.01, dtype=np.float32)

    def scipy_gradient():
        mg = x @ w_s
        p = 1.0 / (1.0 + np.exp(-mg))
        return x.T @ (p - y).astype(np.float32) / len(y)

    scipy_gradient()
    t_sp = min(timed(scipy_gradient)[1] for _ in range(5))
    rows.append(("sparse full-batch gradient", "SciPy CSR (float32, two passes)", t_sp, "", f"{x.nnz / t_sp / 1e6:.0f} M nonzeros/s"))
    for threads in ("1", "2"):
        updates = 20
        t = min(descent("train", "--data", cache, "--model", "logistic", "--method", "batch", "--epochs", str(updates), "--lr", "0.1",
                        "--threads", threads, "--json")["train_seconds"] for _ in range(REPEATS)) / updates
        rows.append(("sparse full-batch gradient", f"descent, {threads} thread(s), per full-batch update", t, f"{t_sp / t:.2f}x",
                     f"{x.nnz / t / 1e6:.0f} M nonzeros/s"))

    # Full-batch gradient on dense data: NumPy (two passes) against descent (fused, threads).
    dense = os.path.join(WORK, f"dense-{DENSE_ROWS}.descent")
    if not os.path.exists(dense):
        descent("gen", "dense-classification", "--rows", str(DENSE_ROWS), "--features", "256", "--seed", "3", "--out", dense)
    xd, yd = load_cache(dense)

    # SGD on dense rows, O(d) per update on both sides: shuffled, a constant rate of 0.001 (the
    # 'optimal' rate, 1/(lambda (t0 + t)), is far too large for these 256 features at
    # lambda = 1e-6: both tools end near an objective of 22), no intercept, runs taking turns.
    xd64 = xd.astype(np.float64)
    task = f"SGD logistic, 5 epochs, shuffled, dense {DENSE_ROWS} x 256"
    clf = SGDClassifier(loss="log_loss", alpha=LAMBDA, max_iter=5, tol=None, shuffle=True, random_state=0, fit_intercept=False,
                        learning_rate="constant", eta0=0.001)
    t_sk, t_dd = [], []
    for _ in range(REPEATS):
        t_sk.append(timed(lambda: clf.fit(xd64, yd))[1])
        t_dd.append(descent_train("--schedule", "constant", "--lr", "0.001", "--epochs", "5", "--threads", "1", data=dense))
    f_sk = objective(xd64 @ clf.coef_[0], yd, clf.coef_[0])
    f_dd = descent_objective(on=(xd64, yd))
    rows.append((task, "scikit-learn SGDClassifier (constant rate, float64 rows)", min(t_sk), "", f"objective {f_sk:.5f}"))
    rows.append((task, "descent sgd (constant rate, float32 rows)", min(t_dd), f"{min(t_sk) / min(t_dd):.2f}x",
                 f"objective {f_dd:.5f} ({100 * (f_dd / f_sk - 1):+.2f}%)"))
    del xd64

    w = np.full(256, 0.01)

    def numpy_gradient():
        mg = xd @ w.astype(np.float32)
        p = 1.0 / (1.0 + np.exp(-mg))
        return xd.T @ (p - yd).astype(np.float32) / len(yd)

    numpy_gradient()
    t_np = min(timed(numpy_gradient)[1] for _ in range(5))
    bench = descent("bench", "--dense-rows", str(DENSE_ROWS), "--dense-features", "256", "--sparse-rows", "0", "--budget", "1", "--json")
    full = [b for b in bench["measurements"] if b["batch"] == DENSE_ROWS]
    gb = DENSE_ROWS * 256 * 4 / 1e9
    rows.append(("dense full-batch gradient", "NumPy/OpenBLAS (float32, two passes)", t_np, "", f"{gb / t_np:.1f} GB/s"))
    bw = bench["read_bandwidth_gb_per_second"]
    for b in full:
        t = DENSE_ROWS / b["samples_per_second"]
        bwt = bw["one_thread"] if b["threads"] == 1 else bw["all_threads"]
        rows.append(("dense full-batch gradient", f"descent, {b['threads']} thread(s)", t, f"{t_np / t:.2f}x", f"{b['gb_per_second']:.1f} GB/s = {100 * b['gb_per_second'] / bwt:.0f}% of bandwidth"))

    table = []
    table.append(f"Measured by `benches/peers/run.sh` on {bench.get('processor', platform.machine())} ({platform.machine()}, {os.cpu_count()} cores) "
                 f"(read bandwidth {bw['one_thread']:.1f} GB/s on 1 thread, {bw['all_threads']:.1f} GB/s on all). "
                 f"Sparse: `descent gen sparse --rows {SPARSE_ROWS} --nnz 70` (47,152 features, {x.nnz / m:.1f} nonzeros/row, {mb:.0f} MB of text); "
                 f"dense: {DENSE_ROWS} x 256 float32. Objectives are computed by the script the same way for every tool: mean log loss + "
                 f"(lambda/2)||w||^2 with lambda = {LAMBDA} unless the task says otherwise. SGD and averaged SGD times are the best of {REPEATS} runs, "
                 f"LIBLINEAR, Vowpal Wabbit and reading single runs; compare ratios.\n")
    table.append("Ratio: the first row of the task's time over this row's (above 1: descent faster).\n")
    table.append("| task | tool | seconds | ratio | result |\n| --- | --- | --- | --- | --- |")
    for task, tool, t, ratio, result in rows:
        table.append(f"| {task} | {tool} | {t:.3f} | {ratio} | {result} |")
    table.extend(f"\n{n}" for n in notes)
    generated = "<!-- table: written by benches/peers/run.py -->\n" + "\n".join(table) + "\n<!-- /table -->"
    path = os.path.join(ROOT, "BENCHMARKS.md")
    text = open(path).read() if os.path.exists(path) else "# Benchmarks: descent beside its peers\n\n<!-- table -->\n"
    start = text.find("<!-- table")
    end = text.find("<!-- /table -->")
    if start < 0:
        text = text + "\n" + generated + "\n"
    elif end < 0:
        text = text[:start] + generated + text[start:].split("\n", 1)[1]
    else:
        text = text[:start] + generated + text[end + len("<!-- /table -->"):]
    with open(path, "w") as out:
        out.write(text)
    print(open(os.path.join(ROOT, "BENCHMARKS.md")).read())


if __name__ == "__main__":
    main()
