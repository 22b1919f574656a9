#include "watchdog/evidence.h"

#include <dirent.h>

#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace kvmrace {

namespace {

std::string read_file(const std::string& path) {
    std::ifstream f(path);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

}  // namespace

char task_state(pid_t pid, pid_t tid) {
    std::string stat = read_file(fmt::format("/proc/{}/task/{}/stat", pid, tid));
    // "tid (comm) S ...": comm may contain spaces and parentheses, so find the last ')'.
    auto close = stat.rfind(')');
    if (close == std::string::npos || close + 2 >= stat.size()) return '?';
    return stat[close + 2];
}

std::vector<ThreadEvidence> collect_evidence(pid_t pid, const ProgressBoard* board) {
    std::vector<ThreadEvidence> out;
    std::string dir = fmt::format("/proc/{}/task", pid);
    DIR* d = ::opendir(dir.c_str());
    if (!d) return out;
    uint64_t now = monotonic_ns();
    while (dirent* e = ::readdir(d)) {
        if (e->d_name[0] == '.') continue;
        ThreadEvidence t;
        t.tid = static_cast<pid_t>(std::stol(e->d_name));
        std::string base = fmt::format("{}/{}/", dir, t.tid);
        t.comm = trim(read_file(base + "comm"));
        t.state = task_state(pid, t.tid);
        t.wchan = trim(read_file(base + "wchan"));
        t.syscall = trim(read_file(base + "syscall"));
        std::istringstream stack(read_file(base + "stack"));
        for (std::string line; std::getline(stack, line);)
            if (!line.empty()) t.stack.push_back(line);
        t.in_call = "-";
        if (board) {
            for (unsigned i = 0; i < board->threads(); ++i) {
                const auto& bt = board->thread(i);
                if (bt.tid.load() != t.tid) continue;
                t.role = bt.role;
                auto c = static_cast<Call>(bt.call.load());
                t.in_call = std::string(call_name(c));
                if (c != Call::None) t.in_call_s = double(now - bt.call_started_ns.load()) / 1e9;
            }
        }
        out.push_back(std::move(t));
    }
    ::closedir(d);
    return out;
}

std::string format_evidence(const std::vector<ThreadEvidence>& threads) {
    std::string s;
    for (const auto& t : threads) {
        s += fmt::format("thread {} ({}{}{}) state {} wchan {} in {}", t.tid, t.comm,
                         t.role.empty() ? "" : ", ", t.role, t.state,
                         t.wchan.empty() ? "-" : t.wchan, t.in_call);
        if (t.in_call != "-") s += fmt::format(" for {:.2f} s", t.in_call_s);
        s += fmt::format("; syscall {}\n",
                         t.syscall.empty() ? "-" : t.syscall.substr(0, t.syscall.find(' ')));
        for (const auto& f : t.stack) s += "    " + f + "\n";
    }
    return s;
}

}  // namespace kvmrace
