// Counting heap allocations, for the benchmarks' "allocations per translation" figures: this
// target's malloc family forwards to glibc's own entry points (__libc_malloc and friends) and,
// while the calling thread counts, adds one to that thread's counter per call (other
// threads, such as a test runner's, do not disturb a count). Defined in the executable, these
// interpose every malloc of the process (the Swift runtime's included) without LD_PRELOAD,
// which ordo-one/malloc-interposer needs; free is glibc's, untouched.
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "creference.h"

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *pointer, size_t size);
extern void *__libc_memalign(size_t alignment, size_t size);

static _Thread_local bool counting;
static _Thread_local uint64_t allocations;

static inline void count(void) {
    if (counting) allocations++;
}

void *malloc(size_t size) {
    count();
    return __libc_malloc(size);
}

void *calloc(size_t count_, size_t size) {
    count();
    return __libc_calloc(count_, size);
}

void *realloc(void *pointer, size_t size) {
    count();
    return __libc_realloc(pointer, size);
}

void *aligned_alloc(size_t alignment, size_t size) {
    count();
    return __libc_memalign(alignment, size);
}

int posix_memalign(void **out, size_t alignment, size_t size) {
    // POSIX: a power of two that is a multiple of sizeof(void *).
    if (alignment < sizeof(void *) || (alignment & (alignment - 1)) != 0) return EINVAL;
    count();
    void *pointer = __libc_memalign(alignment, size);
    if (!pointer && size) return ENOMEM;
    *out = pointer;
    return 0;
}

void cref_allocations_start(void) {
    allocations = 0;
    counting = true;
}

uint64_t cref_allocations_stop(void) {
    counting = false;
    return allocations;
}
