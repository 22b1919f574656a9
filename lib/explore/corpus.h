// The explore corpus: a directory with one file per finding signature (kept once, counted
// each time it recurs), each with the exact replay command. A later run resumes from it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace kvmrace {

struct CorpusEntry {
    std::string signature;
    std::string erratum;  // known erratum, "" for a new finding
    std::string spec;     // the smallest point seen with this signature (after shrinking)
    uint64_t seed = 0;
    uint64_t count = 0;          // times seen, this run and earlier ones
    std::string kernel;          // where it was first seen
    std::string message;         // the verdict's first lines
    std::string replay() const;  // "kvmrace --scenario-spec '...' --seed N --force"
};

class Corpus {
public:
    // Creates DIR if needed and proves it writable before anything runs; nullopt + `error`
    // (one line) otherwise. Loads what an earlier run kept.
    static std::optional<Corpus> open(const std::string& dir, std::string& error);
    const std::map<std::string, CorpusEntry>& entries() const { return entries_; }
    bool has(const std::string& signature) const { return entries_.count(signature) != 0; }
    // Adds or counts a finding and writes its file at once (a crash loses nothing before it).
    void record(const CorpusEntry& e);
    const std::string& dir() const { return dir_; }

private:
    void write(const CorpusEntry& e) const;
    std::string dir_;
    std::map<std::string, CorpusEntry> entries_;
};

}  // namespace kvmrace
