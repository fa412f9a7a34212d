// The span profiler (NOTE [Profiler] in loom/runtime/profiler.h).
#include "loom/runtime/profiler.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>

namespace loom::runtime {
namespace detail {
std::atomic<bool> g_profiler_on{false};
}  // namespace detail

namespace {

constexpr size_t kChunkEvents = 4096;
constexpr size_t kMaxEventsPerThread = size_t{1} << 23;  // 8M spans, ~200 MB

struct Event {
  const char* name;
  int64_t start_ns, dur_ns;
};

struct Chunk {
  Event events[kChunkEvents];
  std::atomic<Chunk*> next{nullptr};
};

// One thread's spans. Only the owning thread writes; collect() reads the first
// `count` events, which the owner published with a release store.
struct ThreadBuffer {
  int tid = 0;
  std::string name;  // guarded by Registry::mutex
  uint64_t generation = 0;
  Chunk* head = nullptr;
  Chunk* tail = nullptr;
  size_t tail_used = 0;
  std::atomic<size_t> count{0};
  std::atomic<int64_t> dropped{0};

  ~ThreadBuffer() {
    for (Chunk* c = head; c != nullptr;) {
      Chunk* next = c->next.load(std::memory_order_relaxed);
      delete c;
      c = next;
    }
  }

  void append(const Event& e) {
    const size_t n = count.load(std::memory_order_relaxed);
    if (n >= kMaxEventsPerThread) {
      dropped.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    if (head == nullptr) {
      head = tail = new Chunk();
      tail_used = 0;
    } else if (tail_used == kChunkEvents) {
      Chunk* next = tail->next.load(std::memory_order_relaxed);
      if (next == nullptr) {
        next = new Chunk();
        tail->next.store(next, std::memory_order_release);
      }
      tail = next;
      tail_used = 0;
    }
    tail->events[tail_used++] = e;
    count.store(n + 1, std::memory_order_release);
  }

  // Called by the owner when a new session has started: chunks are kept for reuse.
  void reset(uint64_t gen) {
    generation = gen;
    tail = head;
    tail_used = 0;
    count.store(0, std::memory_order_release);
    dropped.store(0, std::memory_order_relaxed);
  }
};

struct Registry {
  std::mutex mutex;
  std::vector<std::shared_ptr<ThreadBuffer>> buffers;
  int next_tid = 1;
  std::atomic<uint64_t> generation{0};
  std::atomic<int64_t> epoch_ns{0};  // steady_clock time of the session's start
  std::atomic<int64_t> stop_ns{-1};  // session time at stop, -1 while running
  ThreadBuffer* main = nullptr;      // the thread that started the session
};

Registry& registry() {
  static Registry* r = new Registry();  // never destroyed: threads may record at exit
  return *r;
}

int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

ThreadBuffer& this_thread_buffer() {
  thread_local std::shared_ptr<ThreadBuffer> buffer = [] {
    auto b = std::make_shared<ThreadBuffer>();
    Registry& r = registry();
    std::lock_guard<std::mutex> lock(r.mutex);
    b->tid = r.next_tid++;
    b->generation = r.generation.load(std::memory_order_relaxed);
    r.buffers.push_back(b);
    return b;
  }();
  return *buffer;
}

std::string json_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

void profiler_start() {
  Registry& r = registry();
  ThreadBuffer& mine = this_thread_buffer();
  {
    std::lock_guard<std::mutex> lock(r.mutex);
    // Buffers only the registry still holds belong to threads that have exited.
    std::erase_if(r.buffers, [&](const std::shared_ptr<ThreadBuffer>& b) { return b.use_count() == 1; });
    r.main = &mine;
  }
  const uint64_t gen = r.generation.fetch_add(1, std::memory_order_relaxed) + 1;
  mine.reset(gen);
  r.stop_ns.store(-1, std::memory_order_relaxed);
  r.epoch_ns.store(steady_ns(), std::memory_order_relaxed);
  detail::g_profiler_on.store(true, std::memory_order_release);
}

void profiler_stop() {
  if (!detail::g_profiler_on.exchange(false, std::memory_order_acq_rel))
    return;
  registry().stop_ns.store(profiler_now_ns(), std::memory_order_relaxed);
}

uint64_t profiler_session() { return registry().generation.load(std::memory_order_relaxed); }

int64_t profiler_now_ns() { return steady_ns() - registry().epoch_ns.load(std::memory_order_relaxed); }

void profiler_record(const char* name, int64_t start_ns, int64_t end_ns) {
  if (!profiler_enabled())
    return;
  ThreadBuffer& b = this_thread_buffer();
  const uint64_t gen = registry().generation.load(std::memory_order_relaxed);
  if (b.generation != gen)
    b.reset(gen);
  b.append(Event{name, start_ns, std::max<int64_t>(0, end_ns - start_ns)});
}

void set_profiler_thread_name(const std::string& name) {
  ThreadBuffer& b = this_thread_buffer();
  std::lock_guard<std::mutex> lock(registry().mutex);
  b.name = name;
}

ProfileData profiler_collect() {
  Registry& r = registry();
  ProfileData data;
  const int64_t stop = r.stop_ns.load(std::memory_order_relaxed);
  data.wall_ns = stop >= 0 ? stop : profiler_now_ns();
  const uint64_t gen = r.generation.load(std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(r.mutex);
  for (const auto& b : r.buffers) {
    if (b->generation != gen)
      continue;  // nothing recorded on this thread in this session
    const size_t n = b->count.load(std::memory_order_acquire);
    if (n == 0)
      continue;
    data.dropped += b->dropped.load(std::memory_order_relaxed);
    std::string name = b->name;
    if (name.empty())
      name = b.get() == r.main ? "main" : "thread " + std::to_string(b->tid);
    data.threads.push_back({b->tid, name});
    size_t left = n;
    for (Chunk* c = b->head; c != nullptr && left > 0; c = c->next.load(std::memory_order_acquire)) {
      const size_t take = std::min(left, kChunkEvents);
      for (size_t i = 0; i < take; ++i)
        data.spans.push_back({c->events[i].name, b->tid, c->events[i].start_ns, c->events[i].dur_ns});
      left -= take;
    }
  }
  return data;
}

void write_chrome_trace(const ProfileData& data, std::FILE* out) {
  std::fputs("{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n", out);
  std::fputs("{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":1,\"tid\":0,\"args\":{\"name\":\"loom\"}}", out);
  for (const ProfileThread& t : data.threads) {
    std::fprintf(out, ",\n{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":%d,\"args\":{\"name\":\"%s\"}}",
                 t.tid, json_escape(t.name).c_str());
  }
  std::map<const char*, std::string> escaped;  // names repeat; escape each once
  for (const ProfileSpan& s : data.spans) {
    auto it = escaped.find(s.name);
    if (it == escaped.end())
      it = escaped.emplace(s.name, json_escape(s.name)).first;
    std::fprintf(out,
                 ",\n{\"name\":\"%s\",\"cat\":\"loom\",\"ph\":\"X\",\"pid\":1,\"tid\":%d,\"ts\":%.3f,\"dur\":%.3f}",
                 it->second.c_str(), s.tid, static_cast<double>(s.start_ns) / 1e3, static_cast<double>(s.dur_ns) / 1e3);
  }
  std::fputs("\n]}\n", out);
}

std::string chrome_trace_json(const ProfileData& data) {
  char* buf = nullptr;
  size_t size = 0;
  std::FILE* f = open_memstream(&buf, &size);
  write_chrome_trace(data, f);
  std::fclose(f);
  std::string s(buf, size);
  std::free(buf);
  return s;
}

std::vector<ProfileSummaryRow> profile_summary(const ProfileData& data) {
  // Self time: a span's duration less its direct children's on the same thread.
  std::vector<size_t> order(data.spans.size());
  for (size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const ProfileSpan &x = data.spans[a], &y = data.spans[b];
    if (x.tid != y.tid)
      return x.tid < y.tid;
    if (x.start_ns != y.start_ns)
      return x.start_ns < y.start_ns;
    return x.dur_ns > y.dur_ns;  // the enclosing span first
  });
  std::vector<int64_t> self(data.spans.size());
  std::vector<size_t> open;
  int tid = -1;
  for (size_t i : order) {
    const ProfileSpan& s = data.spans[i];
    self[i] = s.dur_ns;
    if (s.tid != tid) {
      open.clear();
      tid = s.tid;
    }
    while (!open.empty() && data.spans[open.back()].start_ns + data.spans[open.back()].dur_ns <= s.start_ns)
      open.pop_back();
    if (!open.empty())
      self[open.back()] -= std::min(s.dur_ns, self[open.back()]);
    open.push_back(i);
  }
  std::map<std::string, ProfileSummaryRow> rows;
  for (size_t i = 0; i < data.spans.size(); ++i) {
    ProfileSummaryRow& row = rows[data.spans[i].name];
    ++row.calls;
    row.total_ms += static_cast<double>(data.spans[i].dur_ns) / 1e6;
    row.self_ms += static_cast<double>(self[i]) / 1e6;
  }
  std::vector<ProfileSummaryRow> out;
  const double wall_ms = static_cast<double>(data.wall_ns) / 1e6;
  for (auto& [name, row] : rows) {
    row.name = name;
    row.percent = wall_ms > 0 ? 100.0 * row.total_ms / wall_ms : 0.0;
    row.mean_us = 1e3 * row.total_ms / static_cast<double>(row.calls);
    out.push_back(row);
  }
  std::sort(out.begin(), out.end(), [](const ProfileSummaryRow& a, const ProfileSummaryRow& b) {
    return a.total_ms != b.total_ms ? a.total_ms > b.total_ms : a.name < b.name;
  });
  return out;
}

std::string format_profile_summary(const std::vector<ProfileSummaryRow>& rows, size_t top, const ProfileData* data) {
  std::ostringstream os;
  char line[256];
  if (data != nullptr) {
    std::snprintf(line, sizeof(line), "profile: %zu spans on %zu threads over %.3f s%s\n", data->spans.size(),
                  data->threads.size(), static_cast<double>(data->wall_ns) / 1e9,
                  data->dropped > 0 ? " (some spans dropped: buffers full)" : "");
    os << line;
  }
  std::snprintf(line, sizeof(line), "top %zu of %zu ops by total time (%% = total / wall time; nested spans overlap)\n",
                std::min(top, rows.size()), rows.size());
  os << line;
  std::snprintf(line, sizeof(line), "%-28s %9s %11s %11s %8s %11s\n", "name", "calls", "total ms", "self ms", "%",
                "mean us");
  os << line;
  for (size_t i = 0; i < rows.size() && i < top; ++i) {
    const ProfileSummaryRow& r = rows[i];
    std::snprintf(line, sizeof(line), "%-28s %9lld %11.3f %11.3f %7.1f%% %11.2f\n", r.name.c_str(),
                  static_cast<long long>(r.calls), r.total_ms, r.self_ms, r.percent, r.mean_us);
    os << line;
  }
  return os.str();
}

}  // namespace loom::runtime
