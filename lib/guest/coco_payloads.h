// The confidential-VM payloads (guest/coco/) as launch images: the payload's segments plus the
// data page it sums, filled from a seed, and what the guest must report for it.
#pragma once

#include <cstdint>
#include <span>

#include "kvm/coco_caps.h"
#include "kvm/coco_sink.h"

namespace kvmrace {

std::span<const uint8_t> coco_payload_image(CocoKind k);  // the embedded ELF
LaunchImage coco_launch_image(CocoKind k, uint64_t seed);
// What the payload reports for `image`: SEV and TDX the 32-bit sum of the data page's dwords,
// SEV-ES and SNP that sum folded to a byte (the GHCB termination reason code).
uint64_t coco_expected_report(CocoKind k, const LaunchImage& image);

}  // namespace kvmrace
