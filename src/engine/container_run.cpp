#include "skiff/engine/container_run.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>

#include "skiff/engine/container_config.hpp"
#include "skiff/engine/container_options.hpp"
#include "skiff/engine/container_remove.hpp"
#include "skiff/engine/container_store.hpp"
#include "skiff/engine/image_pull.hpp"
#include "skiff/engine/transfer_events.hpp"
#include "skiff/engine/user_lookup.hpp"
#include "skiff/image/digest.hpp"
#include "skiff/image/image_store.hpp"
#include "skiff/image/layer_unpack.hpp"
#include "skiff/net/network_helper.hpp"
#include "skiff/runtime/attach.hpp"
#include "skiff/runtime/container_log.hpp"
#include "skiff/runtime/container_process.hpp"
#include "skiff/runtime/process_ref.hpp"
#include "skiff/storage/layer_store.hpp"
#include "skiff/storage/rootfs.hpp"
#include "skiff/userns/userns.hpp"
#include "skiff/util/error.hpp"
#include "skiff/util/file_io.hpp"
#include "skiff/util/log.hpp"
#include "skiff/util/signals.hpp"

namespace skiff::engine {

namespace fs = std::filesystem;

namespace {

// Said once per store, in one sentence, the first time it matters.
void announce_single_id_map(const store::Paths& paths) {
  fs::path marker = paths.single_id_noted();
  if (access(marker.c_str(), F_OK) == 0) return;
  note(userns::no_ranges_note(
      ", so containers run with a single-id map: every file in an image belongs to root inside"));
  ::close(::open(marker.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
}

// The image, pulled first when --pull says so. The store is read once on
// the usual path (image there, policy missing).
image::ImageRecord find_or_pull(const store::Paths& paths, const image::ImageStore& images, const RunOptions& opts) {
  if (opts.pull == PullPolicy::kMissing || opts.pull == PullPolicy::kNever) {
    if (auto rec = images.find(opts.image)) return *rec;
    if (opts.pull == PullPolicy::kNever) throw Error(fmt::format("no such image: {}", opts.image));
    if (opts.pull_events) opts.pull_events->message(fmt::format("Unable to find image '{}' locally", opts.image));
  }
  QuietEvents quiet;
  TransferEvents& events = opts.pull_events ? *opts.pull_events : quiet;
  return pull_image(paths, opts.image, {.jobs = default_transfer_jobs()}, events).record;
}

// The monitor's word to the command that forked it (run_detached): the
// container runs, its id is this. From here on the monitor writes nowhere
// the user sees: its stdio becomes /dev/null, and it has left the
// terminal's session already.
void tell_started(int fd, const std::string& id, int preserved_fds) {
  std::string line = id + "\n";
  if (write(fd, line.data(), line.size()) < 0) {
    // The command is gone (killed): the container runs on, as docker's would.
  }
  close(fd);
  int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  for (int std_fd : {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO}) dup3(null, std_fd, 0);
  if (null > STDERR_FILENO) close(null);
  if (preserved_fds > 0) close_range(3, 2 + static_cast<unsigned>(preserved_fds), 0);
}

// --cidfile: a new file (docker's rule: one that exists may be another
// container's, still running), made before anything else of the container.
void check_cidfile(const std::string& path) {
  if (path.empty()) return;
  if (access(path.c_str(), F_OK) == 0)
    throw Error(fmt::format("container ID file found, make sure the other container isn't running or delete {}", path));
}

void write_cidfile(const std::string& path, const std::string& id) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!fd) throw_errno(fmt::format("write the container ID file {}", path));
  write_all(fd.get(), id);
}

// -p's ports, and with -P every port the image exposes that -p left out.
std::vector<net::PortMapping> published_ports(const RunOptions& opts, const nlohmann::json& config) {
  std::vector<net::PortMapping> ports = opts.ports;
  if (!opts.publish_all) return ports;
  if (auto it = config.find("ExposedPorts"); it != config.end() && it->is_object())
    for (const auto& [key, value] : it->items())
      for (auto& p : net::exposed_ports(key))
        if (std::none_of(ports.begin(), ports.end(), [&](const net::PortMapping& q) {
              return q.container_port == p.container_port && q.proto == p.proto;
            }))
          ports.push_back(p);
  return ports;
}

}  // namespace

std::string hosts_file(const std::string& hostname, bool host_network,
                       const std::vector<std::pair<std::string, std::string>>& extra) {
  std::string hosts = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n";
  if (host_network)
    if (auto host = read_file_if_exists("/etc/hosts"))
      hosts = *host + (host->empty() || host->back() == '\n' ? "" : "\n");
  for (const auto& [name, ip] : extra) hosts += fmt::format("{}\t{}\n", ip, name);
  return hosts + fmt::format("127.0.1.1\t{}\n", hostname);
}

ImageUser pick_user(const RunOptions& opts, const nlohmann::json& config, const userns::IdMap& map,
                    const std::vector<fs::path>& layers_top_first) {
  std::string spec = opts.user.value_or(config.value("User", ""));
  // With no user named, root's home is /root, as in every image's passwd:
  // reading the passwd file from the layers is left out of the usual start.
  ImageUser found{.home = "/root"};
  runtime::User& user = found.ids;
  if (spec.empty() && opts.userns == UsernsOption::kKeepId) {
    user.uid = getuid();
    user.gid = getgid();
  } else if (!spec.empty()) {
    found = resolve_user(spec, read_from_layers(layers_top_first, "/etc/passwd"),
                         read_from_layers(layers_top_first, "/etc/group"));
  }
  if (!map.maps_uid(user.uid) || !map.maps_gid(user.gid))
    throw Error(fmt::format("user {}:{} does not exist in the container's user namespace", user.uid, user.gid), 0,
                map.full ? "the ids must be below the size of your /etc/subuid range"
                         : "without /etc/subuid and /etc/subgid ranges only root (0) exists in a container");
  std::erase_if(user.additionalGids, [&](uint32_t g) { return !map.maps_gid(g); });
  return found;
}

int run_container(const store::Paths& paths, const RunOptions& opts, std::string* id) {
  const bool existing = !opts.existing_id.empty();
  for (const auto& v : opts.volumes)
    if (access(v.source.c_str(), F_OK) != 0)
      throw Error(fmt::format("volume source {} does not exist", v.source), 0, "create it first");
  if (opts.remove && opts.restart.kind != RestartKind::kNo)
    throw Error("conflicting options: cannot specify both --restart and --rm");
  if (!existing) check_cidfile(opts.cidfile);
  if (!existing && !opts.name.empty() && !valid_container_name(opts.name))
    throw Error(fmt::format("invalid container name {:?}: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", opts.name));

  // Detached, its output goes to the monitor (this skiff), which logs it.
  // The pipes come first: a process cloned early gets skiff's fds as they
  // are at the clone.
  // With -i, its input comes from whoever attaches, through the monitor.
  UniqueFd out_read, out_write, err_read, err_write, in_read, in_write;
  auto make_output_pipes = [&] {
    if (opts.detach && !opts.tty) {
      std::tie(out_read, out_write) = make_pipe();
      std::tie(err_read, err_write) = make_pipe();
      if (opts.interactive) std::tie(in_read, in_write) = make_pipe();
    }
  };
  if (!opts.create_only) make_output_pipes();

  userns::IdMap default_map = userns::current_id_map();
  userns::IdMap map =
      opts.userns == UsernsOption::kKeepId ? userns::current_id_map(userns::UsernsMode::kKeepId) : default_map;

  // The container's namespaces are made while skiff reads the image and
  // prepares the rest: the kernel's work (0.3 ms for a network namespace)
  // and newuidmap's and newgidmap's overlap with skiff's own. With a
  // single-id map they are made at once; with a full map the container's
  // process is cloned first when the image is here already (a pull comes
  // first otherwise, with Ctrl-C still working).
  // A monitor that may start the container again must stay outside its
  // namespaces (kJoinOnLaunch moves skiff into them for good).
  std::optional<runtime::ContainerStart> start;
  const runtime::StartMode mode = runtime::ContainerStart::best_mode(
      map, opts.init, /*one_container=*/opts.restart.kind == RestartKind::kNo, has_network_helper(opts.network));
  if (mode == runtime::StartMode::kJoinOnLaunch && !opts.create_only)
    start.emplace(container_namespaces(opts), map, mode, paths.dev_staging().string());
  store::ensure_dirs(paths);
  image::ImageStore images(paths);
  ContainerStore containers(paths);
  // skiff start: the container's lock first (a second start of it finds it
  // running), then its record as it is now.
  std::optional<store::FileLock> existing_lock;
  std::optional<ContainerView> before;
  if (existing) {
    existing_lock.emplace(store::FileLock::try_lock(containers.lock_path(opts.existing_id)));
    if (!existing_lock->held())
      throw Error(fmt::format("container {} is already running", opts.existing_id.substr(0, 12)));
    before = containers.resolve(opts.existing_id);
    if (before->record.id != opts.existing_id) throw Error(fmt::format("no such container: {}", opts.existing_id));
  }
  if (!existing && !opts.name.empty()) {
    // A `run --rm` of that name whose skiff was killed left its container:
    // it goes now, as that skiff would have done.
    remove_left_by_killed_run(paths, opts.name);
    ContainerStore(paths).check_name_free(opts.name);  // said before any work
  }
  std::optional<image::ImageRecord> local;
  if (existing) {
    // The image it was made from, whatever its name means now.
    local = images.find(before->record.image_id);
    if (!local)
      throw Error(fmt::format("the image of container {} was removed", before->record.name), 0,
                  "remove the container (skiff rm) and run it again");
  } else if (opts.pull == PullPolicy::kMissing || opts.pull == PullPolicy::kNever) {
    local = images.find(opts.image);
  }
  if (local && !start && !opts.create_only) start.emplace(container_namespaces(opts), map, mode);
  image::ImageContent content = images.load(local ? *local : find_or_pull(paths, images, opts));
  const nlohmann::json config = content.config.value("config", nlohmann::json::object());
  if (!map.full) announce_single_id_map(paths);
  storage::LayerStore layers(paths, default_map);
  storage::StorageInfo storage = layers.storage();

  // Ctrl-C while the container is being made would leave half of it: signals
  // wait until it runs, and are then forwarded to it.
  sigset_t block;
  sigemptyset(&block);
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) sigaddset(&block, s);
  sigprocmask(SIG_BLOCK, &block, nullptr);

  ContainerRecord rec;
  rec.id = existing ? opts.existing_id : random_hex(64);
  rec.name = opts.name;
  if (rec.name.empty()) {
    do rec.name = generate_name();
    while (containers.name_taken(rec.name));
  }
  rec.image = opts.image;
  rec.image_id = content.record.id;
  rec.layers = content.diff_ids;
  rec.driver = storage::driver_name(storage.driver);
  rec.created = image::rfc3339_now();
  rec.auto_remove = opts.remove;
  rec.skiff_pid = getpid();
  rec.command = container_args(opts, config);
  rec.detached = opts.detach;
  if (auto it = config.find("Labels"); it != config.end() && it->is_object())
    for (const auto& [k, v] : it->items())
      if (v.is_string()) rec.labels[k] = v.get<std::string>();
  for (const auto& [k, v] : opts.labels) rec.labels[k] = v;
  rec.stop_signal = opts.stop_signal;
  if (rec.stop_signal == 0)
    if (auto it = config.find("StopSignal"); it != config.end() && it->is_string())
      rec.stop_signal = parse_signal(it->get<std::string>()).value_or(0);
  if (opts.stop_timeout >= 0) rec.stop_timeout = opts.stop_timeout;
  rec.restart_policy = restart_kind_name(opts.restart.kind);
  if (opts.restart.max_retries > 0) rec.restart_policy += fmt::format(":{}", opts.restart.max_retries);
  rec.network = network_mode_name(opts.network);
  // The network helper's settings, and the host ports bound now (free ones
  // chosen, taken ones said before anything is made).
  std::optional<net::HelperOptions> net_opts;
  if (has_network_helper(opts.network) && !opts.create_only) {
    net_opts = net::parse_helper_options(
        opts.network == NetworkMode::kPasta ? net::HelperKind::kPasta : net::HelperKind::kSlirp4netns,
        opts.network_options);
    net_opts->ports = published_ports(opts, config);
    net::assign_host_ports(net_opts->ports);
    rec.ports = net_opts->ports;
    net_opts->api_socket = (paths.runroot / fmt::format("net-{}.sock", rec.id.substr(0, 12))).string();
  }
  if (existing) {
    rec.name = before->record.name;
    rec.created = before->record.created;
    rec.image = before->record.image;
    rec.layers = before->record.layers;
    rec.driver = before->record.driver;
    rec.detached = opts.detach || before->record.detached;  // its log stays readable
  }
  // The record says "running" from the start: while its lock is held it is,
  // and if this skiff is killed before the end, ps says it exited.
  ContainerState state;
  state.status = opts.create_only ? ContainerStatus::kCreated : ContainerStatus::kRunning;
  if (!opts.create_only) state.started = existing ? image::rfc3339_now() : rec.created;
  fs::path cdir = containers.dir(rec.id);
  // stop or kill asked it to end: its --restart policy waits until it is
  // started again.
  const fs::path stopped_marker = cdir / "stopped";
  if (existing) ::unlink(stopped_marker.c_str());

  int userns_fd = -1;
  // Held from before anything of the container is on disk until it is gone:
  // a directory with no record whose lock is free was left by a skiff that
  // was killed, and skiff rm sweeps it.
  store::FileLock running = existing ? std::move(*existing_lock) : store::FileLock(containers.lock_path(rec.id));
  bool recorded = false;
  bool cidfile_written = false;
  bool ran = false;  // it started at least once
  auto remove_record = [&] {
    containers.remove(rec, [&](const fs::path& d) { layers.remove_container_dir(d, userns_fd); });
  };
  // A container that did not start (again) leaves nothing behind, unless
  // it was there before or ran already: then it stays, exited.
  auto undo = [&] {
    if (!existing && !ran) return remove_record();
    state.status = ContainerStatus::kExited;
    state.exit_code = 125;
    state.finished = image::rfc3339_now();
    containers.write_state(rec.id, state);
  };
  auto write_record = [&] {
    if (recorded) return;
    if (existing) {
      containers.update(rec, state);
      recorded = true;
      return;
    }
    // A generated name that another skiff took meanwhile: draw another,
    // as docker does (the check above was not the reservation).
    for (int tries = 1;; ++tries) {
      try {
        containers.create(rec, state);
        break;
      } catch (const Error&) {
        if (!opts.name.empty() || tries >= 20 || !containers.name_taken(rec.name)) throw;
        rec.name = generate_name();
      }
    }
    recorded = true;
    if (!opts.cidfile.empty()) {
      write_cidfile(opts.cidfile, rec.id);
      cidfile_written = true;
    }
  };
  try {
    // With layers to unpack first (seconds, maybe), the record comes first:
    // ps lists the container meanwhile, and layer GC leaves its layers alone.
    if (!layers.has_all(content)) {
      write_record();
      layers.ensure(images, content);
    }
    make_dirs(cdir, 0700);
    std::vector<fs::path> top_first;
    for (auto it = content.diff_ids.rbegin(); it != content.diff_ids.rend(); ++it)
      top_first.push_back(layers.layer_dir(*it));

    SpecInputs in;
    in.image_config = config;
    in.container_id = rec.id;
    in.host_network = opts.network == NetworkMode::kHost;
    std::string host_ip = net_opts ? net::host_address(*net_opts) : "";
    if (opts.network != NetworkMode::kHost || !opts.dns.servers.empty() || !opts.dns.search.empty() ||
        !opts.dns.options.empty())
      in.resolv_conf = net::resolv_conf(read_file_if_exists("/etc/resolv.conf").value_or(""),
                                        net_opts ? net::dns_forwarder(*net_opts) : "", opts.dns);
    for (const auto& entry : opts.add_hosts) {
      auto colon = entry.find(':');
      std::string name = entry.substr(0, colon), ip = entry.substr(colon + 1);
      if (ip == "host-gateway") {
        if (opts.network == NetworkMode::kHost)
          ip = "127.0.0.1";
        else if (host_ip.empty())
          throw Error(fmt::format("--add-host {}: the host is not reachable from this container's network", entry), 0,
                      "use --network slirp4netns:allow_host_loopback=true or --network pasta:--map-gw");
        else
          ip = host_ip;
      }
      in.extra_hosts.emplace_back(name, ip);
    }
    if (!host_ip.empty()) in.extra_hosts.emplace_back("host.containers.internal host.docker.internal", host_ip);
    ImageUser picked = pick_user(opts, config, map, top_first);
    in.user = picked.ids;
    in.home = picked.home;
    std::vector<fs::path> lowers;
    if (storage.driver != storage::Driver::kCopy)
      if (auto mp = layers.mount_points_layer(top_first)) lowers.push_back(*mp);
    lowers.insert(lowers.end(), top_first.begin(), top_first.end());
    runtime::RootfsLayers rl = storage::rootfs_layers(storage.driver, paths.layers(), lowers);
    if (rl.driver == storage::Driver::kCopy) {
      in.rootfs = (cdir / "rootfs").string();
      // Started again, it keeps the copy it had.
      if (!existing || access(in.rootfs.c_str(), F_OK) != 0) {
        make_dirs(in.rootfs, 0755);
        // A private copy: apply each layer's blob in order, whiteouts deleting.
        userns::run_in_userns(default_map, [&] {
          for (const auto& diff_id : content.diff_ids) {
            size_t i = static_cast<size_t>(&diff_id - content.diff_ids.data());
            UniqueFd fd = open_or_throw(
                images.blob_path(content.manifest.at("layers").at(i).at("digest").get<std::string>()), O_RDONLY);
            image::unpack_layer(fd.get(), in.rootfs, {.keep_owners = default_map.full, .overlay_whiteouts = false});
          }
        });
      }
    } else {
      // Every container mounts its root on the same directory, each in a
      // mount namespace of its own: one directory less to make and remove.
      fs::path mount_point = paths.container_mount_point();
      make_dirs(mount_point, 0700);
      in.rootfs = mount_point.string();
      rl.upperdir = (cdir / "upper").string();
      rl.workdir = (cdir / "work").string();
      // A --rm container's writable layer is thrown away: overlay need not
      // sync it to disk when the container's mount namespace goes.
      rl.volatile_upper = opts.remove;
      for (const char* d : {"upper", "work"}) make_dirs(cdir / d, 0755);
      in.layers = rl;
    }
    runtime::Spec spec = build_spec(opts, in);
    apply_seccomp(paths, opts, spec);
    // What exec needs, and what start needs to make it again.
    auto write_configs = [&] {
      try {
        auto sets_home = [](const std::string& e) { return e.rfind("HOME=", 0) == 0; };
        bool home_from_user = std::none_of(opts.env.begin(), opts.env.end(), sets_home);
        if (auto env = config.find("Env"); env != config.end() && env->is_array())
          for (const auto& e : *env)
            if (e.is_string() && sets_home(e.get<std::string>())) home_from_user = false;
        write_container_config(cdir, container_config_json(spec, opts, home_from_user));
      } catch (const Error& e) {
        warn(fmt::format("exec will not work in this container: {}", e.what()));
      }
    };
    if (opts.create_only) {
      write_record();
      write_container_options(cdir, opts);
      write_configs();
      if (id) *id = rec.id;
      return 0;
    }

    runtime::LogWriter* log = nullptr;
    UniqueFd attach_listener;  // attach's socket, while it runs (-d)
    std::optional<runtime::ContainerProcess> proc_holder;
    std::optional<runtime::LogWriter> log_file;
    bool told = false;
    int code = 0;
    pid_t last_pid = 0;
    // docker's back-off between starts: 100 ms, doubled each time, at most
    // a minute, and 100 ms again after a run of 10 seconds or more.
    std::chrono::milliseconds delay{100};
    for (;;) {
      if (out_write) {
        spec.stdout_fd = out_write.get();
        spec.stderr_fd = err_write.get();
        spec.stdin_fd = in_read ? in_read.get() : -1;
      }
      // The process sets itself up while the record is written: they need
      // nothing of each other, and the machine has more than one core. (When
      // it is cloned at launch, skiff sleeps meanwhile: the record comes first.)
      if (!start) start.emplace(spec.linux.namespaces, map, mode);
      std::optional<net::NetworkHelper> helper;
      if (net_opts) start->set_network(&helper.emplace(*net_opts));
      if (mode != runtime::StartMode::kEarlyClone) write_record();
      start->launch(spec, opts.interactive && !opts.detach);
      write_record();
      // Kept until the end: its user namespace fd is where the clean-up runs.
      proc_holder.reset();
      runtime::ContainerProcess& proc = proc_holder.emplace(start->finish());
      start.reset();
      userns_fd = proc.userns_fd();
      // Written while the command runs (its start does not wait for it) and
      // before the pid is told: exec finds it with the pid.
      if (!told) {
        write_configs();
        if (!opts.remove && !existing) {
          try {
            write_container_options(cdir, opts);
          } catch (const Error& e) {
            warn(fmt::format("this container cannot be started again: {}", e.what()));
          }
        }
      }
      state.pid = proc.pid();
      // One write, no file to make: ps, stop, kill and rm -f read it.
      state.pid_start_time = runtime::process_start_time(state.pid).value_or(0);
      std::string ref_note = runtime::ProcessRef{state.pid, state.pid_start_time}.text() + "\n";
      if (ran)
        running.replace_note(ref_note);
      else
        running.write_note(ref_note);
      ran = true;
      last_pid = state.pid;
      const auto ran_from = std::chrono::steady_clock::now();
      if (opts.detach) {
        out_write.reset();
        err_write.reset();
        in_read.reset();
        if (!log) {
          log_file.emplace(containers.log_path(rec.id), opts.log_max_size > 0 ? opts.log_max_size : kDefaultLogMaxSize);
          log = &*log_file;
          attach_listener = runtime::listen_attach(cdir);
        }
        runtime::AttachPoint attach{attach_listener.get(), in_write.get(), opts.tty};
        if (!told) tell_started(opts.started_fd, rec.id, opts.preserve_fds);
        told = true;
        code = proc.wait_logging(std::move(out_read), std::move(err_read), *log, &attach);
        in_write.reset();
      } else {
        told = true;
        code = proc.wait();
      }
      if (proc.killed_after_interrupts()) note("interrupted three times: the container was killed");
      state.exit_code = code;
      state.finished = image::rfc3339_now();
      bool again = false;
      switch (opts.restart.kind) {
        case RestartKind::kNo:
          break;
        case RestartKind::kOnFailure:
          again = code != 0 && (opts.restart.max_retries == 0 || state.restart_count < opts.restart.max_retries);
          break;
        case RestartKind::kAlways:
        case RestartKind::kUnlessStopped:
          again = true;
          break;
      }
      if (again && access(stopped_marker.c_str(), F_OK) == 0) again = false;
      if (!again) {
        // This skiff exits soon: the helper's tear-down need not be waited for.
        if (helper) helper->end();
        break;
      }
      // Waiting to start it again: stop, kill and rm -f end the wait with
      // SIGTERM (or SIGKILL), as they would end the container.
      if (std::chrono::steady_clock::now() - ran_from >= std::chrono::seconds(10))
        delay = std::chrono::milliseconds(100);
      state.status = ContainerStatus::kRestarting;
      state.pid = 0;
      running.replace_note(fmt::format("{} {} {}\n", proc.pid(), state.pid_start_time, code));
      containers.write_state(rec.id, state);
      sigset_t ending;
      sigemptyset(&ending);
      for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) sigaddset(&ending, sig);
      timespec wait_for{static_cast<time_t>(delay.count() / 1000), static_cast<long>(delay.count() % 1000) * 1000000};
      int got;
      while ((got = sigtimedwait(&ending, nullptr, &wait_for)) < 0 && errno == EINTR) {
      }
      if (got > 0 || access(stopped_marker.c_str(), F_OK) == 0) break;
      delay = std::min<std::chrono::milliseconds>(delay * 2, std::chrono::minutes(1));
      ++state.restart_count;
      state.status = ContainerStatus::kRunning;
      state.started = image::rfc3339_now();
      state.finished.clear();
      containers.write_state(rec.id, state);
      make_output_pipes();
    }
    if (attach_listener) ::unlink((cdir / runtime::kAttachSocket).c_str());
    state.status = ContainerStatus::kExited;
    // For whoever waits on the lock (skiff wait): the exit code, there
    // also when --rm removes the record.
    std::string exit_note = fmt::format("{} {} {}\n", last_pid, state.pid_start_time, code);
    if (state.restart_count > 0)
      running.replace_note(exit_note);
    else
      running.write_note(exit_note);  // longer than the note it replaces
    if (opts.remove) {
      remove_record();
    } else {
      try {
        containers.write_state(rec.id, state);
      } catch (const Error&) {
        // removed by skiff rm -f while it ran
      }
    }
    return code;
  } catch (...) {
    // A container that never ran leaves nothing behind: its process goes
    // first (it may be mounting what is removed next).
    start.reset();
    userns_fd = -1;  // closed with the process
    try {
      undo();
    } catch (const Error& e) {
      warn(fmt::format("could not clean up container {}: {}", rec.id.substr(0, 12), e.what()));
    }
    if (cidfile_written && !ran) ::unlink(opts.cidfile.c_str());
    throw;
  }
}

}  // namespace skiff::engine
