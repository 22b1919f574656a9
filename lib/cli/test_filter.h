// GoogleTest's filter syntax ("POS1:POS2-NEG1:NEG2", globs with * and ?), evaluated by us so that
// kvmrace can count and list the selected tests before GoogleTest runs them.
#pragma once

#include <string_view>

namespace kvmrace {

bool glob_match(std::string_view pattern, std::string_view name);
bool filter_matches(std::string_view filter, std::string_view full_name);

}  // namespace kvmrace
