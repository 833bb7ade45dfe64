#pragma once
// The waiting line as files: `<lock dir>/queue/` (mode 1777, like /tmp) holds one ticket
// per waiting launch, locked exclusively by it for as long as it waits. A ticket whose
// lock can be taken belongs to a launch that is gone: it is dead, and removed.

#include <sys/stat.h>

#include <map>
#include <string>

#include "core/queue.hpp"
#include "os/fd.hpp"
#include "os/safe_directory.hpp"

namespace wg {

// The queue directory of a lock directory.
std::string queue_path(const std::string& lock_dir);

class TicketQueue : public WaitQueue {
 public:
  explicit TicketQueue(const std::string& lock_dir);
  TicketQueue(const TicketQueue&) = delete;
  TicketQueue& operator=(const TicketQueue&) = delete;
  ~TicketQueue() override;

  void use_gpus(const std::vector<std::string>& uuids) override;
  Line read(const LineQuery& query) override;
  Result<Ok> enter(const Ticket& ticket) override;
  void leave() override;
  std::optional<std::string> own() const override { return own_; }
  bool changed_since_read(const std::set<std::string>& watched) override;

 private:
  // A ticket another launch holds, kept open while it is watched without inotify.
  struct Watched {
    UniqueFd fd;
    struct stat seen {};
  };
  bool open_directory(CreateLast create);
  bool still_named();
  Result<Ok> create_ticket(const Ticket& ticket, const std::string& text);
  std::optional<Ticket> read_ticket(const std::string& name);
  std::string ticket_text(const Ticket& ticket) const;
  std::optional<Ticket> parse_ticket(const std::string& text) const;
  std::vector<std::string> ticket_names();
  const std::string& owner_name(unsigned uid);
  std::string path_;
  UniqueFd dir_;
  UniqueFd ticket_;                  // ours, locked exclusively while this launch waits
  std::optional<std::string> own_;
  std::string written_;              // what our ticket says now
  std::map<std::string, Watched> watched_;
  std::map<unsigned, std::string> users_;  // uid -> name, looked up once
  std::vector<std::string> uuids_;          // NVML index -> UUID, as this process sees the GPUs
};

}  // namespace wg
