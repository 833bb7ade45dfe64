#include "cli/settings.hpp"

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli/flags.hpp"
#include "core/nearest.hpp"
#include "output/table.hpp"
#include "core/units.hpp"

namespace wg {
namespace {

std::map<std::string, ValueKind> config_keys() {
  std::map<std::string, ValueKind> keys;
  for (const auto& flag : all_flags()) {
    if (flag.key.empty()) continue;
    keys[std::string(flag.key)] = flag.takes == Takes::nothing ? ValueKind::boolean : ValueKind::value;
  }
  return keys;
}

Result<Ok> check_values(const std::vector<ConfigEntry>& entries) {
  for (const auto& entry : entries) {
    Options scratch;
    if (auto applied = flag_for_key(entry.key)->apply(entry.value, entry.location + ": " + entry.key, scratch);
        !applied) {
      return applied.error();
    }
  }
  return Ok{};
}

Result<Ok> check_files(const ConfigFiles& files) {
  for (const auto* file : {&files.system, &files.user}) {
    if (!*file) continue;
    if (auto checked = check_values((*file)->defaults); !checked) return checked.error();
    for (const auto& [name, entries] : (*file)->profiles) {
      if (auto checked = check_values(entries); !checked) return checked.error();
    }
  }
  return Ok{};
}

void layer(Settings& merged, const std::vector<ConfigEntry>& entries, const std::string& origin, int rank) {
  for (const auto& entry : entries) {
    merged[entry.key] = {entry.value, origin + " in " + entry.location, entry.location + ": " + entry.key, rank};
  }
}

Result<Ok> layer_profile(Settings& merged, const ConfigFiles& files, const std::string& profile) {
  std::vector<std::string> known;
  bool found = false;
  int rank = 3;
  for (const auto* file : {&files.system, &files.user}) {
    ++rank;
    if (!*file) continue;
    for (const auto& [name, entries] : (*file)->profiles) known.push_back(name);
    auto entries = (*file)->profiles.find(profile);
    if (entries == (*file)->profiles.end()) continue;
    found = true;
    layer(merged, entries->second, "profile " + profile, rank);
  }
  if (found) return Ok{};
  std::sort(known.begin(), known.end());
  known.erase(std::unique(known.begin(), known.end()), known.end());
  std::string list = fmt::format("{}", fmt::join(known, ", "));
  if (known.empty()) return usage_error("unknown profile \"" + profile + "\" (no config file defines any profile)");
  auto guess = nearest(profile, known);
  return usage_error("unknown profile \"" + profile + "\" (" + (guess ? "did you mean \"" + *guess + "\"? " : "") +
                     "known profiles: " + list + ")");
}

// `path` made absolute against the current directory ("." and empty parts dropped), so
// the claims directory does not depend on where a command later changes to, and
// --show-config shows the directory that is used. Config files are no exception: a
// file is read from many directories.
Result<std::string> absolute_lock_dir(const std::string& path, const std::string& name,
                                      const std::optional<std::string>& current_dir) {
  if (path.empty() || path.front() == '/') return path;
  std::string base;
  if (current_dir) {
    base = *current_dir;
  } else {
    std::error_code error;
    base = std::filesystem::current_path(error).string();
    if (error) {
      return Error{ErrorKind::lock_dir,
                   name + ": '" + path + "' is relative and the current directory cannot be read (" + error.message() +
                       "); give an absolute path",
                   {}};
    }
  }
  std::size_t start = 0;
  while (start <= path.size()) {
    auto slash = std::min(path.find('/', start), path.size());
    std::string part = path.substr(start, slash - start);
    if (!part.empty() && part != ".") base += (!base.empty() && base.back() == '/' ? "" : "/") + part;
    start = slash + 1;
  }
  return base;
}

// --max-gpus defaults to --min-gpus: a count set only by a weaker layer than the other
// follows it rather than contradicting it.
Result<Ok> settle_counts(const Settings& merged, Options& options) {
  SelectionOptions& selection = options.selection;
  auto min = merged.find("min_gpus");
  auto max = merged.find("max_gpus");
  int min_rank = min == merged.end() ? 0 : min->second.rank;
  int max_rank = max == merged.end() ? 0 : max->second.rank;
  if (options.all_gpus) {
    if (max != merged.end() && max_rank >= min_rank) {
      return usage_error(min->second.name + " all takes every GPU of the allocation; " + max->second.name +
                         " cannot limit it");
    }
    return Ok{};
  }
  if (max == merged.end() || (selection.max_gpus < selection.min_gpus && max_rank < min_rank)) {
    selection.max_gpus = selection.min_gpus;
  }
  if (selection.min_gpus > selection.max_gpus) {
    return usage_error(min->second.name + " " + std::to_string(selection.min_gpus) + " is more than " +
                       max->second.name + " " + std::to_string(selection.max_gpus));
  }
  return Ok{};
}

// Fixed columns rather than the widest value's, so one long path does not push every
// line; a longer cell simply pushes its comment on, one space after it.
std::string show_line(const std::string& key, const std::string& value, const std::string& origin) {
  return pad(key, 14, Align::left) + " = " + pad(value, 15, Align::left) + " # " + origin + "\n";
}

}  // namespace

Result<ConfigFiles> read_config_files(const CommandLine& line, const SettingSources& sources) {
  ConfigFiles files;
  auto keys = config_keys();
  auto system = read_config_file(sources.system_config, MissingFile::allowed, keys);
  if (!system) return system.error();
  files.system = *system;
  std::optional<std::string> named = line.config ? line.config : sources.config;
  if (named || !sources.user_config.empty()) {
    auto user = read_config_file(named.value_or(sources.user_config), named ? MissingFile::error : MissingFile::allowed,
                                 keys);
    if (!user) return user.error();
    files.user = *user;
  }
  if (auto checked = check_files(files); !checked) return checked.error();
  return files;
}

// [policy] binds users, so only the system file may set it; its values are checked by
// their own rules and kept apart from the settings, which any layer may override.
Result<Ok> read_policy(const ConfigFiles& files, const SettingSources& sources, Options& options) {
  if (files.user && files.user->policy_location) {
    return usage_error(*files.user->policy_location + ": [policy] is set only in the system config (" +
                       sources.system_config + "); a user's file or --config cannot set it");
  }
  if (!files.system || files.system->policy.empty()) return Ok{};
  UserPolicy policy{0, files.system->path};
  for (const auto& entry : files.system->policy) {
    auto count = parse_unsigned(entry.value);
    if (!count || *count == 0) {
      return usage_error(entry.location + ": " + entry.key + ": '" + entry.value + "' is not a whole number of at least 1");
    }
    policy.max_gpus_per_user = *count;
  }
  options.policy = policy;
  return Ok{};
}

Result<Settings> merge(const CommandLine& line, const ConfigFiles& files, const SettingSources& sources) {
  Settings merged;
  if (files.system) layer(merged, files.system->defaults, "[defaults]", 1);
  if (files.user) layer(merged, files.user->defaults, "[defaults]", 2);
  std::optional<std::string> profile = line.profile ? line.profile : sources.profile;
  if (profile && !profile->empty()) {
    if (auto layered = layer_profile(merged, files, *profile); !layered) return layered.error();
  }
  if (sources.lock_dir) merged["lock_dir"] = {*sources.lock_dir, "WITH_GPU_LOCK_DIR", "WITH_GPU_LOCK_DIR", 6};
  for (const auto& [key, value] : line.settings) {
    merged[key] = {value, "flag", std::string(flag_for_key(key)->name), 7};
  }
  if (auto lock_dir = merged.find("lock_dir"); lock_dir != merged.end()) {
    auto absolute = absolute_lock_dir(lock_dir->second.value, lock_dir->second.name, sources.current_dir);
    if (!absolute) return absolute.error();
    lock_dir->second.value = *absolute;
  }
  return merged;
}

Result<Ok> apply_settings(const Settings& merged, Options& options) {
  for (const auto& flag : all_flags()) {
    if (flag.key.empty()) continue;
    auto setting = merged.find(std::string(flag.key));
    if (setting == merged.end()) continue;
    if (auto applied = flag.apply(setting->second.value, setting->second.name, options); !applied) {
      return applied.error();
    }
  }
  return settle_counts(merged, options);
}

std::string show_config(const Settings& merged, const std::string& default_lock_dir,
                        const std::vector<ConfigEntry>& policy) {
  std::string out = "# effective settings; highest first: flag, WITH_GPU_LOCK_DIR, profile, user [defaults],\n"
                    "# system [defaults], built-in\n";
  for (const auto& flag : all_flags()) {
    if (flag.key.empty()) continue;
    std::string key(flag.key);
    auto setting = merged.find(key);
    if (setting != merged.end()) {
      out += show_line(key, setting->second.value, setting->second.origin);
    } else {
      out += show_line(key, key == "lock_dir" ? default_lock_dir : std::string(flag.built_in), "built-in");
    }
  }
  if (!policy.empty()) out += "# policy: set by the system config; users' files and flags cannot change it\n";
  for (const auto& entry : policy) out += show_line(entry.key, entry.value, "policy in " + entry.location);
  return out;
}

}  // namespace wg
