#include "kvm/kvm_error.h"

#include <fmt/format.h>

#include "kvm/errno_result.h"

namespace kvmrace {

KvmError::KvmError(std::string call, int err, std::string context)
    : std::runtime_error(fmt::format("{} failed: {}{}{}", call, Errno{err}.describe(),
                                     context.empty() ? "" : " ; ", context)),
      call_(std::move(call)),
      err_(err),
      context_(std::move(context)) {}

}  // namespace kvmrace
