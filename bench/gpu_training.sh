#!/usr/bin/env bash
# The GPU steps of issue 14, in one short script for a machine with CUDA (about 5 minutes on one
# H200-class GPU): train the sync expert on prepared shared clips, score it on the held-out
# speakers against chance, then sweep the Wav2Lip generator's frames per second, fp32 vs fp16.
#
# Usage (from the repository root):
#   python -m training.data.prepare_folder /path/to/lrs2_style_tree --out data/prepared   # once, CPU
#   bash bench/gpu_training.sh data/prepared runs/gpu_expert [NPROC]
#
# NPROC > 1 runs the same training under torchrun with one process per GPU (DDP, NCCL).
# Outputs: RUN/ckpt.pt, RUN/syncnet/, RUN/metrics.jsonl, RUN/curves.png, RUN/heldout.json,
# RUN/wav2lip_speed.txt.
set -euo pipefail
PREPARED=${1:?prepared folder (training.data.prepare_folder --out)}
RUN=${2:-runs/gpu_expert}
NPROC=${3:-1}
PY=${PYTHON:-python}
DEVICE=${DEVICE:-cuda}        # DEVICE=cpu PRESET=cpu_small STEPS=3: a dry run of the plumbing
PRESET=${PRESET:-gpu_short}
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
if [ "$DEVICE" = cuda ]; then
  "$PY" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 'no CUDA here: run with DEVICE=cpu for a dry run')"
fi
mapfile -t TRAIN < <("$PY" -m training.data.prepare_folder "$PREPARED" --list train)
mapfile -t VAL < <("$PY" -m training.data.prepare_folder "$PREPARED" --list val)
echo "train clips: ${#TRAIN[@]}  held-out clips: ${#VAL[@]}"
mkdir -p "$RUN"
if [ "$NPROC" -gt 1 ]; then
  LAUNCH=("$PY" -m torch.distributed.run --standalone --nproc_per_node="$NPROC")
else
  LAUNCH=("$PY")
fi
"${LAUNCH[@]}" -m training.train_syncnet "${TRAIN[@]}" --val "${VAL[@]}" --out "$RUN" \
  --preset "$PRESET" --device "$DEVICE" ${STEPS:+--steps "$STEPS"}
"$PY" -m training.eval_syncnet "$RUN/ckpt.pt" "${VAL[@]}" --windows 2048 | tee "$RUN/heldout.json"
"$PY" bench/wav2lip_speed.py --device "$DEVICE" --batches ${BATCHES:-1 8 32 64 128 256} --seconds 2 \
  | tee "$RUN/wav2lip_speed.txt"
