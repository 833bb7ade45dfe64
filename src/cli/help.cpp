#include "cli/help.hpp"

#include <algorithm>
#include <string_view>
#include <vector>

#include "cli/flags.hpp"
#include "cli/version.hpp"

namespace wg {
namespace {

constexpr std::size_t kWidth = 80;
constexpr std::size_t kHelpColumn = 23;  // where a flag's help starts
constexpr char kGlue = '\x1f';          // a space that wrap() does not break at

constexpr std::string_view kSummary = "run a command on free NVIDIA GPUs";

constexpr std::string_view kDescription =
    "Picks GPUs, claims them so concurrent with-gpu launches never collide, sets CUDA_VISIBLE_DEVICES and "
    "CUDA_DEVICE_ORDER, then replaces itself with COMMAND. Only GPUs in an inherited CUDA_VISIBLE_DEVICES (Slurm, "
    "containers) are considered.";

constexpr std::string_view kUsage[] = {
    "with-gpu [OPTIONS] [--] COMMAND [ARGS...]",
    "with-gpu --status [--json | --watch [INTERVAL]] [--topology] [--gpu LIST]",
};

struct Example {
  std::string_view command;
  std::string_view what;
};

constexpr Example kExamples[] = {
    {"with-gpu python train.py", "run on the best free GPU"},
    {"with-gpu --min-gpus 2 --min-memory 40G --wait torchrun --nproc-per-node 2 train.py",
     "wait for two GPUs with 40 GiB free each, in arrival order"},
    {"with-gpu --status", "every GPU, its processes, claims and waiters"},
    {"with-gpu --dry-run --gpu-type A100", "what a launch would choose, and why"},
    {"eval \"$(with-gpu --print-env)\"", "set CUDA_VISIBLE_DEVICES in this shell"},
};

constexpr std::string_view kFiles[][2] = {
    {"/etc/with-gpu/config.toml", "the system config: [defaults], [profiles.NAME] and the admin's [policy]"},
    {"~/.config/with-gpu/config.toml", "the user's config ($XDG_CONFIG_HOME/with-gpu/config.toml)"},
    {"/run/with-gpu", "the hardened claims directory, when root made it with --init-lock-dir"},
    {"/tmp/with-gpu", "the claims directory otherwise"},
};

// `text` broken into lines of at most `width` columns at spaces (a longer word keeps
// its own line).
std::vector<std::string> wrap(std::string_view text, std::size_t width) {
  std::vector<std::string> lines{""};
  while (!text.empty()) {
    auto space = text.find(' ');
    std::string_view word = text.substr(0, space);
    text = space == std::string_view::npos ? std::string_view() : text.substr(space + 1);
    if (word.empty()) continue;
    if (!lines.back().empty() && lines.back().size() + 1 + word.size() > width) lines.emplace_back();
    lines.back() += (lines.back().empty() ? "" : " ") + std::string(word);
  }
  return lines;
}

// `head` at column 2 and `text` wrapped from `column`; a long head takes a line of its own.
std::string entry(const std::string& head, std::string_view text, std::size_t column) {
  std::string out = "  " + head;
  bool fits = out.size() + 2 <= column;
  out += fits ? std::string(column - out.size(), ' ') : "\n" + std::string(column, ' ');
  // "[default:" stays on the line of its value.
  std::string glued(text);
  if (auto at = glued.find("[default: "); at != std::string::npos) glued[at + 9] = kGlue;
  auto lines = wrap(glued, kWidth - column);
  for (std::size_t i = 0; i < lines.size(); ++i) out += (i ? "\n" + std::string(column, ' ') : "") + lines[i];
  std::replace(out.begin(), out.end(), kGlue, ' ');
  return out + "\n";
}

std::string with_default(const Flag& flag) {
  std::string text(flag.help);
  if (!flag.default_text.empty()) text += " [default: " + std::string(flag.default_text) + "]";
  return text;
}

std::string paragraph(std::string_view text, std::size_t indent) {
  std::string out;
  for (const auto& line : wrap(text, kWidth - indent)) out += std::string(indent, ' ') + line + "\n";
  return out;
}

// Text for roff: backslashes and hyphens escaped, no line taken for a request.
std::string roff(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\\') out += "\\e";
    else if (c == '-') out += "\\-";
    else out += c;
  }
  if (!out.empty() && (out[0] == '.' || out[0] == '\'')) out = "\\&" + out;
  return out;
}

std::string man_synopsis(const Flag& flag) {
  std::string words = flag.short_name ? "\\fB\\-" + std::string(1, flag.short_name) + "\\fR, " : "";
  words += "\\fB" + roff(flag.name) + "\\fR";
  if (flag.takes == Takes::value) words += " \\fI" + roff(flag.value_name) + "\\fR";
  if (flag.takes == Takes::optional_value) words += " [\\fI" + roff(flag.value_name) + "\\fR]";
  return words;
}

std::string man_options() {
  std::string out = ".SH OPTIONS\n";
  for (const auto& group : all_groups()) {
    out += ".SS " + roff(group.title) + "\n";
    for (const auto& flag : all_flags()) {
      if (flag.group != group.group) continue;
      std::string text = with_default(flag) + ".";
      if (!flag.details.empty()) text += " " + std::string(flag.details);
      if (!flag.key.empty()) text += " Config key: " + std::string(flag.key) + ".";
      out += ".TP\n" + man_synopsis(flag) + "\n" + roff(text) + "\n";
    }
    if (!group.note.empty()) out += ".PP\n" + roff(group.note) + "\n";
  }
  return out;
}

}  // namespace

std::string help_text() {
  std::string out = "with-gpu " WITH_GPU_VERSION " - " + std::string(kSummary) + "\n\n";
  for (std::size_t i = 0; i < std::size(kUsage); ++i) {
    out += std::string(i == 0 ? "usage: " : "       ") + std::string(kUsage[i]) + "\n";
  }
  out += "\n" + paragraph(kDescription, 0);
  for (const auto& group : all_groups()) {
    out += "\n" + std::string(group.title) + ":\n";
    for (const auto& flag : all_flags()) {
      if (flag.group == group.group) out += entry(flag_synopsis(flag), with_default(flag), kHelpColumn);
    }
    if (!group.note.empty()) out += paragraph(group.note, 2);
  }
  out += "\nenvironment:\n";
  for (const auto& variable : environment_variables()) out += entry(std::string(variable.name), variable.help, 27);
  out += "\nexit status:\n  the command's own status once it runs; otherwise\n";
  for (const auto& status : exit_statuses()) out += entry(std::string(status.code), status.meaning, 12);
  return out;
}

std::string man_page() {
  std::string out = ".\\\" Generated by with-gpu --man-page from the flag registry (src/cli/flags.cpp).\n";
  out += ".TH WITH\\-GPU 1 \"\" \"with\\-gpu " + roff(WITH_GPU_VERSION) + "\" \"User Commands\"\n.nh\n";
  out += ".SH NAME\nwith\\-gpu \\- " + roff(kSummary) + "\n.SH SYNOPSIS\n";
  for (std::size_t i = 0; i < std::size(kUsage); ++i) out += (i ? ".br\n" : "") + roff(kUsage[i]) + "\n";
  out += ".SH DESCRIPTION\n" + roff(kDescription) + "\n";
  out += man_options();
  out += ".SH ENVIRONMENT\n";
  for (const auto& variable : environment_variables()) {
    out += ".TP\n.B " + roff(variable.name) + "\n" + roff(variable.help) + "\n";
  }
  out += ".SH FILES\n";
  for (const auto& [path, what] : kFiles) out += ".TP\n.I " + roff(path) + "\n" + roff(what) + "\n";
  out += ".SH EXIT STATUS\nThe command's own status once it runs; otherwise:\n";
  for (const auto& status : exit_statuses()) out += ".TP\n.B " + roff(status.code) + "\n" + roff(status.meaning) + "\n";
  out += ".SH EXAMPLES\n";
  for (const auto& example : kExamples) {
    out += ".TP\n\\fB" + roff(example.command) + "\\fR\n" + roff(example.what) + "\n";
  }
  out += ".SH SEE ALSO\n.BR nvidia\\-smi (1),\n.BR srun (1)\n";
  return out;
}

}  // namespace wg
