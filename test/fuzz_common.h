/*
** fuzz_common.h: what the fuzz targets (test/fuzz_*.c) share.
**
** WHERE THE TARGETS LIVE AND HOW THEY RUN
**
** One libFuzzer target per on-disk parser, in test/ beside the other C
** drivers (STYLE.md: "test/ ... C stress/fuzz drivers"); `make fuzz`
** builds them with clang, -fsanitize=fuzzer,address,undefined, into
** build/fuzz, and tool/fuzz.sh runs them.  They are engine tests, so they
** include storeInt.h and call the engine's internal parsers directly.
**
** A store in memory.  fuzzEnv() is a VlogEnv whose one file is a byte
** array (fuzzImg) and whose shared memory, when a target asks for it, is a
** static array: no system call on the fuzzing path.  fuzzSeedImage() is
** a small real store that the engine itself writes into that env at
** start-up (deterministic: the clock is fixed): two checkpoints, a few
** trees, values inline and in the value log, then commits that live only
** in the journal.  A target copies it, puts its input into one structure,
** recomputes that structure's checksums (fixsum.c), and opens, reads,
** verifies and writes the store (fuzzExercise).  So mutations get past
** every checksum, and what runs behind it is the code a user's open runs.
**
** Seeds.  Run with FUZZ_WRITE_SEEDS=DIR, a target writes the structures
** of the seed image, in its own input format, as files in DIR, and exits:
** `make fuzz` makes each target's first corpus that way.
**
** Findings.  Anything the sanitizers call an error, a crash, an assert,
** a hang (libFuzzer's -timeout) or more memory than the env grants
** (FUZZ_MALLOC_MAX: an allocation larger fails as out of memory, which the
** engine must survive) is a finding; a VLOG_CORRUPT is not.
*/
#ifndef VLOG_FUZZ_COMMON_H
#define VLOG_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "storeInt.h"
#include "fixsum.h"

#define FUZZ_PATH        "fuzz.vlog"
#define FUZZ_BUCKET_SIZE 65536
#define FUZZ_NODE_SIZE   8192
#define FUZZ_MALLOC_MAX  (4*1024*1024)
#define FUZZ_FILE_MAX    (16*1024*1024)

/* The file of the env: fuzzImg[0..fuzzImgSize). */
extern u8 *fuzzImg;
extern int64_t fuzzImgSize;
/* The shared memory (VLOG_SHM_SIZE bytes) of fuzzEnv(1); fuzzEnv(0) has
** none. */
extern u8 fuzzShm[VLOG_SHM_SIZE];

VlogEnv *fuzzEnv(int bShm);

/* Make the file at least nSize bytes (zeros): VLOG_OK, or VLOG_FULL past
** FUZZ_FILE_MAX. */
int fuzzImgGrow(int64_t nSize);

/* The seed image: built on the first call; static storage. */
const u8 *fuzzSeedImage(int64_t *pnByte);

/* Copy the seed image into the env's file. */
void fuzzLoadSeed(void);

/* Open the env's store (read-write; with shared memory when the env has
** it), read every tree and value, verify, write a commit and a
** checkpoint, close.  Errors are expected (corrupt input) and ignored;
** what matters is that nothing crashes, hangs or leaks. */
void fuzzExercise(VlogEnv *pEnv);

/* The superblock the seed image uses (its offset in the file). */
int fuzzNewestSb(const u8 *aImg);

/* FUZZ_WRITE_SEEDS: when set, write seed file number iSeed (a[0..n)) to
** that folder.  fuzzSeedsWanted() says whether it is set. */
int fuzzSeedsWanted(void);
void fuzzWriteSeed(int iSeed, const u8 *a, int n);

/* The bytes of the node region a[0..n) that its bsets use (0: none); and,
** when FUZZ_WRITE_SEEDS is set, the seeds of the node targets (every node
** region of the seed image), then exit. */
int fuzzNodeLength(const u8 *a, int n);
void fuzzWriteNodeSeeds(void);

#endif /* VLOG_FUZZ_COMMON_H */
