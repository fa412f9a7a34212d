#include "data_command.h"

#include <cmath>
#include <cstdio>

#include "loom/autograd/ops.h"
#include "loom/data.h"
#include "loom/data/idx.h"
#include "loom/data/shards.h"
#include "loom/data/tabular/csv.h"
#include "loom/data/tabular/describe.h"
#include "loom/data/tabular/pipeline.h"
#include "loom/io/atomic_file.h"
#include "tabular.h"
#include "thread_flag.h"

namespace loom::cli {
namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string csv_field(const data::Column& c, int64_t row) {
  const double v = c.values[static_cast<size_t>(row)];
  if (data::Column::is_missing(v))
    return "";
  if (c.type == data::ColumnType::categorical) {
    const std::string& label = c.categories.at(static_cast<size_t>(v));
    if (label.find_first_of(",\"\n") == std::string::npos)
      return label;
    std::string quoted = "\"";
    for (char ch : label)
      quoted += ch == '"' ? std::string("\"\"") : std::string(1, ch);
    return quoted + "\"";
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.17g", v);
  return buf;
}

std::string table_to_csv(const data::Table& t) {
  std::string out;
  for (int64_t c = 0; c < t.cols(); ++c)
    out += (c ? "," : "") + t.column(c).name;
  out += "\n";
  for (int64_t r = 0; r < t.rows(); ++r) {
    for (int64_t c = 0; c < t.cols(); ++c)
      out += (c ? "," : "") + csv_field(t.column(c), r);
    out += "\n";
  }
  return out;
}

int inspect(const DataOptions& o) {
  if (is_csv_path(o.input)) {
    std::printf(
        "%s",
        data::format_inspect_report(read_table(o.input, {o.skip_rows, !o.no_header, o.delimiter[0]}), o.input).c_str());
  } else if (ends_with(o.input, ".manifest.json")) {
    data::ShardManifest m = data::read_shard_manifest(o.input);
    std::printf("%s: %lld samples in %zu shards (%lld samples per block)\n", o.input.c_str(),
                static_cast<long long>(m.total_samples), m.shards.size(), static_cast<long long>(m.samples_per_block));
    std::printf("  input  %s %s\n  target %s %s\n", dtype_name(m.input_dtype), shape_str(m.input_shape).c_str(),
                dtype_name(m.target_dtype), shape_str(m.target_shape).c_str());
    for (const auto& s : m.shards)
      std::printf("  %s: %lld samples, %llu bytes\n", s.file.c_str(), static_cast<long long>(s.samples),
                  static_cast<unsigned long long>(s.bytes));
  } else {  // an IDX file
    Tensor t = data::read_idx(o.input);
    Tensor f = t.to(DType::f64);
    std::printf("%s: IDX, %s %s, min %g, max %g, mean %g\n", o.input.c_str(), dtype_name(t.dtype()),
                shape_str(t.shape()).c_str(), f.numel() ? -amax(reshape(neg(f), {-1}), 0).item_double() : 0.0,
                f.numel() ? amax(reshape(f, {-1}), 0).item_double() : 0.0, f.numel() ? mean(f).item_double() : 0.0);
  }
  return 0;
}

int pack(const DataOptions& o) {
  data::ShardWriterOptions wo;
  wo.samples_per_shard = o.shard_samples;
  std::shared_ptr<data::TensorDataset> set;
  if (is_csv_path(o.input)) {
    LOOM_CHECK(!o.target.empty(), "loom data pack: a CSV file needs --target COLUMN");
    TabularData t =
        load_tabular(o.input, {o.skip_rows, !o.no_header, o.delimiter[0]}, o.target, o.pipeline, "auto", 0.0, 1);
    set = t.train;
    const std::string pipeline_path = o.output + ".pipeline.json";
    io::write_text_file_atomically(pipeline_path, t.meta.pipeline_json + "\n");
    std::printf("fitted pipeline written to %s\n", pipeline_path.c_str());
  } else {
    LOOM_CHECK(o.split == "train" || o.split == "test", "--split must be train or test, got '", o.split, "'");
    set = data::load_fashion_mnist(o.input, o.split == "train");
  }
  // Shards hold whole blocks; keep the shard size a multiple of the block.
  wo.samples_per_shard =
      std::max<int64_t>(wo.samples_per_block, wo.samples_per_shard / wo.samples_per_block * wo.samples_per_block);
  const std::string manifest = data::write_shards(*set, o.output, wo);
  std::printf("packed %lld samples into %s\n", static_cast<long long>(set->size()), manifest.c_str());
  return 0;
}

int preprocess(const DataOptions& o) {
  LOOM_CHECK(!o.pipeline.empty(), "loom data preprocess needs --pipeline SPEC");
  data::Table table = read_table(o.input, {o.skip_rows, !o.no_header, o.delimiter[0]});
  data::Pipeline pipeline = data::Pipeline::from_spec(o.pipeline);
  data::Table out = pipeline.fit_transform(table, o.target);
  if (!o.target.empty() && out.index_of(o.target) < 0)
    out.add_column(table.column(o.target));
  const std::string csv = table_to_csv(out);
  if (o.output.empty() || o.output == "-") {
    std::fwrite(csv.data(), 1, csv.size(), stdout);
  } else {
    io::write_text_file_atomically(o.output, csv);
    std::printf("wrote %lld rows x %lld columns to %s\n", static_cast<long long>(out.rows()),
                static_cast<long long>(out.cols()), o.output.c_str());
  }
  if (!o.save_pipeline.empty())
    pipeline.save(o.save_pipeline);
  return 0;
}

}  // namespace

CLI::App* add_data_command(CLI::App& app, DataOptions& o) {
  auto* d = app.add_subcommand("data", "Inspect, preprocess and pack datasets");
  d->require_subcommand(1);
  auto csv_layout = [&o](CLI::App* cmd) {
    cmd->add_option("--skip-rows", o.skip_rows, "CSV: lines to skip before the header")->check(CLI::NonNegativeNumber);
    cmd->add_flag("--no-header", o.no_header, "CSV: no header line (columns are c0, c1, ...)");
    cmd->add_option("--delimiter", o.delimiter, "CSV: the field separator (one character)")
        ->check(one_character)
        ->capture_default_str();
  };
  auto* ins = d->add_subcommand("inspect", "Schema, types, missing counts and statistics of a CSV, IDX or shard set");
  ins->add_option("FILE", o.input, "A .csv file, an IDX file, or a shard manifest (.manifest.json)")->required();
  csv_layout(ins);
  add_threads_flag(ins, o.threads);
  ins->callback([&o] { o.action = "inspect"; });

  auto* pk = d->add_subcommand("pack", "Write a dataset into zstd-compressed shards with checksums");
  pk->add_option("--data", o.input, "IDX directory or CSV file")->required();
  pk->add_option("--out", o.output, "Output prefix: PREFIX-00000.lshard ... and PREFIX.manifest.json")->required();
  pk->add_option("--split", o.split, "IDX: train or test")->capture_default_str();
  pk->add_option("--target", o.target, "CSV: the target column");
  pk->add_option("--pipeline", o.pipeline, "CSV: preprocessing spec applied before packing");
  pk->add_option("--shard-samples", o.shard_samples, "Samples per shard")
      ->check(CLI::Range(1, 1 << 30))
      ->capture_default_str();
  csv_layout(pk);
  add_threads_flag(pk, o.threads);
  pk->callback([&o] { o.action = "pack"; });

  auto* pre = d->add_subcommand("preprocess", "Fit a preprocessing pipeline on a CSV file and write the result");
  pre->add_option("--data", o.input, "CSV file")->required();
  pre->add_option("--pipeline", o.pipeline, "Pipeline spec: JSON text or a file")->required();
  pre->add_option("--target", o.target, "Target column (kept, not transformed; used by feature selection)");
  pre->add_option("--out", o.output, "Output CSV (default stdout)");
  pre->add_option("--save-pipeline", o.save_pipeline, "Also save the fitted pipeline here");
  csv_layout(pre);
  add_threads_flag(pre, o.threads);
  pre->callback([&o] { o.action = "preprocess"; });
  return d;
}

int run_data(const DataOptions& o) {
  apply_threads(o.threads);
  if (o.action == "inspect")
    return inspect(o);
  if (o.action == "pack")
    return pack(o);
  return preprocess(o);
}

}  // namespace loom::cli
