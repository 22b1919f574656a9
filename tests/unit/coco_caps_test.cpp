// The confidential-VM skip model: every missing piece gets its own precise reason.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "kvm/coco_caps.h"

namespace kvmrace {
namespace {

ModuleParam param(const char* module, const char* name, std::optional<std::string> value,
                  int err = 0) {
    return ModuleParam{module, name, std::move(value), Errno{err}};
}

CocoHost amd_host(unsigned long types) {
    CocoHost h;
    h.vm_types = types;
    h.sev = param("kvm_amd", "sev", "Y");
    h.sev_es = param("kvm_amd", "sev_es", "Y");
    h.sev_snp = param("kvm_amd", "sev_snp", "Y");
    h.tdx = param("kvm_intel", "tdx", std::nullopt, ENOENT);
    return h;
}

TEST(UnitCocoCaps, NothingMissingOnACompleteHost) {
    CocoHost h = amd_host(0x1f);
    for (CocoKind k : {CocoKind::Sev, CocoKind::SevEs, CocoKind::Snp})
        EXPECT_EQ(coco_missing(k, h), "") << coco_name(k);
}

TEST(UnitCocoCaps, VmTypeMissingNamesTypeMaskAndModuleParameter) {
    CocoHost h = amd_host(0x1);
    h.sev_snp = param("kvm_amd", "sev_snp", "N");
    EXPECT_EQ(coco_missing(CocoKind::Snp, h),
              "VM type 4 (SNP) not in KVM_CAP_VM_TYPES=0x1; kvm_amd.sev_snp=N");
    EXPECT_EQ(coco_missing(CocoKind::Tdx, h),
              "VM type 5 (TDX) not in KVM_CAP_VM_TYPES=0x1; kvm_intel.tdx: module not loaded");
    // Parameter on but the type still absent (e.g. firmware init failed): no parameter blamed.
    EXPECT_EQ(coco_missing(CocoKind::Sev, h), "VM type 2 (SEV) not in KVM_CAP_VM_TYPES=0x1");
    h.sev_es = param("kvm_amd", "sev_es", std::nullopt, EACCES);
    EXPECT_EQ(coco_missing(CocoKind::SevEs, h),
              "VM type 3 (SEV-ES) not in KVM_CAP_VM_TYPES=0x1; kvm_amd.sev_es: EACCES "
              "(Permission denied)");
}

TEST(UnitCocoCaps, SevDeviceMissingOrForbidden) {
    CocoHost h = amd_host(0x1d);
    h.sev_device = Errno{ENOENT};
    EXPECT_EQ(coco_missing(CocoKind::Snp, h),
              "/dev/sev: ENOENT (No such file or directory): the SEV launch commands need an fd "
              "of it");
    h.sev_device = Errno{EACCES};
    EXPECT_EQ(coco_missing(CocoKind::Sev, h),
              "/dev/sev: EACCES (Permission denied): the SEV launch commands need an fd of it");
    // TDX does not use /dev/sev.
    h.vm_types = 0x21;
    EXPECT_EQ(coco_missing(CocoKind::Tdx, h), "");
}

TEST(UnitCocoCaps, ReadsModuleParametersFromSysfsLayout) {
    namespace fs = std::filesystem;
    fs::path root = fs::temp_directory_path() / ("kvmrace-sysfs-" + std::to_string(::getpid()));
    fs::create_directories(root / "kvm_amd" / "parameters");
    std::ofstream(root / "kvm_amd" / "parameters" / "sev_snp") << "Y\n";
    std::ofstream(root / "kvm_amd" / "parameters" / "sev") << "N\n";
    ModuleParam snp = read_module_param(root.string(), "kvm_amd", "sev_snp");
    ModuleParam sev = read_module_param(root.string(), "kvm_amd", "sev");
    ModuleParam tdx = read_module_param(root.string(), "kvm_intel", "tdx");
    fs::remove_all(root);
    EXPECT_TRUE(snp.enabled());
    EXPECT_EQ(snp.describe(), "kvm_amd.sev_snp=Y");
    EXPECT_FALSE(sev.enabled());
    EXPECT_EQ(sev.describe(), "kvm_amd.sev=N");
    EXPECT_FALSE(tdx.enabled());
    EXPECT_EQ(tdx.describe(), "kvm_intel.tdx: module not loaded");
}

}  // namespace
}  // namespace kvmrace
