#include "cli/completions.hpp"

#include <string_view>

#include "cli/flags.hpp"

namespace wg {
namespace {

// Shell lines shared by the three scripts. Profile names come from the config files'
// [profiles.NAME] tables; GPU indices and model names from `with-gpu --status --json`,
// one field per line.
constexpr std::string_view kProfilesCommand =
    "sed -n 's/^[[:space:]]*\\[profiles\\.\\([A-Za-z0-9_-]*\\)\\][[:space:]]*$/\\1/p' "
    "\"${WITH_GPU_SYSTEM_CONFIG:-/etc/with-gpu/config.toml}\" "
    "\"${WITH_GPU_CONFIG:-${XDG_CONFIG_HOME:-$HOME/.config}/with-gpu/config.toml}\" 2>/dev/null | sort -u";
constexpr std::string_view kIndicesFilter = "sed -n 's/^ *\"index\": \\([0-9][0-9]*\\),*$/\\1/p' | sort -nu";
constexpr std::string_view kModelsFilter = "sed -n 's/^ *\"name\": \"\\(.*\\)\",*$/\\1/p' | sort -u";

std::string names_of(const Flag& flag, std::string_view separator) {
  std::string names = flag.short_name ? "-" + std::string(1, flag.short_name) + std::string(separator) : "";
  return names + std::string(flag.name);
}

// Every name of the flags that take `takes`, joined by `separator`.
std::string names_taking(Takes takes, std::string_view separator) {
  std::string names;
  for (const auto& flag : all_flags()) {
    if (flag.takes != takes) continue;
    names += (names.empty() ? "" : std::string(separator)) + names_of(flag, separator);
  }
  return names;
}

// The help's first clause, for the one-line descriptions zsh and fish show.
std::string summary(const Flag& flag) {
  std::string_view help = flag.help;
  auto end = help.find_first_of(";(");
  std::string_view first = help.substr(0, end);
  while (!first.empty() && (first.back() == ' ' || first.back() == ',' || first.back() == ':')) first.remove_suffix(1);
  return std::string(first);
}

std::string escaped(std::string_view text, std::string_view special) {
  std::string out;
  for (char c : text) {
    if (c == '\'') {
      out += "'\\''";
      continue;
    }
    if (special.find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

// bash: the value cases, by the flag before the word being completed.
std::string bash_value_cases() {
  std::string cases;
  for (const auto& flag : all_flags()) {
    if (flag.takes == Takes::nothing) continue;
    std::string reply;
    switch (flag.complete) {
      case Complete::choices:
      case Complete::suggestions: reply = "COMPREPLY=($(compgen -W \"" + std::string(flag.choices) + "\" -- \"$cur\"))"; break;
      case Complete::file: reply = "COMPREPLY=($(compgen -f -- \"$cur\"))"; break;
      case Complete::directory: reply = "COMPREPLY=($(compgen -d -- \"$cur\"))"; break;
      case Complete::profile: reply = "COMPREPLY=($(compgen -W \"$(_with_gpu_profiles)\" -- \"$cur\"))"; break;
      case Complete::gpu: reply = "_with_gpu_gpu_list"; break;
      case Complete::gpu_model: reply = "_with_gpu_models"; break;
      case Complete::nothing: reply = "COMPREPLY=()"; break;
    }
    std::string guard = flag.takes == Takes::optional_value ? "[[ $cur != -* ]] && " : "";
    cases += "    " + names_of(flag, " | ") + ") " + guard + "{ " + reply + "; return; } ;;\n";
  }
  return cases;
}

std::string bash_script() {
  std::string all = names_taking(Takes::nothing, " ") + " " + names_taking(Takes::value, " ") + " " +
                    names_taking(Takes::optional_value, " ");
  std::string valued = names_taking(Takes::value, "|");
  std::string optional = names_taking(Takes::optional_value, "|");
  return "# bash completion for with-gpu, written by `with-gpu --completions bash` from its flag registry.\n"
         "\n"
         "_with_gpu_profiles() {\n  " + std::string(kProfilesCommand) + "\n}\n"
         "\n"
         "# What the with-gpu being completed reads from the machine.\n"
         "_with_gpu_indices() { \"${COMP_WORDS[0]}\" --status --json 2>/dev/null | " + std::string(kIndicesFilter) + "; }\n"
         "\n"
         "_with_gpu_gpu_list() {  # a list: complete the index after the last comma\n"
         "  local listed=\"\"\n"
         "  [[ $cur == *,* ]] && listed=${cur%,*},\n"
         "  COMPREPLY=($(compgen -P \"$listed\" -W \"$(_with_gpu_indices)\" -- \"${cur##*,}\"))\n"
         "}\n"
         "\n"
         "_with_gpu_models() {  # names with spaces, quoted for the command line\n"
         "  local model\n"
         "  COMPREPLY=()\n"
         "  while IFS= read -r model; do\n"
         "    [[ $model == \"$cur\"* ]] && COMPREPLY+=(\"$(printf '%q' \"$model\")\")\n"
         "  done < <(\"${COMP_WORDS[0]}\" --status --json 2>/dev/null | " + std::string(kModelsFilter) + ")\n"
         "}\n"
         "\n"
         "_with_gpu() {\n"
         "  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} word i\n"
         "  # bash splits --flag=value into three words (COMP_WORDBREAKS has '='): the value's flag\n"
         "  # is then two words back, and a bare '=' is no word to complete.\n"
         "  if [[ $cur == = ]]; then cur=\"\"; elif [[ $prev == = ]]; then prev=${COMP_WORDS[COMP_CWORD-2]}; fi\n"
         "  local flags=\"" + all + "\"\n"
         "  # The command starts after \"--\" or at the first word that is neither an option nor\n"
         "  # an option's value; from there on, the command's own completion applies.\n"
         "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
         "    word=${COMP_WORDS[i]}\n"
         "    if [[ $word == -- ]]; then ((i++)); break; fi\n"
         "    [[ $word == -* || $word == = || ${COMP_WORDS[i-1]} == = ]] && continue\n"
         "    case ${COMP_WORDS[i-1]} in " + valued + ") continue ;; " + optional + ") continue ;; esac\n"
         "    break\n"
         "  done\n"
         "  if ((i < COMP_CWORD)) || [[ $prev == -- ]]; then\n"
         "    if declare -F _command_offset >/dev/null; then _command_offset \"$i\"; return; fi\n"
         "    if ((i == COMP_CWORD)); then COMPREPLY=($(compgen -c -- \"$cur\")); else COMPREPLY=($(compgen -f -- \"$cur\")); fi\n"
         "    return\n"
         "  fi\n"
         "  case $prev in\n" + bash_value_cases() +
         "  esac\n"
         "  COMPREPLY=($(compgen -W \"$flags\" -- \"$cur\"))\n"
         "  [[ ${#COMPREPLY[@]} -eq 0 && $cur != -* ]] && COMPREPLY=($(compgen -c -- \"$cur\"))\n"
         "}\n"
         "\n"
         "complete -F _with_gpu with-gpu\n";
}

std::string zsh_action(const Flag& flag) {
  switch (flag.complete) {
    case Complete::choices:
    case Complete::suggestions: return "(" + std::string(flag.choices) + ")";
    case Complete::file: return "_files";
    case Complete::directory: return "_files -/";
    case Complete::profile: return "_with_gpu_profiles";
    case Complete::gpu: return "_with_gpu_gpus";
    case Complete::gpu_model: return "_with_gpu_models";
    case Complete::nothing: return " ";
  }
  return " ";
}

std::string zsh_spec(const Flag& flag) {
  std::string help = "[" + escaped(summary(flag), "[]:\\") + "]";
  std::string value = escaped(std::string(flag.value_name), ":\\");
  // An optional value is offered like a required one: zsh's optional form ("::")
  // completes only after "=", and "--topology <Tab>" should offer prefer and ignore.
  std::string argument = flag.takes == Takes::nothing ? "" : ":" + value + ":" + zsh_action(flag);
  std::string equals = flag.takes == Takes::nothing ? "" : "=";
  if (!flag.short_name) return "    '" + std::string(flag.name) + equals + help + argument + "' \\\n";
  std::string both = "-" + std::string(1, flag.short_name) + " " + std::string(flag.name);
  return "    '(" + both + ")'{-" + std::string(1, flag.short_name) + "," + std::string(flag.name) + "}'" + help +
         argument + "' \\\n";
}

std::string zsh_script() {
  std::string specs;
  for (const auto& flag : all_flags()) specs += zsh_spec(flag);
  return "#compdef with-gpu\n"
         "# zsh completion for with-gpu, written by `with-gpu --completions zsh` from its flag registry.\n"
         "\n"
         "_with_gpu_profiles() {\n"
         "  local -a names\n"
         "  names=(${(f)\"$(" + std::string(kProfilesCommand) + ")\"})\n"
         "  compadd -a names\n"
         "}\n"
         "\n"
         "_with_gpu_gpus() {  # a comma-separated list of the machine's indices\n"
         "  local -a ids\n"
         "  ids=(${(f)\"$(${words[1]} --status --json 2>/dev/null | " + std::string(kIndicesFilter) + ")\"})\n"
         "  _sequence compadd -a ids\n"
         "}\n"
         "\n"
         "_with_gpu_models() {\n"
         "  local -a names\n"
         "  names=(${(f)\"$(${words[1]} --status --json 2>/dev/null | " + std::string(kModelsFilter) + ")\"})\n"
         "  compadd -a names\n"
         "}\n"
         "\n"
         "_with_gpu() {\n"
         "  _arguments -s -S -A '-*' \\\n" + specs +
         "    '(-)1:command:_command_names -e' \\\n"
         "    '*::arguments:_normal'\n"
         "}\n"
         "\n"
         "if [[ $zsh_eval_context[-1] == loadautofunc ]]; then _with_gpu \"$@\"; else compdef _with_gpu with-gpu; fi\n";
}

std::string fish_line(const Flag& flag) {
  std::string line = "complete -c with-gpu -n 'not __with_gpu_command_started' -l " + std::string(flag.name.substr(2));
  if (flag.short_name) line += " -s " + std::string(1, flag.short_name);
  switch (flag.complete) {
    case Complete::choices:
    case Complete::suggestions: line += " -x -a '" + std::string(flag.choices) + "'"; break;
    case Complete::file:
    case Complete::directory: line += " -r -F"; break;
    case Complete::profile: line += " -x -a '(__with_gpu_profiles)'"; break;
    case Complete::gpu: line += " -x -a '(__with_gpu_gpus)'"; break;
    case Complete::gpu_model: line += " -x -a '(__with_gpu_models)'"; break;
    case Complete::nothing:
      if (flag.takes != Takes::nothing) line += " -x";
      break;
  }
  return line + " -d '" + escaped(summary(flag), "") + "'\n";
}

std::string fish_script() {
  std::string lines;
  for (const auto& flag : all_flags()) lines += fish_line(flag);
  std::string valued = names_taking(Takes::value, " ");
  std::string optional = names_taking(Takes::optional_value, " ");
  return "# fish completion for with-gpu, written by `with-gpu --completions fish` from its flag registry.\n"
         "\n"
         "function __with_gpu_profiles\n"
         "    sh -c '" + escaped(kProfilesCommand, "") + "'\n"
         "end\n"
         "\n"
         "function __with_gpu_json\n"
         "    set -l with_gpu (commandline -opc)[1]\n"
         "    $with_gpu --status --json 2>/dev/null\n"
         "end\n"
         "\n"
         "function __with_gpu_gpus  # a comma-separated list: the index after the last comma\n"
         "    set -l listed (string replace -r '[^,]*$' '' -- (commandline -ct))\n"
         "    for index in (__with_gpu_json | sh -c '" + escaped(kIndicesFilter, "") + "')\n"
         "        echo $listed$index\n"
         "    end\n"
         "end\n"
         "\n"
         "function __with_gpu_models\n"
         "    __with_gpu_json | sh -c '" + escaped(kModelsFilter, "") + "'\n"
         "end\n"
         "\n"
         "# The words of the command being run, once it has started: after \"--\", or from the\n"
         "# first word that is neither an option nor an option's value.\n"
         "function __with_gpu_command_words\n"
         "    set -l words (commandline -opc) (commandline -ct)\n"
         "    set -l value 0\n"
         "    for i in (seq 2 (count $words))\n"
         "        set -l word $words[$i]\n"
         "        if test $value = 1\n"
         "            set value 0\n"
         "            continue\n"
         "        end\n"
         "        if test $value = 2  # an optional value: any word but an option\n"
         "            set value 0\n"
         "            string match -q -- '-*' $word; or continue\n"
         "        end\n"
         "        switch $word\n"
         "            case --\n"
         "                printf '%s\\n' $words[(math $i + 1)..-1]\n"
         "                return 0\n"
         "            case " + valued + "\n"
         "                set value 1\n"
         "            case " + optional + "\n"
         "                set value 2\n"
         "            case '-*'\n"
         "            case '*'\n"
         "                printf '%s\\n' $words[$i..-1]\n"
         "                return 0\n"
         "        end\n"
         "    end\n"
         "    return 1\n"
         "end\n"
         "\n"
         "function __with_gpu_command_started\n"
         "    __with_gpu_command_words >/dev/null\n"
         "end\n"
         "\n"
         "function __with_gpu_complete_command\n"
         "    set -l words (__with_gpu_command_words)\n"
         "    complete -C (string join ' ' -- (string escape -- $words[1..-2]) $words[-1])\n"
         "end\n"
         "\n"
         "complete -c with-gpu -f\n"
         "complete -c with-gpu -n '__with_gpu_command_started' -a '(__with_gpu_complete_command)'\n" + lines;
}

}  // namespace

Result<std::string> completion_script(const std::string& shell) {
  if (shell == "bash") return bash_script();
  if (shell == "zsh") return zsh_script();
  if (shell == "fish") return fish_script();
  return usage_error("--completions: '" + shell + "' is not one of bash, zsh, fish");
}

}  // namespace wg
