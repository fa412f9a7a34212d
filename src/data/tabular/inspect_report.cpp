// The text of `loom data inspect FILE`.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "loom/data/tabular/describe.h"

namespace loom::data {
namespace {

constexpr size_t kMaxNameWidth = 32;
constexpr size_t kMaxListedCategories = 6;

std::string shorten(const std::string& s, size_t width) {
  if (s.size() <= width)
    return s;
  return s.substr(0, width - 3) + "...";
}

std::string number(double v) {
  if (std::isnan(v))
    return "-";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.6g", v);
  return buf;
}

std::string missing_text(const ColumnStats& s, int64_t rows) {
  if (s.missing == 0 || rows == 0)
    return "0";
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%lld (%.1f%%)", static_cast<long long>(s.missing),
                100.0 * static_cast<double>(s.missing) / static_cast<double>(rows));
  return buf;
}

std::string categories_text(const Column& col, const ColumnStats& s) {
  std::ostringstream os;
  os << s.unique << (s.unique == 1 ? " category" : " categories");
  if (s.top_count > 0)
    os << ", top '" << shorten(s.top, kMaxNameWidth) << "' (" << s.top_count << " rows)";
  os << ":";
  for (size_t i = 0; i < col.categories.size() && i < kMaxListedCategories; ++i)
    os << (i ? ", " : " ") << shorten(col.categories[i], kMaxNameWidth);
  if (col.categories.size() > kMaxListedCategories)
    os << ", ... (" << col.categories.size() - kMaxListedCategories << " more)";
  return os.str();
}

}  // namespace

std::string format_inspect_report(const Table& table, const std::string& source) {
  const std::vector<ColumnStats> stats = describe(table);
  const auto numeric =
      std::count_if(stats.begin(), stats.end(), [](const ColumnStats& s) { return s.type == ColumnType::numeric; });
  std::ostringstream os;
  os << source << ": " << table.rows() << (table.rows() == 1 ? " row" : " rows") << " x " << table.cols()
     << (table.cols() == 1 ? " column" : " columns") << " (" << numeric << " numeric, "
     << static_cast<int64_t>(stats.size()) - numeric << " categorical)\n";
  if (stats.empty())
    return os.str();

  size_t name_width = 6;
  for (const ColumnStats& s : stats)
    name_width = std::max(name_width, std::min(s.name.size(), kMaxNameWidth));
  const int w = static_cast<int>(name_width);
  auto line = [&](const std::string& index, const std::string& name, const char* type, const std::string& missing,
                  const std::string& rest) {
    char buf[256];
    std::snprintf(buf, sizeof(buf), "%5s  %-*s  %-11s  %14s  ", index.c_str(), w, name.c_str(), type, missing.c_str());
    std::string text = buf + rest;
    while (!text.empty() && text.back() == ' ')
      text.pop_back();
    os << text << "\n";
  };
  char head[160];
  std::snprintf(head, sizeof(head), "%12s  %12s  %12s  %12s", "mean", "std", "min", "max");
  os << "\n";
  line("#", "column", "type", "missing", head);
  for (size_t i = 0; i < stats.size(); ++i) {
    const ColumnStats& s = stats[i];
    const Column& col = table.column(static_cast<int64_t>(i));
    std::string rest;
    if (s.type == ColumnType::numeric) {
      char buf[160];
      std::snprintf(buf, sizeof(buf), "%12s  %12s  %12s  %12s", number(s.mean).c_str(), number(s.std).c_str(),
                    number(s.min).c_str(), number(s.max).c_str());
      rest = buf;
    } else {
      rest = categories_text(col, s);
    }
    line(std::to_string(i), shorten(s.name, kMaxNameWidth), s.type == ColumnType::numeric ? "numeric" : "categorical",
         missing_text(s, table.rows()), rest);
  }
  return os.str();
}

}  // namespace loom::data
