#include "cli/test_filter.h"

namespace kvmrace {

bool glob_match(std::string_view p, std::string_view n) {
    // Iterative matcher with single-star backtracking.
    size_t pi = 0, ni = 0, star = std::string_view::npos, mark = 0;
    while (ni < n.size()) {
        if (pi < p.size() && (p[pi] == '?' || p[pi] == n[ni])) {
            ++pi;
            ++ni;
        } else if (pi < p.size() && p[pi] == '*') {
            star = pi++;
            mark = ni;
        } else if (star != std::string_view::npos) {
            pi = star + 1;
            ni = ++mark;
        } else {
            return false;
        }
    }
    while (pi < p.size() && p[pi] == '*') ++pi;
    return pi == p.size();
}

namespace {
bool any_matches(std::string_view patterns, std::string_view name) {
    while (true) {
        size_t colon = patterns.find(':');
        if (glob_match(patterns.substr(0, colon), name)) return true;
        if (colon == std::string_view::npos) return false;
        patterns.remove_prefix(colon + 1);
    }
}
}  // namespace

bool filter_matches(std::string_view filter, std::string_view name) {
    size_t dash = filter.find('-');
    std::string_view positive = filter.substr(0, dash);
    std::string_view negative = dash == std::string_view::npos ? "" : filter.substr(dash + 1);
    if (positive.empty()) positive = "*";
    if (!any_matches(positive, name)) return false;
    return negative.empty() || !any_matches(negative, name);
}

}  // namespace kvmrace
