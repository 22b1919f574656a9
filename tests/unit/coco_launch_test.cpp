// The confidential-VM launch flows, run against a recording sink: the order of every command and
// the arguments the kernel checks (page alignment, gfn, flags, sev_fd), and how a failure reads.
// This host has no SEV/SNP/TDX, so this is where our launch code is proven.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "coco/report_abi.h"
#include "guest/coco_payloads.h"
#include "kvm/kvm_error.h"
#include "kvm/sev_device.h"
#include "kvm/sev_vm.h"
#include "kvm/tdx_vm.h"

namespace kvmrace {
namespace {

constexpr uint64_t kPage = 4096;

class RecordingSink : public CocoSink {
public:
    std::vector<std::string> steps;
    std::map<std::string, std::pair<int, uint64_t>> fail;  // command -> (errno, fw status)
    std::vector<uapi::SnpLaunchUpdate> snp_updates;
    std::vector<std::pair<uapi::TdxInitMemRegion, uint32_t>> tdx_regions;  // region, flags
    std::vector<uint32_t> sev_fds;
    std::vector<uint8_t> shared_memory = std::vector<uint8_t>(COCO_AMD_SLOT_SIZE);

    Errno encrypt_op(std::string_view name, int vcpu, void* cmd) override {
        std::string n(name);
        steps.push_back(vcpu < 0 ? n : fmt::format("{}@vcpu{}", n, vcpu));
        if (n.starts_with("KVM_SEV")) {
            auto* c = static_cast<uapi::SevCmd*>(cmd);
            sev_fds.push_back(c->sev_fd);
            if (auto f = fail.find(n); f != fail.end()) {
                c->error = static_cast<uint32_t>(f->second.second);
                return Errno{f->second.first};
            }
            if (c->id == uapi::kSevSnpLaunchUpdate) {
                auto* u = reinterpret_cast<uapi::SnpLaunchUpdate*>(c->data);
                snp_updates.push_back(*u);
                u->gfn_start += u->len / kPage;  // the kernel reports what is left
                u->uaddr += u->len;
                u->len = 0;
            }
            if (c->id == uapi::kSevLaunchMeasure) {
                auto* m = reinterpret_cast<uapi::SevLaunchMeasure*>(c->data);
                if (m->len == 0) {
                    m->len = 48;  // size query: the firmware says how big the blob is
                    return Errno{EIO};
                }
            }
            return {};
        }
        auto* c = static_cast<uapi::TdxCmd*>(cmd);
        if (auto f = fail.find(n); f != fail.end()) {
            c->hw_error = f->second.second;
            return Errno{f->second.first};
        }
        if (c->id == uapi::kTdxCapabilities) {
            auto* caps = reinterpret_cast<uapi::TdxCapabilities*>(c->data);
            caps->supported_xfam = 0x2e7;
            caps->cpuid.nent = 1;
            auto* e = reinterpret_cast<kvm_cpuid_entry2*>(caps + 1);
            *e = kvm_cpuid_entry2{};
            e->function = 1;
            e->ecx = 0xffffffff;
        }
        if (c->id == uapi::kTdxGetCpuid) reinterpret_cast<uapi::Cpuid2Header*>(c->data)->nent = 0;
        if (c->id == uapi::kTdxInitMemRegion) {
            auto* r = reinterpret_cast<uapi::TdxInitMemRegion*>(c->data);
            tdx_regions.emplace_back(*r, c->flags);
            r->source_addr += r->nr_pages * kPage;
            r->gpa += r->nr_pages * kPage;
            r->nr_pages = 0;
        }
        return {};
    }
    void enable_split_irqchip() override { steps.push_back("split_irqchip"); }
    void create_vcpu(unsigned id) override { steps.push_back(fmt::format("create_vcpu{}", id)); }
    void set_boot_state(unsigned id, const BootState& b) override {
        steps.push_back(fmt::format("boot_state{}", id));
        boot = b;
    }
    void set_cpuid(unsigned id, std::span<const kvm_cpuid_entry2>) override {
        steps.push_back(fmt::format("set_cpuid{}", id));
    }
    std::vector<kvm_cpuid_entry2> supported_cpuid() override {
        kvm_cpuid_entry2 e{};
        e.function = 1;
        e.ecx = 0x0000ffff;
        return {e};
    }
    uint8_t* add_memory(uint32_t slot, uint64_t gpa, uint64_t size, bool priv) override {
        steps.push_back(fmt::format("add_memory{} {:#x}+{:#x} {}", slot, gpa, size,
                                    priv ? "private" : "shared"));
        return priv ? nullptr : shared_memory.data();
    }
    BootState boot;
};

std::vector<std::string> with_updates(std::vector<std::string> head, const std::string& update,
                                      size_t n, std::vector<std::string> tail) {
    for (size_t i = 0; i < n; ++i) head.push_back(update);
    head.insert(head.end(), tail.begin(), tail.end());
    return head;
}

std::string amd_memory(bool priv) {
    return fmt::format("add_memory0 {:#x}+{:#x} {}", COCO_AMD_SLOT_GPA, COCO_AMD_SLOT_SIZE,
                       priv ? "private" : "shared");
}

TEST(UnitCocoLaunch, SevOrder) {
    RecordingSink sink;
    SevCommands cmds(sink, 77);
    LaunchImage img = coco_launch_image(CocoKind::Sev, 1);
    SevLaunchRecord rec = launch_sev_family(sink, cmds, uapi::VmType::Sev, img, COCO_REPORT_PIO);
    EXPECT_EQ(sink.steps, with_updates({"KVM_SEV_INIT2", amd_memory(false), "create_vcpu0",
                                        "boot_state0", "KVM_SEV_LAUNCH_START"},
                                       "KVM_SEV_LAUNCH_UPDATE_DATA", img.chunks.size(),
                                       {"KVM_SEV_LAUNCH_MEASURE", "KVM_SEV_LAUNCH_MEASURE",
                                        "KVM_SEV_LAUNCH_FINISH"}));
    EXPECT_EQ(rec.measurement.size(), 48u);
    for (uint32_t fd : sink.sev_fds) EXPECT_EQ(fd, 77u);
    EXPECT_EQ(sink.boot.rip, img.entry);
    EXPECT_EQ(sink.boot.rdi, uint64_t{COCO_REPORT_PIO});
    // LAUNCH_UPDATE_DATA encrypts in place: the payload must be in the slot's memory by then.
    for (const LaunchChunk& c : img.chunks)
        EXPECT_EQ(0, std::memcmp(sink.shared_memory.data() + c.gpa, c.bytes.data(), c.bytes.size()))
            << fmt::format("chunk at {:#x}", c.gpa);
}

TEST(UnitCocoLaunch, SevEsUpdatesVmsaBeforeMeasure) {
    RecordingSink sink;
    SevCommands cmds(sink, 3);
    LaunchImage img = coco_launch_image(CocoKind::SevEs, 1);
    launch_sev_family(sink, cmds, uapi::VmType::SevEs, img, COCO_REPORT_GHCB);
    EXPECT_EQ(sink.steps, with_updates({"KVM_SEV_INIT2", amd_memory(false), "create_vcpu0",
                                        "boot_state0", "KVM_SEV_LAUNCH_START"},
                                       "KVM_SEV_LAUNCH_UPDATE_DATA", img.chunks.size(),
                                       {"KVM_SEV_LAUNCH_UPDATE_VMSA", "KVM_SEV_LAUNCH_MEASURE",
                                        "KVM_SEV_LAUNCH_MEASURE", "KVM_SEV_LAUNCH_FINISH"}));
    EXPECT_EQ(sink.boot.rdi, uint64_t{COCO_REPORT_GHCB});
}

TEST(UnitCocoLaunch, SnpOrderAndPopulateArguments) {
    RecordingSink sink;
    SevCommands cmds(sink, 5);
    LaunchImage img = coco_launch_image(CocoKind::Snp, 9);
    launch_sev_family(sink, cmds, uapi::VmType::Snp, img, COCO_REPORT_GHCB);
    EXPECT_EQ(sink.steps, with_updates({"KVM_SEV_INIT2", amd_memory(true), "create_vcpu0",
                                        "boot_state0", "KVM_SEV_SNP_LAUNCH_START"},
                                       "KVM_SEV_SNP_LAUNCH_UPDATE", img.chunks.size(),
                                       {"KVM_SEV_SNP_LAUNCH_FINISH"}));
    ASSERT_EQ(sink.snp_updates.size(), img.chunks.size());
    for (size_t i = 0; i < img.chunks.size(); ++i) {
        const uapi::SnpLaunchUpdate& u = sink.snp_updates[i];
        EXPECT_EQ(u.gfn_start, img.chunks[i].gpa / kPage);
        EXPECT_EQ(u.uaddr % kPage, 0u) << "seed 004: populate sources must be page-aligned";
        EXPECT_EQ(u.len % kPage, 0u);
        EXPECT_EQ(u.len, (img.chunks[i].bytes.size() + kPage - 1) / kPage * kPage);
        EXPECT_EQ(u.type, uapi::kSnpPageTypeNormal);
        EXPECT_EQ(u.flags, 0u);
    }
}

TEST(UnitCocoLaunch, TdxOrderAndInitMemRegionArguments) {
    RecordingSink sink;
    TdxCommands cmds(sink);
    LaunchImage img = coco_launch_image(CocoKind::Tdx, 3);
    launch_tdx(sink, cmds, img);
    EXPECT_EQ(
        sink.steps,
        with_updates(
            {"KVM_TDX_CAPABILITIES", "split_irqchip", "KVM_TDX_INIT_VM", "create_vcpu0",
             "set_cpuid0", "KVM_TDX_INIT_VCPU@vcpu0", "KVM_TDX_GET_CPUID@vcpu0", "set_cpuid0",
             fmt::format("add_memory0 {:#x}+{:#x} private", COCO_TDX_SLOT_GPA, COCO_TDX_SLOT_SIZE)},
            "KVM_TDX_INIT_MEM_REGION@vcpu0", img.chunks.size(), {"KVM_TDX_FINALIZE_VM"}));
    ASSERT_EQ(sink.tdx_regions.size(), img.chunks.size());
    for (const auto& [r, flags] : sink.tdx_regions) {
        EXPECT_EQ(r.source_addr % kPage, 0u);
        EXPECT_EQ(r.gpa % kPage, 0u);
        EXPECT_GT(r.nr_pages, 0u);
        EXPECT_GE(r.gpa, uint64_t{COCO_TDX_SLOT_GPA});
        EXPECT_LE(r.gpa + r.nr_pages * kPage, uint64_t{COCO_TDX_SLOT_GPA} + COCO_TDX_SLOT_SIZE);
        EXPECT_EQ(flags, uapi::kTdxMeasureMemoryRegion);
    }
}

TEST(UnitCocoLaunch, TdxInitialCpuidMasksAndPinsA48BitGuest) {
    kvm_cpuid_entry2 conf[2]{};
    conf[0].function = 1;
    conf[0].ecx = 0xf0f0f0f0;
    conf[0].edx = 0xffffffff;
    conf[1].function = 0x80000008;
    conf[1].eax = 0x00ff3030;  // the module lets GuestPhysAddrSize be set
    kvm_cpuid_entry2 sup{};
    sup.function = 1;
    sup.ecx = 0x0000ff00;
    sup.edx = 0x12345678;
    auto out = tdx_initial_cpuid(std::span(conf, 2), std::span(&sup, 1));
    ASSERT_EQ(out.size(), 2u);
    // Masked by KVM's support, x2APIC not forced here (the module may refuse a bit that is not
    // configurable; KVM_SET_CPUID2 carries it before INIT_VCPU).
    EXPECT_EQ(out[0].ecx, 0xf0f0f0f0u & 0x0000ff00u);
    EXPECT_EQ(out[0].edx, 0x12345678u);
    // INIT_VM takes a GPA width of 48 or 52 only: 48 (no 5-level EPT needed).
    EXPECT_EQ((out[1].eax >> 16) & 0xff, 48u);
    EXPECT_EQ(out[1].eax & 0xffff, 0x3030u);
}

TEST(UnitCocoLaunch, FailureNamesCommandErrnoAndFirmwareStatus) {
    RecordingSink sink;
    sink.fail["KVM_SEV_SNP_LAUNCH_UPDATE"] = {EIO, 0x1a};
    SevCommands cmds(sink, 5);
    LaunchImage img = coco_launch_image(CocoKind::Snp, 1);
    try {
        launch_sev_family(sink, cmds, uapi::VmType::Snp, img, COCO_REPORT_GHCB);
        FAIL() << "the flow went on after a failed SNP_LAUNCH_UPDATE";
    } catch (const KvmError& e) {
        EXPECT_EQ(e.call(), "KVM_MEMORY_ENCRYPT_OP(KVM_SEV_SNP_LAUNCH_UPDATE)");
        EXPECT_EQ(e.err(), EIO);
        EXPECT_NE(std::string(e.what()).find("fw_error=26 (INVALID_PAGE_STATE)"), std::string::npos)
            << e.what();
        EXPECT_NE(std::string(e.what()).find("gfn_start="), std::string::npos) << e.what();
    }
    EXPECT_EQ(sink.steps.back(), "KVM_SEV_SNP_LAUNCH_UPDATE");  // nothing after the failure

    RecordingSink tdx;
    tdx.fail["KVM_TDX_FINALIZE_VM"] = {EBUSY, 0x8000020000000000ull};
    TdxCommands tcmds(tdx);
    try {
        launch_tdx(tdx, tcmds, coco_launch_image(CocoKind::Tdx, 1));
        FAIL() << "FINALIZE_VM failure not reported";
    } catch (const KvmError& e) {
        EXPECT_EQ(e.call(), "KVM_MEMORY_ENCRYPT_OP(KVM_TDX_FINALIZE_VM)");
        EXPECT_NE(std::string(e.what()).find("hw_error=0x8000020000000000"), std::string::npos)
            << e.what();
    }
    // vCPU-scope commands are never copied back by KVM: no hw_error may be shown as read.
    RecordingSink vcpu;
    vcpu.fail["KVM_TDX_INIT_VCPU"] = {EIO, 0x8000020000000000ull};
    TdxCommands vcmds(vcpu);
    try {
        vcmds.init_vcpu(0, 0);
        FAIL() << "INIT_VCPU failure not reported";
    } catch (const KvmError& e) {
        EXPECT_EQ(std::string(e.what()).find("hw_error"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("vcpu=0"), std::string::npos) << e.what();
    }
}

TEST(UnitCocoLaunch, TryFormReturnsErrnoAndFirmwareStatus) {
    RecordingSink sink;
    sink.fail["KVM_SEV_SNP_LAUNCH_UPDATE"] = {EINVAL, 0};
    SevCommands cmds(sink, 5);
    uapi::SnpLaunchUpdate u{};
    u.len = kPage;
    SevResult r = cmds.try_snp_launch_update(u);
    EXPECT_EQ(r.err, EINVAL);
    EXPECT_EQ(r.fw_error, 0u);
}

TEST(UnitCocoPayload, ImagesCarryTheirPayloadAndDataPage) {
    for (CocoKind k : {CocoKind::Sev, CocoKind::Snp, CocoKind::Tdx}) {
        LaunchImage a = coco_launch_image(k, 1), b = coco_launch_image(k, 2);
        ASSERT_GE(a.chunks.size(), 2u) << coco_name(k);
        for (const LaunchChunk& c : a.chunks) {
            EXPECT_EQ(c.gpa % kPage, 0u);
            EXPECT_EQ(c.bytes.size() % kPage, 0u);
            EXPECT_GE(c.gpa, a.slot_gpa);
            EXPECT_LE(c.gpa + c.bytes.size(), a.slot_gpa + a.slot_size) << coco_name(k);
        }
        // The report depends on the measured data, so a guest reading the wrong page fails.
        EXPECT_NE(coco_expected_report(k, a), coco_expected_report(k, b)) << coco_name(k);
    }
    // A TD starts at the architectural reset vector: the image must have a jump there.
    LaunchImage td = coco_launch_image(CocoKind::Tdx, 1);
    EXPECT_EQ(td.entry, 0xfffffff0u);
    bool found = false;
    for (const LaunchChunk& c : td.chunks)
        if (c.gpa <= 0xfffffff0u && 0xfffffff0u < c.gpa + c.bytes.size()) {
            found = true;
            EXPECT_EQ(c.bytes[0xfffffff0u - c.gpa], 0xe9) << "jmp rel32 at the reset vector";
        }
    EXPECT_TRUE(found);
    EXPECT_EQ(coco_launch_image(CocoKind::Snp, 1).entry, 0x100000u);
}

TEST(UnitCocoPayload, GhcbReportIsTheFoldedSum) {
    LaunchImage img = coco_launch_image(CocoKind::Snp, 5);
    uint64_t sum = coco_expected_report(CocoKind::Sev, img);  // same data page layout
    uint32_t s = static_cast<uint32_t>(sum);
    s ^= s >> 16;
    s ^= s >> 8;
    EXPECT_EQ(coco_expected_report(CocoKind::Snp, img), s & 0xff);
    EXPECT_LE(coco_expected_report(CocoKind::SevEs, img), 0xffu);
}

TEST(UnitCocoLaunch, FirmwareErrorNames) {
    EXPECT_EQ(sev_fw_error_name(0), "SUCCESS");
    EXPECT_EQ(sev_fw_error_name(2), "INVALID_GUEST_STATE");
    EXPECT_EQ(sev_fw_error_name(0x16), "INVALID_PARAM");
    EXPECT_EQ(sev_fw_error_name(0x27), "INVALID_KEY");
    EXPECT_EQ(sev_fw_error_name(0x1e), "0x1e");
    EXPECT_EQ(sev_fw_error_name(0xffffffffu), "NO_FW_CALL");
    EXPECT_EQ(sev_command_name(uapi::kSevSnpLaunchFinish), "KVM_SEV_SNP_LAUNCH_FINISH");
    EXPECT_EQ(tdx_command_name(uapi::kTdxInitMemRegion), "KVM_TDX_INIT_MEM_REGION");
}

}  // namespace
}  // namespace kvmrace
