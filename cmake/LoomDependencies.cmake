# Every dependency comes from a Debian package installed by scripts/setup.sh.
find_package(Threads REQUIRED)
find_package(ZLIB REQUIRED)
find_package(nlohmann_json 3 REQUIRED)
find_package(PkgConfig REQUIRED)

# OpenBLAS: Debian ships the pthread flavour's cblas.h under an arch-specific folder.
pkg_check_modules(OPENBLAS REQUIRED IMPORTED_TARGET openblas)
add_library(loom::openblas INTERFACE IMPORTED)
target_link_libraries(loom::openblas INTERFACE PkgConfig::OPENBLAS)

# OpenMP: oneDNN threads through it in this build; the runtime sets its thread count
# to the budget (NOTE [Thread budget] in loom/runtime/parallel.h).
find_package(OpenMP REQUIRED COMPONENTS CXX)

# oneDNN (OpenMP build) runs the convolutions: NOTE [oneDNN convolution] in
# src/kernels/cpu/onednn_conv.cpp. Its config also looks for OpenCL.
find_package(dnnl CONFIG REQUIRED)

# zstd compresses dataset shards.
pkg_check_modules(ZSTD REQUIRED IMPORTED_TARGET libzstd)
add_library(loom::zstd INTERFACE IMPORTED)
target_link_libraries(loom::zstd INTERFACE PkgConfig::ZSTD)

# OpenMPI carries distributed training; a process started without mpirun never initialises it.
find_package(MPI REQUIRED COMPONENTS CXX)
