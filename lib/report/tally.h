// Outcome accounting for a run: counts, the closing summary line and the kselftest exit code.
#pragma once

#include <string>

#include "report/exit_status.h"

namespace kvmrace {

enum class Outcome { Pass, Fail, Skip };

class Tally {
public:
    void add(Outcome o);
    int passed() const { return passed_; }
    int failed() const { return failed_; }
    int skipped() const { return skipped_; }
    // "N passed, N failed, N skipped"
    std::string summary() const;
    // 1 if anything failed; 4 if nothing passed (all skipped, or nothing ran); else 0.
    int exit_code() const;

private:
    int passed_ = 0, failed_ = 0, skipped_ = 0;
};

}  // namespace kvmrace
