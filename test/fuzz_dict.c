/*
** fuzz_dict.c: libFuzzer target for the value log's zstd dictionaries
** (vlog.c: dictLoad's assembly of TREE_DICTS chunks, ddictGet and
** ZSTD_createDDict on its bytes, then decompression with it; dictCheck and
** ZSTD_createCDict when a writer picks up the newest dictionary, then
** compression with it; vlogDictVerify) and the frames that name one.
**
** Input:
**     u8    the dictionary's id: 1 replaces the seed's dictionary, 2 adds
**           one after it, any other leaves a gap
**     u8    DS_* bits
**     u32   the header's size field, with DS_SIZE (else the bytes')
**     u32   the header's second word, with DS_WORD (else 0)
**     u16   bytes per chunk, with DS_CHUNK (else DICT_CHUNK), but at least
**           enough for MAX_CHUNK chunks
**     the rest: the dictionary's bytes (MAX_DICT at most)
** The header chunk's checksum is recomputed (fixsum.c), so that the bytes
** reach zstd.  With DS_FRAMES, the frames of the seed image compressed
** with a dictionary name this id instead (checksums recomputed).  The seed
** store is opened in memory and the chunks are put straight into
** TREE_DICTS (no transaction log: when the id is 1 the seed's chunks past
** the new ones are deleted), and the same handle does what meets a
** dictionary (exerciseDict).  Nothing else changes, so nothing else is
** read: the other targets read, verify and checkpoint whole stores, three
** times slower.
*/
#include "fuzz_common.h"

#define DS_IN      12           /* input bytes before the dictionary's */
#define DS_SIZE    0x01
#define DS_WORD    0x02
#define DS_CHUNK   0x04
#define DS_FRAMES  0x08
#define MAX_CHUNK  64           /* chunks of a dictionary, at most */
#define MAX_DICT   (20*1024)    /* bytes of it (16 KiB are taken) */

/* TREE_DICTS key of chunk iChunk of dictionary iId (vlog.c's dictKey). */
static void dictKey(u8 *aKey, u32 iId, u32 iChunk){
  vlogPutBE64(aKey, ((u64)iId<<32) | iChunk);
}

/* The seed image's dictionary frames name dictionary iId. */
static void framesName(u32 iId){
  const int64_t *aOff;
  int nFrame = fuzzSeedFrames(&aOff), i;
  for(i=0; i<nFrame; i++){
    u8 *h = &fuzzImg[aOff[i]];
    if( (h[4] & FRAME_DICT) && vlogGet32(&h[12])>=4 ){
      vlogPut32(&h[FRAME_HDR], iId);
      vlogFixFrame(h, &h[FRAME_HDR], (int)vlogGet32(&h[12]));
    }
  }
}

/* What meets a dictionary: lookups of tree 17's values (frames compressed
** with one: ddictGet, dictLoad, ZSTD_createDDict, decompression), verify's
** check of TREE_DICTS (vlogDictVerify), a commit of a value-log value (the
** writer picks up the newest dictionary: dictCheck, ZSTD_createCDict,
** compression with it) and a lookup of that value; then maintenance's GC
** of dictionaries (vlogDictGc: the headers' sizes, deletes, a tombstone),
** rolled back, and verify again after it. */
static void exerciseDict(VlogStore *p){
  static const char zText[] = "a value for the value log, compressed with the "
    "newest dictionary of the store: value log frame record segment bucket "
    "journal tree node leaf key commit checkpoint dictionary zstd";
  VlogCursor *pCsr = 0;
  VlogBuf rep = {0, 0, 0};
  const void *pVal;
  int nVal, rc, n = 0;
  rc = vlogCursorOpen(p, 17, &pCsr);
  if( rc==VLOG_OK ) rc = vlogCursorFirst(pCsr);
  while( rc==VLOG_OK && vlogCursorValid(pCsr) && n++<1000 ){
    rc = vlogCursorValue(pCsr, &pVal, &nVal);
    if( rc==VLOG_OK ) rc = vlogCursorNext(pCsr);
  }
  fuzzCheck(p, rc);
  if( pCsr ) vlogCursorClose(pCsr);
  if( vlogBegin(p, 0)==VLOG_OK ){
    fuzzCheck(p, vlogDictVerify(p, &rep));
    (void)vlogCommit(p);
  }
  rc = vlogPutEx(p, 17, "fuzz", 4, zText, (int)sizeof(zText), 0, 3);
  fuzzCheck(p, rc);
  if( rc==VLOG_OK ) fuzzCheck(p, vlogGet(p, 17, "fuzz", 4, &pVal, &nVal));
  if( vlogBegin(p, 1)==VLOG_OK ){
    int nDrop = 0;
    rc = vlogDictGc(p, &nDrop);
    fuzzCheck(p, rc);
    if( rc==VLOG_OK ) fuzzCheck(p, vlogDictVerify(p, &rep));
    (void)vlogRollback(p);
  }
  vlogBufFree(p->pEnv, &rep);
}

int LLVMFuzzerTestOneInput(const uint8_t *aIn, size_t nIn){
  VlogConfig cfg;
  VlogStore *p = 0;
  const u8 *aDict = &aIn[DS_IN];
  int nDict = (int)nIn - DS_IN, nChunk, rc, i;
  u32 iId;
  u8 ctl, aKey[8], aHdr[16];
  if( nIn<DS_IN ) return 0;
  if( nDict>MAX_DICT ) nDict = MAX_DICT;
  iId = aIn[0];
  ctl = aIn[1];
  nChunk = (ctl & DS_CHUNK) ? (aIn[10] | (aIn[11]<<8)) : DICT_CHUNK;
  if( nChunk<(nDict+MAX_CHUNK-1)/MAX_CHUNK ) nChunk = (nDict+MAX_CHUNK-1)/MAX_CHUNK;
  if( nChunk==0 ) nChunk = 1;
  fuzzLoadSeed();
  if( ctl & DS_FRAMES ) framesName(iId);
  vlogConfigDefault(&cfg);
  cfg.bCreate = 0;
  cfg.nAutoCheckpoint = 0;
  cfg.nMmapSize = 0;
  rc = vlogStoreOpen(fuzzEnv(0), FUZZ_PATH, &cfg, &p);
  if( rc==VLOG_OK ) rc = vlogBegin(p, 1);
  vlogPut32(&aHdr[0], (ctl & DS_SIZE) ? vlogGet32(&aIn[2]) : (u32)nDict);
  vlogPut32(&aHdr[4], (ctl & DS_WORD) ? vlogGet32(&aIn[6]) : 0);
  vlogFixDictHeader(aHdr, aDict, nDict);
  dictKey(aKey, iId, 0);
  if( rc==VLOG_OK ) rc = vlogBtreeInsert(p, TREE_DICTS, aKey, 8, aHdr, 16, ENTRY_PUT);
  for(i=0; rc==VLOG_OK && i*nChunk<nDict; i++){
    int n = nDict-i*nChunk<nChunk ? nDict-i*nChunk : nChunk;
    dictKey(aKey, iId, (u32)i+1);
    rc = vlogBtreeInsert(p, TREE_DICTS, aKey, 8, &aDict[i*nChunk], n, ENTRY_PUT);
  }
  for(i++; rc==VLOG_OK && iId==1 && i<=(16*1024)/DICT_CHUNK; i++){
    dictKey(aKey, iId, (u32)i);
    rc = vlogBtreeInsert(p, TREE_DICTS, aKey, 8, 0, 0, ENTRY_WHITEOUT);
  }
  (void)vlogCommit(p);           /* nothing logged: the trees stay as put */
  if( rc==VLOG_OK ) exerciseDict(p);
  vlogStoreClose(p);
  return 0;
}

/* The seeds: the seed's dictionary as dictionary 1; as dictionary 2 that
** the dictionary frames name; in chunks of 1000 bytes. */
static void writeSeeds(void){
  static u8 aSeed[DS_IN + 16*1024];
  int nDict;
  const u8 *aDict = fuzzSeedDict(&nDict);
  memset(aSeed, 0, DS_IN);
  memcpy(&aSeed[DS_IN], aDict, nDict);
  aSeed[0] = 1;
  fuzzWriteSeed(0, aSeed, DS_IN + nDict);
  aSeed[0] = 2;
  aSeed[1] = DS_FRAMES;
  fuzzWriteSeed(1, aSeed, DS_IN + nDict);
  aSeed[0] = 1;
  aSeed[1] = DS_CHUNK;
  aSeed[10] = (u8)1000;
  aSeed[11] = (u8)(1000>>8);
  fuzzWriteSeed(2, aSeed, DS_IN + nDict);
  exit(0);
}

int LLVMFuzzerInitialize(int *pArgc, char ***pArgv){
  (void)pArgc; (void)pArgv;
  if( fuzzSeedsWanted() ) writeSeeds();
  return 0;
}
