// Whether to draw for a person: a terminal that is not TERM=dumb and no NO_COLOR. (A QEMU serial
// console is a tty too; scripts/vm-run sets TERM=dumb so its log stays plain text.)
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace kvmrace {

inline bool is_interactive(int fd) {
    const char* term = std::getenv("TERM");
    return ::isatty(fd) && std::getenv("NO_COLOR") == nullptr &&
           !(term && std::strcmp(term, "dumb") == 0);
}

}  // namespace kvmrace
