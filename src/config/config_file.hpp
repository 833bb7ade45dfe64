#pragma once
// with-gpu's TOML configuration files: [defaults] and [profiles.NAME] tables of
// settings named as the long flags in snake_case, and the admin's [policy]. Only this
// module knows toml++.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"

namespace wg {

// What a key accepts: a boolean (for flags without a value) or a value given as a
// number or a string with units ("40G", "80%", "2m").
enum class ValueKind { boolean, value };

// One setting as written: the value as text ("8000", "40G", "true") and where it is.
struct ConfigEntry {
  std::string key;
  std::string value;
  std::string location;  // "path:line:column"
};

struct ConfigFile {
  std::string path;
  std::vector<ConfigEntry> defaults;
  std::map<std::string, std::vector<ConfigEntry>> profiles;
  // [policy]: limits users cannot override; the caller accepts it only from the system file.
  std::vector<ConfigEntry> policy;
  std::optional<std::string> policy_location;  // "path:line:column" of the [policy] table
};

// The keys a [policy] table accepts.
const std::map<std::string, ValueKind>& policy_keys();

enum class MissingFile { allowed, error };

// Reads and checks the structure of a config file: TOML syntax, known tables and keys
// (with "did you mean" for others), and each value's TOML type. Value ranges are the
// caller's (they are the flags' rules). Empty when the file is missing and allowed to be.
Result<std::optional<ConfigFile>> read_config_file(const std::string& path, MissingFile missing,
                                                   const std::map<std::string, ValueKind>& keys);

// The same checks on text already read; `path` names it in messages.
Result<ConfigFile> parse_config_text(const std::string& text, const std::string& path,
                                     const std::map<std::string, ValueKind>& keys);

}  // namespace wg
