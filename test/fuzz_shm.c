/*
** fuzz_shm.c: libFuzzer target for the reader table in shared memory
** (shm.c: its header copies, the writer's process id, the reader slots),
** which any process that can open the -shm may write.
**
** Input:
**     32 bytes   header copy 0 (magic, version, checkpoint, journal
**                offset, journal sequence)
**     u8         0: copy 1 is copy 0; else 32 bytes of copy 1 follow
**     u32        the last writer's process id
**     then slots, each u16 slot number (modulo the slots there are) and
**                32 bytes: the slot as storeInt.h lays it out (tags, owner
**                process id, pinned checkpoint and journal sequence)
** The memory env says that slots below 8 are held by live processes (their
** lock bytes, io.h) and the others by none.  The seed store is opened with
** that shared memory (exerciseShm): reads begin from the header, a commit
** publishes, slots are claimed and scanned at the checkpoint.
*/
#include "fuzz_common.h"

#define SHM_SLOT0      VLOG_SHM_SLOT0
#define SHM_SLOT_SIZE  VLOG_SHM_SLOT_SIZE
#define SHM_NSLOT      ((VLOG_SHM_SIZE - SHM_SLOT0) / SHM_SLOT_SIZE)

/* What a process does with the reader table: open (a slot is claimed),
** lookups outside a transaction (each a read that begins from the
** header), a commit that publishes, a checkpoint that scans the slots for
** pinned checkpoints, lookups again.  The trees and values are the other
** targets' business: no full read and no verify (fuzzExercise), which
** took more than half of this target's time. */
static void getKeys(VlogStore *p){
  static const struct { u32 iTree; const char *zKey; } aGet[] = {
    { 16, "key0000" }, { 17, "key0002" }, { 18, "key0100" }, { 17, "j2" },
    { 16, "fuzz" },
  };
  int i;
  for(i=0; i<(int)(sizeof(aGet)/sizeof(aGet[0])); i++){
    const void *pVal;
    int nVal;
    fuzzCheck(p, vlogGet(p, aGet[i].iTree, aGet[i].zKey, (int)strlen(aGet[i].zKey),
                         &pVal, &nVal));
  }
}
static void exerciseShm(void){
  VlogStore *p = 0;
  int rc = fuzzOpen(fuzzEnv(1), &p);
  fuzzCheck(p, rc);
  if( rc==VLOG_OK ){
    getKeys(p);
    rc = vlogPut(p, 16, "fuzz", 4, "value", 5);
    fuzzCheck(p, rc);
    if( rc==VLOG_OK ) fuzzCheck(p, vlogCheckpoint(p));
    getKeys(p);
  }
  vlogStoreClose(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *aIn, size_t nIn){
  size_t i = 33;
  if( nIn<33 ) return 0;
  fuzzLoadSeed();
  memcpy(fuzzShm, aIn, 32);
  if( aIn[32] && nIn>=65 ){
    memcpy(&fuzzShm[64], &aIn[33], 32);
    i = 65;
  }else{
    memcpy(&fuzzShm[64], aIn, 32);
  }
  if( i+4<=nIn ){
    memcpy(&fuzzShm[192], &aIn[i], 4);
    i += 4;
  }
  for(; i+2+SHM_SLOT_SIZE<=nIn; i+=2+SHM_SLOT_SIZE){
    int iSlot = (aIn[i] | (aIn[i+1]<<8)) % SHM_NSLOT;
    memcpy(&fuzzShm[SHM_SLOT0 + iSlot*SHM_SLOT_SIZE], &aIn[i+2], SHM_SLOT_SIZE);
  }
  exerciseShm();
  return 0;
}

/* The seed: the reader table as the seed store's open leaves it, with a
** reader of the older checkpoint in slot 3 (a live process) and one of a
** dead process in slot 9. */
int LLVMFuzzerInitialize(int *pArgc, char ***pArgv){
  (void)pArgc; (void)pArgv;
  if( fuzzSeedsWanted() ){
    VlogStore *p = 0;
    VlogConfig cfg;
    u8 aSeed[33+4+2*(2+SHM_SLOT_SIZE)];
    u8 *pSlot;
    u64 iCkpt;
    fuzzLoadSeed();
    vlogConfigDefault(&cfg);
    cfg.bCreate = 0;
    if( vlogStoreOpen(fuzzEnv(1), FUZZ_PATH, &cfg, &p) ) abort();
    vlogStoreClose(p);
    memcpy(aSeed, fuzzShm, 32);
    aSeed[32] = 0;
    memcpy(&aSeed[33], &fuzzShm[192], 4);
    iCkpt = vlogGet64(&fuzzShm[8]);
    memset(&aSeed[37], 0, sizeof(aSeed)-37);
    pSlot = &aSeed[37];
    pSlot[0] = 3;
    vlogPut32(&pSlot[2+VLOG_SHM_SLOT_TAG0], 1);
    vlogPut32(&pSlot[2+VLOG_SHM_SLOT_PID], 4242);
    vlogPut64(&pSlot[2+VLOG_SHM_SLOT_CKPT], iCkpt-1);
    vlogPut64(&pSlot[2+VLOG_SHM_SLOT_TAG1], 1);
    pSlot += 2+SHM_SLOT_SIZE;
    pSlot[0] = 9;
    vlogPut32(&pSlot[2+VLOG_SHM_SLOT_TAG0], 1);
    vlogPut32(&pSlot[2+VLOG_SHM_SLOT_PID], 999);
    vlogPut64(&pSlot[2+VLOG_SHM_SLOT_CKPT], iCkpt-1);
    vlogPut64(&pSlot[2+VLOG_SHM_SLOT_TAG1], 1);
    fuzzWriteSeed(0, aSeed, sizeof(aSeed));
    exit(0);
  }
  return 0;
}
