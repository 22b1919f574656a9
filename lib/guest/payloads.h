// The guest payloads built from guest/payloads/ and embedded into kvmrace at build time.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace kvmrace {

enum class PayloadId { Basics, Memory, Interrupts };

std::string_view payload_name(PayloadId id);
std::span<const uint8_t> payload_image(PayloadId id);

}  // namespace kvmrace
