#pragma once
// The `loom train` flags for distributed runs (docs/DISTRIBUTED.md, "Training").
#include <cstdint>
#include <string>

namespace CLI {
class App;
}

namespace loom::cli {

struct DistributedFlags {
  std::string dist = "auto";  // auto: ddp under mpirun with > 1 rank, else none
  std::string allreduce = "auto";
  double bucket_mb = 4.0;
  int64_t sync_every = 8;
  std::string ps_mode = "sync";
  int64_t staleness = 2;
  int servers = 1;
  double easgd_alpha = 0.0;
  std::string compress = "none";
  double topk_ratio = 0.01;
  double comm_timeout = 60.0;
  int64_t checkpoint_every = 0;  // steps; 0 = only --checkpoint's per-epoch file
};

void add_distributed_flags(CLI::App* train, DistributedFlags& flags);

}  // namespace loom::cli
