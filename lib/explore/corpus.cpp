#include "explore/corpus.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace kvmrace {

namespace {

// FNV-1a of the signature: a stable file name.
std::string file_name(const std::string& signature) {
    uint64_t h = 1469598103934665603ull;
    for (unsigned char c : signature) h = (h ^ c) * 1099511628211ull;
    return fmt::format("{:016x}.finding", h);
}

// Values are one line each: newlines of a message become " | ".
std::string one_line(std::string s) {
    for (size_t i; (i = s.find('\n')) != std::string::npos;) s.replace(i, 1, " | ");
    return s;
}

}  // namespace

std::string CorpusEntry::replay() const {
    return fmt::format("kvmrace --scenario-spec '{}' --seed {} --force", spec, seed);
}

std::optional<Corpus> Corpus::open(const std::string& dir, std::string& error) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) {
        error = fmt::format("kvmrace: --corpus {}: {}", dir, ec.message());
        return std::nullopt;
    }
    const std::string probe = dir + "/.kvmrace-writable";
    if (FILE* f = std::fopen(probe.c_str(), "w")) {
        std::fclose(f);
        ::unlink(probe.c_str());
    } else {
        error = fmt::format("kvmrace: --corpus {}: not writable: {}", dir, std::strerror(errno));
        return std::nullopt;
    }
    Corpus c;
    c.dir_ = dir;
    for (const auto& file : std::filesystem::directory_iterator(dir, ec)) {
        if (file.path().extension() != ".finding") continue;
        std::ifstream in(file.path());
        CorpusEntry e;
        for (std::string line; std::getline(in, line);) {
            const auto colon = line.find(": ");
            if (colon == std::string::npos) continue;
            const std::string key = line.substr(0, colon), v = line.substr(colon + 2);
            if (key == "signature")
                e.signature = v;
            else if (key == "erratum")
                e.erratum = v;
            else if (key == "spec")
                e.spec = v;
            else if (key == "seed")
                e.seed = std::strtoull(v.c_str(), nullptr, 10);
            else if (key == "count")
                e.count = std::strtoull(v.c_str(), nullptr, 10);
            else if (key == "kernel")
                e.kernel = v;
            else if (key == "message")
                e.message = v;
        }
        if (!e.signature.empty()) c.entries_[e.signature] = e;
    }
    return c;
}

void Corpus::record(const CorpusEntry& e) {
    auto [it, fresh] = entries_.try_emplace(e.signature, e);
    if (!fresh) {
        it->second.count += e.count;
        if (e.spec.size() < it->second.spec.size()) {  // a smaller replay wins
            it->second.spec = e.spec;
            it->second.seed = e.seed;
        }
    }
    write(it->second);
}

void Corpus::write(const CorpusEntry& e) const {
    const std::string path = dir_ + "/" + file_name(e.signature), tmp = path + ".tmp";
    {
        std::ofstream out(tmp);
        out << "signature: " << e.signature << "\n"
            << "erratum: " << e.erratum << "\n"
            << "spec: " << e.spec << "\n"
            << "seed: " << e.seed << "\n"
            << "count: " << e.count << "\n"
            << "kernel: " << e.kernel << "\n"
            << "replay: " << e.replay() << "\n"
            << "message: " << one_line(e.message) << "\n";
    }
    std::rename(tmp.c_str(), path.c_str());
}

}  // namespace kvmrace
