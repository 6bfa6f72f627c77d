// A plain C reference for the translation and map benchmarks: the same Arm LPAE 4K
// 4-level descriptors, in simulated physical memory, walked and written by straight loops.
// Used only by Sources/Benchmarks, to print each figure's ratio to plain C.
#ifndef CREFERENCE_H
#define CREFERENCE_H

#include <stddef.h>
#include <stdint.h>

/// Simulated physical memory: 4K frames in one flat pool, found from a physical address by
/// one index into a direct map of frame numbers (no search on the read path).
typedef struct {
    uint64_t base;          ///< physical address of the first frame the map covers
    uint64_t map_frames;    ///< frames the map covers
    uint32_t *frame_map;    ///< pool frame + 1 of each covered frame, 0 where there is no memory
    uint64_t *pool;         ///< 512 descriptor words per pool frame
    uint64_t pool_frames;   ///< frames the pool holds
    uint64_t pool_used;     ///< frames handed out so far
} cref_memory;

/// Memory covering [base, base + map_frames * 4K) with room for pool_frames frames; 0 on
/// success, -1 when the host has no memory for it.
int cref_memory_init(cref_memory *memory, uint64_t base, uint64_t map_frames, uint64_t pool_frames);
void cref_memory_free(cref_memory *memory);
/// Backs the frame at `address` (4K aligned, covered) with a copy of 512 words; 0 or -1.
int cref_memory_load_frame(cref_memory *memory, uint64_t address, const uint64_t *words);

/// How a walk ended.
enum {
    CREF_OK = 0,
    CREF_INPUT_RANGE = 1,       ///< input beyond 48 bits
    CREF_EXTERNAL_ABORT = 2,    ///< a descriptor fetch hit no memory
    CREF_TRANSLATION = 3,       ///< an invalid descriptor
    CREF_ACCESS_FLAG = 4,       ///< a leaf without AF
    CREF_STAGE2 = 5,            ///< a nested walk's stage 2 stopped (on a table or the output)
};

/// A 4-level Arm LPAE 4K walk of `input` from the table at `root`: the output address.
int cref_walk(const cref_memory *memory, uint64_t root, uint64_t input, uint64_t *output);
/// A 4x4 nested walk: stage-1 tables at IPAs from `stage1_root`, each descriptor's IPA and
/// the output IPA walked through the stage 2 at `stage2_root`.
int cref_walk_nested(const cref_memory *memory, uint64_t stage1_root, uint64_t stage2_root, uint64_t iova, uint64_t *output);

/// Cold loops, one walk per IOVA: the sum of the outputs (so no walk is optimised away),
/// and in *faults the walks that did not end in CREF_OK.
uint64_t cref_walk_all(const cref_memory *memory, uint64_t root, const uint64_t *iovas, size_t count, size_t *faults);
uint64_t cref_walk_nested_all(const cref_memory *memory, uint64_t stage1_root, uint64_t stage2_root,
                              const uint64_t *iovas, size_t count, size_t *faults);

/// An IOTLB: open addressing with linear probing, keyed by tag and 4K page.
typedef struct {
    uint64_t *keys;     ///< tag | page << 16, plus one (0: empty)
    uint64_t *outputs;  ///< the output page of each key
    uint64_t mask;      ///< slots - 1 (slots a power of two)
} cref_iotlb;

/// Room for `entries` entries at most half full; 0 or -1.
int cref_iotlb_init(cref_iotlb *iotlb, size_t entries);
void cref_iotlb_free(cref_iotlb *iotlb);
void cref_iotlb_insert(cref_iotlb *iotlb, uint16_t tag, uint64_t iova, uint64_t output);
/// 1 and the output address on a hit, 0 on a miss.
int cref_iotlb_lookup(const cref_iotlb *iotlb, uint16_t tag, uint64_t iova, uint64_t *output);
/// Warm loop, one probe per IOVA: the sum of the outputs, and in *misses the probes that missed.
/// With `serial`, each probe waits for the output before it (its IOVA carries a zero computed
/// from that output), as one transaction at a time; without, the CPU may overlap the probes.
uint64_t cref_iotlb_lookup_all(const cref_iotlb *iotlb, uint16_t tag, const uint64_t *iovas, size_t count, size_t *misses,
                               int serial);

/// Empties the IOTLB (a global invalidation), keeping its room.
void cref_iotlb_clear(cref_iotlb *iotlb);

/// A configuration cache: decoded STEs by StreamID and CDs by StreamID and SubstreamID, in
/// a small open-addressing table (linear probing), as an SMMU's caches hold them.
#define CREF_CONFIGURATION_SLOTS 64u
typedef struct {
    uint64_t keys[CREF_CONFIGURATION_SLOTS];     ///< key + 1 (0: empty)
    uint64_t words[CREF_CONFIGURATION_SLOTS][2]; ///< the decoded fields of each key
} cref_configuration_cache;

/// Files a stage-2 STE (the stage-2 root and VMID) for `stream_id`, with `nested` the STE
/// of a nested stream whose CD at SubstreamID 0 `cref_configuration_add_cd` files.
void cref_configuration_add_ste(cref_configuration_cache *cache, uint32_t stream_id, uint64_t s2_root, uint16_t vmid, int nested);
/// Files the CD at SubstreamID 0 of `stream_id`: the stage-1 root (an IPA) and ASID.
void cref_configuration_add_cd(cref_configuration_cache *cache, uint32_t stream_id, uint64_t s1_root, uint16_t asid);

/// Cold translations as the model makes them, one per IOVA: the stream's STE (and CD) from
/// the configuration cache, an IOTLB probe, on a miss the walk (stage 2 alone, or nested),
/// and the IOTLB filled with its page. The sum of the outputs, and in *faults the
/// translations that found no configuration or whose walk did not end in CREF_OK. `serial` as
/// for `cref_iotlb_lookup_all`: each translation waits for the output before it.
uint64_t cref_translate_all(const cref_memory *memory, const cref_configuration_cache *cache, cref_iotlb *iotlb,
                            uint32_t stream_id, const uint64_t *iovas, size_t count, size_t *faults, int serial);

/// Maps `pages` 4K pages from `iova` to `output` in the 4-level tables at `root`, writing
/// `output | attributes` leaves and allocating zeroed tables from the pool as needed; 0, or
/// -1 when the pool or the map runs out or a walk meets a block or an invalid address.
int cref_map_4k(cref_memory *memory, uint64_t root, uint64_t iova, uint64_t output, uint64_t pages, uint64_t attributes);
/// A zeroed frame from the pool, at the covered address of the pool's next frame (for a
/// memory filled by allocation only, as the map loop's): its address, or 0 when full.
uint64_t cref_memory_allocate_frame(cref_memory *memory);

/// Starts counting the calling thread's heap allocations (malloc, calloc, realloc,
/// aligned_alloc, posix_memalign) from zero.
void cref_allocations_start(void);
/// Stops counting: the allocations since `cref_allocations_start`.
uint64_t cref_allocations_stop(void);

#endif
