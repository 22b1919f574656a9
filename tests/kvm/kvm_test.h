// Base fixture for tests against the real KVM device: skips with the device's errno when it
// cannot be opened, and helpers to skip on a missing capability with its number and value.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include <fmt/format.h>

#include "cli/run_context.h"
#include "kvm/capability.h"
#include "kvm/system.h"

namespace kvmrace::test {

class KvmTest : public testing::Test {
protected:
    void SetUp() override {
        const RunContext& ctx = run_context();
        if (!ctx.device_status.ok()) GTEST_SKIP() << ctx.device_skip_reason();
        system_ = std::make_unique<System>(ctx.options.device);
    }
    const System& system() const { return *system_; }

private:
    std::unique_ptr<System> system_;
};

// Skips the test unless the system-wide capability is non-zero.
#define KVMRACE_REQUIRE_CAP(sys, cap)                                       \
    do {                                                                    \
        int v_ = (sys).check_extension(cap);                                \
        if (v_ == 0) GTEST_SKIP() << ::kvmrace::capability_reason(cap, v_); \
    } while (0)

}  // namespace kvmrace::test
