#include "kvm/vm.h"

#include <fmt/format.h>

#include <cstring>
#include <vector>

#include "kvm/guest_memfd.h"
#include "kvm/ioctl.h"
#include "kvm/system.h"
#include "kvm/vcpu.h"

namespace kvmrace {

std::string describe(const uapi::UserspaceMemoryRegion2& r) {
    return fmt::format(
        "slot={} flags={:#x} gpa={:#x} size={:#x} hva={:#x} guest_memfd={} offset={:#x}", r.slot,
        r.flags, r.guest_phys_addr, r.memory_size, r.userspace_addr,
        static_cast<int>(r.guest_memfd), r.guest_memfd_offset);
}

Vm::Vm(const System& system, UniqueFd fd, uapi::VmType type)
    : system_(&system), fd_(std::move(fd)), type_(type) {
    region2_ = check_extension(uapi::kCapUserMemory2) > 0;
}

int Vm::check_extension(int cap) const {
    return checked_ioctl(fd(), KVM_CHECK_EXTENSION, "KVM_CHECK_EXTENSION(vm)", cap,
                         fmt::format("cap={}", cap));
}

Vcpu Vm::create_vcpu(unsigned id) {
    int vcpufd = checked_ioctl(fd(), KVM_CREATE_VCPU, "KVM_CREATE_VCPU",
                               static_cast<unsigned long>(id), fmt::format("id={}", id));
    return Vcpu(*this, UniqueFd(vcpufd), id, system_->vcpu_mmap_size());
}

Errno Vm::try_create_vcpu(unsigned id) {
    int vcpufd = ::ioctl(fd(), KVM_CREATE_VCPU, static_cast<unsigned long>(id));
    if (vcpufd < 0) return Errno{errno};
    ::close(vcpufd);
    return {};
}

Errno Vm::try_set_memory_region(const uapi::UserspaceMemoryRegion2& r) {
    if (region2_) return try_ioctl(fd(), uapi::kSetUserMemoryRegion2, &r);
    if (r.flags & uapi::kMemGuestMemfd) return Errno{EINVAL};
    kvm_userspace_memory_region v1{r.slot, r.flags, r.guest_phys_addr, r.memory_size,
                                   r.userspace_addr};
    return try_ioctl(fd(), KVM_SET_USER_MEMORY_REGION, &v1);
}

void Vm::set_memory_region(const uapi::UserspaceMemoryRegion2& r) {
    Errno e = try_set_memory_region(r);
    if (!e.ok())
        throw KvmError(region2_ ? "KVM_SET_USER_MEMORY_REGION2" : "KVM_SET_USER_MEMORY_REGION",
                       e.value, describe(r));
}

Errno Vm::try_create_guest_memfd(const uapi::CreateGuestMemfd& args) {
    int gfd = ::ioctl(fd(), uapi::kCreateGuestMemfd, &args);
    if (gfd < 0) return Errno{errno};
    ::close(gfd);
    return {};
}

Errno Vm::try_create_guest_memfd(uint64_t size, uint64_t flags) {
    uapi::CreateGuestMemfd args{};
    args.size = size;
    args.flags = flags;
    return try_create_guest_memfd(args);
}

GuestMemfd Vm::create_guest_memfd(uint64_t size, uint64_t flags) {
    uapi::CreateGuestMemfd args{};
    args.size = size;
    args.flags = flags;
    int gfd = checked_ioctl(fd(), uapi::kCreateGuestMemfd, "KVM_CREATE_GUEST_MEMFD", &args,
                            fmt::format("size={:#x} flags={:#x}", size, flags));
    return GuestMemfd(UniqueFd(gfd), size, flags);
}

Errno Vm::try_set_memory_attributes(uint64_t gpa, uint64_t size, uint64_t attributes) {
    uapi::MemoryAttributes a{gpa, size, attributes, 0};
    return try_ioctl(fd(), uapi::kSetMemoryAttributes, &a);
}

void Vm::create_irqchip() { checked_ioctl(fd(), KVM_CREATE_IRQCHIP, "KVM_CREATE_IRQCHIP", 0); }

void Vm::set_gsi_routing(std::span<const kvm_irq_routing_entry> entries) {
    std::vector<uint8_t> buf(sizeof(uapi::IrqRoutingHeader) + entries.size_bytes());
    auto* r = reinterpret_cast<uapi::IrqRoutingHeader*>(buf.data());
    r->nr = static_cast<uint32_t>(entries.size());
    std::memcpy(r + 1, entries.data(), entries.size_bytes());
    checked_ioctl(fd(), uapi::kSetGsiRouting, "KVM_SET_GSI_ROUTING", r,
                  fmt::format("nr={}", entries.size()));
}

void Vm::route_gsi_to_msi(uint32_t gsi, uint8_t vector, uint64_t apic_base) {
    kvm_irq_routing_entry route{};
    route.gsi = gsi;
    route.type = KVM_IRQ_ROUTING_MSI;
    route.u.msi.address_lo = static_cast<uint32_t>(apic_base);
    route.u.msi.data = vector;
    set_gsi_routing({&route, 1});
}

Errno Vm::try_irqfd(const kvm_irqfd& args) { return try_ioctl(fd(), KVM_IRQFD, &args); }

int Vm::signal_msi(const kvm_msi& msi) {
    return checked_ioctl(fd(), KVM_SIGNAL_MSI, "KVM_SIGNAL_MSI", &msi,
                         fmt::format("address_lo={:#x} data={:#x}", msi.address_lo, msi.data));
}

Errno Vm::try_ioeventfd(const kvm_ioeventfd& args) { return try_ioctl(fd(), KVM_IOEVENTFD, &args); }

Errno Vm::try_enable_cap(uint32_t cap, uint64_t arg0) {
    kvm_enable_cap c{};
    c.cap = cap;
    c.args[0] = arg0;
    return try_ioctl(fd(), KVM_ENABLE_CAP, &c);
}

void Vm::enable_cap(uint32_t cap, uint64_t arg0) {
    Errno e = try_enable_cap(cap, arg0);
    if (!e.ok())
        throw KvmError("KVM_ENABLE_CAP", e.value, fmt::format("cap={} arg0={:#x}", cap, arg0));
}

std::vector<uint64_t> Vm::get_dirty_log(uint32_t slot, uint64_t pages) {
    std::vector<uint64_t> bitmap((pages + 63) / 64);
    kvm_dirty_log log{};
    log.slot = slot;
    log.dirty_bitmap = bitmap.data();
    checked_ioctl(fd(), KVM_GET_DIRTY_LOG, "KVM_GET_DIRTY_LOG", &log, fmt::format("slot={}", slot));
    return bitmap;
}

void Vm::clear_dirty_log(uint32_t slot, uint64_t first_page, uint32_t num_pages,
                         std::span<uint64_t> bitmap) {
    kvm_clear_dirty_log c{};
    c.slot = slot;
    c.first_page = first_page;
    c.num_pages = num_pages;
    c.dirty_bitmap = bitmap.data();
    checked_ioctl(fd(), KVM_CLEAR_DIRTY_LOG, "KVM_CLEAR_DIRTY_LOG", &c,
                  fmt::format("slot={} first={} num={}", slot, first_page, num_pages));
}

UniqueFd Vm::stats_fd() {
    return UniqueFd(checked_ioctl(fd(), KVM_GET_STATS_FD, "KVM_GET_STATS_FD(vm)", 0));
}

}  // namespace kvmrace
