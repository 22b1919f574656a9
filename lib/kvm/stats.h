// Reader for KVM's binary statistics (KVM_GET_STATS_FD): names resolved once, values re-read.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "kvm/unique_fd.h"

namespace kvmrace {

class Stats {
public:
    explicit Stats(UniqueFd fd);

    bool has(const std::string& name) const { return offsets_.count(name) != 0; }
    // First element of the named statistic; nullopt if the kernel does not export it.
    std::optional<uint64_t> read(const std::string& name) const;
    const std::string& id() const { return id_; }

private:
    UniqueFd fd_;
    std::string id_;
    uint64_t data_offset_ = 0;
    std::map<std::string, uint64_t> offsets_;  // name -> byte offset of its first value
};

}  // namespace kvmrace
