/*
** util.h: small services every engine module uses: checksums (xxhash),
** varints, big-endian integers, a growable buffer, error reporting.
**
** The engine links zstd and xxhash from the system (Debian's libzstd and
** libxxhash); it never carries its own copy of either.
*/
#ifndef VLOG_UTIL_H
#define VLOG_UTIL_H

#include <stdarg.h>
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include "engine.h"

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int64_t i64;

/* Version string of the libzstd the process runs with ("1.5.4").  Static
** storage owned by libzstd. */
const char *vlogZstdVersion(void);

/* Version of the libxxhash the process runs with, as "X.Y.Z" written into
** zBuf (nBuf bytes, at least 16).  Returns zBuf. */
char *vlogXxhashVersion(char *zBuf, int nBuf);

/* The checksum of every on-disk structure: XXH3-64 with a seed that names
** the structure, so that a block of one kind never passes for another. */
u64 vlogChecksum(const void *p, size_t n, u64 seed);

/* Integers in on-disk structures: little-endian, fixed width. */
void vlogPut16(u8 *a, u16 v);
void vlogPut32(u8 *a, u32 v);
void vlogPut64(u8 *a, u64 v);
u16 vlogGet16(const u8 *a);
u32 vlogGet32(const u8 *a);
u64 vlogGet64(const u8 *a);

/* Varints (LEB128, at most 10 bytes).  vlogGetVarint() returns the bytes
** read, or 0 when the varint runs past pEnd (corrupt input). */
int vlogPutVarint(u8 *a, u64 v);
int vlogGetVarint(const u8 *a, const u8 *pEnd, u64 *pv);
int vlogVarintLen(u64 v);

/* A growable byte buffer.  a==0 until the first append. */
typedef struct VlogBuf VlogBuf;
struct VlogBuf {
  u8 *a;
  int n;
  int nAlloc;
};
VLOG_MUST_CHECK int vlogBufReserve(VlogEnv*, VlogBuf*, int nExtra);   /* VLOG_NOMEM;
                                         ** VLOG_TOOBIG past 2^31-1 bytes */
VLOG_MUST_CHECK int vlogBufAppend(VlogEnv*, VlogBuf*, const void*, int);
VLOG_MUST_CHECK int vlogBufAppendVarint(VlogEnv*, VlogBuf*, u64);
VLOG_MUST_CHECK int vlogBufPrintf(VlogEnv*, VlogBuf*, const char *zFmt, ...);
VLOG_MUST_CHECK int vlogBufVprintf(VlogEnv*, VlogBuf*, const char *zFmt, va_list);
void vlogBufFree(VlogEnv*, VlogBuf*);

void *vlogMallocZero(VlogEnv*, size_t);
char *vlogStrdup(VlogEnv*, const char*);
char *vlogMprintf(VlogEnv*, const char *zFmt, ...);

/*
** VLOG_CORRUPT_BKPT: the value VLOG_CORRUPT, after recording where in the
** source it was noticed (like SQLite's SQLITE_CORRUPT_BKPT).  A debugger
** breakpoint on vlogCorruptError() stops there.  Builds with asserts (every
** test build) keep the file and line of the last one, per thread, for
** vlogCorruptWhere(): a test of a crafted store can then tell which check
** caught it.  Release builds record nothing.
*/
int vlogCorruptError(const char *zFile, int iLine);
#define VLOG_CORRUPT_BKPT vlogCorruptError(__FILE__, __LINE__)
const char *vlogCorruptWhere(int *piLine);   /* 0 if none (or NDEBUG) */

/*
** SQLite's ALWAYS() and NEVER() (sqliteInt.h): a condition the code
** handles, although it cannot happen in a store this engine wrote with no
** bug in it.  Builds with asserts stop there; release builds take the
** defensive branch.
*/
#ifndef NDEBUG
# define ALWAYS(X)  ((X) ? 1 : (assert(0), 0))
# define NEVER(X)   ((X) ? (assert(0), 1) : 0)
#else
# define ALWAYS(X)  (X)
# define NEVER(X)   (X)
#endif

#endif /* VLOG_UTIL_H */
