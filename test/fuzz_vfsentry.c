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
** The database entry itself may be version 3 too.  With both bits (0xc0)
** the entry is a layered one's (version 4 or 5: snapshots), and the 20 bytes
** after it are the entry of the frozen layer tree 18 ("layer" BE32), the
** 32 after those snapshot "s"'s; a page record with bit 0x08 goes to tree
** 18, else to the first layer tree (0x70000000).  Then the store is
** listed (files and snapshots, with what each pins) and, when its entry
** decodes to at most 1 MiB, exported to a file that is removed
** afterwards (along the layers), twice: layer by layer and through a
** layer map (vfs.c "Snapshots: the layer map"), the same bytes when both
** succeed.  An error is expected; a crash, a hang, an
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
#define VFS_TREE_LAYER   0x70000000

/* Do files zA and zB hold the same bytes? */
static int fuzzSameFile(const char *zA, const char *zB){
  FILE *pA = fopen(zA, "rb"), *pB = fopen(zB, "rb");
  int bSame = (pA==0)==(pB==0);
  while( bSame && pA ){
    int cA = getc(pA), cB = getc(pB);
    if( cA!=cB ) bSame = 0;
    if( cA==EOF ) break;
  }
  if( pA ) fclose(pA);
  if( pB ) fclose(pB);
  return bSame;
}

int LLVMFuzzerTestOneInput(const uint8_t *aIn, size_t nIn){
  VlogStore *p = 0;
  VlogVfsFileInfo *a = 0;
  VlogVfsSnapshotInfo *aSnap = 0;
  u8 aEntry[64], aLayer[20], aSnapE[32];
  int nEntry, n = 0, nSnap = 0, rc, bWal, bBase, bLayer;
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
  bLayer = nIn>0 && (aIn[0] & 0xc0)==0xc0;
  bWal = nIn>0 && (aIn[0] & 0xc0)==0x40;
  bBase = nIn>0 && (aIn[0] & 0xc0)==0x80;
  iTree = bWal ? VFS_TREE_WAL : bLayer ? VFS_TREE_LAYER : VFS_TREE_MAIN;
  memset(aLayer, 0, sizeof(aLayer));
  memset(aSnapE, 0, sizeof(aSnapE));
  if( bLayer ){
    size_t o = 1+(size_t)nEntry;
    for(i=0; i<sizeof(aLayer) && o+i<nIn; i++) aLayer[i] = aIn[o+i];
    o += sizeof(aLayer);
    for(i=0; i<sizeof(aSnapE) && o+i<nIn; i++) aSnapE[i] = aIn[o+i];
    nEntry += (int)(sizeof(aLayer)+sizeof(aSnapE));   /* the pages after */
  }
  rc = vlogBegin(p, 1);
  if( rc==VLOG_OK && bLayer ){
    static const u8 aLK[9] = { 'l','a','y','e','r', 0,0,0,18 };
    VlogTreePolicy pol;
    vlogTreePolicyDefault(&pol);
    pol.nInlineMax = 0;
    pol.iZstdLevel = 3;
    rc = vlogTreeSetPolicy(p, VFS_TREE_LAYER, &pol);
    if( rc==VLOG_OK ) rc = vlogTreeSetPolicy(p, VFS_TREE_MAIN, &pol);
    if( rc==VLOG_OK ) rc = vlogPut(p, VFS_TREE_CATALOG, aLK, 9, aLayer, sizeof(aLayer));
    if( rc==VLOG_OK ) rc = vlogPut(p, VFS_TREE_CATALOG, "snap:s", 6, aSnapE, sizeof(aSnapE));
  }
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
                 aEntry, bLayer ? nEntry - (int)(sizeof(aLayer)+sizeof(aSnapE)) : nEntry);
  }
  for(i=1+(size_t)nEntry; rc==VLOG_OK && i+5<=nIn; i+=5){
    u8 aKey[8], aVal[255*64];
    int nKey = 1 + (aIn[i] & 7);
    int nVal = aIn[i+4]*64;
    memset(aKey, 0, sizeof(aKey));
    /* 4 bytes: the VFS's big-endian page number, below 2^24 */
    memcpy(&aKey[nKey>=4 ? nKey-3 : 0], &aIn[i+1], nKey>=4 ? 3 : (size_t)nKey);
    memset(aVal, aIn[i], (size_t)nVal);
    if( bLayer ) iTree = (aIn[i] & 0x08) ? VFS_TREE_MAIN : VFS_TREE_LAYER;
    rc = nVal ? vlogPut(p, iTree, aKey, nKey, aVal, nVal)
              : vlogDelete(p, iTree, aKey, nKey);
  }
  if( rc==VLOG_OK ) rc = vlogCommit(p);
  else (void)vlogRollback(p);
  if( rc==VLOG_OK && bLayer && vlogVfsSnapshots(p, &aSnap, &nSnap)==VLOG_OK ){
    int k;
    for(k=0; k<nSnap; k++){
      if( aSnap[k].nPinPage>aSnap[k].nPage || aSnap[k].nSize<0 ) abort();
    }
    vlogFree(fuzzEnv(0), aSnap);
  }
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
      /* exported twice: reading each layer in turn, and through a layer
      ** map made at the first lookup under the top; when both succeed the
      ** files are the same, byte for byte */
      char zOut[64], zOut2[64], zErr[256];
      int rc1, rc2;
      snprintf(zOut, sizeof(zOut), "/tmp/fuzz_vfsentry.%d.db", (int)getpid());
      snprintf(zOut2, sizeof(zOut2), "/tmp/fuzz_vfsentry.%d.map.db", (int)getpid());
      (void)remove(zOut);
      (void)remove(zOut2);
      vlogVfsMapLimits(((sqlite3_int64)1)<<62, 0);
      rc1 = vlogVfsExport(p, zOut, zErr, sizeof(zErr));
      vlogVfsMapLimits(1, 0);
      rc2 = vlogVfsExport(p, zOut2, zErr, sizeof(zErr));
      vlogVfsMapLimits(0, 0);
      if( rc1==VLOG_OK && rc2==VLOG_OK && !fuzzSameFile(zOut, zOut2) ) abort();
      (void)remove(zOut);
      (void)remove(zOut2);
      strcat(zOut, "-wal");
      (void)remove(zOut);
      strcat(zOut2, "-wal");
      (void)remove(zOut2);
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
    /* a layered file (version 4): 3 pages of 4096 bytes, top tree
    ** 0x70000000 over layer 18, of which 8192 bytes show; layer 18 shows
    ** nothing under it; snapshot "s" is layer 18, 2 pages; pages 1 (top)
    ** and 2, 3 (layer 18: bit 0x08) */
    static const u8 aSeed4[] = {
      0xc0|32,  4,0,0,0, 0,0,0x10,0, 0,0,0,0,0,0,0x30,0,
      0,0,0,0,0,0,0x20,0, 0x70,0,0,0, 0,0,0,18,
      1,0,0,0, 0,0,0,0, 0,0,0x10,0, 0,0,0,0,0,0,0,0,
      1,0,0,0, 0,0,0x10,0, 0,0,0,0,0,0,0x20,0, 0,0,0,18, 0,0,0,0,
      0,0,0,0,0,0,0,0,
      3, 0,0,1, 64,   0x0b, 0,0,2, 64,   0x0b, 0,0,3, 64
    };
    /* the same as version 5 (the chain's generation appended) */
    static const u8 aSeed5[] = {
      0xc0|40,  5,0,0,0, 0,0,0x10,0, 0,0,0,0,0,0,0x30,0,
      0,0,0,0,0,0,0x20,0, 0x70,0,0,0, 0,0,0,18, 1,2,3,4,5,6,7,8,
      1,0,0,0, 0,0,0,0, 0,0,0x10,0, 0,0,0,0,0,0,0,0,
      1,0,0,0, 0,0,0x10,0, 0,0,0,0,0,0,0x20,0, 0,0,0,18, 0,0,0,0,
      0,0,0,0,0,0,0,0,
      3, 0,0,1, 64,   0x0b, 0,0,2, 64,   0x0b, 0,0,3, 64
    };
    fuzzWriteSeed(0, aSeed, sizeof(aSeed));
    fuzzWriteSeed(3, aSeed4, sizeof(aSeed4));
    fuzzWriteSeed(4, aSeed5, sizeof(aSeed5));
    fuzzWriteSeed(1, aSeed2, sizeof(aSeed2));
    fuzzWriteSeed(2, aSeed3, sizeof(aSeed3));
    exit(0);
  }
  return 0;
}
