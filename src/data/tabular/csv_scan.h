#pragma once
// The CSV field scanner and number parser shared by the header reader and the chunk
// parser. Private to the data layer; everything here is inline because it runs once
// per field.
#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "loom/data/tabular/csv.h"

namespace loom::data::csv {

// The options the scanner needs, resolved once per file.
struct Dialect {
  char delim = ',';
  char quote = '"';
  bool skip_leading_ws = false;
  // True when a number can be parsed straight from the text with from_chars and
  // its end checked afterwards: the delimiter and quote cannot occur in a number,
  // and no missing token is itself a number (so numbers need no token check).
  bool number_fast_path = true;
  std::vector<std::string> missing;
  // A quick filter before comparing with every token: bit n of missing_lengths is
  // set when a token has n characters (n < 64), missing_first[c] when one starts with c.
  uint64_t missing_lengths = 0;
  bool long_missing_token = false;
  bool missing_first[256] = {};

  explicit Dialect(const CsvOptions& options);
  bool is_missing(std::string_view trimmed) const {
    const size_t n = trimmed.size();
    if (n < 64 ? (missing_lengths >> n & 1) == 0 : !long_missing_token)
      return false;
    if (n > 0 && !missing_first[static_cast<unsigned char>(trimmed[0])])
      return false;
    for (const std::string& m : missing) {
      if (m == trimmed)
        return true;
    }
    return false;
  }
  // Spaces and tabs that are padding rather than data (never the delimiter itself).
  bool is_pad(char c) const { return (c == ' ' || c == '\t') && c != delim; }
};

// A line ends at \n, or at \r when \n or the end of the text follows. A lone \r is data.
inline bool at_line_end(const char* p, const char* end) {
  return *p == '\n' || (*p == '\r' && (p + 1 == end || p[1] == '\n'));
}

// True when p is where a field ends: the end, the delimiter or a line end.
inline bool at_field_end(const char* p, const char* end, char delim) {
  return p == end || *p == delim || at_line_end(p, end);
}

// Moves past a line ending at p (if any), counting the newline.
inline void skip_line_end(const char*& p, const char* end, int64_t& lines) {
  if (p < end && *p == '\r')
    ++p;
  if (p < end && *p == '\n') {
    ++p;
    ++lines;
  }
}

inline std::string_view trim(std::string_view s, const Dialect& d) {
  size_t b = 0, e = s.size();
  while (b < e && d.is_pad(s[b]))
    ++b;
  while (e > b && d.is_pad(s[e - 1]))
    --e;
  return s.substr(b, e - b);
}

// Parses all of `s` as a number. Accepts what from_chars does (so "inf", "1e5",
// ".5") plus a leading '+'; values beyond double's range become +-inf or 0 as
// strtod would give, rather than being rejected.
inline bool parse_number(std::string_view s, double& out) {
  if (!s.empty() && s[0] == '+') {
    s.remove_prefix(1);
    if (s.empty() || s[0] == '-' || s[0] == '+')
      return false;
  }
  const char* first = s.data();
  const char* last = first + s.size();
  auto [ptr, ec] = std::from_chars(first, last, out);
  if (ptr != last || first == last)
    return false;
  if (ec == std::errc())
    return true;
  if (ec != std::errc::result_out_of_range)
    return false;
  // Out of double's range: long double's wider exponent resolves it to inf or 0.
  long double wide = 0;
  auto [wptr, wec] = std::from_chars(first, last, wide);
  if (wptr != last || wec != std::errc())
    return false;
  out = static_cast<double>(wide);
  return true;
}

// Reads a plain decimal "[-]digits[.digits]" at p (the common case in CSV files)
// and returns where it ends, or nullptr for anything else (exponents, long
// mantissas, inf, ...), which from_chars then handles. With at most 19 digits the
// mantissa is exact, and when it is below 2^53 and the scale at most 10^22 one
// division by an exact power of ten is correctly rounded (Clinger's fast path), so
// the result is bit-identical to from_chars.
inline const char* parse_plain_decimal(const char* p, const char* end, double& out) {
  static constexpr double kPow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                      1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
  const bool negative = p < end && *p == '-';
  p += negative ? 1 : 0;
  uint64_t mantissa = 0;
  int digits = 0, scale = 0;
  while (p < end && static_cast<unsigned>(*p - '0') < 10) {
    mantissa = mantissa * 10 + static_cast<unsigned>(*p - '0');
    ++digits;
    ++p;
  }
  if (p < end && *p == '.') {
    ++p;
    while (p < end && static_cast<unsigned>(*p - '0') < 10) {
      mantissa = mantissa * 10 + static_cast<unsigned>(*p - '0');
      ++digits;
      ++scale;
      ++p;
    }
  }
  if (digits == 0 || digits > 19 || mantissa > (uint64_t{1} << 53) || scale > 22)
    return nullptr;
  const double v = static_cast<double>(mantissa) / kPow10[scale];
  out = negative ? -v : v;
  return p;
}

enum class ScanStatus : uint8_t { ok, unterminated, junk_after_quote };

// One field as it appears in the text.
struct RawField {
  std::string_view text;  // inside the quotes when quoted
  bool quoted = false;
  bool escaped = false;  // holds "" pairs that stand for one quote each
};

// Scans the field at p. On return p is at the delimiter, a line end or `end`
// (ScanStatus::ok), at `end` inside an open quote (unterminated), or at the
// character after a closing quote that is none of those (junk_after_quote).
// Newlines inside quotes are added to `lines`.
inline ScanStatus scan_field(const char*& p, const char* end, const Dialect& d, RawField& f, int64_t& lines) {
  if (d.skip_leading_ws) {
    while (p < end && (*p == ' ' || *p == '\t') && *p != d.delim)
      ++p;
  }
  if (p < end && *p == d.quote) {
    const char* start = ++p;
    f.quoted = true;
    f.escaped = false;
    for (;;) {
      while (p < end && *p != d.quote) {
        if (*p == '\n')
          ++lines;
        ++p;
      }
      if (p == end)
        return ScanStatus::unterminated;
      if (p + 1 < end && p[1] == d.quote) {  // "" is one quote character
        f.escaped = true;
        p += 2;
        continue;
      }
      break;
    }
    f.text = std::string_view(start, static_cast<size_t>(p - start));
    ++p;  // the closing quote
    while (p < end && d.is_pad(*p))
      ++p;
    return at_field_end(p, end, d.delim) ? ScanStatus::ok : ScanStatus::junk_after_quote;
  }
  const char* start = p;
  while (!at_field_end(p, end, d.delim))
    ++p;
  f.text = std::string_view(start, static_cast<size_t>(p - start));
  f.quoted = false;
  f.escaped = false;
  return ScanStatus::ok;
}

// The field's value with "" pairs folded, in `scratch` when that needs a copy.
inline std::string_view field_value(const RawField& f, char quote, std::string& scratch) {
  if (!f.escaped)
    return f.text;
  scratch.clear();
  for (size_t i = 0; i < f.text.size(); ++i) {
    scratch.push_back(f.text[i]);
    if (f.text[i] == quote)
      ++i;  // skip the second quote of the pair
  }
  return scratch;
}

// A character for an error message: itself when printable, else its hex code.
std::string describe_char(char c);

}  // namespace loom::data::csv
