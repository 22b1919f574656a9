#include "report/tally.h"

#include <fmt/format.h>

namespace kvmrace {

void Tally::add(Outcome o) {
    switch (o) {
        case Outcome::Pass: ++passed_; break;
        case Outcome::Fail: ++failed_; break;
        case Outcome::Skip: ++skipped_; break;
    }
}

std::string Tally::summary() const {
    return fmt::format("{} passed, {} failed, {} skipped", passed_, failed_, skipped_);
}

int Tally::exit_code() const {
    if (failed_ > 0) return kExitFail;
    if (passed_ == 0) return kExitSkip;
    return kExitPass;
}

}  // namespace kvmrace
