/* Shared by the confidential-VM payloads (assembly) and their host half (C++): where the measured
 * data page sits and how a guest reports what it read from it. Plain #defines so that the .S
 * files can include it. */
#pragma once

/* SEV, SEV-ES, SNP: one 2 MiB slot at GPA 0; the payload is linked at 1 MiB, the data page the
 * guest sums follows it. */
#define COCO_AMD_SLOT_GPA 0x0
#define COCO_AMD_SLOT_SIZE 0x200000
#define COCO_AMD_DATA_GPA 0x180000

/* TDX: the vCPU starts at the reset vector 0xfffffff0 (fixed by the TDX module), so the slot is
 * the 2 MiB below 4 GiB; the data page is its first page. */
#define COCO_TDX_SLOT_GPA 0xffe00000
#define COCO_TDX_SLOT_SIZE 0x200000
#define COCO_TDX_DATA_GPA 0xffe00000

#define COCO_DATA_BYTES 4096

/* The report: the 32-bit sum of the data page's little-endian dwords. */
#define COCO_REPORT_PORT 0x5e0 /* SEV (PIO is intercepted) and TDX (TDVMCALL<Instruction.IO>) */

/* SEV-ES and SNP cannot do intercepted PIO without a #VC handler: they report through the GHCB
 * MSR protocol's termination request, whose 8-bit reason code carries the sum folded to a byte. */
#define COCO_GHCB_MSR 0xc0010130
#define COCO_GHCB_MSR_TERM_REQ 0x100
#define COCO_GHCB_REASON_SET 0xa /* bits 15:12; 0 and 1 are the GHCB spec's and Linux's */

/* The SEV-family payload's entry: %edi selects the report path. */
#define COCO_REPORT_PIO 0
#define COCO_REPORT_GHCB 1
