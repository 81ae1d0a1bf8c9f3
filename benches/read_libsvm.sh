#!/usr/bin/env bash
# Reading speed, side by side in one run: descent's memory-mapped parallel LibSVM reader and
# its binary cache against scikit-learn's load_svmlight_file, on one generated RCV1-sized file
# (781,265 rows x 47,152 features, ~76 nonzeros per row, as RCV1).
#
#   benches/read_libsvm.sh            # ROWS=... to change the size, RUNS=... repetitions
#
# Needs python3 with venv; creates .venv-bench with scikit-learn on first use.
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${ROWS:-781265}
runs=${RUNS:-3}
work=target/bench-read
file=$work/rcv1-like-$rows.svm
cache=$work/rcv1-like-$rows.descent
mkdir -p "$work"

cargo build --release --quiet
descent=target/release/descent
[ -f "$file" ] || $descent gen sparse --rows "$rows" --features 47152 --seed 1 --out "$file"
[ -d "$cache" ] || $descent convert "$file" "$cache" --features 47152
if [ ! -x .venv-bench/bin/python ]; then
  python3 -m venv .venv-bench
  .venv-bench/bin/pip install --quiet scikit-learn numpy scipy
fi
mb=$(python3 -c "import os;print(os.path.getsize('$file')/1e6)")

best() { sort -g | head -1; }
ours=$(for _ in $(seq "$runs"); do
  $descent inspect --data "$file" --features 47152 --json | python3 -c "import json,sys;print(json.load(sys.stdin)['load_seconds'])"
done | best)
cached=$(for _ in $(seq "$runs"); do
  $descent inspect --data "$cache" --json | python3 -c "import json,sys;print(json.load(sys.stdin)['load_seconds'])"
done | best)
theirs=$(.venv-bench/bin/python - "$file" "$runs" <<'PY'
import sys, time
from sklearn.datasets import load_svmlight_file
path, runs = sys.argv[1], int(sys.argv[2])
times = []
for _ in range(min(runs, 2)):
    t = time.perf_counter()
    load_svmlight_file(path, n_features=47152, dtype="float32")
    times.append(time.perf_counter() - t)
print(min(times))
PY
)
python3 - "$mb" "$ours" "$cached" "$theirs" "$(nproc)" <<'PY'
import sys
mb, ours, cached, theirs, cores = map(float, sys.argv[1:])
print(f"file: {mb:.0f} MB, {int(cores)} cores, best of runs (page cache warm)")
print(f"| reader | seconds | MB/s | vs scikit-learn |")
print(f"| --- | --- | --- | --- |")
print(f"| scikit-learn load_svmlight_file | {theirs:.2f} | {mb/theirs:.0f} | 1.0x |")
print(f"| descent (LibSVM text) | {ours:.2f} | {mb/ours:.0f} | {theirs/ours:.1f}x |")
print(f"| descent (binary cache) | {cached:.2f} | {mb/cached:.0f} (of text) | {theirs/cached:.1f}x |")
PY
