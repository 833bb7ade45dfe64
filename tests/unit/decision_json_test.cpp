#include "output/decision_json.hpp"

#include <gtest/gtest.h>

#include "support/machine_builder.hpp"

namespace wg {
namespace {

using test::GpuBuilder;
using test::machine_of;

// The JSON names a reading's basis in "detail" as docs/decision.schema.json words it.
TEST(DecisionJson, DetailWordsTheBasisOfAReading) {
  auto machine = machine_of({GpuBuilder(0), GpuBuilder(1), GpuBuilder(2), GpuBuilder(3)});
  Decision decision;
  std::vector<Reason> reasons = {{Filter::max_util, 80, 50, {}, Basis::average},
                                 {Filter::max_power, 250, 200, {}, Basis::instant},
                                 {Filter::power_unknown, 0, 200, {}, Basis::missing_limit},
                                 {Filter::power_unknown, 0, 200, {}, Basis::missing_draw}};
  for (unsigned i = 0; i < 4; ++i) decision.verdicts.push_back({i, Verdict::rejected, {reasons[i]}});
  std::string json =
      render_decision_json(machine, decision, SelectionOptions{}, nullptr, {}, nullptr, ClaimsPlace{}, nullptr);
  std::vector<std::string> details;
  for (auto at = json.find("\"detail\": "); at != std::string::npos; at = json.find("\"detail\": ", at + 1)) {
    details.push_back(json.substr(at + 10, json.find_first_of(",\n", at) - at - 10));
  }
  EXPECT_EQ(details, (std::vector<std::string>{"\"average\"", "\"instant\"", "\"limit\"", "\"draw\""}));
}

}  // namespace
}  // namespace wg
