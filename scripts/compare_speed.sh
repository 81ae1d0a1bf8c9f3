#!/usr/bin/env bash
# Usage: scripts/compare_speed.sh OLD_BINARY NEW_BINARY [WORKDIR] [REPEATS]: the descent rows of
# BENCHMARKS.md's peers table (benches/peers/run.py, same data and flags), each run by the two
# binaries in alternation, REPEATS times; prints the best training seconds of each and the
# ratio new/old (below 1: the new binary is faster). The peers' own times do not change with
# descent, so a ratio here is the change of that row's ratio in the table.
set -eu
OLD=$1; NEW=$2; W=${3:-/tmp/descent-speed}; R=${4:-5}
mkdir -p "$W"
svm=$W/sparse.svm; cache=$W/sparse.descent; dense=$W/dense.descent
[ -e "$cache" ] || { "$NEW" gen sparse --rows 300000 --nnz 70 --seed 3 --out "$svm" --force >/dev/null
                     "$NEW" convert "$svm" "$cache" --features 47152 >/dev/null; }
[ -e "$dense" ] || "$NEW" gen dense-classification --rows 200000 --features 256 --seed 3 --out "$dense" >/dev/null
m=300000
sgd="--model logistic --method sgd --no-intercept --threads 1"
rows=(
  "sgd optimal, 1 epoch, shuffled|--data $cache $sgd --l2 1e-06 --schedule optimal --epochs 1"
  "sgd optimal, 5 epochs, shuffled|--data $cache $sgd --l2 1e-06 --schedule optimal --epochs 5"
  "sgd optimal, 5 epochs, file order|--data $cache $sgd --l2 1e-06 --schedule optimal --epochs 5 --sampling cyclic"
  "Hogwild 2 threads, 5 epochs|--data $cache --model logistic --method sgd --no-intercept --l2 1e-06 --schedule optimal --epochs 5 --threads 2 --hogwild"
  "averaged sgd optimal, 3 epochs|--data $cache $sgd --l2 1e-06 --schedule optimal --average --epochs 3"
  "averaged sgd inverse-time, 3 epochs|--data $cache $sgd --l2 1e-06 --schedule inverse-time:1e-6 --lr 3 --average $m --epochs 3"
  "full batch sparse, 1 thread, 20 updates|--data $cache --model logistic --method batch --epochs 20 --lr 0.1 --threads 1"
  "full batch sparse, 2 threads, 20 updates|--data $cache --model logistic --method batch --epochs 20 --lr 0.1 --threads 2"
  "sgd dense 200000x256, 5 epochs|--data $dense $sgd --l2 1e-06 --schedule constant --lr 0.001 --epochs 5"
)
seconds() { "$1" train $2 --json --quiet | python3 -c 'import json,sys; print(json.load(sys.stdin)["train_seconds"])'; }
printf '%-42s %9s %9s %7s\n' row old_s new_s new/old
for row in "${rows[@]}"; do
  name=${row%%|*}; args=${row#*|}
  best_old=1e9; best_new=1e9
  for _ in $(seq "$R"); do
    o=$(seconds "$OLD" "$args"); n=$(seconds "$NEW" "$args")
    best_old=$(python3 -c "print(min($best_old, $o))"); best_new=$(python3 -c "print(min($best_new, $n))")
  done
  printf '%-42s %9.4f %9.4f %7.3f\n' "$name" "$best_old" "$best_new" "$(python3 -c "print($best_new / $best_old)")"
done
