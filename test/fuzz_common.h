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
** start-up (deterministic: the clock is fixed): a trained zstd dictionary,
** two checkpoints, a few trees, values inline and in the value log (in
** frames compressed with the dictionary, without it, raw; alone in a
** frame, in chunks), then commits that live only in the journal.  A target copies it, puts its input into one structure,
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
** engine must survive) is a finding; a VLOG_CORRUPT is not.  So is
** VLOG_NOMEM when no allocation failed (fuzzCheck): corrupt input called
** out of memory.
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

/* Open the store of pEnv's file as the targets do (no creation, no
** automatic checkpoint, no map). */
int fuzzOpen(VlogEnv*, VlogStore**);

/* Set when the env refuses an allocation (FUZZ_MALLOC_MAX); cleared by
** fuzzLoadSeed() and by targets that do not call it, at each input. */
extern int fuzzRefused;

/* rc, an engine call's result on handle p: abort (a finding) if it is
** VLOG_NOMEM and the env refused no allocation.  The engine's allocations
** go through the env, and zstd's never fail here, so the engine took
** something else for a lack of memory: zstd returns no object both when
** memory runs out and when a dictionary's tables are damaged. */
void fuzzCheck(VlogStore *p, int rc);

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

/* ---------------------------------------------------------------------
** The value log (fuzz_frame.c, fuzz_vlog.c, fuzz_dict.c)
**
** A frame spec: how an input describes a value-log frame (vlog.c's design
** note has the frame's layout):
**     0  u8   flags, header byte 4, as is (hostile values included)
**     1  u8   FS_* bits
**     2  u16  records, header bytes 6..7
**     4  u32  raw bytes for the header, with FS_RAW (else the records')
**     8  u32  stored bytes for the header, with FS_STORED (else the truth)
**    12  u32  dictionary id, with FS_DICT
** then the records, raw (varint tree, varint key length, key, varint value
** length, value; or anything).  The target compresses them as the engine
** would, so that mutations of the records reach the record parser behind
** the decompression, and recomputes the frame's checksum.
*/
#define FS_HDR     16
#define FS_ZSTD    0x01     /* the records are compressed (zstd) ... */
#define FS_DICT    0x02     /* ... with the seed's dictionary: the stored
                            ** bytes are the u32 id, then a zstd frame
                            ** without content size or dictionary id */
#define FS_RAW     0x04
#define FS_STORED  0x08
#define FS_NEWDICT 0x10     /* fuzz_frame: the handle's dictionary is the
                            ** input's, not the seed's */

/* Write the frame of spec aSpec[0..FS_HDR) and records aRec[0..nRec), for a
** segment of generation iGen, at aOut, where nOut bytes are left before
** the end of its bucket.  The checksum covers the stored bytes the header
** claims, cut at the bucket's end: those the engine reads.  Returns the
** frame's bytes (header and stored bytes), or 0 if it does not fit. */
int fuzzFrameMake(const u8 *aSpec, const u8 *aRec, int nRec, u64 iGen,
                  u8 *aOut, int nOut);

/* The spec and records of the frame h (the engine's, nAvail bytes from h
** on) into aSpec[0..nSpec): their length, or 0 if it does not decompress
** or fit.  For seeds. */
int fuzzFrameSpec(const u8 *h, int nAvail, u8 *aSpec, int nSpec);

/* The frames of the seed image: file offsets, in file order; their count. */
int fuzzSeedFrames(const int64_t **paOff);

/* The seed image's dictionary (TREE_DICTS id 1): its bytes. */
const u8 *fuzzSeedDict(int *pnDict);

/* fuzzExercise() on a handle already open (not closed). */
void fuzzExerciseStore(VlogStore*);

#endif /* VLOG_FUZZ_COMMON_H */
