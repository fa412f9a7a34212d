#!/usr/bin/env bash
# loom's pipelined ring and shared-memory allreduces against OpenMPI's MPI_Allreduce, side by side in one
# run, at 4 KiB, 256 KiB, 4 MiB and 64 MiB with 2 and 4 ranks on this machine.
#   usage: bench/distributed/compare_allreduce.sh [path/to/loom] [repeat]
# Each figure is the median of `repeat` rounds in which the two take turns (so load from
# elsewhere hits both alike); bandwidth is bus bandwidth (algbw * 2(p-1)/p, as in
# nccl-tests), ratio = ring / MPI (> 1: ours is faster).
set -euo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"
loom="${1:-$here/build/cli/loom}"
repeat="${2:-5}"
sizes="${LOOM_BENCH_SIZES:-4K,256K,4M,64M}"
[[ -x "$loom" ]] || { echo "no loom binary at $loom (build the loom_cli target)" >&2; exit 1; }
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "MPI: $(mpirun --version 2>/dev/null | head -1)"
printf "%-6s %-9s %12s %12s %12s %12s %12s %12s %8s %8s\n" ranks size ring_us shm_us MPI_us ring_GB/s shm_GB/s MPI_GB/s ring/MPI shm/MPI
for np in 2 4; do
  "$here/scripts/mpirun.sh" -np "$np" "$loom" bench allreduce --algorithms ring,shm,mpi --sizes "$sizes" \
      --repeat "$repeat" |
    awk -v np="$np" '
      $3 == "ring" || $3 == "shm" || $3 == "mpi" { size = $1 " " $2; lat[size, $3] = $6; bw[size, $3] = $8; if (!(size in seen)) { seen[size] = 1; order[n++] = size } }
      END { for (i = 0; i < n; i++) { s = order[i];
              printf "%-6s %-9s %12.1f %12.1f %12.1f %12.3f %12.3f %12.3f %8.2f %8.2f\n", np, s, lat[s, "ring"], lat[s, "shm"], lat[s, "mpi"], bw[s, "ring"], bw[s, "shm"], bw[s, "mpi"], bw[s, "ring"] / bw[s, "mpi"], bw[s, "shm"] / bw[s, "mpi"] } }'
done
