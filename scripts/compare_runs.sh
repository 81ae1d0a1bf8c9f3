#!/usr/bin/env bash
# Usage: scripts/compare_runs.sh BINARY OUTDIR: a fixed matrix of training runs (models,
# regimes, sampling, momentum, averaging, dense/sparse, 1/2 threads, schedules, streams,
# resumes, MPI when the binary has it). Every model, trace and --json output lands in OUTDIR, the JSON without timings
# and the update-rule fields, so that two binaries can be compared with `diff -r`.
set -u
B=$1; O=$2; mkdir -p $O/data
D=$(cd "$(dirname "$0")/.." && pwd)/data
$B gen sparse --rows 3000 --features 2000 --nnz 20 --seed 3 --out $O/data/sp.svm --force >/dev/null
$B gen dense-classification --rows 1500 --features 12 --seed 4 --out $O/data/dc.csv --force >/dev/null
$B gen dense-regression --rows 1500 --features 12 --seed 5 --out $O/data/dr.csv --force >/dev/null
n=0
run() { # name, args...
  local name=$1; shift
  $B train "$@" --epochs ${EP:-3} --seed 7 --trace $O/$name.trace.csv --no-trace-time --save $O/$name.model.json --json --quiet --force > $O/$name.out.json 2> $O/$name.err
  echo "rc=$?" >> $O/$name.err
  n=$((n+1))
}
for model in logistic hinge least-squares; do
 for method in sgd minibatch:8 minibatch:100 batch; do
  for opt in "" "--momentum 0.9" "--momentum 0.9 --nesterov" "--average" "--average 50"; do
   for threads in 1 2; do
    tag=$(echo "$model.$method.$opt.t$threads" | tr ' :' '__')
    if [ $model = least-squares ]; then
      run sp.$tag --data $O/data/sp.svm --model $model --method $method $opt --threads $threads --lr 0.01 --l2 0.001
      run dr.$tag --data $O/data/dr.csv --model $model --method $method $opt --threads $threads --lr 0.01 --standardize
    else
      run sp.$tag --data $O/data/sp.svm --model $model --method $method $opt --threads $threads --lr 0.1 --l2 0.0001
      run dc.$tag --data $O/data/dc.csv --model $model --method $method $opt --threads $threads --lr 0.1 --l2 0.001
    fi
   done
  done
 done
done
for samp in cyclic replacement; do
  for method in sgd minibatch:8; do
    run sp.samp.$samp.$method --data $O/data/sp.svm --model logistic --method $method --sampling $samp --lr 0.1 --l2 0.0001
    run dc.samp.$samp.$method --data $O/data/dc.csv --model logistic --method $method --sampling $samp --momentum 0.5 --lr 0.1
  done
done
for model in softmax mlp:8; do
  for method in sgd minibatch:16 batch; do
    run digits.$model.$method --data $D/digits.csv --model $model --method $method --lr 0.05 --standardize
  done
done
for sched in inverse-time invscaling optimal step:1; do
  run sp.sched.$sched --data $O/data/sp.svm --model logistic --schedule $sched --lr 0.1 --l2 0.0001
done
run sp.stream --data $O/data/sp.svm --model logistic --stream --method minibatch:4 --lr 0.1
run sp.stream.sgd --data $O/data/sp.svm --model hinge --stream --lr 0.1 --l2 0.001 --average
# Resume: checkpoint every 500 updates, kill after 2 epochs (epochs 2), then resume to 4.
for opt in "" "--momentum 0.9" "--average"; do
  tag=$(echo "resume.$opt" | tr ' :' '__')
  for m in sgd minibatch:8; do
  $B train --data $O/data/sp.svm --model logistic --method $m --lr 0.1 --l2 0.0001 $opt --epochs 2 --seed 7 --checkpoint $O/$tag.$m.ck --checkpoint-every 500 --save $O/$tag.$m.model.json --quiet --force > /dev/null 2>&1
  $B train --resume $O/$tag.$m.ck --epochs 4 --json --quiet --force > $O/$tag.$m.out.json 2> $O/$tag.$m.err
  echo "rc=$?" >> $O/$tag.$m.err
  done
  n=$((n+1))
done
# MPI (a binary built with --features mpi): synchronous data-parallel and local SGD, 2 ranks.
if command -v mpirun >/dev/null && $B train --help | grep -q average-every; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  for spec in "sgd" "minibatch:8" "batch" "sgd --average-every 10" "minibatch:8 --momentum 0.9"; do
    tag=$(echo "mpi.$spec" | tr ' :' '__')
    mpirun --oversubscribe -np 2 $B train --engine mpi --data $O/data/sp.svm --model logistic --lr 0.1 --l2 0.0001 --method $spec --epochs 2 --seed 7 --trace $O/$tag.trace.csv --no-trace-time --save $O/$tag.model.json --json --quiet --force > $O/$tag.out.json 2> $O/$tag.err
    echo "rc=$?" >> $O/$tag.err
    n=$((n+1))
  done
fi
# Traces end with the update rule's column in newer binaries: compare without it.
for f in $O/*.trace.csv; do
  if head -1 "$f" | grep -q ',update_rule$'; then sed -i 's/,[a-z_-]*$//' "$f"; fi
done
for f in $O/*.out.json; do python3 - "$f" <<'PY'
import json,sys
p=sys.argv[1]
try: d=json.load(open(p))
except Exception: sys.exit(0)
def strip(x):
    if isinstance(x,dict): return {k:strip(v) for k,v in x.items() if k not in ("seconds","update_rule","rule_fallback","samples_per_second","load_seconds","train_seconds","elapsed","peak_memory_bytes")}
    if isinstance(x,list): return [strip(v) for v in x]
    return x
json.dump(strip(d),open(p,'w'),sort_keys=True,indent=0)
PY
done
echo "$n runs"
