/* Payload entry and the 256 interrupt vector stubs. The host enters _start with rsp at the top
 * of this vCPU's stack and the payload's arguments in rdi, rsi, rdx, rcx. */
    .section .text.start, "ax"
    .global _start
_start:
    call guest_main
    mov %rax, %rdi
    call _ZN5guest4doneEm
1:  jmp 1b

/* Each stub is 16 bytes: vectors without a CPU-pushed error code push a zero, so the frame
 * always has one; then the vector number. */
    .altmacro
    .macro vector_stub n
    .balign 16
    .if ((\n == 8) || ((\n >= 10) && (\n <= 14)) || (\n == 17) || (\n == 21) || (\n == 29) || (\n == 30))
    .else
    pushq $0
    .endif
    pushq $\n
    jmp interrupt_common
    .endm

    .text
    .balign 16
    .global __guest_vectors
__guest_vectors:
    .set vec, 0
    .rept 256
    vector_stub %vec
    .set vec, vec + 1
    .endr

interrupt_common:
    push %rax
    push %rbx
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %rbp
    push %r8
    push %r9
    push %r10
    push %r11
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rsp, %rdi
    cld
    call guest_interrupt
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rbp
    pop %rdi
    pop %rsi
    pop %rdx
    pop %rcx
    pop %rbx
    pop %rax
    add $16, %rsp
    iretq
    .section .note.GNU-stack, "", @progbits
