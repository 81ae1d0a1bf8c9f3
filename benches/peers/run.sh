#!/usr/bin/env bash
# descent beside the tools users would pick instead, on the same generated data, in one run:
# scikit-learn (SGDClassifier, load_svmlight_file), Vowpal Wabbit, LIBLINEAR and NumPy/SciPy.
# Writes BENCHMARKS.md at the repository root.
#
#   benches/peers/run.sh              # SPARSE_ROWS=300000 DENSE_ROWS=200000 by default
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release --quiet
if [ ! -x .venv-bench/bin/python ]; then
  python3 -m venv .venv-bench
fi
.venv-bench/bin/pip install --quiet scikit-learn numpy scipy vowpalwabbit liblinear-official
exec .venv-bench/bin/python benches/peers/run.py "$@"
