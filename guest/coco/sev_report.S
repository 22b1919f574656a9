/* SEV / SEV-ES / SNP payload. Entered in 32-bit flat protected mode with paging off (the host
 * sets that state; for SEV-ES and SNP it is encrypted into the VMSA), so every access is private
 * and no page tables are needed. Sums the measured data page and reports the sum: SEV by PIO,
 * SEV-ES/SNP by a GHCB MSR protocol termination request + VMGEXIT. No stack is used. */
#include "report_abi.h"

    .code32
    .text
    .global _start
_start:
    mov $COCO_AMD_DATA_GPA, %esi
    mov $(COCO_DATA_BYTES / 4), %ecx
    xor %eax, %eax
1:  add (%esi), %eax
    add $4, %esi
    dec %ecx
    jnz 1b
    cmp $COCO_REPORT_GHCB, %edi
    je ghcb
    mov $COCO_REPORT_PORT, %dx
    out %eax, %dx
    jmp halt
ghcb:
    /* fold the sum to one byte: sum ^ sum>>8 ^ sum>>16 ^ sum>>24 */
    mov %eax, %ebx
    shr $16, %ebx
    xor %ebx, %eax
    mov %eax, %ebx
    shr $8, %ebx
    xor %ebx, %eax
    movzbl %al, %eax
    shl $16, %eax
    or $(COCO_GHCB_MSR_TERM_REQ | (COCO_GHCB_REASON_SET << 12)), %eax
    xor %edx, %edx
    mov $COCO_GHCB_MSR, %ecx
    wrmsr
    .byte 0xf3, 0x0f, 0x01, 0xd9 /* VMGEXIT (rep vmmcall) */
halt:
    hlt
    jmp halt
    .section .note.GNU-stack, "", @progbits
