#include <gtest/gtest.h>

#include "cli/options.h"

namespace kvmrace {
namespace {

ParseResult parse(std::initializer_list<std::string_view> args) {
    std::vector<std::string_view> v(args);
    return parse_options(v);
}

TEST(UnitOptions, DefaultsRunKvmTestsInFullMode) {
    ParseResult r = parse({});
    ASSERT_EQ(r.error, "");
    EXPECT_EQ(r.options.selection, Selection::Kvm);
    EXPECT_FALSE(r.options.quick);
    EXPECT_EQ(r.options.device, "/dev/kvm");
    EXPECT_FALSE(r.options.iterations.has_value());
}

TEST(UnitOptions, ValuesWithEqualsOrAsNextArgument) {
    ParseResult a = parse({"--filter=KvmMemslot*", "--iterations", "50", "--seed=0x10", "--device",
                           "/x", "--seeds", "10"});
    ASSERT_EQ(a.error, "");
    EXPECT_EQ(a.options.seeds, 10u);
    EXPECT_EQ(a.options.filter, "KvmMemslot*");
    EXPECT_EQ(a.options.iterations, 50u);
    EXPECT_EQ(a.options.seed, 16u);
    EXPECT_EQ(a.options.device, "/x");
}

TEST(UnitOptions, FlagsAndVerbosity) {
    ParseResult r = parse({"--quick", "--all", "-vv", "--caps", "--list"});
    ASSERT_EQ(r.error, "");
    EXPECT_TRUE(r.options.quick && r.options.caps && r.options.list);
    EXPECT_EQ(r.options.selection, Selection::All);
    EXPECT_EQ(r.options.verbosity, 2);
    EXPECT_EQ(parse({"-q"}).options.verbosity, -1);
}

TEST(UnitOptions, GtestFlagsPassThrough) {
    ParseResult r = parse({"--gtest_repeat=2", "--gtest_shuffle"});
    ASSERT_EQ(r.error, "");
    EXPECT_EQ(r.options.gtest_args,
              (std::vector<std::string>{"--gtest_repeat=2", "--gtest_shuffle"}));
}

struct BadInput {
    std::vector<std::string_view> args;
    const char* error;
};

class UnitOptionsErrors : public testing::TestWithParam<BadInput> {};

TEST_P(UnitOptionsErrors, OneLineError) {
    ParseResult r = parse_options(GetParam().args);
    EXPECT_EQ(r.error, GetParam().error);
    EXPECT_EQ(r.error.find('\n'), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(
    , UnitOptionsErrors,
    testing::Values(
        BadInput{{"--bogus"}, "kvmrace: unknown option '--bogus' (see --help)"},
        BadInput{{"extra"}, "kvmrace: unknown option 'extra' (see --help)"},
        BadInput{{"--iterations"}, "kvmrace: --iterations needs a value"},
        BadInput{{"--iterations=abc"},
                 "kvmrace: --iterations wants a non-negative integer, got 'abc'"},
        BadInput{{"--iterations=-3"},
                 "kvmrace: --iterations wants a non-negative integer, got '-3'"},
        BadInput{{"--iterations=0"}, "kvmrace: --iterations must be at least 1"},
        BadInput{{"--seed=12x"}, "kvmrace: --seed wants a non-negative integer, got '12x'"},
        BadInput{{"--seeds=0"}, "kvmrace: --seeds must be 1 to 1000"},
        BadInput{{"--seeds=1001"}, "kvmrace: --seeds must be 1 to 1000"},
        BadInput{{"--filter="}, "kvmrace: --filter needs a pattern"},
        BadInput{{"--quick=yes"}, "kvmrace: --quick takes no value"},
        BadInput{{"--gtest_bogus"},
                 "kvmrace: unknown GoogleTest flag '--gtest_bogus' (see --help)"},
        BadInput{{"--gtest_filter_typo=x"},
                 "kvmrace: unknown GoogleTest flag '--gtest_filter_typo' (see --help)"},
        BadInput{{"--assume-fixed=prefault-eagain,nope"},
                 "kvmrace: --assume-fixed: no erratum 'nope' (kvmrace --errata lists them)"},
        BadInput{{"--assume-fixed="}, "kvmrace: --assume-fixed needs erratum ids"},
        BadInput{{"--errata-from=sometimes"},
                 "kvmrace: --errata-from wants probe, version or both, got 'sometimes'"}));

TEST(UnitOptions, AssumeFixedTakesAListOfKnownErrata) {
    const std::string_view args[] = {"--assume-fixed=prefault-stale-root,prefault-eagain"};
    ParseResult r = parse_options(args);
    ASSERT_EQ(r.error, "");
    EXPECT_EQ(r.options.assume_fixed,
              (std::vector<std::string>{"prefault-stale-root", "prefault-eagain"}));
}

TEST(UnitOptions, ErrataFromDefaultsToTheProbe) {
    EXPECT_EQ(parse_options({}).options.errata_from, ErrataSource::Probe);
    const std::string_view args[] = {"--errata-from", "version"};
    EXPECT_EQ(parse_options(args).options.errata_from, ErrataSource::Version);
}

TEST(UnitOptions, GtestFilterAddsTheSelection) {
    Options o;
    EXPECT_EQ(gtest_filter(o), "*-Unit*");
    o.selection = Selection::Unit;
    EXPECT_EQ(gtest_filter(o), "*-Kvm*");
    o.selection = Selection::All;
    o.filter = "KvmMemslot*";
    EXPECT_EQ(gtest_filter(o), "KvmMemslot*");
    o.selection = Selection::Kvm;
    o.filter = "Kvm*-KvmRun*";
    EXPECT_EQ(gtest_filter(o), "Kvm*-KvmRun*:Unit*");
}

}  // namespace
}  // namespace kvmrace
