// An output file named on the command line (--json, --junit). Opened before the first test, so a
// path that cannot be written is a usage error up front instead of a report lost after the run;
// written once at the end, where a failed write is reported too.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "kvm/unique_fd.h"

namespace kvmrace {

class ReportFile {
public:
    // Creates or truncates `path`. On failure: nullopt, and `error` is one line such as
    // "kvmrace: --json /x/y.json: No such file or directory".
    static std::optional<ReportFile> open(std::string_view option, const std::string& path,
                                          std::string& error);
    // Writes all of `text` and closes the file; false with `error` set when any of it failed
    // ("kvmrace: cannot write --json /dev/full: No space left on device").
    bool write(std::string_view text, std::string& error);

private:
    ReportFile(std::string_view option, const std::string& path, UniqueFd fd)
        : option_(option), path_(path), fd_(std::move(fd)) {}
    std::string option_, path_;
    UniqueFd fd_;
};

}  // namespace kvmrace
