#!/usr/bin/env bash
# Data-parallel scaling over MPI on this machine: 1 vs 2 processes (one thread each), against
# one process with 2 threads (shared memory), for the time per full-batch gradient step and
# per epoch of synchronous mini-batch SGD, on dense and sparse data. Needs Open MPI (Debian:
# libopenmpi-dev openmpi-bin libclang-dev). Prints a Markdown table. Single runs: compare
# ratios. Usage: benches/mpi_scaling.sh [ROWS_DENSE] [ROWS_SPARSE]
set -euo pipefail
cd "$(dirname "$0")/.."
dense_rows=${1:-200000}
sparse_rows=${2:-300000}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
cargo build -q --release -p descent-cli --features mpi
descent=$PWD/target/release/descent
work=target/bench-mpi
mkdir -p "$work"
[ -d "$work/dense.descent" ] || $descent gen dense-classification --rows "$dense_rows" --features 256 \
  --seed 1 --out "$work/dense.descent" > /dev/null
[ -d "$work/sparse.descent" ] || $descent gen sparse --rows "$sparse_rows" --nnz 70 --seed 1 \
  --out "$work/sparse.descent" > /dev/null

# seconds per unit of work: train_seconds / units, from --json
per() { python3 -c "import json,sys; r=json.loads(sys.stdin.read().strip().splitlines()[-1]); print(r['train_seconds']/$1)"; }
run() { # np threads data method epochs
  local np=$1 threads=$2 data=$3 method=$4 epochs=$5
  if [ "$np" = local ]; then
    $descent train --data "$data" --model logistic --method "$method" --lr 0.1 --epochs "$epochs" \
      --threads "$threads" --json --quiet | per "$epochs"
  else
    mpirun --bind-to core -np "$np" $descent train --engine mpi --data "$data" --model logistic \
      --method "$method" --lr 0.1 --epochs "$epochs" --threads "$threads" --json --quiet | per "$epochs"
  fi
}

echo "| data | work | 1 process, 1 thread | 2 processes (MPI), 1 thread each | speed-up | 1 process, 2 threads | speed-up |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
for data in dense sparse; do
  path="$work/$data.descent"
  for work_spec in "batch 20 full-batch gradient step" "minibatch:256 2 epoch of minibatch:256"; do
    set -- $work_spec
    method=$1 epochs=$2; shift 2; label="$*"
    one=$(run 1 1 "$path" "$method" "$epochs")
    two=$(run 2 1 "$path" "$method" "$epochs")
    threads=$(run local 2 "$path" "$method" "$epochs")
    python3 - "$data" "$label" "$one" "$two" "$threads" <<'PY'
import sys
data, label, one, two, threads = sys.argv[1], sys.argv[2], *map(float, sys.argv[3:])
print(f"| {data} | {label} | {one*1e3:.1f} ms | {two*1e3:.1f} ms | {one/two:.2f}x | {threads*1e3:.1f} ms | {one/threads:.2f}x |")
PY
  done
done
