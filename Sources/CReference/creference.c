#include "creference.h"

#include <stdlib.h>
#include <string.h>

#define WORDS_PER_FRAME 512u
#define FRAME_SHIFT 12u
#define ADDRESS_MASK UINT64_C(0x0000fffffffff000)
#define DESCRIPTOR_VALID UINT64_C(1)
#define DESCRIPTOR_TABLE UINT64_C(2)
#define DESCRIPTOR_AF (UINT64_C(1) << 10)

int cref_memory_init(cref_memory *memory, uint64_t base, uint64_t map_frames, uint64_t pool_frames) {
    memset(memory, 0, sizeof *memory);
    if (pool_frames > UINT32_MAX - 1 || map_frames > SIZE_MAX / sizeof(uint32_t) ||
        pool_frames > SIZE_MAX / (WORDS_PER_FRAME * sizeof(uint64_t))) return -1;
    memory->frame_map = calloc(map_frames ? map_frames : 1, sizeof(uint32_t));
    memory->pool = calloc(pool_frames ? pool_frames : 1, WORDS_PER_FRAME * sizeof(uint64_t));
    if (!memory->frame_map || !memory->pool) {
        cref_memory_free(memory);
        return -1;
    }
    memory->base = base;
    memory->map_frames = map_frames;
    memory->pool_frames = pool_frames;
    return 0;
}

void cref_memory_free(cref_memory *memory) {
    free(memory->frame_map);
    free(memory->pool);
    memset(memory, 0, sizeof *memory);
}

/// The map slot of `address`, or -1 outside the covered range.
static inline int64_t slot(const cref_memory *memory, uint64_t address) {
    if (address < memory->base) return -1;
    uint64_t frame = (address - memory->base) >> FRAME_SHIFT;
    return frame < memory->map_frames ? (int64_t)frame : -1;
}

int cref_memory_load_frame(cref_memory *memory, uint64_t address, const uint64_t *words) {
    int64_t at = slot(memory, address);
    if (at < 0 || (address & 0xfff) || memory->frame_map[at] || memory->pool_used == memory->pool_frames) return -1;
    memcpy(memory->pool + memory->pool_used * WORDS_PER_FRAME, words, WORDS_PER_FRAME * sizeof(uint64_t));
    memory->frame_map[at] = (uint32_t)(++memory->pool_used);
    return 0;
}

uint64_t cref_memory_allocate_frame(cref_memory *memory) {
    if (memory->pool_used == memory->pool_frames || memory->pool_used == memory->map_frames) return 0;
    uint64_t at = memory->pool_used;
    memory->frame_map[at] = (uint32_t)(++memory->pool_used);
    return memory->base + (at << FRAME_SHIFT);
}

/// The word at `address` (8-byte aligned), or 0 when no memory backs it.
static inline int read64(const cref_memory *memory, uint64_t address, uint64_t *word) {
    int64_t at = slot(memory, address);
    if (at < 0) return 0;
    uint32_t frame = memory->frame_map[at];
    if (!frame) return 0;
    *word = memory->pool[(uint64_t)(frame - 1) * WORDS_PER_FRAME + ((address >> 3) & (WORDS_PER_FRAME - 1))];
    return 1;
}

static inline unsigned table_index(uint64_t input, int level) {
    return (unsigned)(input >> (39 - 9 * level)) & (WORDS_PER_FRAME - 1);
}

/// One level of a walk: CREF_OK with *next the next table (*leaf 0) or the output (*leaf 1).
static inline int step(uint64_t descriptor, int level, uint64_t input, uint64_t *next, int *leaf) {
    if (!(descriptor & DESCRIPTOR_VALID)) return CREF_TRANSLATION;
    int table = (descriptor & DESCRIPTOR_TABLE) != 0;
    if (level < 3 && table) {
        *next = descriptor & ADDRESS_MASK;
        *leaf = 0;
        return CREF_OK;
    }
    // A page at level 3 (bit 1 set), a block at level 1 or 2 (bit 1 clear).
    if (level == 3 ? !table : level == 0) return CREF_TRANSLATION;
    if (!(descriptor & DESCRIPTOR_AF)) return CREF_ACCESS_FLAG;
    uint64_t size = UINT64_C(1) << (39 - 9 * level);
    *next = (descriptor & ADDRESS_MASK & ~(size - 1)) | (input & (size - 1));
    *leaf = 1;
    return CREF_OK;
}

int cref_walk(const cref_memory *memory, uint64_t root, uint64_t input, uint64_t *output) {
    if (input >> 48) return CREF_INPUT_RANGE;
    uint64_t table = root;
    for (int level = 0; level < 4; level++) {
        uint64_t descriptor, next;
        int leaf;
        if (!read64(memory, table + 8 * table_index(input, level), &descriptor)) return CREF_EXTERNAL_ABORT;
        int result = step(descriptor, level, input, &next, &leaf);
        if (result != CREF_OK) return result;
        if (leaf) {
            *output = next;
            return CREF_OK;
        }
        table = next;
    }
    return CREF_TRANSLATION;
}

int cref_walk_nested(const cref_memory *memory, uint64_t stage1_root, uint64_t stage2_root, uint64_t iova, uint64_t *output) {
    if (iova >> 48) return CREF_INPUT_RANGE;
    uint64_t table = stage1_root;
    for (int level = 0; level < 4; level++) {
        uint64_t entry, descriptor, next;
        int leaf;
        if (cref_walk(memory, stage2_root, table + 8 * table_index(iova, level), &entry) != CREF_OK) return CREF_STAGE2;
        if (!read64(memory, entry, &descriptor)) return CREF_EXTERNAL_ABORT;
        int result = step(descriptor, level, iova, &next, &leaf);
        if (result != CREF_OK) return result;
        if (leaf) return cref_walk(memory, stage2_root, next, output) == CREF_OK ? CREF_OK : CREF_STAGE2;
        table = next;
    }
    return CREF_TRANSLATION;
}

uint64_t cref_walk_all(const cref_memory *memory, uint64_t root, const uint64_t *iovas, size_t count, size_t *faults) {
    uint64_t sum = 0, output = 0;
    size_t failed = 0;
    for (size_t i = 0; i < count; i++) {
        if (cref_walk(memory, root, iovas[i], &output) == CREF_OK) sum += output; else failed++;
    }
    *faults = failed;
    return sum;
}

uint64_t cref_walk_nested_all(const cref_memory *memory, uint64_t stage1_root, uint64_t stage2_root,
                              const uint64_t *iovas, size_t count, size_t *faults) {
    uint64_t sum = 0, output = 0;
    size_t failed = 0;
    for (size_t i = 0; i < count; i++) {
        if (cref_walk_nested(memory, stage1_root, stage2_root, iovas[i], &output) == CREF_OK) sum += output; else failed++;
    }
    *faults = failed;
    return sum;
}

int cref_iotlb_init(cref_iotlb *iotlb, size_t entries) {
    size_t slots = 16;
    while (slots < 2 * entries) {
        if (slots > SIZE_MAX / 4 / sizeof(uint64_t)) return -1;
        slots *= 2;
    }
    iotlb->keys = calloc(slots, sizeof(uint64_t));
    iotlb->outputs = calloc(slots, sizeof(uint64_t));
    iotlb->mask = slots - 1;
    if (!iotlb->keys || !iotlb->outputs) {
        cref_iotlb_free(iotlb);
        return -1;
    }
    return 0;
}

void cref_iotlb_free(cref_iotlb *iotlb) {
    free(iotlb->keys);
    free(iotlb->outputs);
    memset(iotlb, 0, sizeof *iotlb);
}

static inline uint64_t iotlb_key(uint16_t tag, uint64_t iova) { return (tag | (iova >> FRAME_SHIFT) << 16) + 1; }

static inline uint64_t iotlb_hash(uint64_t key) { return (key * UINT64_C(0x9e3779b97f4a7c15)) >> 20; }

void cref_iotlb_insert(cref_iotlb *iotlb, uint16_t tag, uint64_t iova, uint64_t output) {
    uint64_t key = iotlb_key(tag, iova);
    for (uint64_t at = iotlb_hash(key) & iotlb->mask;; at = (at + 1) & iotlb->mask) {
        if (iotlb->keys[at] == 0 || iotlb->keys[at] == key) {
            iotlb->keys[at] = key;
            iotlb->outputs[at] = output & ~UINT64_C(0xfff);
            return;
        }
    }
}

int cref_iotlb_lookup(const cref_iotlb *iotlb, uint16_t tag, uint64_t iova, uint64_t *output) {
    uint64_t key = iotlb_key(tag, iova);
    for (uint64_t at = iotlb_hash(key) & iotlb->mask; iotlb->keys[at]; at = (at + 1) & iotlb->mask) {
        if (iotlb->keys[at] == key) {
            *output = iotlb->outputs[at] | (iova & 0xfff);
            return 1;
        }
    }
    return 0;
}

/// 0, read once per serial loop: the compiler cannot fold it, so `output & chain` makes each
/// IOVA of a serial loop wait for the output before it.
static volatile uint64_t cref_chain = 0;

/// `cref_iotlb_lookup_all`, its loop made for a constant `serial`.
static inline __attribute__((always_inline)) uint64_t lookup_loop(const cref_iotlb *iotlb, uint16_t tag, const uint64_t *iovas,
                                                                  size_t count, size_t *misses, int serial) {
    uint64_t sum = 0, output = 0, chain = serial ? cref_chain : 0;
    size_t missed = 0;
    for (size_t i = 0; i < count; i++) {
        if (cref_iotlb_lookup(iotlb, tag, iovas[i] + (output & chain), &output)) sum += output; else missed++;
    }
    *misses = missed;
    return sum;
}

uint64_t cref_iotlb_lookup_all(const cref_iotlb *iotlb, uint16_t tag, const uint64_t *iovas, size_t count, size_t *misses,
                               int serial) {
    return serial ? lookup_loop(iotlb, tag, iovas, count, misses, 1) : lookup_loop(iotlb, tag, iovas, count, misses, 0);
}

void cref_iotlb_clear(cref_iotlb *iotlb) { memset(iotlb->keys, 0, (iotlb->mask + 1) * sizeof(uint64_t)); }

#define CD_KEY (UINT64_C(1) << 63)
#define STE_NESTED (UINT64_C(1) << 16)

/// Files `key`'s words; a full cache files nothing (the lookup then finds no configuration).
static void configuration_add(cref_configuration_cache *cache, uint64_t key, uint64_t word0, uint64_t word1) {
    for (uint64_t at = iotlb_hash(key + 1) & (CREF_CONFIGURATION_SLOTS - 1), probes = 0; probes < CREF_CONFIGURATION_SLOTS;
         at = (at + 1) & (CREF_CONFIGURATION_SLOTS - 1), probes++) {
        if (cache->keys[at] == 0 || cache->keys[at] == key + 1) {
            cache->keys[at] = key + 1;
            cache->words[at][0] = word0;
            cache->words[at][1] = word1;
            return;
        }
    }
}

/// The decoded words filed under `key`, or NULL.
static inline const uint64_t *configuration_lookup(const cref_configuration_cache *cache, uint64_t key) {
    for (uint64_t at = iotlb_hash(key + 1) & (CREF_CONFIGURATION_SLOTS - 1), probes = 0; probes < CREF_CONFIGURATION_SLOTS && cache->keys[at];
         at = (at + 1) & (CREF_CONFIGURATION_SLOTS - 1), probes++) {
        if (cache->keys[at] == key + 1) return cache->words[at];
    }
    return NULL;
}

void cref_configuration_add_ste(cref_configuration_cache *cache, uint32_t stream_id, uint64_t s2_root, uint16_t vmid, int nested) {
    configuration_add(cache, stream_id, s2_root, vmid | (nested ? STE_NESTED : 0));
}

void cref_configuration_add_cd(cref_configuration_cache *cache, uint32_t stream_id, uint64_t s1_root, uint16_t asid) {
    configuration_add(cache, CD_KEY | (uint64_t)stream_id << 32, s1_root, asid);
}

/// `cref_translate_all`, its loop made for a constant `serial`.
static inline __attribute__((always_inline)) uint64_t translate_loop(const cref_memory *memory, const cref_configuration_cache *cache,
                                                                     cref_iotlb *iotlb, uint32_t stream_id, const uint64_t *iovas,
                                                                     size_t count, size_t *faults, int serial) {
    uint64_t sum = 0, output = 0, chain = serial ? cref_chain : 0;
    size_t failed = 0;
    for (size_t i = 0; i < count; i++) {
        const uint64_t *ste = configuration_lookup(cache, stream_id), *cd = NULL;
        if (!ste) { failed++; continue; }
        uint16_t tag = (uint16_t)ste[1];
        if (ste[1] & STE_NESTED) {
            if (!(cd = configuration_lookup(cache, CD_KEY | (uint64_t)stream_id << 32))) { failed++; continue; }
            tag ^= (uint16_t)(cd[1] << 8);
        }
        uint64_t iova = iovas[i] + (output & chain);
        if (cref_iotlb_lookup(iotlb, tag, iova, &output)) { sum += output; continue; }
        int result = cd ? cref_walk_nested(memory, cd[0], ste[0], iova, &output) : cref_walk(memory, ste[0], iova, &output);
        if (result != CREF_OK) { failed++; continue; }
        cref_iotlb_insert(iotlb, tag, iova, output);
        sum += output;
    }
    *faults = failed;
    return sum;
}

uint64_t cref_translate_all(const cref_memory *memory, const cref_configuration_cache *cache, cref_iotlb *iotlb,
                            uint32_t stream_id, const uint64_t *iovas, size_t count, size_t *faults, int serial) {
    return serial ? translate_loop(memory, cache, iotlb, stream_id, iovas, count, faults, 1)
                  : translate_loop(memory, cache, iotlb, stream_id, iovas, count, faults, 0);
}

/// The word at `address` of a frame this memory holds (the map loop's own tables).
static inline uint64_t *word(cref_memory *memory, uint64_t address) {
    int64_t at = slot(memory, address);
    if (at < 0 || !memory->frame_map[at]) return NULL;
    return memory->pool + (uint64_t)(memory->frame_map[at] - 1) * WORDS_PER_FRAME + ((address >> 3) & (WORDS_PER_FRAME - 1));
}

int cref_map_4k(cref_memory *memory, uint64_t root, uint64_t iova, uint64_t output, uint64_t pages, uint64_t attributes) {
    for (uint64_t page = 0; page < pages; page++) {
        uint64_t input = iova + (page << FRAME_SHIFT), table = root;
        if (input >> 48 || input < iova) return -1;
        for (int level = 0; level < 3; level++) {
            uint64_t *entry = word(memory, table + 8 * table_index(input, level));
            if (!entry) return -1;
            if (!(*entry & DESCRIPTOR_VALID)) {
                uint64_t next = cref_memory_allocate_frame(memory);
                if (!next) return -1;
                *entry = next | DESCRIPTOR_TABLE | DESCRIPTOR_VALID;
            } else if (!(*entry & DESCRIPTOR_TABLE)) {
                return -1;
            }
            table = *entry & ADDRESS_MASK;
        }
        uint64_t *leaf = word(memory, table + 8 * table_index(input, 3));
        if (!leaf) return -1;
        *leaf = (output + (page << FRAME_SHIFT)) | attributes;
    }
    return 0;
}
