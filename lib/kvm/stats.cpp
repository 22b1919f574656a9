#include "kvm/stats.h"

#include <linux/kvm.h>
#include <unistd.h>

#include <vector>

#include <cstring>

#include "kvm/kvm_error.h"
#include "kvm/uapi.h"

namespace kvmrace {

namespace {
void pread_exact(int fd, void* buf, size_t len, uint64_t off) {
    ssize_t n = ::pread(fd, buf, len, static_cast<off_t>(off));
    if (n != static_cast<ssize_t>(len)) throw KvmError("pread(stats fd)", n < 0 ? errno : EIO, "");
}
}  // namespace

Stats::Stats(UniqueFd fd) : fd_(std::move(fd)) {
    kvm_stats_header h{};
    pread_exact(fd_.get(), &h, sizeof h, 0);
    std::vector<char> id(h.name_size + 1, '\0');
    pread_exact(fd_.get(), id.data(), h.name_size, h.id_offset);
    id_ = id.data();
    size_t desc_size = sizeof(uapi::StatsDesc) + h.name_size;
    std::vector<uint8_t> descs(desc_size * h.num_desc);
    pread_exact(fd_.get(), descs.data(), descs.size(), h.desc_offset);
    data_offset_ = h.data_offset;
    for (uint32_t i = 0; i < h.num_desc; ++i) {
        const uint8_t* raw = descs.data() + i * desc_size;
        auto* d = reinterpret_cast<const uapi::StatsDesc*>(raw);
        const char* name = reinterpret_cast<const char*>(raw + sizeof(uapi::StatsDesc));
        offsets_[std::string(name, strnlen(name, h.name_size))] = d->offset;
    }
}

std::optional<uint64_t> Stats::read(const std::string& name) const {
    auto it = offsets_.find(name);
    if (it == offsets_.end()) return std::nullopt;
    uint64_t v = 0;
    pread_exact(fd_.get(), &v, sizeof v, data_offset_ + it->second);
    return v;
}

}  // namespace kvmrace
