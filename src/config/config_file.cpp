#include "config/config_file.hpp"

#include <sys/stat.h>

#include <fstream>
#include <sstream>

#define TOML_HEADER_ONLY 1
#define TOML_EXCEPTIONS 1
#include <toml++/toml.h>

#include "core/nearest.hpp"

namespace wg {
namespace {

std::string location(const std::string& path, const toml::source_region& source) {
  return path + ":" + std::to_string(source.begin.line) + ":" + std::to_string(source.begin.column);
}

Error config_error(std::string message) { return Error{ErrorKind::usage, std::move(message), {}}; }

std::vector<std::string> names_of(const std::map<std::string, ValueKind>& keys) {
  std::vector<std::string> names;
  for (const auto& [name, kind] : keys) names.push_back(name);
  return names;
}

std::string unknown(const std::string& what, const std::string& name, const std::vector<std::string>& known) {
  auto guess = nearest(name, known);
  return "unknown " + what + " \"" + name + "\"" + (guess ? " (did you mean \"" + *guess + "\"?)" : "");
}

std::string number_text(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

// The value as the flag would take it, or an error naming what the key expects.
Result<std::string> value_text(const toml::node& node, ValueKind kind, const std::string& where) {
  if (kind == ValueKind::boolean) {
    if (auto flag = node.value<bool>()) return std::string(*flag ? "true" : "false");
    return config_error(where + ": expected true or false");
  }
  if (node.is_integer()) return std::to_string(*node.value<std::int64_t>());
  if (node.is_floating_point()) return number_text(*node.value<double>());
  if (node.is_string()) return *node.value<std::string>();
  return config_error(where + ": expected a number or a string such as \"40G\", \"80%\" or \"2m\"");
}

Result<std::vector<ConfigEntry>> read_settings(const std::string& path, const toml::table& table,
                                               const std::map<std::string, ValueKind>& keys) {
  std::vector<ConfigEntry> entries;
  for (auto&& [key, node] : table) {
    std::string name(key.str());
    std::string where = location(path, key.source());
    auto kind = keys.find(name);
    if (kind == keys.end()) return config_error(where + ": " + unknown("key", name, names_of(keys)));
    auto text = value_text(node, kind->second, where + ": " + name);
    if (!text) return text.error();
    entries.push_back({name, *text, where});
  }
  return entries;
}

Result<Ok> read_profiles(const std::string& path, const toml::node& node, const std::map<std::string, ValueKind>& keys,
                         ConfigFile& file) {
  const toml::table* profiles = node.as_table();
  if (!profiles) return config_error(location(path, node.source()) + ": profiles must be a table of [profiles.NAME]");
  for (auto&& [name, profile] : *profiles) {
    const toml::table* settings = profile.as_table();
    if (!settings) {
      return config_error(location(path, name.source()) + ": profile \"" + std::string(name.str()) + "\" must be a table");
    }
    auto entries = read_settings(path, *settings, keys);
    if (!entries) return entries.error();
    file.profiles[std::string(name.str())] = *entries;
  }
  return Ok{};
}

Result<ConfigFile> read_tables(const std::string& path, const toml::table& root,
                               const std::map<std::string, ValueKind>& keys) {
  ConfigFile file{path, {}, {}, {}, {}};
  for (auto&& [key, node] : root) {
    std::string name(key.str());
    std::string where = location(path, key.source());
    if (name == "defaults") {
      const toml::table* table = node.as_table();
      if (!table) return config_error(where + ": defaults must be a table ([defaults])");
      auto entries = read_settings(path, *table, keys);
      if (!entries) return entries.error();
      file.defaults = *entries;
    } else if (name == "policy") {
      const toml::table* table = node.as_table();
      if (!table) return config_error(where + ": policy must be a table ([policy])");
      auto entries = read_settings(path, *table, policy_keys());
      if (!entries) return entries.error();
      file.policy = *entries;
      file.policy_location = where;
    } else if (name == "profiles") {
      if (auto read = read_profiles(path, node, keys, file); !read) return read.error();
    } else if (keys.count(name)) {
      return config_error(where + ": \"" + name + "\" must be inside [defaults] or a [profiles.NAME] table");
    } else {
      return config_error(where + ": " + unknown("table", name, {"defaults", "profiles", "policy"}));
    }
  }
  return file;
}

// Where the first byte outside ASCII stands, as "line:column". TOML keys are ASCII, and
// toml++ 3.3 has undefined behavior on some other characters (a whitespace table with an
// unreachable branch, reachable from keys, values, and multi-line strings that look like
// comments), so config files are held to ASCII and such bytes never reach it.
std::optional<std::string> stray_non_ascii(const std::string& text) {
  std::size_t line = 1, column = 0;
  for (char c : text) {
    ++column;
    if (c == '\n') {
      ++line;
      column = 0;
    } else if (static_cast<unsigned char>(c) >= 0x80) {
      return std::to_string(line) + ":" + std::to_string(column);
    }
  }
  return std::nullopt;
}

}  // namespace

const std::map<std::string, ValueKind>& policy_keys() {
  static const std::map<std::string, ValueKind> keys = {{"max_gpus_per_user", ValueKind::value}};
  return keys;
}

Result<std::optional<ConfigFile>> read_config_file(const std::string& path, MissingFile missing,
                                                   const std::map<std::string, ValueKind>& keys) {
  struct stat info {};
  if (stat(path.c_str(), &info) != 0) {
    if (missing == MissingFile::allowed) return std::optional<ConfigFile>();
    return config_error("config file " + path + " does not exist (named by --config or WITH_GPU_CONFIG)");
  }
  if (!S_ISREG(info.st_mode)) return config_error("config file " + path + " is not a regular file");
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) return config_error("cannot read config file " + path);
  auto file = parse_config_text(text.str(), path, keys);
  if (!file) return file.error();
  return std::optional<ConfigFile>(std::move(*file));
}

Result<ConfigFile> parse_config_text(const std::string& text, const std::string& path,
                                     const std::map<std::string, ValueKind>& keys) {
  if (auto stray = stray_non_ascii(text)) {
    return config_error(path + ":" + *stray + ": a non-ASCII character; with-gpu config files are ASCII, comments included");
  }
  try {
    toml::table root = toml::parse(std::string_view(text), std::string_view(path));
    return read_tables(path, root, keys);
  } catch (const toml::parse_error& error) {
    return config_error(location(path, error.source()) + ": TOML syntax error: " + std::string(error.description()));
  }
}

}  // namespace wg
