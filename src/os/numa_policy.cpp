#include "os/numa_policy.hpp"

#include <dlfcn.h>
#include <numa.h>

#include <string>
#include <vector>

#include "core/text.hpp"

namespace wg {
namespace {

// The libnuma entry points used; the types come from Debian's numa.h.
struct Numa {
  decltype(&::numa_available) available = nullptr;
  decltype(&::numa_get_mems_allowed) mems_allowed = nullptr;
  decltype(&::numa_bitmask_isbitset) isbitset = nullptr;
  decltype(&::numa_bitmask_setbit) setbit = nullptr;
  decltype(&::numa_bitmask_free) free = nullptr;
  decltype(&::numa_allocate_nodemask) allocate = nullptr;
  decltype(&::numa_set_preferred) set_preferred = nullptr;
  decltype(&::numa_has_preferred_many) has_preferred_many = nullptr;  // libnuma 2.0.16+
  decltype(&::numa_set_preferred_many) set_preferred_many = nullptr;
};

template <class Fn>
void bind(void* handle, Fn& slot, const char* name) {
  slot = reinterpret_cast<Fn>(dlsym(handle, name));
}

Error failed(const std::string& why) { return Error{ErrorKind::internal, why, {}}; }

Result<Numa> load() {
  // Kept loaded: libnuma's state is the kernel's policy, which outlives the call anyway.
  void* handle = dlopen("libnuma.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!handle) return failed("libnuma.so.1 is not installed (Debian: apt install libnuma1)");
  Numa numa;
  bind(handle, numa.available, "numa_available");
  bind(handle, numa.mems_allowed, "numa_get_mems_allowed");
  bind(handle, numa.isbitset, "numa_bitmask_isbitset");
  bind(handle, numa.setbit, "numa_bitmask_setbit");
  bind(handle, numa.free, "numa_bitmask_free");
  bind(handle, numa.allocate, "numa_allocate_nodemask");
  bind(handle, numa.set_preferred, "numa_set_preferred");
  bind(handle, numa.has_preferred_many, "numa_has_preferred_many");
  bind(handle, numa.set_preferred_many, "numa_set_preferred_many");
  if (!numa.available || !numa.mems_allowed || !numa.isbitset || !numa.setbit || !numa.free || !numa.allocate ||
      !numa.set_preferred) {
    return failed("libnuma.so.1 lacks the functions with-gpu needs");
  }
  if (numa.available() < 0) return failed("this kernel has no NUMA support");
  return numa;
}

}  // namespace

Result<std::vector<int>> prefer_memory_nodes(const std::vector<int>& nodes) {
  auto numa = load();
  if (!numa) return numa.error();
  struct bitmask* allowed = numa->mems_allowed();
  std::vector<int> usable;
  for (int node : nodes) {
    if (node >= 0 && allowed && numa->isbitset(allowed, static_cast<unsigned>(node))) usable.push_back(node);
  }
  if (allowed) numa->free(allowed);
  if (usable.empty()) {
    std::vector<std::string> list;
    for (int node : nodes) list.push_back(std::to_string(node));
    return failed("NUMA node " + join(list, ",") + " is not one this process may allocate on");
  }
  bool many = usable.size() > 1 && numa->has_preferred_many && numa->set_preferred_many && numa->has_preferred_many() > 0;
  if (!many) {
    numa->set_preferred(usable.front());
    return std::vector<int>{usable.front()};
  }
  struct bitmask* mask = numa->allocate();
  for (int node : usable) numa->setbit(mask, static_cast<unsigned>(node));
  numa->set_preferred_many(mask);
  numa->free(mask);
  return usable;
}

}  // namespace wg
