// A KVM virtual machine (KVM_CREATE_VM fd): memslots, guest_memfd, irqchip, irqfd, dirty log.
#pragma once

#include <linux/kvm.h>

#include <cstdint>
#include <span>
#include <vector>

#include "kvm/errno_result.h"
#include "kvm/uapi.h"
#include "kvm/unique_fd.h"

namespace kvmrace {

class System;
class Vcpu;
class GuestMemfd;

class Vm {
public:
    Vm(const System& system, UniqueFd fd, uapi::VmType type);

    int fd() const { return fd_.get(); }
    uapi::VmType type() const { return type_; }
    const System& system() const { return *system_; }
    int check_extension(int cap) const;
    bool has_memory_region2() const { return region2_; }

    Vcpu create_vcpu(unsigned id);
    Errno try_create_vcpu(unsigned id);  // the vCPU fd is closed again on success

    // KVM_SET_USER_MEMORY_REGION2 where the kernel has it, else the v1 ioctl (which cannot
    // express guest_memfd: such a region gets EINVAL without a syscall).
    void set_memory_region(const uapi::UserspaceMemoryRegion2& r);
    Errno try_set_memory_region(const uapi::UserspaceMemoryRegion2& r);

    GuestMemfd create_guest_memfd(uint64_t size, uint64_t flags);
    Errno try_create_guest_memfd(uint64_t size, uint64_t flags);  // fd closed again on success
    Errno try_create_guest_memfd(const uapi::CreateGuestMemfd& args);

    Errno try_set_memory_attributes(uint64_t gpa, uint64_t size, uint64_t attributes);

    void create_irqchip();
    void set_gsi_routing(std::span<const kvm_irq_routing_entry> entries);
    // The GSI routing table as one entry: `gsi` to an MSI for APIC ID 0 (fixed delivery, edge) on
    // `vector`, with the local APIC at `apic_base`.
    void route_gsi_to_msi(uint32_t gsi, uint8_t vector, uint64_t apic_base);
    Errno try_irqfd(const kvm_irqfd& args);
    // KVM_SIGNAL_MSI: > 0 delivered, 0 blocked by the guest (e.g. its APIC is off); throws on an
    // error.
    int signal_msi(const kvm_msi& msi);
    Errno try_ioeventfd(const kvm_ioeventfd& args);

    void enable_cap(uint32_t cap, uint64_t arg0);
    Errno try_enable_cap(uint32_t cap, uint64_t arg0);

    // KVM_GET_DIRTY_LOG for a slot of `pages` pages: one bit per page, 64 pages a word.
    std::vector<uint64_t> get_dirty_log(uint32_t slot, uint64_t pages);
    void clear_dirty_log(uint32_t slot, uint64_t first_page, uint32_t num_pages,
                         std::span<uint64_t> bitmap);

    UniqueFd stats_fd();

private:
    const System* system_;
    UniqueFd fd_;
    uapi::VmType type_;
    bool region2_;
};

std::string describe(const uapi::UserspaceMemoryRegion2& r);

}  // namespace kvmrace
