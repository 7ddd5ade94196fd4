/*
** fuzz_vfsentry.c: libFuzzer target for the vlog VFS's catalog entry
** (vfs/vfs.c, entryDecode) and what reads it without SQLite's pager:
** vlogVfsFiles() (vlog_files, vlogtool info) and vlogVfsExport()
** (vlogtool export-db).
**
** Input: byte 0, the length of the entry (0..63); then the entry's bytes
** (short input: zeros); then records of 5 bytes, each a page: its key's
** length (1..8, from the byte's low bits; the VFS writes 4), the key bytes
** taken from the page number the next 3 bytes give, and a value whose
** length is the next byte times 64.  They go into the seed store through
** the engine (tree 17, key "main"; tree 18), so every checksum holds and
** only the entry's and the pages' numbers can lie.  With bit 0x40 of
** byte 0 the entry is the -wal's instead (key "wal", its frames in tree
** 19), beside a valid database entry; with bit 0x80 (and not 0x40) it is
** an overlay's "base" entry (the base's identity and path: export-db
** reads the pages the store lacks from the file it names), beside a
** version 3 database entry (an overlay's) of 3 pages, all the base's.
** The database entry itself may be version 3 too.  Then the store is
** listed and, when its entry decodes to at most 1 MiB, exported to a file
** that is removed afterwards.  An error is expected; a crash, a hang, an
** out-of-bounds read or a wrong claim of success is a finding.
*/
#include "fuzz_common.h"
#include <stdio.h>
#include <unistd.h>
#include <sqlite3.h>
#include "vfs.h"

#define VFS_TREE_CATALOG 17
#define VFS_TREE_MAIN    18
#define VFS_TREE_WAL     19

int LLVMFuzzerTestOneInput(const uint8_t *aIn, size_t nIn){
  VlogStore *p = 0;
  VlogVfsFileInfo *a = 0;
  u8 aEntry[64];
  int nEntry, n = 0, rc, bWal, bBase;
  unsigned int iTree;
  size_t i;
  fuzzLoadSeed();
  if( fuzzOpen(fuzzEnv(0), &p)!=VLOG_OK ){
    (void)vlogStoreClose(p);
    return 0;
  }
  memset(aEntry, 0, sizeof(aEntry));
  nEntry = nIn>0 ? aIn[0] % 64 : 16;
  for(i=0; (int)i<nEntry && 1+i<nIn; i++) aEntry[i] = aIn[1+i];
  bWal = nIn>0 && (aIn[0] & 0x40)!=0;
  bBase = nIn>0 && (aIn[0] & 0xc0)==0x80;
  iTree = bWal ? VFS_TREE_WAL : VFS_TREE_MAIN;
  rc = vlogBegin(p, 1);
  if( rc==VLOG_OK && bWal ){
    /* version 1, 4096-byte pages, one page */
    static const u8 aMain[16] = { 1,0,0,0, 0,0,0x10,0, 0,0,0,0, 0,0,0x10,0 };
    rc = vlogPut(p, VFS_TREE_CATALOG, "main", 4, aMain, sizeof(aMain));
  }
  if( rc==VLOG_OK && bBase ){
    /* version 3 (an overlay's), 4096-byte pages, 3 pages, all the base's */
    static const u8 aMain[24] = { 3,0,0,0, 0,0,0x10,0, 0,0,0,0, 0,0,0x30,0,
                                  0,0,0,0, 0,0,0x30,0 };
    rc = vlogPut(p, VFS_TREE_CATALOG, "main", 4, aMain, sizeof(aMain));
    if( rc==VLOG_OK ) rc = vlogPut(p, VFS_TREE_CATALOG, "base", 4, aEntry, nEntry);
  }else if( rc==VLOG_OK ){
    rc = vlogPut(p, VFS_TREE_CATALOG, bWal ? "wal" : "main", bWal ? 3 : 4,
                 aEntry, nEntry);
  }
  for(i=1+(size_t)nEntry; rc==VLOG_OK && i+5<=nIn; i+=5){
    u8 aKey[8], aVal[255*64];
    int nKey = 1 + (aIn[i] & 7);
    int nVal = aIn[i+4]*64;
    memset(aKey, 0, sizeof(aKey));
    /* 4 bytes: the VFS's big-endian page number, below 2^24 */
    memcpy(&aKey[nKey>=4 ? nKey-3 : 0], &aIn[i+1], nKey>=4 ? 3 : (size_t)nKey);
    memset(aVal, aIn[i], (size_t)nVal);
    rc = nVal ? vlogPut(p, iTree, aKey, nKey, aVal, nVal)
              : vlogDelete(p, iTree, aKey, nKey);
  }
  if( rc==VLOG_OK ) rc = vlogCommit(p);
  else (void)vlogRollback(p);
  if( rc==VLOG_OK ) rc = vlogVfsFiles(p, &a, &n);
  if( rc==VLOG_OK ){
    /* what the decoder let through is in range */
    int k;
    if( n!=1+bWal ) abort();
    for(k=0; k<n; k++){
      if( a[k].szPage<0 || a[k].szPage>65536+24 || a[k].nLogical<0
       || (a[k].szPage==0 && a[k].nLogical!=0) ){
        abort();
      }
    }
    if( a[n-1].nLogical<=(1<<20) ){
      char zOut[64], zErr[256];
      snprintf(zOut, sizeof(zOut), "/tmp/fuzz_vfsentry.%d.db", (int)getpid());
      (void)remove(zOut);
      (void)vlogVfsExport(p, zOut, zErr, sizeof(zErr));
      (void)remove(zOut);
      strcat(zOut, "-wal");
      (void)remove(zOut);
    }
    vlogFree(fuzzEnv(0), a);
  }
  (void)vlogStoreClose(p);
  return 0;
}

int LLVMFuzzerInitialize(int *pArgc, char ***pArgv){
  int64_t nSeed;
  (void)pArgc; (void)pArgv;
  (void)fuzzSeedImage(&nSeed);
  if( fuzzSeedsWanted() ){
    /* a 4096-byte-page file of 3 pages, pages 1 and 3 stored */
    static const u8 aSeed[] = {
      16,  1,0,0,0, 0,0,0x10,0, 0,0,0,0, 0,0,0x30,0,
      4, 0,0,1, 64,   4, 0,0,3, 64
    };
    /* an overlay's base entry: 3 pages of 4096 bytes, the path "/dev/null"
    ** (not a regular file: refused), and page 2 its own */
    static const u8 aSeed2[] = {
      0x80|45,  1,0,0,0, 0,0,0x10,0, 0,0,0,0,0,0,0x30,0,
      1,2,3,4,5,6,7,8, 0,0,0,0,0,0,0,0, 0,0,0,9,
      '/','d','e','v','/','n','u','l','l',
      4, 0,0,2, 64
    };
    /* ... and one naming a regular file (the fuzzer's own program), whose
    ** first and last pages export-db reads */
    static const u8 aSeed3[] = {
      0x80|50,  1,0,0,0, 0,0,0x10,0, 0,0,0,0,0,0,0x30,0,
      1,2,3,4,5,6,7,8, 0,0,0,0,0,0,0,0, 0,0,0,14,
      '/','p','r','o','c','/','s','e','l','f','/','e','x','e',
      4, 0,0,2, 64
    };
    fuzzWriteSeed(0, aSeed, sizeof(aSeed));
    fuzzWriteSeed(1, aSeed2, sizeof(aSeed2));
    fuzzWriteSeed(2, aSeed3, sizeof(aSeed3));
    exit(0);
  }
  return 0;
}
