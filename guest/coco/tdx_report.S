/* TDX payload. The TDX module starts the vCPU at 0xfffffff0 in 32-bit protected mode with paging
 * off; TDCALL needs 64-bit mode (TDVMCALL passes r10-r15), so this enables paging with the
 * measured page tables below, switches to 64-bit code, sums the data page and reports the sum
 * with TDG.VP.VMCALL<Instruction.IO> (KVM turns it into a KVM_EXIT_IO write to
 * COCO_REPORT_PORT). No stack is used. */
#include "report_abi.h"

    .code32
    .text
entry32:
    mov $pml4, %eax
    mov %eax, %cr3
    mov %cr4, %eax
    or $0x20, %eax          /* CR4.PAE */
    mov %eax, %cr4
    /* EFER.LME is set by the TDX module at vCPU reset (a TD may not write IA32_EFER). */
    mov %cr0, %eax
    or $0x80000001, %eax    /* CR0.PG | CR0.PE */
    mov %eax, %cr0
    lgdt gdt_desc
    ljmp $0x08, $entry64

    .code64
entry64:
    mov $COCO_TDX_DATA_GPA, %esi
    mov $(COCO_DATA_BYTES / 4), %ecx
    xor %eax, %eax
1:  add (%rsi), %eax
    add $4, %rsi
    dec %ecx
    jnz 1b
    mov %rax, %r15          /* value */
    xor %eax, %eax          /* TDG.VP.VMCALL */
    mov $0xfc00, %ecx       /* r10..r15 go to the VMM */
    xor %r10d, %r10d        /* standard TDVMCALL */
    mov $30, %r11d          /* EXIT_REASON_IO_INSTRUCTION */
    mov $4, %r12d           /* size */
    mov $1, %r13d           /* write */
    mov $COCO_REPORT_PORT, %r14d
    .byte 0x66, 0x0f, 0x01, 0xcc /* TDCALL */
2:  pause
    jmp 2b

    .data
    .balign 4096
pml4:
    .quad pdpt + 0x3        /* present, writable */
    .fill 511, 8, 0
pdpt:
    .fill 3, 8, 0
    .quad pd + 0x3          /* 3 GiB .. 4 GiB */
    .fill 508, 8, 0
pd:
    .fill 511, 8, 0
    .quad COCO_TDX_SLOT_GPA + 0x83 /* the 2 MiB slot below 4 GiB: present, writable, PS */
    .balign 8
gdt:
    .quad 0
    .quad 0x00af9b000000ffff /* 0x08: 64-bit code */
    .quad 0x00cf93000000ffff /* 0x10: data */
gdt_desc:
    .word gdt_desc - gdt - 1
    .long gdt

    .section .resetvec, "ax"
    .code32
    .global reset_vector
reset_vector:
    jmp entry32
    .balign 16, 0xf4
    .section .note.GNU-stack, "", @progbits
