#include "cli/app.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <memory>
#include <set>

#include "cli/commands.hpp"
#include "cli/exit_code.hpp"
#include "cli/options.hpp"
#include "cli/phase_trace.hpp"
#include "cli/round.hpp"
#include "core/allocation.hpp"
#include "core/binding.hpp"
#include "core/gpu_list.hpp"
#include "core/identity.hpp"
#include "core/text.hpp"
#include "core/user_policy.hpp"
#include "core/visible_devices.hpp"
#include "core/wait_policy.hpp"
#include "nvml/nvml_gpu_source.hpp"
#include "os/cpu_affinity.hpp"
#include "os/device_access.hpp"
#include "os/inotify_watch.hpp"
#include "os/kernelspec.hpp"
#include "os/launcher.hpp"
#include "os/live_terminal.hpp"
#include "os/lock_dir.hpp"
#include "os/numa_policy.hpp"
#include "os/proc_info.hpp"
#include "os/system_clock.hpp"
#include "os/wait_queue.hpp"
#include "output/decision_report.hpp"
#include "output/format.hpp"
#include "output/kernelspec_json.hpp"
#include "output/wait_report.hpp"

namespace wg {
namespace {

// How long a driver call begun at the --timeout may still take: well within the 100 ms
// in which a timeout must end the run.
constexpr std::chrono::milliseconds kLastLook{50};

WaitPace wait_pace(const Options& options) {
  const SelectionOptions& selection = options.selection;
  bool averaged = selection.max_util_percent || selection.max_power_w || selection.max_power_fraction;
  return {.poll_interval = options.poll_interval,
          .sample_window = options.sample_window,
          .readings = averaged ? WaitPace::Readings::averaged : WaitPace::Readings::instant};
}

class Flow {
 public:
  Flow(const Options& options, const Environment& env, Services& services, std::ostream& out, std::ostream& err)
      : options_(options), env_(env), services_(services), out_(out), err_(err),
        slurm_(options.ignore_slurm ? std::nullopt : slurm_job(env.slurm)),
        policy_(wait_pace(options)), trace_(env.trace ? Tracing::on : Tracing::off, *services.clock) {}

  int run() {
    trace_.start();
    if (auto checked = check_command(); !checked) return report(checked.error(), err_);
    auto source = services_.open_gpus(env_.nvml_library.value_or(kDefaultNvmlLibrary), options_.sample_window);
    if (!source) return report(source.error(), err_);
    source_ = std::move(*source);
    claims_ = services_.open_claims(lock_dir());
    if (services_.open_queue) queue_ = services_.open_queue(lock_dir());
    trace_.mark("load");
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
    trace_.mark("query");
    if (machine) claims_->read_holders(*machine);
    if (machine) mark_same_step(*machine);
    trace_.mark("holders");
    return machine;
  }

  int show_status() {
    StatusInputs inputs{[this] { return read_machine_and_holders(); }, services_, *claims_, queue_.get(), given(),
                        trace_};
    return wg::show_status(context(), inputs);
  }

  CommandContext context() const { return {options_, env_, out_, err_}; }

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
      // Every whole GPU; where there are only MIG instances, one of them (a process uses one).
      auto whole = static_cast<unsigned>(whole_gpus(round.machine, round.selection.allocation));
      round.selection.whole_gpus_only = whole > 0;
      round.selection.min_gpus = round.selection.max_gpus = std::max(whole, 1u);
    }
    if (options_.gpu_list) {
      auto manual = resolve_gpu_list(*options_.gpu_list, round.machine);
      if (!manual) return manual.error();
      if (auto launchable = check_launch_devices(*manual, round.machine, "--gpu"); !launchable) {
        return launchable.error();
      }
      for (unsigned index : *manual) {
        if (round.selection.allocation && std::find(round.selection.allocation->begin(),
                                                    round.selection.allocation->end(),
                                                    index) == round.selection.allocation->end()) {
          return outside_allocation(round, index);
        }
      }
      round.selection.manual = *manual;
    }
    return Ok{};
  }

  // --gpu names a device the inherited CUDA_VISIBLE_DEVICES does not allow. Instances are
  // named by label and UUID: their place in Machine::gpus is no number users see.
  Error outside_allocation(const Round& round, unsigned index) const {
    const auto& allocation = *round.selection.allocation;
    const Gpu& gpu = round.machine.gpus[index];
    std::string named = gpu.mig ? gpu.uuid : std::to_string(index);
    std::string allowed = join_numbers(allocation);
    if (allocation.size() == 1 && round.machine.gpus[allocation[0]].mig) {
      allowed = device_label(round.machine.gpus[allocation[0]]);
    } else {
      allowed = (allocation.size() == 1 ? "GPU " : "GPUs ") + allowed;
    }
    return usage_error("--gpu " + named + " is outside CUDA_VISIBLE_DEVICES='" + *env_.cuda_visible_devices +
                       "', which allows " + allowed + " (--gpu takes NVML indices, as --status lists them)");
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
        if (holders_known || policy_.quick_recheck()) return Ok{};
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

  void refresh_holders(Round& round) {
    claims_->read_holders(round.machine);
    mark_same_step(round.machine);
    round.decision = select_gpus(round.machine, round.selection);
  }

  Result<Round> try_once() {
    bool quick_launch = options_.action == Action::run && !policy_applies();
    auto machine = quick_launch ? query_machine() : read_machine_and_holders();
    if (!machine) return machine.error();
    if (quick_launch) trace_.mark("query");
    // A claim on a whole GPU covers its MIG instances, which the flock on an instance's
    // own lock file does not see: on a machine with MIG, the holders are read first.
    if (quick_launch && std::any_of(machine->gpus.begin(), machine->gpus.end(),
                                    [](const Gpu& gpu) { return gpu.split_by_mig(); })) {
      claims_->read_holders(*machine);
    }
    Round round;
    round.machine = std::move(*machine);
    if (auto prepared = prepare_selection(round); !prepared) return prepared.error();
    read_line(round);
    if (policy_applies()) fit_to_policy(round.selection, *options_.policy, round.machine, current_user());
    if (options_.wait) policy_.track_cooling(round.machine, round.selection, services_.clock->now());
    round.decision = select_gpus(round.machine, round.selection);
    if (wants_links()) {
      if (auto linked = read_links_among_eligible(round); !linked) return linked.error();
    }
    trace_.mark("select");
    // A request the limit never allows fails at once, even with --wait; one over it now
    // marks the round, which then waits for the user's own releases.
    if (policy_applies()) {
      auto over = check_policy(*options_.policy, round.machine, round.decision, current_user());
      if (!over) return over.error();
      round.over_policy = std::move(*over);
    }
    if (options_.action == Action::run && !round.over_policy) {
      if (auto claimed = claim(round); !claimed) return claimed.error();
      trace_.mark("claim");
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
    trace_.mark("queue");
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
    std::set<unsigned> settling = policy_.settling(round.decision, services_.clock->now());
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
    wanted.check_every = WaitPolicy::check_every(wanted.releases ? Standing::servable : Standing::behind);
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
        policy_.woken();
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
    if (!policy_.quick_recheck() || standing != reported_standing_) {
      if (policy_.quick_recheck()) refresh_holders(round);
      reported_standing_ = standing;
      reporter.update(elapsed, round.decision.needed, standing,
                      round.over_policy ? *round.over_policy
                                        : wait_blockers(round.machine, round.decision, round.selection),
                      time_of_day(wall_now_ns()));
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
    claims_->track_claims(round.machine);
    DeletedClaims deleted = claims_->tracks_deleted_claims() ? DeletedClaims::held : DeletedClaims::none;
    std::optional<std::chrono::steady_clock::time_point> deadline;
    if (options_.timeout) deadline = start_ + *options_.timeout;
    return policy_.next_attempt(round.decision, now, deleted, deadline);
  }

  // The wall clock now: the start's reading, moved on by the steady clock since.
  std::int64_t wall_now_ns() const {
    return env_.now_ns + std::chrono::duration_cast<std::chrono::nanoseconds>(services_.clock->now() - start_).count();
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

  static Error interrupted(int signal) {
    if (signal == SIGTERM) return Error{ErrorKind::terminated, "terminated while waiting; nothing was claimed", {}};
    return Error{ErrorKind::interrupted, "interrupted while waiting; nothing was claimed", {}};
  }

  int select_and_launch() {
    start_ = services_.clock->now();
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
      if (options_.action == Action::dry_run) {
        return show_dry_run(context(), *round, claims_->place(), command_problem_ ? &*command_problem_ : nullptr);
      }
      if (options_.action == Action::print_env) return print_env(context(), *round, given());
      if (round->held) {
        if (queue_) queue_->leave();
        reporter.finish();
        watch_.reset();  // restores the signal mask before exec
        return launch(*round);
      }
      if (!options_.wait || !mig_leaves_enough(round->decision)) {
        reporter.finish();
        return report(no_gpu_error(*round, ErrorKind::no_suitable_gpu, "", given()), err_);
      }
      if (auto waited = wait_for_next_attempt(*round, reporter, *watch_); !waited) {
        return report(waited.error(), err_);
      }
      last = std::move(*round);
    }
  }

  // The timeout's message: what the latest round rejected, and `note` before the hint.
  Error timed_out(Round& round, const std::string& note = "") {
    auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(services_.clock->now() - start_);
    if (policy_.quick_recheck()) refresh_holders(round);
    Error error =
        no_gpu_error(round, ErrorKind::timed_out, "timed out after " + seconds(elapsed) + " waiting: ", given());
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

  Given given() const { return {slurm_, env_.cuda_visible_devices}; }

  Result<Ok> check_slurm() {
    if (auto refusal = slurm_refusal(given())) return Error{ErrorKind::no_suitable_gpu, *refusal, {}};
    if (auto warning = slurm_count_warning(given()); warning && !options_.quiet) {
      err_ << "with-gpu: warning: " << *warning << "\n";
    }
    return Ok{};
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

  int launch(Round& round) {
    CudaEnvironment cuda = cuda_env_for(round, options_, env_);
    if (!options_.quiet) {
      for (const auto& warning : round.decision.warnings) {
        err_ << "with-gpu: warning: "
             << format_warning(round.machine.gpus[warning.index], warning, round.selection) << "\n";
      }
      err_ << "with-gpu: " << selection_summary(round.machine, round.decision, cuda, share_of_allocation(round, given()))
           << waited_note() << "\n";
    }
    EnvChanges changes = {{"CUDA_VISIBLE_DEVICES", cuda.visible_devices}};
    if (cuda.device_order) changes.emplace_back("CUDA_DEVICE_ORDER", *cuda.device_order);
    changes.emplace_back(kClaimsVariable, round.held->descriptors());
    if (options_.bind) bind(round);
    source_.reset();  // nvmlShutdown: no driver handle leaks into the command
    round.held->keep_across_exec();
    trace_.mark("prepare exec");
    trace_.print(err_);
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
  std::optional<Error> command_problem_;  // dry run: why the command could not run
  bool abandoned_ = false;               // a driver call still runs: end without unloading the driver
  std::chrono::steady_clock::time_point start_;
  mutable std::optional<std::string> user_;  // current_user(), once looked up
  bool waited_ = false;  // an attempt failed and the run waited: the start line says for how long
  WaitPolicy policy_;  // when to look again, quick re-checks, cooling and settling GPUs
  PhaseTrace trace_;   // WITH_GPU_TRACE
};

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

// The real services, in one place: the driver, the lock directory, the clock, exec.
int run(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  Environment env = read_environment();
  SystemClock clock;
  ExecLauncher launcher;
  Services services{
      .open_gpus = open_nvml,
      .open_claims = [&env](const std::string& dir) -> std::unique_ptr<ClaimStore> {
        return std::make_unique<LockDir>(dir, env.inherited_claims);
      },
      .open_watch = [](const std::string& dir) -> std::unique_ptr<ChangeWatch> {
        return std::make_unique<InotifyWatch>(dir);
      },
      .clock = &clock,
      .launcher = &launcher,
      .describe_processes = describe_processes,
      .slurm_step_of = slurm_step_of,
      .fill_locality = [](Machine& machine) { fill_locality_from_sysfs(machine); },
      .pin_cpus = pin_to_cpus,
      .prefer_memory = prefer_memory_nodes,
      .exit_now = [](int status) { std::_Exit(status); },
      .init_lock_dir = init_hardened_lock_dir,
      .check_device_access = [](Machine& machine) { mark_refused_device_nodes(machine); },
      .install_kernel = install_kernel,
      .open_screen = [&env](std::ostream& out) -> std::unique_ptr<LiveScreen> {
        return std::make_unique<LiveTerminal>(out, env.stdout_tty);
      },
      .open_queue = [](const std::string& dir) -> std::unique_ptr<WaitQueue> {
        return std::make_unique<TicketQueue>(dir);
      },
  };
  return run_app(args, env, services, std::cout, std::cerr);
}

}  // namespace wg
