/*
** fixsum.h: recompute the checksums of on-disk structures after a test or
** a fuzz target has changed their bytes (test/fixsum.c).
**
** Hostile files have valid checksums: anyone can compute xxh3.  The
** crafted-corruption tests (test/engine_hostile.test, through the Tcl
** command vlog_fix in test_vlog.c) and the fuzz targets (test/fuzz_*.c)
** change a length, a count or an offset, then call these so that the
** engine's parsers get past the checksum to the code behind it.  The
** checksums are the engine's own (vlogChecksum: xxh3 with the structure's
** seed, storeInt.h), never a copy.
*/
#ifndef VLOG_FIXSUM_H
#define VLOG_FIXSUM_H

#include "util.h"

/* Superblock a[0..SB_USED): its checksum (bytes 0..111, at 112). */
void vlogFixSuperblock(u8 *a);

/* The journal entry whose header is h (JE_HDR bytes) and whose payload is
** aPayload[0..nPayload): the payload checksum, then the header's.  The
** header's payload length is not changed: it may lie. */
void vlogFixJournalEntry(u8 *h, const u8 *aPayload, int nPayload);

/* The bsets of the node region a[0..n), walked as vlogNodeDecode() walks
** them (from offset 0, each on a VLOG_SECTOR boundary, while a header with
** the bset magic is there): each one's checksum, over the payload length
** its header claims, cut at the end of the region.  Returns the number of
** bsets fixed. */
int vlogFixNode(u8 *a, int n);

/* The value-log frame whose header is h (FRAME_HDR bytes) and whose stored
** bytes are aStored[0..nStored): its checksum.  The header's stored length
** is not changed: it may lie. */
void vlogFixFrame(u8 *h, const u8 *aStored, int nStored);

/* The checksum that a VTAG_RAW pointer carries (its last 4 bytes) for the
** record a[0..n) of a segment of generation iGen. */
u32 vlogRawRecordSum(const u8 *a, int n, u64 iGen);

/* The header chunk aHdr (16 bytes: u32 size, u32 0, u64 checksum) of the
** zstd dictionary aDict[0..nDict) in TREE_DICTS: its checksum.  The size
** field is not changed: it may lie. */
void vlogFixDictHeader(u8 *aHdr, const u8 *aDict, int nDict);

#endif /* VLOG_FIXSUM_H */
