#!/usr/bin/env bash
# Runs an MPI job the way loom's tests and benchmarks do, with the flags that this kind
# of machine needs in one place:
#   --oversubscribe   more ranks than cores (4 ranks on a 2-core CI machine)
#   --bind-to none    ranks share cores with other test jobs; pinning would stack them
#   root              containers run as root, which OpenMPI refuses without consent
# LOOM_MPIRUN_FLAGS adds flags (e.g. "--mca btl self,vader --mca btl_vader_single_copy_mechanism none"
# where the shared-memory single-copy mechanism is not allowed in a container).
# Exits 77 (CTest's skip code) when there is no mpirun.
#   usage: scripts/mpirun.sh -np 4 ./build/tests/distributed/distributed_mpi_tests
set -euo pipefail
MPIRUN="${MPIRUN:-$(command -v mpirun || command -v mpiexec || true)}"
if [[ -z "$MPIRUN" ]]; then
  echo "SKIP: mpirun not found (install openmpi-bin)" >&2
  exit 77
fi
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# Keep OpenMPI quiet about the missing high-speed networks of a plain machine.
export OMPI_MCA_btl_base_warn_component_unused=0
# shellcheck disable=SC2086
exec "$MPIRUN" --oversubscribe --bind-to none ${LOOM_MPIRUN_FLAGS:-} "$@"
