#include "report/report_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace kvmrace {

std::optional<ReportFile> ReportFile::open(std::string_view option, const std::string& path,
                                           std::string& error) {
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!fd.valid()) {
        error = fmt::format("kvmrace: {} {}: {}", option, path, std::strerror(errno));
        return std::nullopt;
    }
    return ReportFile(option, path, std::move(fd));
}

bool ReportFile::write(std::string_view text, std::string& error) {
    int err = 0;
    while (!text.empty() && err == 0) {
        ssize_t n = ::write(fd_.get(), text.data(), text.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) err = errno;
        if (n > 0) text.remove_prefix(static_cast<size_t>(n));
    }
    // close() is where a network filesystem reports a lost write.
    if (::close(fd_.release()) != 0 && err == 0) err = errno;
    if (err == 0) return true;
    error = fmt::format("kvmrace: cannot write {} {}: {}", option_, path_, std::strerror(err));
    return false;
}

}  // namespace kvmrace
