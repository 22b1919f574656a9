// Small library parts: kernel versions, errno names, the capability table.
#include <gtest/gtest.h>

#include <cerrno>

#include "kernel/version.h"
#include "kvm/capability.h"
#include "kvm/errno_result.h"
#include "kvm/kvm_error.h"

namespace kvmrace {
namespace {

TEST(UnitKernelVersion, ParsesReleaseStrings) {
    EXPECT_EQ(KernelVersion::parse("6.18.44-fc-v595"), (KernelVersion{6, 18, 44}));
    EXPECT_EQ(KernelVersion::parse("6.14.0"), (KernelVersion{6, 14, 0}));
    EXPECT_EQ(KernelVersion::parse("6.18-rc1"), (KernelVersion{6, 18, 0}));
    EXPECT_EQ(KernelVersion::parse("6.1"), (KernelVersion{6, 1, 0}));
    EXPECT_FALSE(KernelVersion::parse("linux"));
    EXPECT_FALSE(KernelVersion::parse("6"));
    EXPECT_LT((KernelVersion{6, 14, 0}), (KernelVersion{6, 17, 0}));
    EXPECT_LT((KernelVersion{6, 17, 9}), (KernelVersion{6, 18, 0}));
    EXPECT_EQ((KernelVersion{6, 18, 2}).str(), "6.18.2");
}

TEST(UnitErrno, NamesAndDescriptions) {
    EXPECT_EQ(errno_name(EAGAIN), "EAGAIN");
    EXPECT_EQ(errno_name(EOPNOTSUPP), "EOPNOTSUPP");
    EXPECT_EQ(errno_name(4095), "E4095");
    EXPECT_EQ(Errno{EEXIST}.describe(), "EEXIST (File exists)");
    EXPECT_EQ(Errno{}.describe(), "success");
    EXPECT_TRUE(Errno{}.ok());
    EXPECT_EQ(Errno{EINVAL}, EINVAL);
}

TEST(UnitErrno, KvmErrorNamesCallErrnoAndArguments) {
    KvmError e("KVM_SET_USER_MEMORY_REGION2", EEXIST, "slot=1 gpa=0x1000");
    EXPECT_STREQ(e.what(),
                 "KVM_SET_USER_MEMORY_REGION2 failed: EEXIST (File exists) ; slot=1 gpa=0x1000");
    EXPECT_EQ(e.err(), EEXIST);
}

TEST(UnitCapability, LookupByNameAndNumber) {
    EXPECT_EQ(capability_by_name("PRE_FAULT_MEMORY")->number, 236);
    EXPECT_EQ(capability_by_name("KVM_CAP_GUEST_MEMFD")->number, 234);
    EXPECT_EQ(capability_by_number(235)->name, "VM_TYPES");
    EXPECT_FALSE(capability_by_name("NO_SUCH_CAP"));
    EXPECT_FALSE(capability_by_number(-1));
    for (const auto& c : known_capabilities())
        EXPECT_EQ(capability_by_name(c.name)->number, c.number);
}

}  // namespace
}  // namespace kvmrace
