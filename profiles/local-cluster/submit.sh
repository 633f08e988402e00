#!/usr/bin/env bash
# A stand-in for sbatch/qsub: runs the job script in the background, logs the
# submission and prints a job id, as a cluster scheduler would.
set -euo pipefail
jobscript="${@: -1}"
mkdir -p logs/local-cluster
id="local-$$-$(date +%s%N)"
echo "$(date -Is) submitted $id $jobscript" >> logs/local-cluster/submissions.log
nohup bash "$jobscript" > "logs/local-cluster/$id.out" 2>&1 &
echo "$id"
