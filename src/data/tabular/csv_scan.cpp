#include "csv_scan.h"

#include <cctype>
#include <cmath>
#include <cstdio>

namespace loom::data::csv {

Dialect::Dialect(const CsvOptions& options)
    : delim(options.delimiter),
      quote(options.quote),
      skip_leading_ws(options.skip_leading_whitespace),
      missing(options.missing_values) {
  // from_chars would read these characters as part of a number, so a field's end
  // could not be found from where the number stops.
  auto in_number = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '+';
  };
  number_fast_path = !in_number(delim) && !in_number(quote);
  for (const std::string& m : missing) {
    if (m.size() < 64)
      missing_lengths |= uint64_t{1} << m.size();
    else
      long_missing_token = true;
    if (!m.empty())
      missing_first[static_cast<unsigned char>(m[0])] = true;
    // A token that reads as a number, e.g. "-999", must be checked before numbers are
    // taken. "nan"/"NaN" need not: from_chars reads them as NaN, which is missing too.
    double v;
    if (parse_number(trim(m, *this), v) && !std::isnan(v))
      number_fast_path = false;
  }
}

std::string describe_char(char c) {
  auto u = static_cast<unsigned char>(c);
  if (std::isprint(u))
    return std::string("'") + c + "'";
  char buf[16];
  std::snprintf(buf, sizeof(buf), "byte 0x%02x", u);
  return buf;
}

}  // namespace loom::data::csv
