#include "output/table.hpp"

#include <algorithm>
#include <sstream>

#include "core/text.hpp"

namespace wg {

std::vector<std::size_t> column_widths(const std::vector<TableRow>& rows) {
  std::vector<std::size_t> widths;
  for (const auto& row : rows) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (std::size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], display_columns(row[i]));
  }
  return widths;
}

std::string pad(const std::string& cell, std::size_t width, Align align) {
  std::size_t columns = display_columns(cell);
  if (columns >= width) return cell;
  std::string spaces(width - columns, ' ');
  return align == Align::left ? cell + spaces : spaces + cell;
}

std::string format_table(const std::vector<TableRow>& rows, const std::vector<Align>& align) {
  auto widths = column_widths(rows);
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += pad(row[i], widths[i], i < align.size() ? align[i] : Align::left) + std::string(kColumnGap, ' ');
    }
    line.erase(line.find_last_not_of(' ') + 1);  // npos + 1 is 0: a blank line becomes empty
    out += line + "\n";
  }
  return out;
}

std::string fit_lines(const std::string& text, std::size_t columns) {
  if (columns == 0) return text;
  std::string fitted;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) fitted += fit_columns(line, columns) + "\n";
  return fitted;
}

}  // namespace wg
