#!/bin/bash
# gankit on SLURM: one torchrun launcher per node, one training process per GPU.
#   sbatch scripts/slurm_train.sh dcgan-rgb --data-root /data --set train.batch_size=512
# train.batch_size is the GLOBAL batch: it must be a multiple of nodes x GPUs per node.
#SBATCH --job-name=gankit
#SBATCH --nodes=2
#SBATCH --ntasks-per-node=1          # the torchrun launcher; it starts the per-GPU processes
#SBATCH --gpus-per-node=4
#SBATCH --cpus-per-task=16
#SBATCH --time=12:00:00
#SBATCH --output=gankit-%j.log
set -euo pipefail

GPUS_PER_NODE=${GPUS_PER_NODE:-4}
HEAD_NODE=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)
PORT=${PORT:-29500}
OUT=${OUT:-runs/slurm-$SLURM_JOB_ID}

# A run directory on a shared file system: rank 0 writes it, every rank reads it on --resume.
# After a time-out or preemption, continue with: sbatch scripts/slurm_train.sh --resume "$OUT"
if [[ "${1:-}" == "--resume" ]]; then
    ARGS=(--resume "$2" "${@:3}")
else
    ARGS=("$@" --out "$OUT")
fi

srun torchrun \
    --nnodes="$SLURM_JOB_NUM_NODES" \
    --nproc_per_node="$GPUS_PER_NODE" \
    --rdzv_id="$SLURM_JOB_ID" \
    --rdzv_backend=c10d \
    --rdzv_endpoint="$HEAD_NODE:$PORT" \
    -m gankit train --quiet "${ARGS[@]}"
