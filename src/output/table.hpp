#pragma once
// Text tables: rows of cells laid out in aligned columns, as the status table and the
// topology matrix print them. Widths are terminal columns (display_columns), so UTF-8
// text and colour escapes line up.

#include <cstddef>
#include <string>
#include <vector>

namespace wg {

using TableRow = std::vector<std::string>;

enum class Align { left, right };

// The spaces between two columns.
inline constexpr std::size_t kColumnGap = 2;

// The widest cell of each column, in terminal columns; a row shorter than the longest
// has nothing in the cells it lacks.
std::vector<std::size_t> column_widths(const std::vector<TableRow>& rows);

// `cell` with spaces up to `width` terminal columns: after it when `align` is left,
// before it when right. A cell as wide or wider is returned as it is.
std::string pad(const std::string& cell, std::size_t width, Align align);

// The rows as lines, each ending in '\n': every cell padded to its column's width,
// columns kColumnGap apart, no spaces at the end of a line. `align` gives the columns'
// alignment in order; columns past its end are left-aligned.
std::string format_table(const std::vector<TableRow>& rows, const std::vector<Align>& align = {});

// Every line of `text` cut to `columns` terminal columns (fit_columns), each ending in
// '\n'; `text` as it is when `columns` is 0.
std::string fit_lines(const std::string& text, std::size_t columns);

}  // namespace wg
