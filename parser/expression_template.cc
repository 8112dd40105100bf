#include "parser/expression_template.h"

#include <cstdint>

#include "parser/analysis.h"

namespace pgshim::parser {

bool ExpressionTemplate::compile(std::string_view expression, std::string_view column, std::string& error) {
  constexpr std::string_view kPrefix = "SELECT ";
  const std::string sql = std::string(kPrefix) + std::string(expression);
  const Analysis analysis(sql);
  if (!analysis.ok()) {
    error = std::string(analysis.error());
    return false;
  }
  const StatementModel& model = analysis.model();
  if (model.statements.size() != 1 || !model.relations.empty() || !model.writes.empty()) {
    error = "expected one expression, not a statement";
    return false;
  }
  text_ = std::string(expression);
  pieces_.clear();
  std::uint32_t at = 0;
  for (const ColumnRefSite& ref : model.columns) {
    if (ref.star || ref.nfields == 0 || ref.column() != column) continue;
    const std::uint32_t begin = ref.span.begin - static_cast<std::uint32_t>(kPrefix.size());
    pieces_.push_back(text_.substr(at, begin - at));
    at = ref.span.end - static_cast<std::uint32_t>(kPrefix.size());
  }
  pieces_.push_back(text_.substr(at));
  return true;
}

void ExpressionTemplate::fill_into(std::string& out, std::string_view value) const {
  for (std::size_t i = 0; i < pieces_.size(); ++i) {
    if (i > 0) out.append(value);
    out.append(pieces_[i]);
  }
}

std::string ExpressionTemplate::fill(std::string_view value) const {
  std::string out;
  fill_into(out, value);
  return out;
}

}  // namespace pgshim::parser
