#include "generate_command.h"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "loom/io.h"
#include "loom/nn/generate.h"
#include "thread_flag.h"

namespace loom::cli {

CLI::App* add_generate_command(CLI::App& app, GenerateCommandOptions& o) {
  auto* g = app.add_subcommand("generate", "Sample text from a byte-level language model trained with --model gpt");
  g->add_option("--weights", o.weights_path, "A model bundle written by train --save")->required();
  g->add_option("--prompt", o.prompt, "The text to continue (bytes)")->required();
  g->add_option("--tokens", o.tokens, "Bytes to sample")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 30))
      ->capture_default_str();
  g->add_option("--temperature", o.temperature, "Divide the logits by this; 0 takes the most likely byte")
      ->check(CLI::Range(0.0, 100.0))
      ->capture_default_str();
  g->add_option("--top-k", o.top_k, "Sample among the k most likely bytes only (0 = all)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  g->add_option("--seed", o.seed, "The sampler's seed")->capture_default_str();
  g->add_flag("--no-cache", o.no_cache,
              "Re-run the model over the whole window for every byte instead of using the KV cache (for comparing)");
  g->add_option("--metrics", o.metrics_path, "Write a JSON summary here (per-token latency, tokens/s)");
  add_threads_flag(g, o.threads);
  return g;
}

int run_generate(const GenerateCommandOptions& o) {
  apply_threads(o.threads);
  const io::ModelBundle bundle = io::load_model_bundle(o.weights_path);
  const io::ModelDescription d = io::parse_model_description(bundle.info.description, o.weights_path);
  LOOM_CHECK(d.inputs.front().dtype == DType::i64 && d.input_shape.size() == 1, o.weights_path,
             ": generate needs a model of [context] token inputs (train --model gpt), this one takes ",
             dtype_name(d.inputs.front().dtype), " ", shape_str(d.input_shape));
  LOOM_CHECK(!o.prompt.empty(), "--prompt is empty; give some text to continue");
  std::vector<int64_t> prompt;
  for (unsigned char c : o.prompt)
    prompt.push_back(c);
  nn::GenerateOptions g{o.tokens, o.temperature, o.top_k, o.seed, !o.no_cache};
  nn::GenerateStats stats;
  const std::vector<int64_t> out = nn::generate(*bundle.model, d.input_shape[0], prompt, g, &stats);
  std::string text;
  for (int64_t t : out)
    text.push_back(static_cast<char>(t));
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fputc('\n', stdout);
  std::fprintf(stderr, "generated %lld bytes in %.3f s: %.3f ms per byte (%s), prompt %.3f s\n",
               static_cast<long long>(stats.tokens), stats.token_seconds, 1e3 * stats.seconds_per_token(),
               o.no_cache ? "no cache" : "KV cache", stats.prompt_seconds);
  if (!o.metrics_path.empty()) {
    nlohmann::json j = {{"tokens", stats.tokens},
                        {"seconds", stats.token_seconds},
                        {"ms_per_token", 1e3 * stats.seconds_per_token()},
                        {"tokens_per_s", stats.token_seconds > 0 ? stats.tokens / stats.token_seconds : 0.0},
                        {"prompt_seconds", stats.prompt_seconds},
                        {"cache", !o.no_cache},
                        {"text", text}};
    io::write_text_file_atomically(o.metrics_path, j.dump(2) + "\n");
  }
  return 0;
}

}  // namespace loom::cli
