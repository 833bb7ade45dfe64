#include "cli/app.hpp"

#include <signal.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <map>
#include <set>
#include <memory>
#include <ctime>
#include <iostream>
#include <sstream>

#include "cli/exit_code.hpp"
#include "cli/options.hpp"
#include "core/allocation.hpp"
#include "core/identity.hpp"
#include "core/text.hpp"
#include "core/visible_devices.hpp"
#include "nvml/nvml_gpu_source.hpp"
#include "os/inotify_watch.hpp"
#include "os/launcher.hpp"
#include "os/proc_info.hpp"
#include "os/lock_dir.hpp"
#include "os/system_clock.hpp"
#include "os/kernelspec.hpp"
#include "os/live_terminal.hpp"
#include "os/wait_queue.hpp"
#include "output/decision_json.hpp"
#include "output/decision_report.hpp"
#include "output/format.hpp"
#include "output/kernelspec_json.hpp"
#include "output/status_json.hpp"
#include "output/status_table.hpp"
#include "output/topology_matrix.hpp"
#include "core/binding.hpp"
#include "os/cpu_affinity.hpp"
#include "os/device_access.hpp"
#include "os/numa_policy.hpp"
#include "output/wait_report.hpp"

namespace wg {
namespace {

constexpr std::chrono::milliseconds kDeletedClaimPoll{250};
// A GPU released this recently still shows its holder's memory: a waiter's ticket keeps
// it, so that a younger launch does not take it in the moment the readings lag.
constexpr std::chrono::milliseconds kReleaseSettle{1000};
constexpr std::chrono::milliseconds kCheckWhenServable{5};
constexpr std::chrono::milliseconds kCheckWhenBehind{20};
// How long a driver call begun at the --timeout may still take: well within the 100 ms
// in which a timeout must end the run.
constexpr std::chrono::milliseconds kLastLook{50};

ExitCode exit_code_for(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::usage: return ExitCode::usage;
    case ErrorKind::nvml_unavailable: return ExitCode::nvml_unavailable;
    case ErrorKind::no_suitable_gpu: return ExitCode::no_suitable_gpu;
    case ErrorKind::timed_out: return ExitCode::timed_out;
    case ErrorKind::interrupted: return ExitCode::interrupted;
    case ErrorKind::terminated: return ExitCode::terminated;
    case ErrorKind::lock_dir: return ExitCode::lock_dir;
    case ErrorKind::command_not_found: return ExitCode::not_found;
    case ErrorKind::command_not_executable: return ExitCode::not_executable;
    case ErrorKind::internal: return ExitCode::internal;
  }
  return ExitCode::internal;
}

int report(const Error& error, std::ostream& err) {
  err << "with-gpu: error: " << error.message << "\n" << error.details;
  err.flush();
  return static_cast<int>(exit_code_for(error.kind));
}

// One round of selection: the machine as read, the decision, and the claims if taken.
struct Round {
  Machine machine;
  SelectionOptions selection;
  Decision decision;
  bool allocation_named_by_uuid = false;
  std::unique_ptr<HeldClaims> held;
  std::optional<std::string> over_policy;  // why the chosen GPUs would break the [policy] limit
  Line line;                               // the waiting line as read for this round
};

class Flow {
 public:
  Flow(const Options& options, const Environment& env, Services& services, std::ostream& out, std::ostream& err)
      : options_(options), env_(env), services_(services), out_(out), err_(err),
        slurm_(options.ignore_slurm ? std::nullopt : slurm_job(env.slurm)) {}

  int run() {
    phase_start_ = services_.clock->now();
    if (auto checked = check_command(); !checked) return report(checked.error(), err_);
    auto source = services_.open_gpus(env_.nvml_library.value_or(kDefaultNvmlLibrary), options_.sample_window);
    if (!source) return report(source.error(), err_);
    source_ = std::move(*source);
    claims_ = services_.open_claims(lock_dir());
    if (services_.open_queue) queue_ = services_.open_queue(lock_dir());
    trace("load");
    if (options_.action == Action::init_lock_dir) return init_lock_dir();
    int status = options_.action == Action::status ? show_status() : select_and_launch();
    if (abandoned_ && services_.exit_now) {
      if (queue_) queue_->leave();
      out_.flush();
      err_.flush();
      services_.exit_now(status);
    }
    return status;
  }

 private:
  std::string lock_dir() const { return options_.lock_dir.value_or(env_.default_lock_dir); }

  // The command is looked up first, as exec will (one PATH search): a typo ends the run
  // at once with exec's status, before any GPU is chosen, waited for or claimed. A dry
  // run keeps the problem to show it with the decision.
  Result<Ok> check_command() {
    bool runs_command = options_.action == Action::run || options_.action == Action::dry_run;
    if (!runs_command || options_.command.empty()) return Ok{};
    auto found = services_.launcher->resolve(options_.command.front());
    if (found) return Ok{};
    Error problem = found.error();
    if (problem.kind == ErrorKind::command_not_found) problem.details += count_hint(options_.command.front());
    if (options_.action == Action::run) return problem;
    command_problem_ = std::move(problem);
    return Ok{};
  }

  // A number as the command is most likely a GPU count (nvisel's `-n 2`, which is
  // --dry-run here).
  std::string count_hint(const std::string& command) const {
    if (command.empty() || command.find_first_not_of("0123456789") != std::string::npos) return "";
    return "hint: did you mean --min-gpus " + command + "?" +
           (options_.action == Action::dry_run ? " (-n is --dry-run)" : "") + "\n";
  }

  // --init-lock-dir: root's hardened directory, a lock file for every GPU the driver lists.
  int init_lock_dir() {
    auto machine = source_->query(TopologyDetail::none);
    if (!machine) return report(machine.error(), err_);
    std::vector<std::string> uuids;
    for (const auto& gpu : machine->gpus) {
      if (!gpu.uuid.empty()) uuids.push_back(gpu.uuid);
    }
    auto done = services_.init_lock_dir(options_.init_lock_dir.value_or(kHardenedLockDir), uuids);
    if (!done) return report(done.error(), err_);
    out_ << *done;
    out_.flush();
    return 0;
  }

  // How much topology this run needs: pair links cost one NVML call per pair, so they
  // are read only to choose several GPUs by them or to show them.
  TopologyDetail topology_detail() const {
    const SelectionOptions& selection = options_.selection;
    if (options_.action == Action::status) {
      return options_.show_topology || options_.output == Output::json ? TopologyDetail::links
                                                                        : TopologyDetail::locality;
    }
    bool locality = selection.numa == Locality::require || options_.bind || wants_links() ||
                    (selection.numa == Locality::prefer && cpus_restricted());
    return locality ? TopologyDetail::locality : TopologyDetail::none;
  }

  // Several GPUs chosen by interconnect: links are read once the filters have run.
  bool wants_links() const {
    const SelectionOptions& selection = options_.selection;
    return options_.action != Action::status && std::max(selection.min_gpus, selection.max_gpus) >= 2 &&
           !options_.gpu_list && selection.topology == TopologyUse::prefer;
  }

  // Reads the links among the GPUs that passed the filters and decides again with them.
  Result<Ok> read_links_among_eligible(Round& round) {
    std::vector<unsigned> eligible;
    for (const auto& verdict : round.decision.verdicts) {
      if (verdict.reasons.empty()) eligible.push_back(verdict.index);
    }
    if (eligible.size() < 2) return Ok{};
    if (watch_) {
      auto linked = call_driver([machine = round.machine, eligible](GpuSource& source) mutable -> Result<Machine> {
        source.read_links(machine, eligible);
        return machine;
      });
      if (!linked) return linked.error();
      round.machine = std::move(*linked);
    } else {
      source_->read_links(round.machine, eligible);
    }
    round.decision = select_gpus(round.machine, round.selection);
    return Ok{};
  }

  // While waiting, a driver call runs on a thread of its own (ChangeWatch::run_until) so
  // that the timeout and SIGINT/SIGTERM end the run even when the driver hangs. The call
  // owns what it touches (the source is shared, the answer lives on the heap): abandoned,
  // it outlives this frame until the process ends. Without --wait it runs in line: no
  // timeout applies and no signal is blocked, so the default action of a signal ends it.
  Result<Machine> call_driver(std::function<Result<Machine>(GpuSource&)> call) {
    auto answer = std::make_shared<std::optional<Result<Machine>>>();
    auto deadline = std::chrono::steady_clock::time_point::max();
    // The last look, taken at the timeout itself, still gets a moment to answer.
    if (options_.timeout) deadline = std::max(start_ + *options_.timeout, services_.clock->now() + kLastLook);
    WakeEvent event = watch_->run_until([answer, source = source_, call] { answer->emplace(call(*source)); }, deadline);
    if (event.kind == Wake::done) return std::move(**answer);
    abandoned_ = true;
    if (event.kind == Wake::signal) return interrupted(event.signal);
    auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(services_.clock->now() - start_);
    return Error{ErrorKind::timed_out,
                 "timed out after " + seconds(elapsed) +
                     " waiting: the driver had not answered a query; nothing was claimed",
                 "hint: check that `nvidia-smi` answers promptly\n"};
  }

  // True when with-gpu may run on fewer CPUs than the machine has online.
  bool cpus_restricted() const {
    if (!env_.allowed_cpus || !env_.online_cpus) return false;
    return !(env_.online_cpus->intersection(*env_.allowed_cpus) == *env_.online_cpus);
  }

  Result<Machine> query_machine() {
    TopologyDetail detail = topology_detail();
    auto machine = watch_ ? call_driver([detail](GpuSource& source) { return source.query(detail); })
                          : source_->query(detail);
    if (machine && detail != TopologyDetail::none && services_.fill_locality) services_.fill_locality(*machine);
    if (machine && services_.check_device_access) services_.check_device_access(*machine);
    return machine;
  }

  // The driver's view plus every claim holder (one /proc/locks read: ~10 ms on some
  // kernels, so the launch path skips it and lets flock answer instead).
  Result<Machine> read_machine_and_holders() {
    auto machine = query_machine();
    trace("query");
    if (machine) claims_->read_holders(*machine);
    if (machine) mark_same_step(*machine);
    trace("holders");
    return machine;
  }

  // --status --watch: the driver opened once, a frame every interval until the user quits.
  int watch_status() {
    if (!services_.open_screen) return report(Error{ErrorKind::internal, "--watch needs a terminal screen", {}}, err_);
    auto screen = services_.open_screen(out_);
    start_ = services_.clock->now();  // the header's time moves on with each frame
    launching_ = true;
    watching_ = true;
    for (;;) {
      std::ostringstream frame;
      if (int status = show_status(frame); status != 0) return status;
      screen->show(frame.str());
      if (!out_) return 0;  // the reader went away (a closed pipe)
      if (screen->wait_until(services_.clock->now() + *options_.watch) == LiveEvent::quit) return 0;
    }
  }

  int show_status() { return options_.watch ? watch_status() : show_status(out_); }

  int show_status(std::ostream& out) {
    auto machine = read_machine_and_holders();
    if (!machine) return report(machine.error(), err_);
    // Only --status shows who runs each compute process; decisions never need it.
    if (services_.describe_processes) services_.describe_processes(*machine);
    ClaimsPlace place = claims_->place();
    auto allocation = describe_allocation(given(), *machine);
    auto rows = status_rows(*machine);
    if (!rows) return report(rows.error(), err_);
    std::vector<Ticket> waiters;
    if (queue_) {
      queue_->use_gpus(uuids_of(*machine));
      waiters = queue_->read({}).tickets;
    }
    if (options_.output == Output::json) {
      out << render_status_json(*machine,
                                 {env_.hostname, env_.timestamp, place, allocation, waiters, env_.now_ns, *rows});
    } else {
      bool colors = options_.color == ColorWhen::always ||
                    (options_.color == ColorWhen::automatic && env_.stdout_tty && !env_.no_color);
      Style style{colors ? Colors::on : Colors::off};
      out << render_status_table(*machine, {env_.nvml_library.value_or(kDefaultNvmlLibrary),
                                             env_.nvml_library.has_value(), options_.sample_window.count(), place,
                                             allocation, waiters, wall_now_ns(), *rows, table_columns(),
                                             env_.hostname, time_of_day(), &options_.selection},
                                  style);
      if (options_.show_topology) out << "\n" << render_topology_matrix(*machine);
    }
    out.flush();
    trace("render");
    print_trace();
    return 0;
  }

  // Under --status, --gpu and --gpu-type pick the rows (NVML indices); every GPU without them.
  Result<std::optional<std::vector<unsigned>>> status_rows(const Machine& machine) const {
    if (!options_.gpu_list && !options_.selection.gpu_type) return std::optional<std::vector<unsigned>>{};
    std::vector<unsigned> rows;
    if (options_.gpu_list) {
      auto listed = resolve_gpu_list(*options_.gpu_list, machine);
      if (!listed) return listed.error();
      rows = *listed;
    } else {
      for (const auto& gpu : machine.gpus) rows.push_back(gpu.index);
    }
    rows.erase(std::remove_if(rows.begin(), rows.end(),
                              [&](unsigned index) { return !matches_type(machine.gpus[index], options_.selection); }),
               rows.end());
    if (rows.empty()) {
      std::vector<std::string> models;
      for (const auto& gpu : machine.gpus) {
        if (std::find(models.begin(), models.end(), gpu.name) == models.end()) models.push_back(gpu.name);
      }
      std::string listed;
      for (const auto& model : models) listed += (listed.empty() ? "" : ", ") + model;
      return Error{ErrorKind::no_suitable_gpu,
                   "no GPU here matches --gpu-type " + *options_.selection.gpu_type + " (the models: " + listed + ")",
                   {}};
    }
    return std::optional<std::vector<unsigned>>(rows);
  }

  // The options for this machine: --gpu resolved, the inherited allocation applied.
  Result<Ok> prepare_selection(Round& round) {
    round.selection = options_.selection;
    round.selection.allowed_cpus = env_.allowed_cpus;
    round.selection.cpus_restricted = cpus_restricted();
    auto allocation = read_allocation(env_.cuda_visible_devices, round.machine);
    if (!allocation) return allocation.error();
    if (*allocation) {
      if ((*allocation)->indices.empty()) {
        return Error{ErrorKind::no_suitable_gpu,
                     "CUDA_VISIBLE_DEVICES='" + *env_.cuda_visible_devices +
                         "' allows no GPU; unset it to let with-gpu choose among all GPUs", {}};
      }
      round.selection.allocation = (*allocation)->indices;
      round.allocation_named_by_uuid = (*allocation)->named_by_uuid;
    }
    if (options_.all_gpus) {
      auto count = static_cast<unsigned>(usable_gpus(round.machine, round.selection.allocation));
      round.selection.min_gpus = round.selection.max_gpus = std::max(count, 1u);
    }
    if (options_.gpu_list) {
      auto manual = resolve_gpu_list(*options_.gpu_list, round.machine);
      if (!manual) return manual.error();
      for (unsigned index : *manual) {
        if (round.selection.allocation && std::find(round.selection.allocation->begin(),
                                                    round.selection.allocation->end(),
                                                    index) == round.selection.allocation->end()) {
          std::string allowed = join_numbers(*round.selection.allocation);
          return usage_error("--gpu " + std::to_string(index) + " is outside CUDA_VISIBLE_DEVICES='" +
                             *env_.cuda_visible_devices + "', which allows GPU" +
                             (round.selection.allocation->size() == 1 ? " " : "s ") + allowed +
                             " (--gpu takes NVML indices, as --status lists them)");
        }
      }
      round.selection.manual = *manual;
    }
    return Ok{};
  }

  // Claims the chosen set all-or-nothing. Selection runs before holders are known:
  // flock itself says which GPUs are taken, each lost GPU is marked and selection runs
  // again. Only when nothing is left are the holders read, so the reasons name them.
  Result<Ok> claim(Round& round) {
    bool holders_known = false;
    // Each try either succeeds or rules out one GPU (taken, or its lock file unusable).
    for (std::size_t tries = 0; tries <= 2 * round.machine.gpus.size() + 1; ++tries) {
      if (!round.decision.ok) {
        // Quick re-checks after a release skip the read: nobody is shown their result.
        if (holders_known || quick_recheck()) return Ok{};
        refresh_holders(round);
        holders_known = true;
        continue;
      }
      std::vector<const Gpu*> gpus;
      for (unsigned index : round.decision.chosen) gpus.push_back(&round.machine.gpus[index]);
      auto attempt = claims_->claim(gpus, round.selection.claim_mode);
      if (!attempt) return attempt.error();
      if (attempt->held) {
        round.held = std::move(attempt->held);
        return Ok{};
      }
      if (attempt->problem_index) {
        round.machine.gpus[*attempt->problem_index].lock_problem = attempt->problem;
      } else {
        Gpu& taken = round.machine.gpus[*attempt->conflict_index];
        if (taken.claims.empty()) taken.claims.push_back({0, ClaimMode::exclusive, {}, {}});  // holder not read yet
      }
      round.decision = select_gpus(round.machine, round.selection);
    }
    round.decision.ok = false;
    return Ok{};
  }

  // Temperature hysteresis for waiters: a GPU seen above --max-temp must then stay below
  // it for a whole sample window, so one hovering at the limit does not flip back and forth.
  void track_cooling(Round& round) {
    if (!round.selection.max_temp_c) return;
    auto now = services_.clock->now();
    for (const auto& gpu : round.machine.gpus) {
      if (gpu.temperature_c && *gpu.temperature_c > *round.selection.max_temp_c) last_hot_[gpu.uuid] = now;
      auto hot = last_hot_.find(gpu.uuid);
      if (hot == last_hot_.end()) continue;
      auto cooled = std::chrono::duration_cast<std::chrono::milliseconds>(now - hot->second);
      if (cooled < options_.sample_window) round.selection.cooling_ms[gpu.index] = cooled.count();
    }
  }

  void refresh_holders(Round& round) {
    claims_->read_holders(round.machine);
    mark_same_step(round.machine);
    round.decision = select_gpus(round.machine, round.selection);
  }

  // Attempts soon after a release: holders are not read and progress is not shown.
  bool quick_recheck() const { return settle_step_ >= 0; }

  Result<Round> try_once() {
    bool quick_launch = options_.action == Action::run && !policy_applies();
    auto machine = quick_launch ? query_machine() : read_machine_and_holders();
    if (!machine) return machine.error();
    if (quick_launch) trace("query");
    Round round;
    round.machine = std::move(*machine);
    if (auto prepared = prepare_selection(round); !prepared) return prepared.error();
    read_line(round);
    if (policy_applies()) fit_to_policy(round);
    if (options_.wait) track_cooling(round);
    round.decision = select_gpus(round.machine, round.selection);
    if (wants_links()) {
      if (auto linked = read_links_among_eligible(round); !linked) return linked.error();
    }
    trace("select");
    if (policy_applies()) {
      if (auto checked = check_policy(round); !checked) return checked.error();
    }
    if (options_.action == Action::run && !round.over_policy) {
      if (auto claimed = claim(round); !claimed) return claimed.error();
      trace("claim");
    }
    return round;
  }

  // The GPUs older waiters can use are not this launch's (a launch that does not wait is
  // younger than every waiter). A status or an --init-lock-dir never gets here.
  void read_line(Round& round) {
    if (!queue_) return;
    queue_->use_gpus(uuids_of(round.machine));
    round.line = queue_->read(line_query(round.machine));
    round.selection.queued = held_for_older(tickets_before(round.line.tickets, queue_->own()));
    trace("queue");
  }

  static std::vector<std::string> uuids_of(const Machine& machine) {
    std::vector<std::string> uuids;
    for (const auto& gpu : machine.gpus) uuids.push_back(gpu.uuid);
    return uuids;
  }

  // Enough of the line to know which GPUs are kept from this launch. A waiter reads from
  // the newest older ticket back, so the holders it finds are the ones to watch.
  LineQuery line_query(const Machine& machine) const {
    LineQuery query;
    query.covering.emplace();
    for (const auto& gpu : machine.gpus) query.covering->push_back(gpu.index);
    if (auto own = queue_->own()) {
      query.before = *own;
      query.from = LineQuery::From::newest;
    }
    return query;
  }

  // This waiter's ticket as the latest round shows it: over the [policy] limit it can use
  // nothing, so it keeps nothing from others.
  Ticket own_ticket(const Round& round) {
    auto now = services_.clock->now();
    std::set<unsigned> settling;
    for (const auto& verdict : round.decision.verdicts) {
      if (held_by_claim(verdict)) {
        seen_claimed_.insert(verdict.index);
        released_at_.erase(verdict.index);
      } else if (seen_claimed_.erase(verdict.index)) {
        released_at_[verdict.index] = now;
      }
      auto released = released_at_.find(verdict.index);
      if (released != released_at_.end() && now - released->second < settle_window()) settling.insert(verdict.index);
    }
    Ticket ticket;
    ticket.arrival_ns = env_.now_ns;
    ticket.pid = static_cast<int>(getpid());
    ticket.name = queue_->own().value_or(ticket_name(ticket.arrival_ns, ticket.pid));
    ticket.command = join_words(options_.command);
    ticket.needed = round.decision.needed;
    ticket.mode = round.selection.claim_mode;
    if (!round.over_policy) ticket.usable = usable_for_ticket(round.decision, round.selection, settling);
    return ticket;
  }

  // How long a released GPU's readings may still be its holder's: memory frees within
  // milliseconds, but an average over the sample window lags by the whole window.
  std::chrono::milliseconds settle_window() const {
    bool averaged = options_.selection.max_util_percent || options_.selection.max_power_w ||
                    options_.selection.max_power_fraction;
    return averaged ? std::max(kReleaseSettle, options_.sample_window + kReleaseSettle) : kReleaseSettle;
  }

  // Takes or updates this waiter's ticket and says where it stands. Without a ticket (the
  // queue directory cannot be written) it still waits, behind the others, saying so once.
  std::optional<QueuePlace> take_place(const Round& round) {
    if (!queue_ || no_ticket_) return std::nullopt;
    Ticket ticket = own_ticket(round);
    if (auto entered = queue_->enter(ticket); !entered) {
      no_ticket_ = true;
      if (!options_.quiet) err_ << "with-gpu: note: " << entered.error().message << "; waiting without a place in line\n";
      return std::nullopt;
    }
    own_ticket_ = ticket;
    return place_in_line(round.line, ticket, round.decision);
  }

  // What should wake this waiter: the older waiters' tickets that keep GPUs from it, and
  // released claims only when it could then be served. Without inotify the same is looked
  // at every few milliseconds through the claims and tickets, never the driver.
  WaitFor wake_conditions(const Round& round, const std::optional<QueuePlace>& place) {
    WaitFor wanted;
    std::vector<std::string> claimed;
    std::vector<unsigned> region = place ? place->region : std::vector<unsigned>{};
    for (const auto& verdict : round.decision.verdicts) {
      bool mine = !place || std::find(region.begin(), region.end(), verdict.index) != region.end();
      if (mine && held_by_claim(verdict)) claimed.push_back(round.machine.gpus[verdict.index].uuid);
    }
    if (place) {
      // Over the [policy] limit, its own user's release is what it waits for.
      wanted.releases = round.over_policy || region.size() >= round.decision.needed;
      wanted.tickets = tickets_holding(tickets_before(round.line.tickets, queue_->own()), place->usable);
    }
    // Without inotify: every 5 ms when a release could serve it, every 20 ms while waiters
    // ahead keep its GPUs (hundreds of those looking every 5 ms cost a core).
    wanted.check_every = wanted.releases ? kCheckWhenServable : kCheckWhenBehind;
    ClaimMode mode = round.selection.claim_mode;
    wanted.check = [this, claimed, mode, tickets = wanted.tickets, releases = wanted.releases] {
      return (queue_ && queue_->changed_since_read(tickets)) || (releases && claims_->any_claimable(claimed, mode));
    };
    return wanted;
  }

  // The admin's per-user limit binds launches only; holders are read for it, which a
  // launch otherwise skips (/proc/locks is slow on some kernels).
  bool policy_applies() const { return options_.policy && options_.action == Action::run; }

  // The real user's name, looked up only when a policy needs it (NSS can be slow).
  const std::string& current_user() const {
    if (!user_) user_ = env_.user.empty() ? user_name(static_cast<unsigned>(getuid())) : env_.user;
    return *user_;
  }

  // The GPUs this user holds claims on now, their own inherited ones included.
  std::vector<unsigned> gpus_of_user(const Machine& machine) const {
    std::vector<unsigned> held;
    for (const auto& gpu : machine.gpus) {
      bool ours = std::any_of(gpu.claims.begin(), gpu.claims.end(), [this](const ClaimHolder& holder) {
        return holder.user == current_user();
      });
      if (ours) held.push_back(gpu.index);
    }
    return held;
  }

  // A request for a range of GPUs takes no more than the policy leaves to this user.
  void fit_to_policy(Round& round) const {
    auto held = static_cast<unsigned>(gpus_of_user(round.machine).size());
    unsigned limit = options_.policy->max_gpus_per_user;
    unsigned left = limit > held ? limit - held : 0;
    if (round.selection.max_gpus > left && left >= round.selection.min_gpus) round.selection.max_gpus = left;
  }

  // A request the limit can never allow is an error at once, even with --wait; one that
  // fits once the user's other claims end marks the round instead. A GPU the user already
  // holds (a run inside its own claim) is not counted twice.
  Result<Ok> check_policy(Round& round) const {
    const UserPolicy& policy = *options_.policy;
    std::string allows = "the policy in " + policy.source + " allows " + std::to_string(policy.max_gpus_per_user) +
                         (policy.max_gpus_per_user == 1 ? " GPU" : " GPUs") + " per user at once";
    if (round.decision.needed > policy.max_gpus_per_user) {
      return Error{ErrorKind::no_suitable_gpu, allows + " and this asks for " + std::to_string(round.decision.needed),
                   {}};
    }
    if (!round.decision.ok) return Ok{};
    std::vector<unsigned> held = gpus_of_user(round.machine);
    unsigned more = 0;
    for (unsigned index : round.decision.chosen) {
      if (std::find(held.begin(), held.end(), index) == held.end()) ++more;
    }
    if (held.size() + more <= policy.max_gpus_per_user) return Ok{};
    round.over_policy = allows + "; " + current_user() + " already holds " + std::to_string(held.size()) + " (GPU " +
                        join_numbers(held) + ") and this asks for " + std::to_string(more);
    return Ok{};
  }

  // WITH_GPU_TRACE: the time since the previous phase, printed before exec (or exit) so a
  // slow start points at its phase.
  void trace(const char* phase) {
    if (!env_.trace) return;
    auto now = services_.clock->now();
    trace_ += std::string(trace_.empty() ? "" : ", ") + phase + " " +
              std::to_string(std::chrono::duration_cast<std::chrono::microseconds>(now - phase_start_).count()) + "us";
    phase_start_ = now;
  }

  void print_trace() {
    if (env_.trace && !trace_.empty()) err_ << "with-gpu: trace: " << trace_ << "\n";
    trace_.clear();
  }

  CudaEnvironment cuda_env_for(const Round& round) const {
    CallerCudaEnv caller{env_.cuda_visible_devices, env_.cuda_device_order};
    auto format = resolve_id_format(round.machine, options_.id_format, caller, round.allocation_named_by_uuid);
    return cuda_environment(round.machine, round.decision.chosen, format);
  }

  // Waits after a failed attempt: until the next driver poll, the timeout, a released
  // claim or a signal. On a TTY the progress line is refreshed every second meanwhile.
  Result<Ok> wait_for_next_attempt(Round& round, WaitReporter& reporter, ChangeWatch& watch) {
    waited_ = true;
    auto now = services_.clock->now();
    auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(now - start_);
    if (options_.timeout && elapsed >= *options_.timeout) {
      reporter.finish();
      return timed_out(round);
    }
    auto place = take_place(round);
    report_progress(round, place, elapsed, reporter, watch);
    WaitFor wanted = wake_conditions(round, place);
    auto next_attempt = next_attempt_at(round, now);
    for (;;) {
      auto tick = env_.stderr_tty ? std::min(next_attempt, now + std::chrono::seconds(1)) : next_attempt;
      WakeEvent event = watch.wait_until(tick, wanted);
      if (event.kind == Wake::signal) {
        reporter.finish();
        return interrupted(event.signal);
      }
      if (event.kind == Wake::claims_changed) {
        if (!wanted.releases && still_behind(round, wanted) && services_.clock->now() < next_attempt) continue;
        settle_step_ = 0;
        return Ok{};
      }
      now = services_.clock->now();
      if (now >= next_attempt) return Ok{};
      if (options_.quiet) continue;
      if (place) refresh_place(*place, reporter);
      reporter.tick(std::chrono::duration_cast<std::chrono::milliseconds>(now - start_));
    }
  }

  // The waiting line after an attempt. Quick re-checks after a release do not read the
  // holders, so they report only when the waiter's standing changed, reading them then.
  void report_progress(Round& round, const std::optional<QueuePlace>& place, std::chrono::milliseconds elapsed,
                       WaitReporter& reporter, const ChangeWatch& watch) {
    if (options_.quiet) return;
    std::string standing = place ? queue_standing(*place) : "";
    if (!quick_recheck() || standing != reported_standing_) {
      if (quick_recheck()) refresh_holders(round);
      reported_standing_ = standing;
      reporter.update(elapsed, round.decision.needed, standing,
                      round.over_policy ? *round.over_policy
                                        : wait_blockers(round.machine, round.decision, round.selection),
                      time_of_day());
    }
    if (!watch.notified() && !polling_said_) {
      polling_said_ = true;
      reporter.finish();
      err_ << "with-gpu: note: no inotify instance left for this user (fs.inotify.max_user_instances); "
              "looking at the claims every few milliseconds instead\n";
    }
  }

  // The next driver poll, or sooner: the timeout, or a claim held through a deleted lock
  // file, whose end wakes nobody.
  std::chrono::steady_clock::time_point next_attempt_at(const Round& round, std::chrono::steady_clock::time_point now) {
    auto next_attempt = now + next_delay(round.decision);
    claims_->track_claims(round.machine);
    if (claims_->tracks_deleted_claims()) next_attempt = std::min(next_attempt, now + kDeletedClaimPoll);
    if (options_.timeout) next_attempt = std::min(next_attempt, start_ + *options_.timeout);
    return next_attempt;
  }

  // The wall clock now: the start's reading, moved on by the steady clock since.
  std::int64_t wall_now_ns() const {
    if (!launching_) return env_.now_ns;
    return env_.now_ns + std::chrono::duration_cast<std::chrono::nanoseconds>(services_.clock->now() - start_).count();
  }

  // The table's width: the terminal's, one column short under --watch (a line that fills
  // the last column, then "clear to end of line", loses its last character on some terminals).
  std::size_t table_columns() const {
    return watching_ && env_.stdout_columns > 1 ? env_.stdout_columns - 1 : env_.stdout_columns;
  }

  // The wall clock now, "14:03:27" in local time, for waiting lines in logs.
  std::string time_of_day() const {
    std::time_t seconds = static_cast<std::time_t>(wall_now_ns() / 1'000'000'000);
    std::tm parts{};
    char text[16] = {};
    if (localtime_r(&seconds, &parts)) std::strftime(text, sizeof text, "%H:%M:%S", &parts);
    return text;
  }

  // On a terminal, the place in line shown each second: waiters ahead leaving do not wake
  // this one, so it counts the tickets ahead (names only, no ticket is read).
  void refresh_place(QueuePlace& place, WaitReporter& reporter) {
    auto own = queue_->own();
    if (!own) return;
    Line counted = queue_->read({own, std::vector<unsigned>{}, LineQuery::From::newest});
    place.place = counted.older + 1;
    place.waiters = std::max(counted.total, place.place);
    std::string standing = queue_standing(place);
    if (standing == reported_standing_) return;
    reported_standing_ = standing;
    reporter.change_standing(standing);
  }

  // Woken by the line alone: while older waiters still keep too many of its GPUs, a
  // waiter waits on without asking the driver, so that of hundreds waiting only those that
  // could be served look.
  bool still_behind(Round& round, WaitFor& wanted) {
    if (!queue_ || !own_ticket_) return false;
    round.line = queue_->read(line_query(round.machine));
    QueuePlace place = place_in_line(round.line, *own_ticket_, round.decision);
    if (place.region.size() >= round.decision.needed) return false;
    wanted = wake_conditions(round, place);
    return true;
  }

  // After a wake, quick re-checks before the regular --poll-interval. One, because the
  // kernel reports a closed lock file just before it drops the lock. More only when a
  // GPU is held back by a reading (memory, utilization) rather than a claim: the freed
  // memory can lag the release (the holder's driver handles close after its lock file).
  std::chrono::milliseconds next_delay(const Decision& decision) {
    using std::chrono::milliseconds;
    if (cooling(decision)) return std::min(options_.poll_interval, std::max(milliseconds(100), options_.sample_window / 5));
    static constexpr milliseconds kSettle[] = {milliseconds(2),  milliseconds(10),  milliseconds(25), milliseconds(50),
                                               milliseconds(100), milliseconds(250), milliseconds(500)};
    bool more = settle_step_ == 0 || (settle_step_ > 0 && !blocked_only_by_claims(decision));
    if (more && settle_step_ < int(std::size(kSettle))) return std::min(kSettle[settle_step_++], options_.poll_interval);
    settle_step_ = -1;
    return options_.poll_interval;
  }

  static bool any_reason(const Decision& decision, bool (*matches)(Filter)) {
    for (const auto& verdict : decision.verdicts) {
      for (const auto& reason : verdict.reasons) {
        if (matches(reason.filter)) return true;
      }
    }
    return false;
  }

  // A GPU too hot, or cooling down, is watched more often than the regular poll: its
  // whole window must be seen below the limit.
  static bool cooling(const Decision& decision) {
    return any_reason(decision, [](Filter filter) { return filter == Filter::cooling || filter == Filter::max_temp; });
  }

  static bool blocked_only_by_claims(const Decision& decision) {
    return !any_reason(decision, [](Filter filter) {
      return filter != Filter::claimed && filter != Filter::shared && filter != Filter::not_allocated &&
             filter != Filter::no_access;
    });
  }

  static Error interrupted(int signal) {
    if (signal == SIGTERM) return Error{ErrorKind::terminated, "terminated while waiting; nothing was claimed", {}};
    return Error{ErrorKind::interrupted, "interrupted while waiting; nothing was claimed", {}};
  }

  int select_and_launch() {
    start_ = services_.clock->now();
    launching_ = true;
    if (auto inside = check_slurm(); !inside) return report(inside.error(), err_);
    if (options_.wait && options_.action == Action::run) {
      if (auto ready = claims_->prepare(); !ready) return report(ready.error(), err_);
      watch_ = services_.open_watch(lock_dir());
    }
    WaitReporter reporter(err_, env_.stderr_tty ? Terminal::tty : Terminal::not_tty, env_.stderr_columns,
                          job_name(options_.command));
    std::optional<Round> last;  // the driver's latest answer, for a timeout during the next query
    for (;;) {
      auto round = try_once();
      if (!round) {
        reporter.finish();
        if (last && round.error().kind == ErrorKind::timed_out) {
          return report(timed_out(*last, "the driver had not answered its latest query; these reasons are from the "
                                         "one before\n"),
                        err_);
        }
        return report(round.error(), err_);
      }
      if (options_.action == Action::dry_run) return show_dry_run(*round);
      if (options_.action == Action::print_env) return print_env(*round);
      if (round->held) {
        if (queue_) queue_->leave();
        reporter.finish();
        watch_.reset();  // restores the signal mask before exec
        return launch(*round);
      }
      if (!options_.wait) return report(no_gpu_error(*round, ErrorKind::no_suitable_gpu, ""), err_);
      if (auto waited = wait_for_next_attempt(*round, reporter, *watch_); !waited) {
        return report(waited.error(), err_);
      }
      last = std::move(*round);
    }
  }

  // The timeout's message: what the latest round rejected, and `note` before the hint.
  Error timed_out(Round& round, const std::string& note = "") {
    auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(services_.clock->now() - start_);
    if (quick_recheck()) refresh_holders(round);
    Error error = no_gpu_error(round, ErrorKind::timed_out, "timed out after " + seconds(elapsed) + " waiting: ");
    auto hint = error.details.rfind("hint: ");
    error.details.insert(hint == std::string::npos ? error.details.size() : hint, note);
    return error;
  }

  // "; waited 12.3s" on the line that starts the command, when it had to wait.
  std::string waited_note() const {
    if (!waited_) return "";
    auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(services_.clock->now() - start_);
    return "; waited " + (waited < std::chrono::minutes(1) ? seconds(waited) : format_elapsed(waited));
  }

  static std::string seconds(std::chrono::milliseconds duration) {
    auto tenths = duration.count() / 100;
    std::string text = std::to_string(tenths / 10);
    if (tenths % 10) text += '.' + std::to_string(tenths % 10);
    return text + 's';
  }

  Error no_gpu_error(const Round& round, ErrorKind kind, const std::string& prefix) const {
    if (round.over_policy) return Error{kind, prefix + *round.over_policy, {}};
    std::string headline = no_gpu_headline(round.decision);
    // Asking for more than the allocation holds: say so, naming who gave it.
    if (round.selection.allocation && round.decision.needed > round.selection.allocation->size()) {
      headline = too_few_headline(round.decision.needed, round.selection.allocation->size(), given());
    }
    return Error{kind, prefix + headline,
                 rejection_lines(round.machine, round.decision) + "hint: run `with-gpu --status` to see every GPU\n"};
  }

  Given given() const { return {slurm_, env_.cuda_visible_devices}; }

  Result<Ok> check_slurm() {
    if (auto refusal = slurm_refusal(given())) return Error{ErrorKind::no_suitable_gpu, *refusal, {}};
    if (auto warning = slurm_count_warning(given()); warning && !options_.quiet) {
      err_ << "with-gpu: warning: " << *warning << "\n";
    }
    return Ok{};
  }

  std::string share_of_allocation(const Round& round) const {
    if (!round.selection.allocation) return "";
    return share_of_job(round.decision.chosen.size(), round.selection.allocation->size(), given());
  }

  // Marks the holders that are tasks of this same Slurm job step, so that a refusal can
  // point to --share (`srun -n2 --gres=gpu:2 with-gpu --min-gpus 2`).
  void mark_same_step(Machine& machine) const {
    if (!slurm_ || !services_.slurm_step_of) return;
    for (auto& gpu : machine.gpus) {
      for (auto& holder : gpu.claims) {
        holder.same_job_step = holder.pid > 0 && services_.slurm_step_of(holder.pid) == step_key(*slurm_);
      }
    }
  }

  int show_dry_run(const Round& round) {
    CudaEnvironment env = cuda_env_for(round);
    ClaimsPlace place = claims_->place();
    const Error* command = command_problem_ ? &*command_problem_ : nullptr;
    const CudaEnvironment* shown = round.decision.ok && !place.problem && !command ? &env : nullptr;
    std::optional<Binding> binding;
    if (options_.bind && round.decision.ok) binding = plan_binding(round.machine, round.decision.chosen, env_.allowed_cpus);
    const Binding* plan = binding ? &*binding : nullptr;
    if (options_.output == Output::json) {
      out_ << render_decision_json(round.machine, round.decision, round.selection, shown, options_.command, plan, place,
                                   command);
    } else {
      out_ << render_dry_run(round.machine, round.decision, shown, options_.command, plan, place, command);
    }
    out_.flush();
    if (command) return static_cast<int>(exit_code_for(command->kind));
    if (!round.decision.ok) return static_cast<int>(ExitCode::no_suitable_gpu);
    return place.problem ? static_cast<int>(ExitCode::lock_dir) : 0;
  }

  // For eval "$(with-gpu --print-env ...)": the variables only, nothing claimed.
  int print_env(const Round& round) {
    if (!round.decision.ok) return report(no_gpu_error(round, ErrorKind::no_suitable_gpu, ""), err_);
    CudaEnvironment env = cuda_env_for(round);
    out_ << "export CUDA_VISIBLE_DEVICES=" << env.visible_devices << "\n";
    if (env.device_order) out_ << "export CUDA_DEVICE_ORDER=" << *env.device_order << "\n";
    out_.flush();
    if (!options_.quiet) {
      err_ << "with-gpu: " << selection_summary(round.machine, round.decision, env, share_of_allocation(round))
           << " (not claimed: another launch may choose it too)\n";
    }
    return 0;
  }

  int launch(Round& round) {
    CudaEnvironment cuda = cuda_env_for(round);
    if (!options_.quiet) {
      for (const auto& warning : round.decision.warnings) {
        err_ << "with-gpu: warning: "
             << format_warning(round.machine.gpus[warning.index], warning, round.selection) << "\n";
      }
      err_ << "with-gpu: " << selection_summary(round.machine, round.decision, cuda, share_of_allocation(round))
           << waited_note() << "\n";
    }
    EnvChanges changes = {{"CUDA_VISIBLE_DEVICES", cuda.visible_devices}};
    if (cuda.device_order) changes.emplace_back("CUDA_DEVICE_ORDER", *cuda.device_order);
    changes.emplace_back(kClaimsVariable, round.held->descriptors());
    if (options_.bind) bind(round);
    source_.reset();  // nvmlShutdown: no driver handle leaks into the command
    round.held->keep_across_exec();
    trace("prepare exec");
    print_trace();
    out_.flush();
    err_.flush();
    return report(services_.launcher->exec(options_.command, changes), err_);
  }

  // --bind: the command inherits this process's CPU affinity and memory policy. A
  // binding that cannot be made is a warning: the command still runs.
  void bind(const Round& round) {
    Binding plan = plan_binding(round.machine, round.decision.chosen, env_.allowed_cpus);
    auto warn = [this](const std::string& what) {
      if (!options_.quiet) err_ << "with-gpu: warning: --bind: " << what << "\n";
    };
    if (!plan.problem.empty()) return warn(plan.problem + "; the command keeps the CPUs with-gpu was given");
    if (services_.pin_cpus) {
      if (auto pinned = services_.pin_cpus(plan.cpus); !pinned) return warn(pinned.error().message);
    }
    std::string why_not = "NUMA node unknown";
    if (!plan.memory_nodes.empty() && services_.prefer_memory) {
      auto preferred = services_.prefer_memory(plan.memory_nodes);
      plan.memory_nodes = preferred ? *preferred : std::vector<int>{};
      if (!preferred) why_not = preferred.error().message;
    }
    if (!options_.quiet) err_ << "with-gpu: bound to " << describe_binding(plan, why_not) << "\n";
  }

  const Options& options_;
  const Environment& env_;
  Services& services_;
  std::ostream& out_;
  std::ostream& err_;
  std::optional<SlurmJob> slurm_;  // the Slurm job this runs in, unless --ignore-slurm
  std::shared_ptr<GpuSource> source_;  // shared with a driver call that may be abandoned
  std::unique_ptr<ClaimStore> claims_;
  std::unique_ptr<ChangeWatch> watch_;  // while waiting: wakes, signals, driver calls
  std::unique_ptr<WaitQueue> queue_;    // the waiting line; none in tests of the flow
  bool no_ticket_ = false;              // the queue directory refused a ticket: said once
  std::optional<Ticket> own_ticket_;    // as last written
  std::string reported_standing_;       // the place in line last shown
  bool polling_said_ = false;           // no inotify: said once
  std::set<unsigned> seen_claimed_;      // GPUs claimed at this waiter's latest look
  std::map<unsigned, std::chrono::steady_clock::time_point> released_at_;  // NVML index -> first seen free again
  std::optional<Error> command_problem_;  // dry run: why the command could not run
  bool abandoned_ = false;               // a driver call still runs: end without unloading the driver
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point phase_start_;
  std::string trace_;
  mutable std::optional<std::string> user_;  // current_user(), once looked up
  bool launching_ = false;  // start_ is set: the clock runs for waiting lines and watched frames
  bool watching_ = false;   // --watch: frames drawn over one another
  bool waited_ = false;  // an attempt failed and the run waited: the start line says for how long
  int settle_step_ = -1;  // position in the quick re-checks after a release; -1 when off
  std::map<std::string, std::chrono::steady_clock::time_point> last_hot_;  // UUID -> seen above --max-temp
};

std::optional<std::string> getenv_opt(const char* name) {
  const char* value = std::getenv(name);
  return value ? std::optional<std::string>(value) : std::nullopt;
}

// COLUMNS when set to a number (what the shell says), else the width of the terminal on
// `fd`; 0 when neither says (piped).
std::size_t terminal_columns(int fd) {
  auto columns = getenv_opt("COLUMNS");
  if (columns && !columns->empty() && columns->size() < 6 &&
      columns->find_first_not_of("0123456789") == std::string::npos && std::stoul(*columns) > 0) {
    return std::stoul(*columns);
  }
  winsize size{};
  if (ioctl(fd, TIOCGWINSZ, &size) == 0) return size.ws_col;
  return 0;
}

Environment read_environment() {
  Environment env;
  env.lock_dir = getenv_opt("WITH_GPU_LOCK_DIR");
  env.config = getenv_opt("WITH_GPU_CONFIG");
  env.profile = getenv_opt("WITH_GPU_PROFILE");
  env.xdg_config_home = getenv_opt("XDG_CONFIG_HOME");
  env.home = getenv_opt("HOME");
  env.system_config = getenv_opt("WITH_GPU_SYSTEM_CONFIG");
  env.nvml_library = getenv_opt("WITH_GPU_NVML_LIBRARY");
  env.cuda_visible_devices = getenv_opt("CUDA_VISIBLE_DEVICES");
  env.cuda_device_order = getenv_opt("CUDA_DEVICE_ORDER");
  env.inherited_claims = getenv_opt(kClaimsVariable);
  env.slurm = {getenv_opt("SLURM_JOB_ID"), getenv_opt("SLURM_STEP_ID"), getenv_opt("SLURM_JOB_GPUS"),
               getenv_opt("SLURM_STEP_GPUS"), getenv_opt("SLURM_GPUS_ON_NODE")};
  env.default_lock_dir = default_lock_dir();
  env.no_color = getenv_opt("NO_COLOR").has_value();
  env.trace = getenv_opt("WITH_GPU_TRACE").value_or("0") != "0";
  env.allowed_cpus = allowed_cpus();
  env.online_cpus = online_cpus();
  env.stdout_tty = isatty(STDOUT_FILENO) == 1;
  // A waiter started in the background (`&`) shares the terminal with others: rewriting
  // one line in place would overwrite theirs, so it writes a line per change instead.
  env.stderr_tty = isatty(STDERR_FILENO) == 1 && tcgetpgrp(STDERR_FILENO) == getpgrp();
  env.stderr_columns = terminal_columns(STDERR_FILENO);
  env.stdout_columns = terminal_columns(STDOUT_FILENO);
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) == 0) env.hostname = host;
  std::time_t now = std::time(nullptr);
  char stamp[32] = {};
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  env.timestamp = stamp;
  env.now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                   std::chrono::system_clock::now().time_since_epoch()).count();
  return env;
}

// A kernelspec whose argv is `with-gpu FLAGS -- python3 -m ipykernel_launcher -f FILE`:
// every kernel started from it claims its own GPUs, held until the kernel process ends.
Result<std::string> install_kernel(const std::string& name, const std::vector<std::string>& flags) {
  auto paths = kernel_paths(name);
  if (!paths) return paths.error();
  std::vector<std::string> argv = {paths->with_gpu};
  argv.insert(argv.end(), flags.begin(), flags.end());
  argv.insert(argv.end(), {"--", paths->python, "-m", "ipykernel_launcher", "-f", "{connection_file}"});
  std::string display = "Python 3 (with-gpu" + (flags.empty() ? std::string() : " " + join_words(flags)) + ")";
  if (auto written = write_kernel_json(paths->dir, render_kernelspec(argv, display)); !written) {
    return written.error();
  }
  return "with-gpu: installed Jupyter kernel \"" + name + "\" in " + paths->dir +
         ": each kernel started from it claims its own GPU and frees it when the kernel shuts down\n";
}

Result<std::unique_ptr<GpuSource>> open_nvml(const std::string& library, std::chrono::milliseconds sample_window) {
  auto nvml = NvmlLibrary::open(library);
  if (!nvml) return nvml.error();
  return std::unique_ptr<GpuSource>(std::make_unique<NvmlGpuSource>(std::move(*nvml), sample_window));
}

}  // namespace

int run_app(const std::vector<std::string>& args, const Environment& env, Services& services, std::ostream& out,
            std::ostream& err) {
  SettingSources sources{env.config, env.profile, env.lock_dir, user_config_path(env.xdg_config_home, env.home),
                         env.system_config.value_or("/etc/with-gpu/config.toml")};
  sources.default_lock_dir = env.default_lock_dir;
  auto options = parse_options(args, sources);
  if (!options) return report(options.error(), err);
  if (options->action == Action::print_text) {
    out << options->text;
    return 0;
  }
  if (options->action == Action::install_kernel) {
    if (!services.install_kernel) return report(Error{ErrorKind::internal, "cannot install kernels here", {}}, err);
    auto installed = services.install_kernel(options->kernel_name, options->kernel_flags);
    if (!installed) return report(installed.error(), err);
    out << *installed;
    return 0;
  }
  Flow flow(*options, env, services, out, err);
  return flow.run();
}

int run(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  Environment env = read_environment();
  SystemClock clock;
  ExecLauncher launcher;
  auto open_claims = [&env](const std::string& dir) {
    return std::unique_ptr<ClaimStore>(new LockDir(dir, env.inherited_claims));
  };
  Services services{open_nvml, open_claims,
                    [](const std::string& dir) { return std::unique_ptr<ChangeWatch>(new InotifyWatch(dir)); }, &clock,
                    &launcher, describe_processes};
  services.fill_locality = [](Machine& machine) { fill_locality_from_sysfs(machine); };
  services.pin_cpus = pin_to_cpus;
  services.slurm_step_of = slurm_step_of;
  services.init_lock_dir = init_hardened_lock_dir;
  services.prefer_memory = prefer_memory_nodes;
  services.exit_now = [](int status) { std::_Exit(status); };
  services.check_device_access = [](Machine& machine) { mark_refused_device_nodes(machine); };
  services.open_queue = [](const std::string& dir) { return std::unique_ptr<WaitQueue>(new TicketQueue(dir)); };
  services.install_kernel = install_kernel;
  services.open_screen = [&env](std::ostream& out) {
    return std::unique_ptr<LiveScreen>(new LiveTerminal(out, env.stdout_tty));
  };
  return run_app(args, env, services, std::cout, std::cerr);
}

}  // namespace wg
