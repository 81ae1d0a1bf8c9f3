#!/usr/bin/env bash
# Builds the seed corpora of the fuzz targets from the repository's own files: the built-in
# data sets, generated LibSVM, the NumPy fixtures, cache folders, saved models and
# checkpoints written by descent itself. Multi-file inputs (a NumPy pair, a cache folder)
# are joined with descent::fuzz::SEPARATOR. Usage: fuzz/seed.sh [OUT] (default fuzz/seeds).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-fuzz/seeds}
rm -rf "$out" && mkdir -p "$out"/{libsvm,csv,npy,cache,model_json,checkpoint}
cargo build -q --release -p descent-cli
descent=target/release/descent
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sep=$'\n==descent-fuzz==\n'

for f in data/*.csv; do head -n 12 "$f" > "$out/csv/$(basename "$f")"; done
printf 'label,a,"b c"\n1,2,"3"\n0,"4",5\n' > "$out/csv/quoted.csv"

$descent gen sparse --rows 12 --features 40 --nnz 4 --seed 1 --out "$out/libsvm/gen.svm"
$descent gen dense-classification --rows 8 --features 3 --seed 2 --out "$work/d.svm"
cp "$work/d.svm" "$out/libsvm/dense.svm"
printf '# comment\n+1 qid:3 1:0.5 7:-2e-3 # tail\n-1 2:1\n\n0 10:1e30\n' > "$out/libsvm/features.svm"

fx=crates/descent/tests/fixtures/npy
for x in "$fx"/x_*.npy; do
  for y in "$fx"/y_*.npy; do
    { cat "$x"; printf '%s' "$sep"; cat "$y"; } > "$out/npy/$(basename "$x" .npy)-$(basename "$y" .npy)"
  done
done

join_cache() { # folder name
  local d=$1 files=(labels.npy)
  if [ -f "$d/X.npy" ]; then files+=(X.npy); else files+=(indptr.npy indices.npy data.npy); fi
  { cat "$d/descent-cache.json"; for a in "${files[@]}"; do printf '%s' "$sep"; cat "$d/$a"; done; } > "$out/cache/$2"
}
$descent convert data/iris.csv "$work/iris.descent" 2>/dev/null
join_cache "$work/iris.descent" dense
$descent convert "$out/libsvm/gen.svm" "$work/gen.descent" 2>/dev/null
join_cache "$work/gen.descent" sparse

for spec in "iris.csv softmax" "iris.csv mlp:3" "breast_cancer.csv logistic" "diabetes.csv least-squares" "breast_cancer.csv hinge"; do
  set -- $spec
  name=${2//:/}
  $descent train --data "data/$1" --model "$2" --standardize --epochs 1 --quiet --save "$out/model_json/$name.json" > /dev/null
done

for spec in "sgd" "minibatch:8 --momentum 0.9" "batch --average"; do
  name=${spec%% *}; name=${name//:/}
  DESCENT_FAILPOINT_ABORT_AT_UPDATE=40 $descent train --data data/breast_cancer.csv --model logistic \
    --standardize --method $spec --epochs 80 --quiet --checkpoint "$out/checkpoint/$name.ckpt" \
    --checkpoint-every 20 > /dev/null 2>&1 || true
done
ls "$out"/* | head -100 > /dev/null
for t in "$out"/*; do echo "$(basename "$t"): $(ls "$t" | wc -l) seeds"; done
