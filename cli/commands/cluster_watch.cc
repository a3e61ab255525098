// sockudoctl cluster watch: the WatchCluster stream as a live table redrawn in place, or as one
// line (or one JSON / YAML document) per event when stdout is not a terminal.
//
// Threads: the main thread reads the stream and draws; a signal thread waits for SIGINT, SIGTERM
// and SIGHUP (cancels the stream), SIGWINCH and a one-second tick (redraws, so heartbeat ages
// move). Both draw under one mutex. The signals are blocked before gRPC starts any thread, so
// only the signal thread receives them, and the terminal is restored on the main thread after the
// stream ends, whatever ended it.
#include <pthread.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <deque>
#include <iostream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cli/commands/cluster_view.h"
#include "cli/commands/command.h"
#include "google/protobuf/util/time_util.h"
#include "sockudo/controlplane/v1/cluster.grpc.pb.h"

namespace sockudo::cli {
namespace {

namespace v1 = controlplane::v1;
using Clock = std::chrono::steady_clock;

// Alternate screen + hidden cursor while the view runs; both undone on exit, so the shell's
// screen comes back exactly as it was.
constexpr const char* kEnterView = "\x1b[?1049h\x1b[?25l\x1b[H\x1b[2J";
constexpr const char* kLeaveView = "\x1b[?25h\x1b[?1049l";
constexpr const char* kHome = "\x1b[H";
constexpr const char* kClearLine = "\x1b[K";
constexpr const char* kClearToEnd = "\x1b[J";
constexpr size_t kRecentEvents = 5;

std::string EventName(v1::ClusterEvent::Type type) { return v1::ClusterEvent::Type_Name(type); }

std::string ClockTime(const google::protobuf::Timestamp* time) {
  std::time_t seconds = time != nullptr && time->seconds() > 0
                            ? static_cast<std::time_t>(time->seconds())
                            : std::time(nullptr);
  std::tm local{};
  localtime_r(&seconds, &local);
  char text[16];
  std::strftime(text, sizeof(text), "%H:%M:%S", &local);
  return text;
}

void WriteAll(const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(STDOUT_FILENO, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    done += static_cast<size_t>(n);
  }
}

struct TerminalSize {
  int columns = 80;
  int rows = 24;
};

TerminalSize QueryTerminal() {
  TerminalSize size;
  winsize ws{};
  if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0) {
    if (ws.ws_col > 0) size.columns = ws.ws_col;
    if (ws.ws_row > 0) size.rows = ws.ws_row;
  }
  return size;
}

// What the view knows: the nodes of the stream (with when each event arrived, to age their
// heartbeats between events) and the latest membership events.
class WatchState {
 public:
  WatchState(std::string address, bool wide) : address_(std::move(address)), wide_(wide) {}

  void Apply(const v1::ClusterEvent& event) {
    const v1::Node& node = event.node();
    const std::string id = node.id().empty() ? node.name() : node.id();
    if (event.type() == v1::ClusterEvent::NODE_FORGOTTEN) {
      nodes_.erase(id);
    } else {
      nodes_[id] = Seen{node, Clock::now()};
    }
    ++events_;
    if (event.type() != v1::ClusterEvent::SNAPSHOT &&
        event.type() != v1::ClusterEvent::NODE_UPDATED) {
      std::string type = EventName(event.type());
      type.resize(std::max<size_t>(type.size(), 15), ' ');  // NODE_FORGOTTEN + 1
      recent_.push_back(
          absl::StrCat(ClockTime(event.has_time() ? &event.time() : nullptr), "  ", type, id));
      if (recent_.size() > kRecentEvents) recent_.pop_front();
    }
  }

  // One full frame: home, every line cleared to its end, the rest of the screen cleared.
  std::string Frame(const TerminalSize& size) const {
    int alive = 0, suspect = 0, dead = 0;
    std::vector<v1::Node> aged;
    const auto now = Clock::now();
    for (const auto& [id, seen] : nodes_) {
      v1::Node node = seen.node;
      const auto elapsed =
          std::chrono::duration_cast<std::chrono::milliseconds>(now - seen.at).count();
      node.set_last_heartbeat_age_ms(node.last_heartbeat_age_ms() + elapsed);
      if (node.state() == v1::Node::ALIVE) ++alive;
      if (node.state() == v1::Node::SUSPECT) ++suspect;
      if (node.state() == v1::Node::DEAD) ++dead;
      aged.push_back(std::move(node));
    }
    std::vector<std::string> lines;
    lines.push_back(absl::StrCat("sockudoctl cluster watch   ", address_, "   ", nodes_.size(),
                                 " nodes: ", alive, " alive, ", suspect, " suspect, ", dead,
                                 " dead   ", ClockTime(nullptr)));
    lines.push_back("");
    std::vector<const v1::Node*> rows;
    for (const auto& node : aged) rows.push_back(&node);
    std::vector<std::string> table = NodesTable(rows, wide_).Lines(true, size.columns);
    // Room for the header (2 lines), the events block (2 + recent) and the footer (2 lines).
    const int reserved = 2 + 2 + static_cast<int>(recent_.size()) + 2;
    const int room = std::max(2, size.rows - reserved);
    if (static_cast<int>(table.size()) > room) {
      const size_t hidden = table.size() - static_cast<size_t>(room - 1);
      table.resize(static_cast<size_t>(room - 1));
      table.push_back(absl::StrCat("... ", hidden, " more nodes (enlarge the terminal)"));
    }
    if (nodes_.empty()) table = {events_ == 0 ? "waiting for the stream..." : "no nodes known"};
    for (auto& line : table) lines.push_back(std::move(line));
    if (!recent_.empty()) {
      lines.push_back("");
      lines.push_back("EVENTS");
      for (const auto& line : recent_) lines.push_back(line);
    }
    lines.push_back("");
    lines.push_back("Ctrl-C to quit");

    std::string frame = kHome;
    const size_t max_lines = static_cast<size_t>(std::max(1, size.rows));
    for (size_t i = 0; i < lines.size() && i < max_lines; ++i) {
      absl::StrAppend(&frame, output::Truncate(lines[i], static_cast<size_t>(size.columns)),
                      kClearLine);
      if (i + 1 < lines.size() && i + 1 < max_lines) frame += "\r\n";
    }
    frame += kClearToEnd;
    return frame;
  }

 private:
  struct Seen {
    v1::Node node;
    Clock::time_point at;
  };
  std::string address_;
  bool wide_;
  std::map<std::string, Seen> nodes_;  // sorted by id
  std::deque<std::string> recent_;
  size_t events_ = 0;
};

// One line per event for pipes and logs.
std::string EventLine(const v1::ClusterEvent& event) {
  const v1::Node& node = event.node();
  std::string time = event.has_time() ? google::protobuf::util::TimeUtil::ToString(event.time())
                                      : google::protobuf::util::TimeUtil::ToString(
                                            google::protobuf::util::TimeUtil::GetCurrentTime());
  return absl::StrCat(time, " ", EventName(event.type()), " ",
                      node.id().empty() ? node.name() : node.id(), " state=", NodeState(node),
                      " address=", node.address().empty() ? "-" : node.address(),
                      " connections=", node.connections(), " channels=", node.channels(),
                      " memory=", output::FormatBytes(node.memory_bytes()), "\n");
}

}  // namespace

int RunClusterWatch(CommandEnv& env) {
  // Before any gRPC thread exists: they inherit the mask and never take these signals.
  sigset_t signals;
  sigemptyset(&signals);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGWINCH, SIGUSR1}) sigaddset(&signals, sig);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto connection = env.Connect();
  if (!connection.ok()) return env.UsageError(std::string(connection.status().message()));
  const output::Format format = env.format();
  const bool live = (format == output::Format::kTable || format == output::Format::kWide) &&
                    ::isatty(STDOUT_FILENO) == 1;

  v1::Cluster::Stub stub((*connection)->channel());
  grpc::ClientContext context;
  (*connection)->Prepare(&context, /*unary=*/false);

  std::mutex mutex;
  WatchState state((*connection)->target().address, format == output::Format::kWide);
  std::atomic<bool> interrupted{false};
  std::atomic<bool> done{false};
  auto draw = [&] { WriteAll(state.Frame(QueryTerminal())); };

  if (live) {
    WriteAll(kEnterView);
    std::lock_guard<std::mutex> lock(mutex);
    draw();
  }
  std::thread signal_thread([&] {
    // Bounded by the stream: the main thread sends SIGUSR1 once it has finished.
    while (!done.load()) {
      timespec tick{1, 0};
      const int sig = sigtimedwait(&signals, nullptr, &tick);
      if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP) {
        interrupted = true;
        context.TryCancel();
        return;
      }
      if (sig == SIGUSR1) return;
      if (live && (sig == SIGWINCH || sig < 0)) {
        std::lock_guard<std::mutex> lock(mutex);
        if (!done.load()) draw();
      }
    }
  });

  std::unique_ptr<grpc::ClientReader<v1::ClusterEvent>> reader =
      stub.WatchCluster(&context, v1::WatchClusterRequest());
  v1::ClusterEvent event;
  while (reader->Read(&event)) {
    std::lock_guard<std::mutex> lock(mutex);
    state.Apply(event);
    switch (format) {
      case output::Format::kJson:
        WriteAll(output::ToJsonLine(event));
        break;
      case output::Format::kYaml:
        WriteAll("---\n" + output::ToYaml(event));
        break;
      default:
        if (live) {
          draw();
        } else {
          WriteAll(EventLine(event));
        }
        break;
    }
  }
  const grpc::Status status = reader->Finish();
  {
    std::lock_guard<std::mutex> lock(mutex);
    done = true;
    if (live) WriteAll(kLeaveView);
  }
  pthread_kill(signal_thread.native_handle(), SIGUSR1);
  signal_thread.join();

  if (interrupted) return client::kExitOk;
  if (!status.ok()) return (*connection)->Fail(status);
  std::cerr << "Error: the control plane ended the watch stream\n";
  return client::kExitServerError;
}

}  // namespace sockudo::cli
