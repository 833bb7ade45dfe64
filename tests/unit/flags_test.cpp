#include "cli/flags.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "cli/completions.hpp"
#include "cli/help.hpp"
#include "support/parse_helpers.hpp"

namespace wg {
namespace {

Result<Options> parse(std::vector<std::string> args) {
  SettingSources no_files;
  no_files.system_config = "/nonexistent/with-gpu/config.toml";
  return test::parse_with(std::move(args), no_files);
}

// The settings a built-in value can change, as text, so two Options compare.
std::string settings_of(const Options& options) {
  const SelectionOptions& s = options.selection;
  std::ostringstream out;
  out << s.min_gpus << ' ' << s.max_gpus << ' ' << s.min_free_bytes << ' ' << s.sample_window_ms << ' '
      << options.sample_window.count() << ' ' << options.poll_interval.count() << ' ' << int(s.type_fallback) << ' '
      << int(s.idle) << ' ' << int(s.claim_mode) << ' ' << int(s.topology) << ' ' << int(s.numa) << ' '
      << int(options.id_format) << ' ' << options.wait << options.quiet << options.bind << options.ignore_slurm
      << options.all_gpus;
  return out.str();
}

TEST(Flags, EveryNameIsUniqueAndEverySettingHasAKeyAValueAndASetter) {
  std::set<std::string> names;
  for (const auto& flag : all_flags()) {
    EXPECT_TRUE(names.insert(std::string(flag.name)).second) << flag.name;
    if (flag.short_name) {
      EXPECT_TRUE(names.insert(std::string{'-', flag.short_name}).second) << flag.name;
    }
    EXPECT_FALSE(flag.help.empty()) << flag.name;
    EXPECT_EQ(flag.takes == Takes::nothing, flag.value_name.empty()) << flag.name;
    EXPECT_TRUE(flag.key.empty() == !flag.apply && flag.key.empty() == flag.built_in.empty()) << flag.name;
    EXPECT_TRUE(flag.apply || flag.record) << flag.name << " is neither applied nor recorded";
    if (flag.key.empty()) continue;
    std::string snake(flag.name.substr(2));
    std::replace(snake.begin(), snake.end(), '-', '_');
    EXPECT_EQ(flag.key, snake) << "config keys are the long flags in snake_case";
  }
}

// The registry's built-in values are what a launch gets without any flag: applying them
// changes nothing.
TEST(Flags, BuiltInValuesAreTheDefaultsInForce) {
  auto defaults = parse({"cmd"});
  ASSERT_TRUE(defaults);
  int checked = 0;
  for (const auto& flag : all_flags()) {
    if (flag.key.empty() || flag.built_in.front() == '(' || flag.key == "lock_dir") continue;
    Options options = *defaults;
    ASSERT_TRUE(flag.apply(std::string(flag.built_in), std::string(flag.name), options)) << flag.name;
    EXPECT_EQ(settings_of(options), settings_of(*defaults)) << flag.name << " built-in " << flag.built_in;
    ++checked;
  }
  EXPECT_GE(checked, 14);
}

// The words completions offer for a closed choice are exactly the ones the flag takes.
TEST(Flags, CompletedChoicesAreTheValuesTheFlagAccepts) {
  for (const auto& flag : all_flags()) {
    if (flag.complete != Complete::choices) continue;
    std::string names;
    for (const auto& word : choice_words(flag)) {
      names += (names.empty() ? "" : ", ") + word;
      if (flag.apply) {
        Options options;
        EXPECT_TRUE(flag.apply(word, std::string(flag.name), options)) << flag.name << " " << word;
      } else {
        auto given = parse({"--status", std::string(flag.name), word});
        EXPECT_TRUE(given) << flag.name << " " << word << ": " << test::usage_message(given);
      }
    }
    if (!flag.apply) continue;
    Options options;
    auto refused = flag.apply("bogus", std::string(flag.name), options);
    ASSERT_FALSE(refused) << flag.name;
    EXPECT_EQ(refused.error().message, std::string(flag.name) + ": 'bogus' is not one of " + names);
  }
}

// "--dry-run=false" used to mean --dry-run: a flag without a value refuses one.
TEST(Flags, AFlagWithoutAValueRefusesOneAfterEquals) {
  EXPECT_EQ(test::usage_message(parse({"--dry-run=false", "true"})),
            "--dry-run takes no value (got '--dry-run=false')");
  EXPECT_EQ(test::usage_message(parse({"--wait=true", "cmd"})), "--wait takes no value (got '--wait=true')");
  EXPECT_EQ(test::usage_message(parse({"-n", "--json=", "cmd"})), "--json takes no value (got '--json=')");
  EXPECT_TRUE(parse({"--min-gpus=2", "--topology=ignore", "cmd"}));
}

TEST(Flags, ColorAndCompletionsRefuseOtherWords) {
  EXPECT_EQ(test::usage_message(parse({"--completions", "tcsh"})),
            "--completions: 'tcsh' is not one of bash, zsh, fish");
  EXPECT_EQ(test::usage_message(parse({"--status", "--color", "sometimes"})),
            "--color: 'sometimes' is not auto, always or never");
}

TEST(Flags, HelpManPageAndEveryCompletionNameEveryFlag) {
  std::string help = help_text();
  std::string man = man_page();
  std::vector<std::string> scripts;
  for (const char* shell : {"bash", "zsh", "fish"}) scripts.push_back(*completion_script(shell));
  for (const auto& flag : all_flags()) {
    EXPECT_NE(help.find("  " + flag_synopsis(flag)), std::string::npos) << flag.name;
    std::string roff_name = std::regex_replace(std::string(flag.name), std::regex("-"), "\\-");
    EXPECT_NE(man.find("\\fB" + roff_name + "\\fR"), std::string::npos) << flag.name;
    EXPECT_TRUE(std::regex_search(scripts[0], std::regex("[\" ]" + std::string(flag.name) + "[\" ]")))
        << "bash: " << flag.name;
    EXPECT_TRUE(std::regex_search(scripts[1], std::regex("[',]" + std::string(flag.name) + "[=[}]")))
        << "zsh: " << flag.name;
    EXPECT_NE(scripts[2].find("-l " + std::string(flag.name.substr(2)) + " "), std::string::npos)
        << "fish: " << flag.name;
  }
}

TEST(Flags, HelpLinesFitEightyColumns) {
  std::istringstream lines(help_text());
  for (std::string line; std::getline(lines, line);) EXPECT_LE(line.size(), 80u) << line;
}

TEST(Flags, ManPageHasTheSectionsOfAManualPage) {
  std::string man = man_page();
  for (const char* section : {".TH WITH\\-GPU 1", ".SH NAME", ".SH SYNOPSIS", ".SH DESCRIPTION", ".SH OPTIONS",
                              ".SS selection", ".SH ENVIRONMENT", ".SH FILES", ".SH EXIT STATUS", ".SH EXAMPLES"}) {
    EXPECT_NE(man.find(section), std::string::npos) << section;
  }
  std::istringstream lines(man);
  for (std::string line; std::getline(lines, line);) {
    EXPECT_TRUE(line.empty() || line[0] != '\'') << "a line starting with ' is a roff request: " << line;
  }
}

// The README's options table is the registry's, row for row: group, flag and value as
// --help writes them, and the default.
TEST(Flags, TheReadmeOptionsTableAgreesWithTheRegistry) {
  std::ifstream file(README_PATH);
  ASSERT_TRUE(file) << README_PATH;
  std::stringstream text;
  text << file.rdbuf();
  std::string readme = text.str();
  auto start = readme.find("| option | meaning | default |");
  ASSERT_NE(start, std::string::npos);
  std::istringstream table(readme.substr(start, readme.find("\n\n", start) - start));
  std::vector<std::string> rows;
  const std::regex group_row(R"(^\| \*\*([a-z]+)[^|]*\| \| \|$)");
  const std::regex flag_row(R"(^\| (`[^|]*(?:\\\|[^|]*)*) \| .* \| ([^|]*) \|$)");
  for (std::string line; std::getline(table, line);) {
    std::smatch match;
    if (std::regex_match(line, match, group_row)) {
      rows.push_back("group " + match[1].str());
    } else if (std::regex_match(line, match, flag_row)) {
      std::string flag = std::regex_replace(match[1].str(), std::regex("`|\\\\"), "");
      std::string fallback = std::regex_replace(match[2].str(), std::regex("`"), "");
      rows.push_back(flag + " = " + std::regex_replace(fallback, std::regex(" +$"), ""));
    }
  }
  std::vector<std::string> expected;
  for (const auto& group : all_groups()) {
    expected.push_back("group " + std::string(group.title));
    for (const auto& flag : all_flags()) {
      if (flag.group == group.group) expected.push_back(flag_synopsis(flag) + " = " + std::string(flag.default_text));
    }
  }
  EXPECT_EQ(rows, expected);
}

}  // namespace
}  // namespace wg
