// prefault-stale-root: KVM_PRE_FAULT_MEMORY livelocks against a memslot delete/move on a default
// VM (KVM_X86_QUIRK_SLOT_ZAP_ALL on). Build: gcc -O2 -static -pthread -o repro repro.c
// Usage: repro [-m other|same|move] [-q] [-n ITERATIONS] [-t SECONDS]
//   -m other: prefault slot 1 while slot 2 is deleted and re-created (default: the widest window)
//   -m same:  prefault slot 1 while slot 1 itself is deleted and re-created
//   -m move:  prefault slot 1 while it is moved 1 GiB up and back
//   -q        disable KVM_X86_QUIRK_SLOT_ZAP_ALL first (the A/B: no livelock expected on 6.18+)
// Exit: 0 ran clean, 1 LIVELOCK, 2 usage/setup error, 3 no verdict in time, 4 no prefault here.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

struct pre_fault { uint64_t gpa, size, flags, pad[5]; };  // uapi struct kvm_pre_fault_memory
#define PRE_FAULT_MEMORY _IOWR(KVMIO, 0xd5, struct pre_fault)
#define CAP_PRE_FAULT_MEMORY 236
#define QUIRK_SLOT_ZAP_ALL (1ull << 7)
#define SLOT_SIZE (2ull << 20)
#define GPA1 (1ull << 30)
#define GPA2 (GPA1 + SLOT_SIZE)

static int vm, vcpu;
static char mode = 'o';
static void *mem1, *mem2;
static atomic_int stop, ptid, mtid, p_done, m_done;
static atomic_ullong p_since, m_since, pgpa, psize, iters, calls, eagain, enoent;
static const char *_Atomic m_what = "idle";

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000ull + t.tv_nsec;
}
static void die(const char *what) { fprintf(stderr, "repro: %s: %s\n", what, strerror(errno)); exit(2); }
static void on_signal(int sig) { (void)sig; }  // only interrupts the stuck ioctl
static void on_alarm(int sig) {
    (void)sig;
    static const char msg[] = "repro: no verdict in time (alarm)\n";
    (void)!write(2, msg, sizeof msg - 1);
    _exit(3);
}

static void set_slot(int slot, uint64_t gpa, uint64_t size, void *host, const char *what) {
    struct kvm_userspace_memory_region r = {.slot = slot, .guest_phys_addr = gpa,
                                            .memory_size = size, .userspace_addr = (uintptr_t)host};
    m_what = what;
    atomic_store(&m_since, now_ns());
    if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &r)) die(what);
    atomic_store(&m_since, 0);
}

static void *prefault_thread(void *arg) {
    (void)arg;
    atomic_store(&ptid, (int)syscall(SYS_gettid));
    while (!atomic_load(&stop)) {
        struct pre_fault r = {.gpa = GPA1, .size = SLOT_SIZE};
        while (r.size && !atomic_load(&stop)) {
            atomic_store(&pgpa, r.gpa), atomic_store(&psize, r.size);
            atomic_store(&p_since, now_ns());
            int ret = ioctl(vcpu, PRE_FAULT_MEMORY, &r);
            atomic_store(&p_since, 0);
            atomic_fetch_add(&calls, 1);
            if (ret < 0 && errno == EINTR) goto out;                   // our watchdog's signal
            if (ret < 0 && errno == EAGAIN) atomic_fetch_add(&eagain, 1);  // slot in flux: retry
            else if (ret < 0 && errno == ENOENT) atomic_fetch_add(&enoent, 1), r.gpa += 4096, r.size -= 4096;
            else if (ret < 0) die("KVM_PRE_FAULT_MEMORY");
        }
    }
out:
    atomic_store(&p_done, 1);
    return NULL;
}

static void *mutator_thread(void *arg) {
    uint64_t n = *(uint64_t *)arg;
    atomic_store(&mtid, (int)syscall(SYS_gettid));
    for (uint64_t i = 0; i < n && !atomic_load(&stop); i++, atomic_fetch_add(&iters, 1)) {
        if (mode == 'o') {
            set_slot(2, GPA2, 0, mem2, "delete slot 2"), set_slot(2, GPA2, SLOT_SIZE, mem2, "re-create slot 2");
        } else if (mode == 's') {
            set_slot(1, GPA1, 0, mem1, "delete slot 1"), set_slot(1, GPA1, SLOT_SIZE, mem1, "re-create slot 1");
        } else {
            set_slot(1, GPA1 + (1ull << 30), SLOT_SIZE, mem1, "move slot 1 up 1 GiB");
            set_slot(1, GPA1, SLOT_SIZE, mem1, "move slot 1 back");
        }
    }
    atomic_store(&stop, 1);
    atomic_store(&m_done, 1);
    return NULL;
}

static void show_task(const char *name, int tid) {
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", tid);
    FILE *f = fopen(path, "r");
    char *st = f && fgets(buf, sizeof buf, f) ? strrchr(buf, ')') : NULL;
    printf("  %s thread %d: state %c", name, tid, st ? st[2] : '?');
    if (f) fclose(f);
    snprintf(path, sizeof path, "/proc/self/task/%d/stack", tid);
    if ((f = fopen(path, "r"))) {  // root only
        printf(", kernel stack:\n");
        while (fgets(buf, sizeof buf, f)) printf("    %s", buf);
        fclose(f);
    } else {
        printf("\n");
    }
}

int main(int argc, char **argv) {
    uint64_t n = 20000, secs = 50;
    int quirk_off = 0, opt;
    while ((opt = getopt(argc, argv, "m:qn:t:")) != -1) {
        if (opt == 'm' && (!strcmp(optarg, "other") || !strcmp(optarg, "same") || !strcmp(optarg, "move")))
            mode = optarg[0];
        else if (opt == 'q') quirk_off = 1;
        else if (opt == 'n') n = strtoull(optarg, NULL, 0);
        else if (opt == 't') secs = strtoull(optarg, NULL, 0);
        else return fprintf(stderr, "usage: repro [-m other|same|move] [-q] [-n N] [-t SECONDS]\n"), 2;
    }
    int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm < 0) die("/dev/kvm");
    if (ioctl(kvm, KVM_CHECK_EXTENSION, CAP_PRE_FAULT_MEMORY) <= 0)
        return printf("SKIP: no KVM_PRE_FAULT_MEMORY here (KVM_CAP_PRE_FAULT_MEMORY=0)\n"), 4;
    if ((vm = ioctl(kvm, KVM_CREATE_VM, 0)) < 0) die("KVM_CREATE_VM");
    if (quirk_off) {
        struct kvm_enable_cap cap = {.cap = KVM_CAP_DISABLE_QUIRKS2, .args = {QUIRK_SLOT_ZAP_ALL}};
        if (ioctl(vm, KVM_ENABLE_CAP, &cap)) die("KVM_ENABLE_CAP(DISABLE_QUIRKS2, SLOT_ZAP_ALL)");
    }
    if ((vcpu = ioctl(vm, KVM_CREATE_VCPU, 0)) < 0) die("KVM_CREATE_VCPU");
    mem1 = mmap(NULL, SLOT_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    mem2 = mmap(NULL, SLOT_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem1 == MAP_FAILED || mem2 == MAP_FAILED) die("mmap");
    set_slot(1, GPA1, SLOT_SIZE, mem1, "create slot 1");
    set_slot(2, GPA2, SLOT_SIZE, mem2, "create slot 2");
    struct sigaction sa = {.sa_handler = on_signal};  // no SA_RESTART: the ioctl returns EINTR
    sigaction(SIGUSR1, &sa, NULL);
    signal(SIGALRM, on_alarm);
    alarm(secs + 30);
    printf("repro: %s, SLOT_ZAP_ALL %s, %llu iterations or %llu s\n",
           mode == 'o' ? "prefault slot 1 vs delete/re-create slot 2"
           : mode == 's' ? "prefault slot 1 vs delete/re-create slot 1" : "prefault slot 1 vs move away/back",
           quirk_off ? "off" : "on", (unsigned long long)n, (unsigned long long)secs);
    fflush(stdout);
    pthread_t p, m;
    pthread_create(&p, NULL, prefault_thread, NULL);
    pthread_create(&m, NULL, mutator_thread, &n);
    const uint64_t start = now_ns(), bound = 2000000000ull;
    while (!atomic_load(&p_done) || !atomic_load(&m_done)) {  // watch until both have returned
        usleep(5000);  // the watchdog's poll period, not synchronization
        uint64_t ps = atomic_load(&p_since), ms = atomic_load(&m_since), t = now_ns();  // t last
        if (t - start > secs * 1000000000ull) atomic_store(&stop, 1);
        if (!((ps && t - ps > bound) || (ms && t - ms > bound))) continue;
        printf("LIVELOCK after %llu iterations, %.1f s: KVM_PRE_FAULT_MEMORY(gpa=%#llx size=%#llx) "
               "in flight for %.2f s; mutator in \"%s\" for %.2f s\n",
               atomic_load(&iters), (t - start) / 1e9, atomic_load(&pgpa), atomic_load(&psize),
               ps ? (t - ps) / 1e9 : 0.0, m_what, ms ? (t - ms) / 1e9 : 0.0);
        show_task("prefault", atomic_load(&ptid));
        show_task("mutator", atomic_load(&mtid));
        atomic_store(&stop, 1);
        uint64_t freed = now_ns();  // KVM checks signal_pending(): the prefault returns EINTR;
        while (!atomic_load(&p_done) && now_ns() - freed < bound)  // again if it landed between
            pthread_kill(p, SIGUSR1), usleep(1000);                // two calls
        while (atomic_load(&m_since) && now_ns() - freed < bound) usleep(1000);
        printf("  signalled the prefault thread: it %s, and the mutator %s %.3f s later\n",
               atomic_load(&p_done) ? "returned" : "was STILL STUCK",
               atomic_load(&m_since) ? "was STILL STUCK" : "finished its ioctl", (now_ns() - freed) / 1e9);
        if (!atomic_load(&p_done) || atomic_load(&m_since)) _exit(1);  // cannot join a stuck thread
        pthread_join(p, NULL);
        pthread_join(m, NULL);
        return 1;
    }
    pthread_join(m, NULL);
    pthread_join(p, NULL);
    printf("clean: %llu iterations, %llu prefault calls (EAGAIN %llu, ENOENT %llu) in %.1f s\n",
           atomic_load(&iters), atomic_load(&calls), atomic_load(&eagain), atomic_load(&enoent),
           (now_ns() - start) / 1e9);
    return 0;
}
