#include "community/label_selector.h"

#include <gtest/gtest.h>

#include <string>

namespace bgpcomm::community {
namespace {

using Labels = std::map<std::string, std::string>;

LabelSelector Expression(std::string key, std::string op, std::vector<std::string> values = {}) {
  LabelSelector selector;
  selector.match_expressions.push_back({std::move(key), std::move(op), std::move(values)});
  return selector;
}

struct MatchCase {
  std::string name;
  LabelSelector selector;
  Labels labels;
  bool matches;
};

class MatchTable : public testing::TestWithParam<MatchCase> {};

TEST_P(MatchTable, Matches) {
  EXPECT_EQ(Matches(GetParam().selector, GetParam().labels), GetParam().matches);
}

INSTANTIATE_TEST_SUITE_P(
    Table, MatchTable,
    testing::Values(
        MatchCase{"EmptyMatchesAll", {}, {}, true},
        MatchCase{"EmptyMatchesLabelled", {}, {{"a", "b"}}, true},
        MatchCase{"MatchLabelsEqual", {{{"zone", "a"}}, {}}, {{"zone", "a"}, {"x", "y"}}, true},
        MatchCase{"MatchLabelsDiffer", {{{"zone", "a"}}, {}}, {{"zone", "b"}}, false},
        MatchCase{"MatchLabelsMissing", {{{"zone", "a"}}, {}}, {}, false},
        MatchCase{"InListed", Expression("zone", "In", {"a", "b"}), {{"zone", "b"}}, true},
        MatchCase{"InNotListed", Expression("zone", "In", {"a"}), {{"zone", "c"}}, false},
        MatchCase{"InAbsent", Expression("zone", "In", {"a"}), {}, false},
        MatchCase{"NotInListed", Expression("zone", "NotIn", {"a"}), {{"zone", "a"}}, false},
        MatchCase{"NotInOther", Expression("zone", "NotIn", {"a"}), {{"zone", "b"}}, true},
        MatchCase{"NotInAbsent", Expression("zone", "NotIn", {"a"}), {}, true},
        MatchCase{"ExistsPresent", Expression("zone", "Exists"), {{"zone", ""}}, true},
        MatchCase{"ExistsAbsent", Expression("zone", "Exists"), {}, false},
        MatchCase{"DoesNotExistAbsent", Expression("zone", "DoesNotExist"), {}, true},
        MatchCase{
            "DoesNotExistPresent", Expression("zone", "DoesNotExist"), {{"zone", "a"}}, false},
        MatchCase{"UnknownOperatorMatchesNothing",
                  Expression("zone", "Equals", {"a"}),
                  {{"zone", "a"}},
                  false},
        MatchCase{
            "OperatorIsCaseSensitive", Expression("zone", "in", {"a"}), {{"zone", "a"}}, false}),
    [](const auto& info) { return info.param.name; });

struct ValidateCase {
  std::string name;
  LabelSelector selector;
  std::vector<std::string> problems;  // Diagnostic::ToString()
};

class ValidateTable : public testing::TestWithParam<ValidateCase> {};

TEST_P(ValidateTable, ExactMessages) {
  Diagnostics out;
  ValidateSelector(GetParam().selector, "spec.nodeSelectors[0]", out);
  std::vector<std::string> problems;
  for (const auto& d : out.items) {
    EXPECT_EQ(d.severity, Severity::kError);
    problems.push_back(d.ToString());
  }
  EXPECT_EQ(problems, GetParam().problems);
}

INSTANTIATE_TEST_SUITE_P(
    Table, ValidateTable,
    testing::Values(
        ValidateCase{"Empty", {}, {}},
        ValidateCase{"Valid",
                     {{{"kubernetes.io/hostname", "node-1"}},
                      {{"topology.kubernetes.io/zone", "In", {"a", "b"}}, {"rack", "Exists", {}}}},
                     {}},
        ValidateCase{
            "UnknownOperator",
            Expression("zone", "Equals", {"a"}),
            {R"(spec.nodeSelectors[0].matchExpressions[0].operator: operator "Equals" is not one of In, NotIn, Exists, DoesNotExist)"}},
        ValidateCase{"InWithoutValues",
                     Expression("zone", "In"),
                     {"spec.nodeSelectors[0].matchExpressions[0].values: operator In needs at "
                      "least one value"}},
        ValidateCase{"NotInWithoutValues",
                     Expression("zone", "NotIn"),
                     {"spec.nodeSelectors[0].matchExpressions[0].values: operator NotIn needs at "
                      "least one value"}},
        ValidateCase{"ExistsWithValues",
                     Expression("zone", "Exists", {"a"}),
                     {"spec.nodeSelectors[0].matchExpressions[0].values: operator Exists takes no "
                      "values"}},
        ValidateCase{"DoesNotExistWithValues",
                     Expression("zone", "DoesNotExist", {"a"}),
                     {"spec.nodeSelectors[0].matchExpressions[0].values: operator DoesNotExist "
                      "takes no values"}},
        ValidateCase{
            "BadKey",
            Expression("-zone", "Exists"),
            {R"(spec.nodeSelectors[0].matchExpressions[0].key: key "-zone" is not a valid label key (an optional DNS subdomain prefix and '/', then at most 63 characters: alphanumerics, '-', '_' or '.', alphanumeric at both ends))"}},
        ValidateCase{
            "BadValue",
            Expression("zone", "In", {"a b"}),
            {R"(spec.nodeSelectors[0].matchExpressions[0].values[0]: value "a b" is not a valid label value (at most 63 characters: alphanumerics, '-', '_' or '.', alphanumeric at both ends))"}},
        ValidateCase{
            "BadMatchLabelValue",
            {{{"zone", "a/b"}}, {}},
            {R"(spec.nodeSelectors[0].matchLabels: value "a/b" of key "zone" is not a valid label value (at most 63 characters: alphanumerics, '-', '_' or '.', alphanumeric at both ends))"}}),
    [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace bgpcomm::community
