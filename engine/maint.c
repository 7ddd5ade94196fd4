/*
** maint.c: value-log maintenance (after TreeDB's rewrite maintenance, seed
** 002): plan, stage, confirm, rewrite, GC, and the state they keep.
**
** DESIGN NOTE
**
** Overwrites and deletes leave value-log segments partly stale (alloc.c
** keeps each segment's live and total bytes exact).  Maintenance moves the
** live records of the stalest segments to the open one and lets the
** emptied segments go.  Everything it decides from is the bucket table's
** per-segment accounting; nothing here scans a key tree to learn what is
** live (the seed's reviewers found that full scan to be the cost driver).
**
** Plan (planSegments).  Candidates are sealed segments with live bytes
** whose stale ratio is at least min_stale_ratio, whose stale bytes are at
** least min_stale_bytes and that were sealed at least min_age_ms ago;
** ranked by stale ratio, then stale bytes, then fewest live bytes; capped
** per pass by max_segments and max_bytes (live bytes to copy; the first
** candidate is taken even when it alone is over).  The plan also counts
** why the others were left out: below the ratio, below the bytes, too
** young (age-blocked), open, pinned (zombies a reader may still use), and
** awaiting compression by an explicit pass (see "Background compression").
** Sealed segments with nothing live are dead: they skip the rewrite and
** go straight to GC.
**
** State (TREE_MAINT, changed only inside engine transactions, so that it
** is journaled, replayed and checkpointed like any tree):
**     'C' name         a setting (8 bytes: the IEEE double, big-endian)
**     'S'              the state record: stage pending, observed at (unix
**                      us), the next queue position and log sequence, and
**                      the store's counters (passes, segments rewritten,
**                      bytes copied, segments freed, bytes reclaimed)
**     'L' segment      the rewrite ledger: a staged segment's generation,
**                      total and live bytes and when they were observed
**     'Q' position     the rewrite queue: confirmed segments, in order,
**                      with the same figures and when they were queued
**     'G' sequence     the maintenance log: one entry per pass, the last
**                      log_size kept
** Entries name a segment with its generation: one whose bucket was since
** freed or became another segment no longer matches, and every pass
** prunes such entries first (pruneState), so a pass never spends itself on
** a queue of missing segments (seed: rewrite_queue_missing_prune).
**
** Stage, then confirm (the seed's P1 review findings).  A pass that finds
** candidates and has no ledger stages them: ledger written, stage pending,
** observed now.  A pass after confirm_delay_ms re-plans with the same
** thresholds; only the staged segments that still qualify are queued, and
** the narrowed ledger is persisted (not only the plan in memory: the
** queue is what later passes execute).  When none still qualifies the
** ledger and the stage-pending state are cleared, so a segment that
** stopped qualifying can never trap passes in a confirm loop.  While a
** stage is pending the queue waits for its confirmation.
**
** Rewrite (rewriteSegment).  The queue's head is read alone, frame by
** frame (vlogSegFrameNext: records carry their tree and key).  For each
** record the key's leaf value is looked up; only if it still points at
** this copy (segment, generation, frame, index) is the value written again
** (vlogValueEncode, the tree's policy) and put: a compare and swap inside
** the transaction, so values written since are left alone.  A record that
** is a chunk of a larger value moves the whole value.  The commit's own
** accounting moves the bytes: the old pointer's from live to stale, the
** new one's to live, and a sealed segment left with nothing live becomes a
** zombie (alloc.c).  Work is cut into transactions of REWRITE_TXN_BYTES
** copied bytes, each a commit of its own between which foreground writers
** run; the last removes the segment from the queue and the ledger.  A
** segment that still has live bytes after its walk (a frame it could not
** read) is reported as an error and leaves the queue: it is not freed.
**
** Background compression (the store's background_compression setting;
** vlog.c writes frames raw at commit under it).  Compression is a reason
** to rewrite, as staleness is: a sealed segment with live bytes and bytes
** to compress (alloc.c's accounting: record bytes of frames a commit left
** raw) is a candidate even when nothing in it is stale.  The planner still
** reads only the bucket table.  Ranking: the stale candidates first, as
** before (a rewrite of one compresses it too), then those for compression
** alone, most bytes to compress first.  Only explicit passes take them
** (vlogMaintain: full, auto, stage and confirm, and rewrite-one of what
** they queued): an automatic step's plan counts them as compress_deferred
** and leaves them, since compressing there would put zstd back on the
** path of the load's commits.  (The flag is MaintState.bExplicit, set
** for the span of vlogMaintain.)  So a stage that an automatic step
** confirms loses them, and only what an explicit confirm queued is ever
** rewritten for compression, by whoever then works the queue: the
** application asked for that work.  The rewrite marks each of
** its transactions (vlogLogCompressNow), so its frames are compressed at
** the tree's level, with the store's dictionary or one it trains, whatever
** the setting.  A rewrite adds no bytes to compress (what does not
** compress becomes raw by decision), so a second full pass plans nothing:
** incompressible data is rewritten once, never in a loop.  The open
** segment is not a candidate until sealed.  The quiet pass (below) takes
** them too: the application left the quiet window for it.
**
** GC.  Dead segments are retired to zombies.  Zombies are freed through
** the journal (gcJournal, below): once a synced header says the entry
** that emptied one was synced, no replay checks its old frames again, and
** once no reader's snapshot is older than that entry, none reads them; two
** syncs and small commits, where two tree checkpoints each wrote the
** whole dirty tree.  What a reader still pins waits: an explicit GC then
** runs up to two checkpoints (alloc.c, "Two checkpoints": the second
** waits for the reader) and stops, reporting the segments still pinned,
** when a reader holds the older one; an explicit pass also checkpoints
** twice when the journal is not empty, which frees the B-tree regions its
** rewrites superseded.  The checkpoint cuts FREE buckets at the end of
** the file off; GC then
** punches holes in the free buckets inside the file where the I/O layer
** can (xPunch; through SQLite's unix VFS, a side descriptor of the
** process, io_posix.c), inside a write transaction so that no other
** handle takes one of them meanwhile (punchFree), so the file's allocated
** size shrinks too.  Last, the zstd dictionaries that no frame names any
** more are dropped (vlogDictGc): the segments' ranges of dictionary ids
** in the bucket table say which are in use, and zombies count until they
** are freed, so no reader that can reach a frame loses its dictionary.
**
** Triggers.  Explicit: vlog_maintain() and the tool, one pass.  Automatic
** (the 'auto' setting, on by default): after each commit of a handle, one
** bounded step (vlogMaintAfterCommit), on the committing connection, after
** its commit is done and published, so the commit's durability is
** untouched and a step's failure never fails it.  A step stages and
** confirms when a bucket's worth of bytes was committed since the last
** plan, a stage is due or the last plan was capped, then rewrites queued
** segments, in transactions of their own, until it has copied STEP_PACE
** times the bytes the commit wrote (at least STEP_MIN_BYTES) or walked
** STEP_MAX_SEGMENTS segments; a segment cut off is resumed by the next
** step.  So maintenance keeps pace with the writes in bounded steps, as
** LSM compaction does, with no idle time needed.  When zombies hold
** 1/STEP_GC_FRACTION of the file, a step frees them through the journal
** instead (stepGc, gcJournal: two syncs), and when the journal holds
** 1/STEP_JOURNAL_FRACTION of it, a step checkpoints.  One slow thing per
** commit: a commit that checkpointed (its automatic checkpoint) runs no
** step, and a step that runs GC copies nothing; the work not done waits as debt
** (MaintState.nDebt, at most STEP_MAX_DEBT) for the next step, so the
** slowest commit is about one checkpoint, not a checkpoint and a copy.
** The tail step (stepTail): when a quarter of the file below its top
** bucket is free, a step moves the topmost value-log segment down, at
** most one per half bucket committed, and cuts a free end off with a
** checkpoint: a file keeps the size of what it holds, not of its largest
** moment (speedtest1 left a third of its file free inside).
** The checkpoint kick: after a checkpoint (the automatic one of a commit,
** or vlog_checkpoint; not maintenance's own), the next step rewrites one
** segment, the queue's head, and then restages the rest of the queue
** (stage pending, observed now): no checkpoint window drains a long queue
** (the seed's layer C).
**   Defaults.  min_age_ms and confirm_delay_ms are 0: both are times, and
** under continuous writes a time is a volume of data that grows with the
** write rate.  At 1,000 ms and 500 ms, a load writing 100 MB/s kept a
** tenth of a second of writes age-blocked, and every checkpoint kick's
** restage held the queue half a second, during which nothing was
** rewritten: the file reached 4x its live bytes.  With 0 a stage is
** confirmed by the same step, against the accounting of that moment.  An
** application whose hot data dies within seconds sets them.  The stale
** ratio (0.5) sets the trade between space and write amplification: for
** uniform overwrites greedy cleaning at ratio s copies (1-s)/s bytes per
** byte written and keeps the segments' live share near s/-ln(1-s), 1.39x
** the live bytes at 0.5, 1.28x at 0.4 (at a write amplification of 2.5).
**   Why not a worker thread: an engine handle is single-threaded, as a
** SQLite connection is; a thread would need a handle of its own and would
** contend for the one writer lock with the application's writes, whose
** latency it would then decide, invisibly.  Steps on the committing
** connection cost each commit a bounded, measurable amount, need no
** thread in a library that SQLite applications load anywhere, and stop
** when the application stops writing (the work left is then done by the
** next writer, or by vlog_maintain()).
**   The quiet window (quiet_window_ms) decides when the larger optional
** work runs, which steps never do: the first commit on a handle after the
** window passed without one runs the quiet pass (stepQuiet) instead of a
** step: today, the sealed segments background compression left raw,
** rewritten compressed, under the pass's caps.  With no thread, a window
** is seen only when it ends, by the next commit; that commit pays for the
** pass (bounded by max_segments and max_bytes), and a load that never
** pauses never runs one.  The window is the handle's own: another
** handle's commits meanwhile are not seen (the journal's sequence would
** say, but entries are not one per commit).
**
** Modes (vlog_maintain): plan (a dry run: reads only), stage, confirm,
** rewrite-one, gc, full (the open segment sealed when it holds stale
** bytes; stage, confirm and rewrite without waiting, without caps, until
** nothing qualifies, then GC), auto (what the
** automatic trigger runs: prune; rewrite the queue's head when confirmed;
** else confirm when the delay has passed; else stage; then GC of dead
** segments).  Each pass appends an entry to the log and returns a JSON
** report of the state before and after.
*/
#include <stdio.h>
#include <stdlib.h>
#include "storeInt.h"

#define REWRITE_TXN_BYTES  (256*1024)   /* record bytes copied per transaction */
#define MAINT_KEY_MAX      40
#define FULL_BATCH         8            /* segments "full" rewrites between GCs */

/* ---------------------------------------------------------------------
** Settings
*/
typedef struct MaintSetting MaintSetting;
struct MaintSetting {
  const char *zName;
  double rDefault, rMin, rMax;
  int bInt;                            /* a whole number */
};
static const MaintSetting aSetting[] = {
  { "min_stale_ratio",  0.5,   0.0, 1.0,    0 },
  { "min_stale_bytes",  65536, 0.0, 1e15,   1 },
  { "min_age_ms",       0,     0.0, 1e12,   1 },
  { "max_segments",     8,     1.0, 1e9,    1 },
  { "max_bytes",        64.0*1024*1024, 1.0, 1e15, 1 },
  { "confirm_delay_ms", 0,     0.0, 1e12,   1 },
  { "quiet_window_ms",  2000,  0.0, 1e12,   1 },
  { "kick_segments",    1,     0.0, 1e6,    1 },
  { "auto",             1,     0.0, 1.0,    1 },
  { "background_compression", 0, 0.0, 1.0, 1 },
  { "log_size",         32,    1.0, 100000, 1 },
  { "mmap_size",        (double)VLOG_DEFAULT_MMAP_SIZE, 0.0, 1e15, 1 },
  { "tail_compaction",  1,     0.0, 1.0,    1 },
  { "materialize_on_read", 0,  0.0, 1.0,    1 },  /* the VFS's overlays */
};
#define N_SETTING ((int)(sizeof(aSetting)/sizeof(aSetting[0])))
enum { S_RATIO, S_BYTES, S_AGE, S_MAXSEG, S_MAXBYTES, S_CONFIRM, S_QUIET,
       S_KICK, S_AUTO, S_BGCOMP, S_LOGSIZE, S_MMAP, S_TAIL, S_MATREAD };

/* The state record ('S'): u64 fields */
enum { ST_PENDING, ST_OBSERVED, ST_NEXTPOS, ST_NEXTLOG, ST_PASSES,
       ST_REWRITTEN, ST_COPIED, ST_FREED, ST_RECLAIMED, ST_CURSEG, ST_CURGEN,
       ST_N };

/* A ledger or queue entry */
#define ENTRY_BYTES 40          /* u64 generation, total, live, time, segment */

typedef struct MaintEntry MaintEntry;
struct MaintEntry {
  u64 iKey;                            /* ledger: segment; queue: position */
  u64 iSeg, iGen, nTotal, nLive, iTime;
};

typedef struct Plan Plan;
struct Plan {
  u64 *aSeg;                           /* selected, best first */
  int nSeg, nAlloc;
  u64 nSelLive, nSelStale, nSelCompress;
  int nCandidate;                      /* qualified before the caps */
  int nCompress;                       /* ... of them for compression alone */
  int nBelowRatio, nBelowBytes, nYoung, nOpen, nPinned, nDead, nCapped;
  int nNoCompress;                     /* left to compress by an explicit pass */
};

/* One pass */
typedef struct Pass Pass;
struct Pass {
  VlogStore *p;
  double aCfg[N_SETTING];
  u64 aSt[ST_N];
  u64 aSt0[ST_N];                      /* aSt as the transaction began */
  const char *zMode;
  const char *zTrigger;
  u64 iStart;                          /* unix us */
  VlogBuf rep;                         /* the JSON report */
  int bRepFailed;                      /* out of memory while writing it */
  VlogBuf raw;                         /* the frame being rewritten */
  VlogBuf val;                         /* a chunked value, whole */
  VlogBuf enc;                         /* its new leaf value */
  u64 *aRewritten; int nRewritten, nRewrittenAlloc;
  int nStaged, nConfirmed, nRestaged, nPruned, nPlanned, nSkippedFrames;
  u64 nCopied, nCopiedRec, nFreed, nReclaimed, nPunched;
  int nDictDropped;                    /* zstd dictionaries GC dropped */
  int nPinnedLeft;
  char *zErr;                          /* a segment's error, kept going */
};

static u64 nowUs(VlogStore *p){ return (u64)p->pEnv->xNow(p->pEnv); }

static double getDouble(const u8 *a){
  u64 v = vlogGet64(a);
  double r;
  memcpy(&r, &v, 8);
  return r;
}
static void putDouble(u8 *a, double r){
  u64 v;
  memcpy(&v, &r, 8);
  vlogPut64(a, v);
}

static int settingFind(const char *zName){
  int i;
  for(i=0; i<N_SETTING; i++){
    if( strcmp(aSetting[i].zName, zName)==0 ) return i;
  }
  return -1;
}

/* Look key aKey[0..nKey) up in TREE_MAINT. */
static int maintGet(VlogStore *p, const u8 *aKey, int nKey, const u8 **ppVal, int *pnVal){
  return vlogBtreeLookup(p, TREE_MAINT, aKey, nKey, ppVal, pnVal);
}
static int maintPut(VlogStore *p, const u8 *aKey, int nKey, const u8 *aVal, int nVal){
  return vlogTxnApply(p, REC_PUT, TREE_MAINT, aKey, nKey, aVal, nVal, 1);
}
static int maintDel(VlogStore *p, const u8 *aKey, int nKey){
  return vlogTxnApply(p, REC_DELETE, TREE_MAINT, aKey, nKey, 0, 0, 1);
}

/* Setting i in force into *pr: its default, overridden by the stored one. */
static int settingLoad(VlogStore *p, int i, double *pr){
  u8 aKey[MAINT_KEY_MAX];
  int nName = (int)strlen(aSetting[i].zName);
  const u8 *a;
  int n, rc;
  assert( i>=0 && i<N_SETTING && 1+nName<=MAINT_KEY_MAX );
  aKey[0] = 'C';
  memcpy(&aKey[1], aSetting[i].zName, nName);
  *pr = aSetting[i].rDefault;
  rc = maintGet(p, aKey, 1+nName, &a, &n);
  if( rc==VLOG_OK ){
    double r = n==8 ? getDouble(a) : -1.0;
    if( !(r>=aSetting[i].rMin && r<=aSetting[i].rMax) ){
      return vlogSetError(p, VLOG_CORRUPT_BKPT, "maintenance setting %s: "
                          "stored value out of range", aSetting[i].zName);
    }
    *pr = r;
  }
  return rc==VLOG_NOTFOUND ? VLOG_OK : rc;
}

/* The settings in force: the defaults, overridden by those stored. */
static int settingsLoad(VlogStore *p, double *aCfg){
  int i, rc = VLOG_OK;
  for(i=0; rc==VLOG_OK && i<N_SETTING; i++) rc = settingLoad(p, i, &aCfg[i]);
  return rc;
}

/* The background_compression setting, for the value log's writer, which
** reads it once per write transaction (vlog.c): one lookup. */
int vlogMaintBgCompression(VlogStore *p, int *pbOn){
  double r = 0.0;
  int rc = settingLoad(p, S_BGCOMP, &r);
  assert( p->eTxn>0 );
  *pbOn = rc==VLOG_OK && r!=0.0;
  return rc;
}

static int stateLoad(VlogStore *p, u64 *aSt){
  const u8 *a;
  int n, i;
  int rc = maintGet(p, (const u8*)"S", 1, &a, &n);
  memset(aSt, 0, sizeof(u64)*ST_N);
  if( rc==VLOG_NOTFOUND ) return VLOG_OK;
  if( rc ) return rc;
  if( n!=ST_N*8 ){
    return vlogSetError(p, VLOG_CORRUPT_BKPT, "maintenance state record of "
                        "%d bytes (expected %d)", n, ST_N*8);
  }
  for(i=0; i<ST_N; i++) aSt[i] = vlogGet64(&a[i*8]);
  if( aSt[ST_PENDING]>1 ){
    return vlogSetError(p, VLOG_CORRUPT_BKPT, "maintenance state: bad stage flag");
  }
  return VLOG_OK;
}

static int stateSave(VlogStore *p, const u64 *aSt){
  u8 a[ST_N*8];
  int i;
  for(i=0; i<ST_N; i++) vlogPut64(&a[i*8], aSt[i]);
  return maintPut(p, (const u8*)"S", 1, a, ST_N*8);
}

/* ---------------------------------------------------------------------
** Ledger and queue entries
*/
static int entryKey(u8 *aKey, char c, u64 iKey){
  aKey[0] = (u8)c;
  vlogPut64(&aKey[1], iKey);
  return 9;
}

static void entryEncode(u8 *a, const MaintEntry *pE){
  vlogPut64(&a[0], pE->iGen);
  vlogPut64(&a[8], pE->nTotal);
  vlogPut64(&a[16], pE->nLive);
  vlogPut64(&a[24], pE->iTime);
  vlogPut64(&a[32], pE->iSeg);
}

/* Every entry of kind c ('L' or 'Q') into *paE (vlogFree), in key order. */
static int entryList(VlogStore *p, char c, MaintEntry **paE, int *pnE){
  VlogCursor *pCsr = 0;
  MaintEntry *aE = 0;
  int nE = 0, nAlloc = 0;
  u8 aKey[1];
  int rc;
  aKey[0] = (u8)c;
  *paE = 0;
  *pnE = 0;
  rc = vlogCursorOpen(p, TREE_MAINT, &pCsr);
  if( rc ) return rc;
  rc = vlogCursorSeek(pCsr, aKey, 1, VLOG_SEEK_GE);
  while( rc==VLOG_OK && vlogCursorValid(pCsr) ){
    const void *pK, *pV;
    int nK, nV;
    rc = vlogCursorKey(pCsr, &pK, &nK);
    if( rc || nK<1 || ((const u8*)pK)[0]!=(u8)c ) break;
    rc = vlogCursorValue(pCsr, &pV, &nV);
    if( rc ) break;
    if( nK!=9 || nV!=ENTRY_BYTES ){
      rc = vlogSetError(p, VLOG_CORRUPT_BKPT, "maintenance %s entry of %d bytes",
                        c=='L' ? "ledger" : "queue", nV);
      break;
    }
    if( nE>=nAlloc ){
      MaintEntry *aNew;
      nAlloc = nAlloc ? nAlloc*2 : 16;
      aNew = (MaintEntry*)vlogRealloc(p->pEnv, aE, sizeof(MaintEntry)*nAlloc);
      if( aNew==0 ){ rc = vlogSetError(p, VLOG_NOMEM, 0); break; }
      aE = aNew;
    }
    {
      const u8 *a = (const u8*)pV;
      MaintEntry *pE = &aE[nE++];
      pE->iKey = vlogGet64(&((const u8*)pK)[1]);
      pE->iGen = vlogGet64(&a[0]);
      pE->nTotal = vlogGet64(&a[8]);
      pE->nLive = vlogGet64(&a[16]);
      pE->iTime = vlogGet64(&a[24]);
      pE->iSeg = vlogGet64(&a[32]);
      if( c=='L' && pE->iSeg!=pE->iKey ){
        rc = vlogSetError(p, VLOG_CORRUPT_BKPT, "maintenance ledger entry %llu "
                          "names segment %llu", (unsigned long long)pE->iKey,
                          (unsigned long long)pE->iSeg);
        break;
      }
    }
    rc = vlogCursorNext(pCsr);
  }
  {
    int rc2 = vlogCursorClose(pCsr);
    if( rc==VLOG_OK ) rc = rc2;
  }
  if( rc ){
    vlogFree(p->pEnv, aE);
    return rc;
  }
  *paE = aE;
  *pnE = nE;
  return VLOG_OK;
}

/* Whether entry pE still names a segment that exists as it did. */
static int entryLive(VlogStore *p, const MaintEntry *pE){
  Bucket *pB;
  if( pE->iSeg==0 || pE->iSeg>=p->sb.nBucket ) return 0;
  pB = &p->aBucket[pE->iSeg];
  return pB->eKind==KIND_VLOG && pB->iGen==pE->iGen
      && (pB->eState==BUCKET_SEALED || pB->eState==BUCKET_OPEN);
}

static void entryFromBucket(VlogStore *p, u64 iSeg, u64 iTime, MaintEntry *pE){
  Bucket *pB = &p->aBucket[iSeg];
  pE->iKey = iSeg;
  pE->iSeg = iSeg;
  pE->iGen = pB->iGen;
  pE->nTotal = pB->nTotal;
  pE->nLive = pB->nLive;
  pE->iTime = iTime;
}

static int entryWrite(VlogStore *p, char c, const MaintEntry *pE){
  u8 aKey[9], aVal[ENTRY_BYTES];
  entryKey(aKey, c, pE->iKey);
  entryEncode(aVal, pE);
  return maintPut(p, aKey, 9, aVal, ENTRY_BYTES);
}
static int entryDelete(VlogStore *p, char c, u64 iKey){
  u8 aKey[9];
  entryKey(aKey, c, iKey);
  return maintDel(p, aKey, 9);
}

/* ---------------------------------------------------------------------
** Planning: reads the bucket table only
*/
static int planAdd(VlogStore *p, Plan *pPlan, u64 iSeg){
  if( pPlan->nSeg>=pPlan->nAlloc ){
    int nNew = pPlan->nAlloc ? pPlan->nAlloc*2 : 16;
    u64 *aNew = (u64*)vlogRealloc(p->pEnv, pPlan->aSeg, sizeof(u64)*nNew);
    if( aNew==0 ) return vlogSetError(p, VLOG_NOMEM, 0);
    pPlan->aSeg = aNew;
    pPlan->nAlloc = nNew;
  }
  pPlan->aSeg[pPlan->nSeg++] = iSeg;
  return VLOG_OK;
}

/* A candidate as the ranking sees it (qsort has no context argument, and
** a static one would race between threads of different connections). */
typedef struct Rank Rank;
struct Rank {
  u64 iSeg;
  int bCompress;                       /* a candidate for compression alone */
  double rRatio;
  u64 nStale, nLive, nCompress;
};
static int rankCmp(const void *a, const void *b){
  const Rank *x = (const Rank*)a, *y = (const Rank*)b;
  if( x->bCompress!=y->bCompress ) return x->bCompress ? 1 : -1;
  if( x->bCompress && x->nCompress!=y->nCompress ){
    return x->nCompress>y->nCompress ? -1 : 1;
  }
  if( x->rRatio!=y->rRatio ) return x->rRatio>y->rRatio ? -1 : 1;
  if( x->nStale!=y->nStale ) return x->nStale>y->nStale ? -1 : 1;
  if( x->nLive!=y->nLive ) return x->nLive<y->nLive ? -1 : 1;
  return x->iSeg<y->iSeg ? -1 : 1;
}

/* Whether sealed segment pB is stale enough under the thresholds. */
static int segStale(const double *aCfg, const Bucket *pB){
  u64 nStale = pB->nTotal - pB->nLive;
  double r = pB->nTotal ? (double)nStale/(double)pB->nTotal : 0.0;
  return r>=aCfg[S_RATIO] && (double)nStale>=aCfg[S_BYTES];
}

/* Whether sealed segment pB is a candidate for compression alone: bytes a
** commit left raw for background compression, some of them perhaps still
** live (at most min(to compress, live)). */
static int segToCompress(const Bucket *pB){
  return pB->nToCompress>0 && pB->nLive>0;
}

/* Rank pPlan->aSeg[]: the stale candidates first, by stale ratio, then
** stale bytes, then fewest live; then those for compression alone, most
** bytes to compress first, then fewest live. */
static int planRank(VlogStore *p, Plan *pPlan, const double *aCfg){
  Rank *a;
  int i;
  if( pPlan->nSeg<2 ) return VLOG_OK;
  a = (Rank*)vlogMalloc(p->pEnv, sizeof(Rank)*(size_t)pPlan->nSeg);
  if( a==0 ) return vlogSetError(p, VLOG_NOMEM, 0);
  for(i=0; i<pPlan->nSeg; i++){
    const Bucket *pB = &p->aBucket[pPlan->aSeg[i]];
    a[i].iSeg = pPlan->aSeg[i];
    a[i].bCompress = !segStale(aCfg, pB);
    a[i].nCompress = pB->nToCompress;
    a[i].nStale = pB->nTotal - pB->nLive;
    a[i].nLive = pB->nLive;
    a[i].rRatio = pB->nTotal ? (double)a[i].nStale/(double)pB->nTotal : 0.0;
  }
  qsort(a, pPlan->nSeg, sizeof(Rank), rankCmp);
  for(i=0; i<pPlan->nSeg; i++) pPlan->aSeg[i] = a[i].iSeg;
  vlogFree(p->pEnv, a);
  return VLOG_OK;
}

/* Whether sealed segment pB qualifies under the thresholds: stale enough,
** or (in an explicit pass) with bytes to compress; if not, which count of
** pPlan says why (when pPlan is not 0). */
static int segQualifies(VlogStore *p, const double *aCfg, const Bucket *pB,
                        u64 iNow, Plan *pPlan){
  u64 nStale = pB->nTotal - pB->nLive;
  double r = pB->nTotal ? (double)nStale/(double)pB->nTotal : 0.0;
  int bCompress = segToCompress(pB) && !segStale(aCfg, pB);
  if( bCompress && !p->maint.bExplicit ){
    /* not in an automatic step: zstd would be back on the commit path */
    if( pPlan ) pPlan->nNoCompress++;
    return 0;
  }
  if( !bCompress && r < aCfg[S_RATIO] ){
    if( pPlan ) pPlan->nBelowRatio++;
    return 0;
  }
  if( !bCompress && (double)nStale < aCfg[S_BYTES] ){
    if( pPlan ) pPlan->nBelowBytes++;
    return 0;
  }
  if( pB->iSealTime + (u64)aCfg[S_AGE]*1000 > iNow ){
    if( pPlan ) pPlan->nYoung++;
    return 0;
  }
  if( pPlan && bCompress ) pPlan->nCompress++;
  return 1;
}

/*
** Plan: the candidates, ranked and (with bCaps) capped.  Dead sealed
** segments are counted (nDead), not selected.
*/
static int planSegments(VlogStore *p, const double *aCfg, int bCaps, u64 iNow,
                        Plan *pPlan){
  u64 i;
  int rc = VLOG_OK, j;
  memset(pPlan, 0, sizeof(*pPlan));
  for(i=1; rc==VLOG_OK && i<p->sb.nBucket; i++){
    Bucket *pB = &p->aBucket[i];
    if( pB->eKind!=KIND_VLOG ) continue;
    if( pB->eState==BUCKET_OPEN ){ pPlan->nOpen++; continue; }
    if( pB->eState==BUCKET_ZOMBIE ){ pPlan->nPinned++; continue; }
    if( pB->eState!=BUCKET_SEALED ) continue;
    if( pB->nLive==0 ){ pPlan->nDead++; continue; }
    if( segQualifies(p, aCfg, pB, iNow, pPlan) ) rc = planAdd(p, pPlan, i);
  }
  if( rc ) return rc;
  pPlan->nCandidate = pPlan->nSeg;
  rc = planRank(p, pPlan, aCfg);
  if( rc ) return rc;
  for(j=0; j<pPlan->nSeg; j++){
    Bucket *pB = &p->aBucket[pPlan->aSeg[j]];
    if( bCaps && j>0 && ((double)j>=aCfg[S_MAXSEG]
                         || (double)(pPlan->nSelLive+pB->nLive)>aCfg[S_MAXBYTES]) ){
      break;
    }
    pPlan->nSelLive += pB->nLive;
    pPlan->nSelStale += pB->nTotal - pB->nLive;
    pPlan->nSelCompress += pB->nToCompress;
  }
  pPlan->nCapped = pPlan->nSeg - j;
  pPlan->nSeg = j;
  return VLOG_OK;
}

static int planHas(const Plan *pPlan, u64 iSeg){
  int i;
  for(i=0; i<pPlan->nSeg; i++) if( pPlan->aSeg[i]==iSeg ) return 1;
  return 0;
}

/* ---------------------------------------------------------------------
** The report
*/
static void repAdd(Pass *pM, const char *zFmt, ...){
  /* errors of the report's buffer are found at the end (rep.a==0) */
  va_list ap;
  int rc;
  if( pM->bRepFailed ) return;
  va_start(ap, zFmt);
  rc = vlogBufVprintf(pM->p->pEnv, &pM->rep, zFmt, ap);
  va_end(ap);
  if( rc ) pM->bRepFailed = 1;
}

/* The state as the report shows it (an object). */
static int repState(Pass *pM, const char *zName){
  VlogStore *p = pM->p;
  MaintEntry *aQ = 0, *aL = 0;
  int nQ = 0, nL = 0, rc;
  u64 st[ST_N], i, nSeg = 0, nLive = 0, nTotal = 0, nZombie = 0;
  i64 nFile = 0;
  rc = stateLoad(p, st);
  if( rc==VLOG_OK ) rc = entryList(p, 'Q', &aQ, &nQ);
  if( rc==VLOG_OK ) rc = entryList(p, 'L', &aL, &nL);
  if( rc==VLOG_OK ){
    rc = p->pEnv->xSize(p->pFile, &nFile);
    if( rc ) rc = vlogSetError(p, rc, "cannot stat %s", p->zPath);
  }
  if( rc==VLOG_OK ){
    for(i=1; i<p->sb.nBucket; i++){
      Bucket *pB = &p->aBucket[i];
      if( pB->eKind!=KIND_VLOG || pB->eState==BUCKET_FREE ) continue;
      if( pB->eState==BUCKET_ZOMBIE ){ nZombie++; continue; }
      nSeg++;
      nLive += pB->nLive;
      nTotal += pB->nTotal;
    }
    repAdd(pM, "\"%s\":{\"segments\":%llu,\"zombies\":%llu,\"queue\":%d,"
           "\"ledger\":%d,\"stage_pending\":%d,\"live_bytes\":%llu,"
           "\"stale_bytes\":%llu,\"file_bytes\":%lld}", zName,
           (unsigned long long)nSeg, (unsigned long long)nZombie, nQ, nL,
           (int)st[ST_PENDING], (unsigned long long)nLive,
           (unsigned long long)(nTotal-nLive), (long long)nFile);
  }
  vlogFree(p->pEnv, aQ);
  vlogFree(p->pEnv, aL);
  return rc;
}

static void repPlan(Pass *pM, const Plan *pPlan){
  int i;
  repAdd(pM, "\"plan\":{\"candidates\":%d,\"compress\":%d,\"selected\":[",
         pPlan->nCandidate, pPlan->nCompress);
  for(i=0; i<pPlan->nSeg; i++){
    repAdd(pM, "%s%llu", i ? "," : "", (unsigned long long)pPlan->aSeg[i]);
  }
  repAdd(pM, "],\"live_bytes\":%llu,\"stale_bytes\":%llu,\"compress_bytes\":%llu,"
         "\"excluded\":{\"below_ratio\":%d,\"below_bytes\":%d,\"too_young\":%d,"
         "\"open\":%d,\"pinned\":%d,\"dead\":%d,\"over_caps\":%d,"
         "\"compress_deferred\":%d}}",
         (unsigned long long)pPlan->nSelLive, (unsigned long long)pPlan->nSelStale,
         (unsigned long long)pPlan->nSelCompress,
         pPlan->nBelowRatio, pPlan->nBelowBytes, pPlan->nYoung, pPlan->nOpen,
         pPlan->nPinned, pPlan->nDead, pPlan->nCapped, pPlan->nNoCompress);
}

/* ---------------------------------------------------------------------
** Transactions of a pass.  Each step runs in a write transaction of its
** own; the pass is called outside any transaction (vlogMaintain checks).
*/
static int txnBegin(Pass *pM){
  int rc = vlogBegin(pM->p, 1);
  if( rc==VLOG_OK ) rc = stateLoad(pM->p, pM->aSt);
  memcpy(pM->aSt0, pM->aSt, sizeof(pM->aSt));
  if( rc && pM->p->eTxn ) (void)vlogRollback(pM->p);   /* rc says what failed */
  return rc;
}
static int txnEnd(Pass *pM, int rc){
  if( rc==VLOG_OK && memcmp(pM->aSt, pM->aSt0, sizeof(pM->aSt)) ){
    rc = stateSave(pM->p, pM->aSt);
  }
  if( rc==VLOG_OK ) return vlogCommit(pM->p);
  if( pM->p->eTxn ) (void)vlogRollback(pM->p);         /* rc says what failed */
  return rc;
}

/*
** Drop the ledger and queue entries of segments that no longer exist (or
** became other segments since), inside the open transaction.
*/
static int pruneState(Pass *pM){
  VlogStore *p = pM->p;
  MaintEntry *aE = 0;
  int nE = 0, i, k, rc = VLOG_OK;
  static const char ac[2] = { 'L', 'Q' };
  for(k=0; rc==VLOG_OK && k<2; k++){
    rc = entryList(p, ac[k], &aE, &nE);
    for(i=0; rc==VLOG_OK && i<nE; i++){
      if( !entryLive(p, &aE[i]) || p->aBucket[aE[i].iSeg].nLive==0 ){
        rc = entryDelete(p, ac[k], aE[i].iKey);
        if( ac[k]=='Q' ) pM->nPruned++;
      }
    }
    vlogFree(p->pEnv, aE);
    aE = 0;
  }
  return rc;
}

static int ledgerClear(Pass *pM){
  MaintEntry *aE = 0;
  int nE = 0, i;
  int rc = entryList(pM->p, 'L', &aE, &nE);
  for(i=0; rc==VLOG_OK && i<nE; i++) rc = entryDelete(pM->p, 'L', aE[i].iKey);
  vlogFree(pM->p->pEnv, aE);
  return rc;
}

/* Stage the plan: ledger written, stage pending, observed now. */
static int stagePlan(Pass *pM, const Plan *pPlan, u64 iNow){
  int i, rc = ledgerClear(pM);
  for(i=0; rc==VLOG_OK && i<pPlan->nSeg; i++){
    MaintEntry e;
    entryFromBucket(pM->p, pPlan->aSeg[i], iNow, &e);
    rc = entryWrite(pM->p, 'L', &e);
  }
  if( rc==VLOG_OK && pPlan->nSeg>0 ){
    pM->aSt[ST_PENDING] = 1;
    pM->aSt[ST_OBSERVED] = iNow;
    pM->nStaged = pPlan->nSeg;
  }
  return rc;
}

/*
** Confirm the staged ledger: re-plan with the thresholds that staged it;
** the staged segments that still qualify are queued (those already queued
** keep their place), the ledger is narrowed to them, and the stage is no
** longer pending.  None: ledger and the queue's restaged entries cleared.
*/
static int confirmStage(Pass *pM, u64 iNow){
  VlogStore *p = pM->p;
  MaintEntry *aL = 0, *aQ = 0;
  int nL = 0, nQ = 0, i, j, rc;
  Plan plan;
  rc = planSegments(p, pM->aCfg, 0, iNow, &plan);
  if( rc==VLOG_OK ) rc = entryList(p, 'L', &aL, &nL);
  if( rc==VLOG_OK ) rc = entryList(p, 'Q', &aQ, &nQ);
  /* the queue keeps the entries still confirmed, in their order */
  for(i=0; rc==VLOG_OK && i<nQ; i++){
    if( !planHas(&plan, aQ[i].iSeg) ){
      rc = entryDelete(p, 'Q', aQ[i].iKey);
    }
  }
  for(i=0; rc==VLOG_OK && i<nL; i++){
    MaintEntry e;
    int bQueued = 0;
    if( !planHas(&plan, aL[i].iSeg) ){
      rc = entryDelete(p, 'L', aL[i].iKey);
      continue;
    }
    pM->nConfirmed++;
    entryFromBucket(p, aL[i].iSeg, iNow, &e);
    rc = entryWrite(p, 'L', &e);                 /* the narrowed ledger */
    for(j=0; j<nQ; j++) if( aQ[j].iSeg==aL[i].iSeg ) bQueued = 1;
    if( rc==VLOG_OK && !bQueued ){
      e.iKey = pM->aSt[ST_NEXTPOS]++;
      rc = entryWrite(p, 'Q', &e);
    }
  }
  pM->aSt[ST_PENDING] = 0;
  pM->aSt[ST_OBSERVED] = 0;
  vlogFree(p->pEnv, aL);
  vlogFree(p->pEnv, aQ);
  vlogFree(p->pEnv, plan.aSeg);
  return rc;
}

/*
** Restage (the checkpoint kick): what is left in the queue waits for a
** confirmation again: its ledger entries refreshed, stage pending,
** observed now.
*/
static int restageQueue(Pass *pM, u64 iNow){
  VlogStore *p = pM->p;
  MaintEntry *aQ = 0;
  int nQ = 0, i;
  int rc = entryList(p, 'Q', &aQ, &nQ);
  for(i=0; rc==VLOG_OK && i<nQ; i++){
    MaintEntry e;
    entryFromBucket(p, aQ[i].iSeg, iNow, &e);
    rc = entryWrite(p, 'L', &e);
    pM->nRestaged++;
  }
  if( rc==VLOG_OK && nQ>0 ){
    pM->aSt[ST_PENDING] = 1;
    pM->aSt[ST_OBSERVED] = iNow;
  }
  vlogFree(p->pEnv, aQ);
  return rc;
}

/* ---------------------------------------------------------------------
** Rewrite
*/

/* Copy one record (of frame iOff of segment iSeg) if its key still points
** at it. */
static int rewriteRecord(Pass *pM, u64 iSeg, u64 iGen, u32 iOff, int iIdx,
                         u32 iRecOff, u64 iTree, const u8 *pKey, u64 nKey,
                         const u8 *pVal, u64 nVal){
  VlogStore *p = pM->p;
  const u8 *pLeaf;
  int nLeaf, bChunks = 0, rc;
  int nInlineMax = VLOG_INLINE_ALL, iLevel = 0, bZInline = 0;
  Tree *pT;
  if( iTree<VLOG_TREE_FIRST_USER || iTree>VLOG_MAX_TREE
   || nKey<1 || nKey>VLOG_MAX_KEY ){
    return VLOG_OK;                      /* no key of a tree: nothing points here */
  }
  rc = vlogBtreeLookup(p, (u32)iTree, pKey, (int)nKey, &pLeaf, &nLeaf);
  if( rc==VLOG_NOTFOUND ) return VLOG_OK;
  if( rc ) return rc;
  if( !vlogValuePointsAt(pLeaf, nLeaf, iSeg, iGen, iOff, iIdx, iRecOff, &bChunks) ){
    return VLOG_OK;                      /* written again since, or deleted */
  }
  if( bChunks ){
    const u8 *pV;
    int nV;
    rc = vlogValueDecode(p, (u32)iTree, pKey, (int)nKey, pLeaf, nLeaf, &pV, &nV);
    if( rc ) return rc;
    pM->val.n = 0;
    if( vlogBufAppend(p->pEnv, &pM->val, pV, nV) ) return vlogSetError(p, VLOG_NOMEM, 0);
    pVal = pM->val.a ? pM->val.a : (const u8*)"";
    nVal = (u64)nV;
  }
  rc = vlogTreeGet(p, (u32)iTree, 0, &pT);
  if( rc==VLOG_OK ){
    nInlineMax = pT->pol.nInlineMax;
    iLevel = pT->pol.iZstdLevel;
    bZInline = pT->pol.bCompressInline;
  }else if( rc!=VLOG_NOTFOUND ){
    return rc;
  }
  if( nInlineMax>vlogStoreMaxValue(p) ) nInlineMax = vlogStoreMaxValue(p);
  /* The value stays in the value log, where its writer put it (a put may
  ** carry a policy of its own, vlogPutEx): a rewrite moves, it does not
  ** re-place. */
  if( (u64)nInlineMax>=nVal ) nInlineMax = nVal>0 ? (int)nVal-1 : 0;
  rc = vlogValueEncode(p, (u32)iTree, pKey, (int)nKey, pVal, (int)nVal, nInlineMax,
                       iLevel, bZInline, &pM->enc);
  if( rc==VLOG_OK ){
    rc = vlogTxnApply(p, REC_PUT, (u32)iTree, pKey, (int)nKey, pM->enc.a,
                      pM->enc.n, 1);
  }
  if( rc==VLOG_OK ){
    pM->nCopied += vlogRecordBytes((u32)iTree, (int)nKey, nVal);
    pM->nCopiedRec++;
  }
  return rc;
}

/*
** Rewrite segment iSeg (generation iGen): every record its keys still
** point at is copied, in transactions of about REWRITE_TXN_BYTES; the last
** one takes the segment out of the queue (entry iQueueKey) and the ledger.
*/
static int rewriteChunk(Pass *pM, u64 iSeg, u64 iGen, u64 iQueueKey, int bQueued,
                        u32 *piOff, u64 nBudget, int *pbDone){
  VlogStore *p = pM->p;
  u32 iOff = *piOff;
  int rc, bDone = 0;
  u64 nTxn0 = pM->nCopied;
  rc = txnBegin(pM);
  if( rc ) return rc;
  vlogLogCompressNow(p);               /* background compression's work */
  if( iSeg>=p->sb.nBucket || p->aBucket[iSeg].eKind!=KIND_VLOG
   || p->aBucket[iSeg].iGen!=iGen || p->aBucket[iSeg].eState!=BUCKET_SEALED ){
    bDone = 1;                           /* gone (another handle's pass) */
  }
  pM->aSt[ST_CURSEG] = bDone ? 0 : iSeg;
  pM->aSt[ST_CURGEN] = bDone ? 0 : iGen;
  while( rc==VLOG_OK && !bDone && pM->nCopied - nTxn0 < nBudget ){
    const u8 *aRaw, *z, *pEnd;
    int nRaw, iIdx = 0;
    u32 iNext = 0;
    rc = vlogSegFrameNext(p, iSeg, iGen, &iOff, &iNext, &aRaw, &nRaw,
                          &pM->nSkippedFrames);
    if( rc==VLOG_DONE ){
      rc = VLOG_OK;
      bDone = 1;
      break;
    }
    if( rc ) break;
    /* the records stay valid while the frame is copied elsewhere */
    pM->raw.n = 0;
    if( vlogBufAppend(p->pEnv, &pM->raw, aRaw, nRaw) ){
      rc = vlogSetError(p, VLOG_NOMEM, 0);
      break;
    }
    z = pM->raw.a;
    pEnd = &pM->raw.a[nRaw];
    while( rc==VLOG_OK && z && z<pEnd ){
      const u8 *pK, *pV, *zRec = z;
      u64 iT, nK, nV;
      z = vlogRecordParse(z, pEnd, &iT, &pK, &nK, &pV, &nV);
      if( z ){
        rc = rewriteRecord(pM, iSeg, iGen, iOff, iIdx, (u32)(zRec - pM->raw.a),
                           iT, pK, nK, pV, nV);
      }
      iIdx++;
    }
    iOff = iNext;
  }
  if( rc==VLOG_OK && bDone ){
    Bucket *pB = iSeg<p->sb.nBucket ? &p->aBucket[iSeg] : 0;
    pM->aSt[ST_CURSEG] = pM->aSt[ST_CURGEN] = 0;
    if( bQueued ) rc = entryDelete(p, 'Q', iQueueKey);
    if( rc==VLOG_OK ) rc = entryDelete(p, 'L', iSeg);
    /* The accounting of the records moved is applied at commit; the
    ** segment must then hold nothing live (rewriteCheck). */
    if( rc==VLOG_OK && pB && pB->iGen==iGen && pB->eKind==KIND_VLOG ){
      pM->aSt[ST_REWRITTEN]++;
    }
  }
  pM->aSt[ST_COPIED] += pM->nCopied - nTxn0;
  rc = txnEnd(pM, rc);
  if( rc==VLOG_OK ){
    *piOff = iOff;
    *pbDone = bDone;
  }
  return rc;
}

/* After the last chunk of segment iSeg: it must hold nothing live (else
** the pass's error says so: a frame could not be read); the report lists
** it as rewritten. */
static int rewriteCheck(Pass *pM, u64 iSeg, u64 iGen){
  VlogStore *p = pM->p;
  Bucket *pB = iSeg<p->sb.nBucket ? &p->aBucket[iSeg] : 0;
  if( pB && pB->eKind==KIND_VLOG && pB->iGen==iGen
   && (pB->eState==BUCKET_SEALED || pB->eState==BUCKET_OPEN) && pB->nLive>0 ){
    char *z = vlogMprintf(p->pEnv, "segment %llu still has %llu live bytes after "
                          "its rewrite (%d frames could not be read)",
                          (unsigned long long)iSeg, (unsigned long long)pB->nLive,
                          pM->nSkippedFrames);
    if( pM->zErr==0 ) pM->zErr = z; else vlogFree(p->pEnv, z);
    return VLOG_OK;
  }
  if( pM->nRewritten>=pM->nRewrittenAlloc ){
    int nNew = pM->nRewrittenAlloc ? pM->nRewrittenAlloc*2 : 8;
    u64 *aNew = (u64*)vlogRealloc(p->pEnv, pM->aRewritten, nNew*sizeof(u64));
    if( aNew==0 ) return vlogSetError(p, VLOG_NOMEM, 0);
    pM->aRewritten = aNew;
    pM->nRewrittenAlloc = nNew;
  }
  pM->aRewritten[pM->nRewritten++] = iSeg;
  return VLOG_OK;
}

/*
** Rewrite segment iSeg (generation iGen): every record its keys still
** point at is copied, in transactions of about REWRITE_TXN_BYTES; the last
** one takes the segment out of the queue (entry iQueueKey) and the ledger.
*/
static int rewriteSegment(Pass *pM, u64 iSeg, u64 iGen, u64 iQueueKey, int bQueued){
  u32 iOff = 0;
  int rc = VLOG_OK, bDone = 0;
  while( rc==VLOG_OK && !bDone ){
    rc = rewriteChunk(pM, iSeg, iGen, iQueueKey, bQueued, &iOff, REWRITE_TXN_BYTES,
                      &bDone);
  }
  if( rc==VLOG_OK ) rc = rewriteCheck(pM, iSeg, iGen);
  return rc;
}

/* Rewrite the queue's head, if the stage is not pending.  *pbDone: there
** was one. */
static int rewriteHead(Pass *pM, int *pbDone){
  VlogStore *p = pM->p;
  MaintEntry *aQ = 0;
  int nQ = 0, rc;
  *pbDone = 0;
  rc = txnBegin(pM);
  if( rc ) return rc;
  rc = pruneState(pM);
  if( rc==VLOG_OK && pM->aSt[ST_PENDING]==0 ) rc = entryList(p, 'Q', &aQ, &nQ);
  rc = txnEnd(pM, rc);
  if( rc==VLOG_OK && nQ>0 ){
    *pbDone = 1;
    rc = rewriteSegment(pM, aQ[0].iSeg, aQ[0].iGen, aQ[0].iKey, 1);
  }
  vlogFree(p->pEnv, aQ);
  return rc;
}

/* ---------------------------------------------------------------------
** GC
*/

/* Dead sealed segments (nothing live) become zombies. */
static int gcRetireDead(Pass *pM){
  VlogStore *p = pM->p;
  u64 i;
  int rc = txnBegin(pM);
  for(i=1; rc==VLOG_OK && i<p->sb.nBucket; i++){
    Bucket *pB = &p->aBucket[i];
    if( pB->eKind==KIND_VLOG && pB->eState==BUCKET_SEALED && pB->nLive==0 ){
      rc = vlogSegTouch(p, i);           /* its commit retires it (alloc.c) */
    }
  }
  if( rc==VLOG_OK ) rc = pruneState(pM);
  return txnEnd(pM, rc);
}

static u64 countZombies(VlogStore *p){
  u64 i, n = 0;
  for(i=1; i<p->sb.nBucket; i++){
    if( p->aBucket[i].eKind==KIND_VLOG && p->aBucket[i].eState==BUCKET_ZOMBIE ) n++;
  }
  return n;
}

/*
** Punch holes in the FREE buckets inside the file that have none yet, so
** that its allocated size shrinks (the end is cut off by checkpoints).
** Inside a write transaction: no other handle can take one of them
** meanwhile.  A FREE bucket is free in the durable checkpoint too (buckets
** are freed by checkpoints, or were never used), and unreachable from the
** one before it, so a hole loses nothing recovery could read.  A file
** system (or VFS) that cannot punch stops it quietly.  The free regions
** of the B-tree's buckets are punched too (node by node): a region is free
** once no checkpoint of the pair reaches it.
*/
/* The free regions of B-tree bucket pB whose holes are not punched. */
static u64 regionsToPunch(VlogStore *p, const Bucket *pB){
  u64 mAll = p->nRegionPerBucket>=64 ? ~(u64)0 : (((u64)1<<p->nRegionPerBucket)-1);
  if( pB->eKind!=KIND_BTREE || pB->eState!=BUCKET_OPEN ) return 0;
  return mAll & ~(pB->mLive|pB->mPending|pB->mHeld|pB->mPunched);
}

static int punchFree(Pass *pM){
  VlogStore *p = pM->p;
  u64 i;
  int rc;
  if( p->pEnv->xPunch==0 ) return VLOG_OK;
  for(i=2; i<p->sb.nBucket; i++){
    const Bucket *pB = &p->aBucket[i];
    if( (pB->eState==BUCKET_FREE && !pB->bPunched) || regionsToPunch(p, pB) ) break;
  }
  if( i>=p->sb.nBucket ) return VLOG_OK;
  rc = txnBegin(pM);
  for(i=2; rc==VLOG_OK && i<p->sb.nBucket; i++){
    Bucket *pB = &p->aBucket[i];
    u64 m;
    int rc2 = VLOG_OK, j;
    if( pB->eState==BUCKET_FREE && !pB->bPunched ){
      rc2 = p->pEnv->xPunch(p->pFile, (i64)vlogBucketOffset(p, i), p->sb.nBucketSize);
      if( rc2==VLOG_OK ){
        pB->bPunched = 1;
        pM->nPunched++;
      }
    }
    /* free regions of the B-tree's buckets: the three generations of
    ** nodes a checkpoint keeps leave them (alloc.c, "Two checkpoints") */
    m = regionsToPunch(p, pB);
    for(j=0; rc2==VLOG_OK && m && j<p->nRegionPerBucket; j++){
      if( (m & ((u64)1<<j))==0 ) continue;
      rc2 = p->pEnv->xPunch(p->pFile, (i64)(vlogBucketOffset(p, i) + (u64)j*p->sb.nNodeSize),
                            p->sb.nNodeSize);
      if( rc2==VLOG_OK ) pB->mPunched |= ((u64)1<<j);
    }
    if( rc2 ) break;                     /* cannot: not an error of the pass */
  }
  return txnEnd(pM, rc);
}

/*
** GC through the journal, without a tree checkpoint: free the zombie
** segments whose emptying no replay will check again and no reader can
** see past.  A zombie emptied by entry N (Bucket.iZombieSeq) is freed when
**   - a header that a sync made durable says N was synced
**     (Journal.iSyncedHdrDurable >= N): every replay, from either
**     superblock of the pair, then finds it (scanDurable) and no longer
**     checks the frames of the entries up to N, which name the segment's
**     old contents; the segment may be written again;
**   - every live reader's snapshot sees entry N (its pinned journal
**     sequence is past N: vlogShmOldestPin), and a reader that begins
**     meanwhile starts over when the journal moved on (vlogShmReadBegin).
** To get there: a sync, a commit whose header carries the synced sequence
** (a marker record, key "D" of the maintenance tree: the sequence), a
** second sync.  Two syncs, which writeback every 8 MiB keeps short, and
** small commits, where the checkpoints wrote the whole dirty tree twice.
** The frees go through the write buffer into the journal (REC_WB), so
** other handles replay them.  Zombies a reader pins stay (*pnPinned).
*/
static int gcFreeEligible(Pass *pM, int bMarker, u64 *pnFreed, int *pnPinned){
  VlogStore *p = pM->p;
  u64 i, iPinCkpt = 0, iPinSeq = 0;
  int rc = txnBegin(pM), bPin;
  if( rc ) return rc;
  bPin = vlogShmOldestPin(p, &iPinCkpt, &iPinSeq)==VLOG_OK;
  for(i=1; rc==VLOG_OK && i<p->sb.nBucket; i++){
    Bucket *pB = &p->aBucket[i];
    if( pB->eKind!=KIND_VLOG || pB->eState!=BUCKET_ZOMBIE
     || pB->iZombieSeq==ZOMBIE_PENDING || pB->iZombieSeq>p->jrnl.iSyncedHdrDurable ){
      continue;
    }
    if( bPin && (iPinSeq==0 || iPinSeq<=pB->iZombieSeq) ){
      (*pnPinned)++;                   /* a reader may still read it */
      continue;
    }
    rc = vlogBucketFreeTxn(p, i);
    if( rc==VLOG_OK ) (*pnFreed)++;
  }
  if( rc==VLOG_OK && bMarker ){
    u8 a[8];
    vlogPut64(a, p->jrnl.iDurable);
    rc = maintPut(p, (const u8*)"D", 1, a, 8);
  }
  return txnEnd(pM, rc);
}

static int gcJournal(Pass *pM, u64 *pnFreed, int *pnPinned){
  VlogStore *p = pM->p;
  u64 i, iMax = 0;
  int rc = VLOG_OK;
  *pnFreed = 0;
  *pnPinned = 0;
  for(i=1; i<p->sb.nBucket; i++){
    const Bucket *pB = &p->aBucket[i];
    if( pB->eKind==KIND_VLOG && pB->eState==BUCKET_ZOMBIE
     && pB->iZombieSeq!=ZOMBIE_PENDING && pB->iZombieSeq>iMax ){
      iMax = pB->iZombieSeq;
    }
  }
  if( iMax==0 ) return VLOG_OK;
  if( p->jrnl.iSyncedHdrDurable<iMax ){
    rc = vlogJournalSync(p);
    if( rc==VLOG_OK ) rc = gcFreeEligible(pM, 1, pnFreed, pnPinned);
    if( rc==VLOG_OK ) rc = vlogJournalSync(p);
    *pnPinned = 0;
  }
  if( rc==VLOG_OK ) rc = gcFreeEligible(pM, 0, pnFreed, pnPinned);
  return rc;
}

/* Drop the zstd dictionaries no frame names any more (vlog.c,
** vlogDictGc), in a transaction of its own; it commits nothing when none
** is dropped. */
static int gcDicts(Pass *pM){
  int n = 0, rc = txnBegin(pM);
  if( rc==VLOG_OK ) rc = vlogDictGc(pM->p, &n);
  rc = txnEnd(pM, rc);
  if( rc==VLOG_OK ) pM->nDictDropped += n;
  return rc;
}

/*
** Free what no reader can reach: through the journal (gcJournal), then,
** for what a reader still pins, up to two checkpoints (the second waits
** for readers of the first: VLOG_BUSY leaves the zombies for a later
** pass), then holes punched in the free buckets inside the file.
*/
static int gcFree(Pass *pM){
  VlogStore *p = pM->p;
  u64 nZ0, nJ;
  int k, nPin, bTwo, rc = VLOG_OK;
  rc = gcRetireDead(pM);
  if( rc ) return rc;
  nZ0 = countZombies(p);
  rc = gcJournal(pM, &nJ, &nPin);
  /* What a reader pins: the checkpoints, which wait for it (VLOG_BUSY).
  ** And an explicit pass gives back all it can: two checkpoints free the
  ** B-tree regions its rewrites superseded and cut free buckets off the
  ** file's end (none when nothing changed since the last). */
  bTwo = p->maint.bExplicit && p->jrnl.nSize>0;
  for(k=0; rc==VLOG_OK && k<2 && (countZombies(p)>0 || bTwo); k++){
    rc = vlogCheckpoint(p);
    if( rc==VLOG_BUSY ){
      rc = VLOG_OK;                      /* a reader still uses them */
      break;
    }
  }
  if( rc ) return rc;
  pM->nPinnedLeft = (int)countZombies(p);
  if( nZ0>(u64)pM->nPinnedLeft ){
    pM->nFreed += nZ0 - (u64)pM->nPinnedLeft;
    pM->nReclaimed += (nZ0 - (u64)pM->nPinnedLeft) * p->sb.nBucketSize;
  }
  if( rc==VLOG_OK ) rc = punchFree(pM);
  if( rc==VLOG_OK ) rc = gcDicts(pM);
  return rc;
}

/* ---------------------------------------------------------------------
** The log of passes
*/
static const char *azMode[] = {
  "auto", "plan", "stage", "confirm", "rewrite-one", "gc", "full"
};
enum { M_AUTO, M_PLAN, M_STAGE, M_CONFIRM, M_ONE, M_GC, M_FULL, N_MODE };
static const char *azTrigger[] = { "explicit", "kick", "auto", "quiet" };
#define N_TRIGGER 4

#define LOG_FIXED 68      /* u64 start, end, planned, rewritten, freed,
                          ** copied, reclaimed; u8 trigger, mode; u16 0;
                          ** u32 result code; then the message */

static int logWrite(Pass *pM, int eMode, int eTrigger, int nPlanned, int rcPass,
                    const char *zMsg){
  VlogStore *p = pM->p;
  u8 aKey[9];
  VlogBuf v = {0, 0, 0};
  int rc, nMsg = zMsg ? (int)strlen(zMsg) : 0;
  u64 iSeq;
  if( nMsg>512 ) nMsg = 512;
  rc = txnBegin(pM);
  if( rc ) return rc;
  iSeq = ++pM->aSt[ST_NEXTLOG];
  pM->aSt[ST_PASSES]++;
  pM->aSt[ST_FREED] += pM->nFreed;
  pM->aSt[ST_RECLAIMED] += pM->nReclaimed;
  rc = vlogBufReserve(p->pEnv, &v, LOG_FIXED + nMsg);
  if( rc==VLOG_OK ){
    memset(v.a, 0, LOG_FIXED);
    vlogPut64(&v.a[0], pM->iStart);
    vlogPut64(&v.a[8], nowUs(p));
    vlogPut64(&v.a[16], (u64)nPlanned);
    vlogPut64(&v.a[24], (u64)pM->nRewritten);
    vlogPut64(&v.a[32], pM->nFreed);
    vlogPut64(&v.a[40], pM->nCopied);
    vlogPut64(&v.a[48], pM->nReclaimed);
    v.a[56] = (u8)eTrigger;
    v.a[57] = (u8)eMode;
    vlogPut32(&v.a[60], (u32)rcPass);
    vlogPut32(&v.a[64], (u32)nMsg);
    if( nMsg ) memcpy(&v.a[LOG_FIXED], zMsg, nMsg);
    v.n = LOG_FIXED + nMsg;
    rc = maintPut(p, aKey, entryKey(aKey, 'G', iSeq), v.a, v.n);
  }else{
    rc = vlogSetError(p, VLOG_NOMEM, 0);
  }
  /* keep the last log_size entries */
  if( rc==VLOG_OK && iSeq > (u64)pM->aCfg[S_LOGSIZE] ){
    u64 iOld = iSeq - (u64)pM->aCfg[S_LOGSIZE];
    VlogCursor *pCsr = 0;
    rc = vlogCursorOpen(p, TREE_MAINT, &pCsr);
    while( rc==VLOG_OK ){
      const void *pK;
      int nK;
      entryKey(aKey, 'G', 0);
      rc = vlogCursorSeek(pCsr, aKey, 9, VLOG_SEEK_GE);
      if( rc || !vlogCursorValid(pCsr) ) break;
      rc = vlogCursorKey(pCsr, &pK, &nK);
      if( rc || nK!=9 || ((const u8*)pK)[0]!='G'
       || vlogGet64(&((const u8*)pK)[1])>iOld ){
        break;
      }
      memcpy(aKey, pK, 9);
      rc = maintDel(p, aKey, 9);
    }
    if( pCsr ){
      int rc2 = vlogCursorClose(pCsr);
      if( rc==VLOG_OK ) rc = rc2;
    }
  }
  vlogBufFree(p->pEnv, &v);
  return txnEnd(pM, rc);
}

/* ---------------------------------------------------------------------
** A pass
*/
static int modeFind(const char *zMode){
  int i;
  if( zMode==0 ) return M_AUTO;
  for(i=0; i<N_MODE; i++) if( strcmp(azMode[i], zMode)==0 ) return i;
  return -1;
}

/* A read transaction around xWork (the report's states, the plan). */
static int readState(Pass *pM, const char *zName){
  int rc = vlogBegin(pM->p, 0);
  if( rc==VLOG_OK ){
    rc = repState(pM, zName);
    if( rc ) (void)vlogRollback(pM->p);        /* rc says what failed */
    else rc = vlogCommit(pM->p);
  }
  return rc;
}

/*
** Compaction of the file's end ("full"): value-log segments at the top of
** the file, above free buckets, are rewritten (the open one sealed first),
** so that their records land in the lowest free buckets, and GC cuts the
** end off.  Bounded: as many segments as there are free buckets below
** them, a few rounds.
*/
static int compactTail(Pass *pM){
  VlogStore *p = pM->p;
  int rc = VLOG_OK, nRound;
  for(nRound=0; rc==VLOG_OK && nRound<4; nRound++){
    u64 iTop = p->sb.nBucket, nFree = 0, i, nMove = 0;
    while( iTop>2 && p->aBucket[iTop-1].eState==BUCKET_FREE ) iTop--;
    for(i=2; i<iTop; i++) if( p->aBucket[i].eState==BUCKET_FREE ) nFree++;
    for(i=iTop; i>2 && nMove<nFree; i--){
      Bucket *pB = &p->aBucket[i-1];
      if( pB->eState==BUCKET_FREE ) continue;
      if( pB->eKind!=KIND_VLOG
       || (pB->eState!=BUCKET_SEALED && pB->eState!=BUCKET_OPEN) ) break;
      if( pB->eState==BUCKET_OPEN ){
        rc = txnBegin(pM);
        if( rc==VLOG_OK ) rc = txnEnd(pM, vlogLogSealOpen(p));
        if( rc ) break;
        if( pB->eState!=BUCKET_SEALED ) continue;     /* emptied: a zombie */
      }
      rc = rewriteSegment(pM, i-1, pB->iGen, 0, 0);
      nMove++;
      nFree--;      /* its records take (at most) one of the free buckets */
    }
    if( rc || nMove==0 ) break;
    rc = gcFree(pM);
    if( pM->nPinnedLeft ) break;
  }
  return rc;
}

/* "full": every sealed segment with stale bytes, no caps, no age, no
** waiting for a confirmation: queued and rewritten, until none is left.
** The open segment is sealed first when it holds stale bytes, so that
** what was deleted last is reclaimed too (and the dictionaries its
** frames name can go): the next commit opens another. */
static int passFull(Pass *pM, Plan *pPlan){
  VlogStore *p = pM->p;
  double aFull[N_SETTING];
  int rc = VLOG_OK, nRound = 0, i;
  rc = txnBegin(pM);
  if( rc==VLOG_OK ){
    u64 iOpen = vlogSegFindOpen(p);
    if( iOpen && p->aBucket[iOpen].nLive<p->aBucket[iOpen].nTotal ){
      rc = vlogLogSealOpen(p);
    }
    rc = txnEnd(pM, rc);
  }
  if( rc ) return rc;
  memcpy(aFull, pM->aCfg, sizeof(aFull));
  aFull[S_RATIO] = 1e-9;
  aFull[S_BYTES] = 1;
  aFull[S_AGE] = 0;
  /* In batches of FULL_BATCH segments, each followed by GC, so that the
  ** next batch's copies land in the buckets the last one freed rather
  ** than at the end of the file. */
  while( rc==VLOG_OK && (u64)nRound++ < p->sb.nBucket/FULL_BATCH + 8 ){
    Plan plan;
    memset(&plan, 0, sizeof(plan));
    rc = txnBegin(pM);
    if( rc ) break;
    rc = pruneState(pM);
    if( rc==VLOG_OK ) rc = planSegments(p, aFull, 0, nowUs(p), &plan);
    if( rc==VLOG_OK && nRound==1 ){
      /* the report's plan is the first round's (a copy) */
      vlogFree(p->pEnv, pPlan->aSeg);
      *pPlan = plan;
      pPlan->aSeg = 0;
      pPlan->nAlloc = 0;
      if( plan.nSeg>0 ){
        pPlan->aSeg = (u64*)vlogMalloc(p->pEnv, sizeof(u64)*plan.nSeg);
        if( pPlan->aSeg==0 ) rc = vlogSetError(p, VLOG_NOMEM, 0);
        else memcpy(pPlan->aSeg, plan.aSeg, sizeof(u64)*plan.nSeg);
      }
      pPlan->nSeg = pPlan->aSeg ? plan.nSeg : 0;
      pM->nPlanned = plan.nSeg;
    }
    rc = txnEnd(pM, rc);
    if( rc==VLOG_OK ){
      const Plan *pUse = &plan;
      int nDone = 0;
      for(i=0; rc==VLOG_OK && i<pUse->nSeg && nDone<FULL_BATCH; i++){
        u64 iSeg = pUse->aSeg[i];
        if( iSeg<p->sb.nBucket && p->aBucket[iSeg].eState==BUCKET_SEALED ){
          rc = rewriteSegment(pM, iSeg, p->aBucket[iSeg].iGen, 0, 0);
          nDone++;
        }
      }
      if( nDone==0 ){
        vlogFree(p->pEnv, plan.aSeg);
        break;
      }
      if( rc==VLOG_OK && pM->nPinnedLeft==0 ) rc = gcFree(pM);
    }
    vlogFree(p->pEnv, plan.aSeg);
  }
  if( rc==VLOG_OK ){
    /* nothing rewritten is left queued or staged */
    rc = txnBegin(pM);
    if( rc==VLOG_OK ) rc = txnEnd(pM, pruneState(pM));
  }
  if( rc==VLOG_OK ) rc = gcFree(pM);
  if( rc==VLOG_OK && pM->nPinnedLeft==0 ) rc = compactTail(pM);
  return rc;
}

static int stageConfirm(Pass*, int eMode, u64 iNow, Plan*);
static int passRun(Pass *pM, int eMode, int eTrigger, Plan *pPlan){
  VlogStore *p = pM->p;
  u64 iNow = nowUs(p);
  int rc = VLOG_OK, bDone = 0;
  switch( eMode ){
    case M_PLAN:
      rc = vlogBegin(p, 0);
      if( rc==VLOG_OK ){
        rc = planSegments(p, pM->aCfg, 1, iNow, pPlan);
        (void)vlogCommit(p);                   /* a read transaction */
      }
      pM->nPlanned = pPlan->nSeg;
      return rc;
    case M_FULL:
      return passFull(pM, pPlan);
    case M_GC:
      return gcFree(pM);
    case M_ONE:
      return rewriteHead(pM, &bDone);
  }
  rc = stageConfirm(pM, eMode, iNow, pPlan);
  if( rc==VLOG_OK && eMode==M_AUTO ){
    rc = rewriteHead(pM, &bDone);
    if( rc==VLOG_OK && bDone && eTrigger==1 ){
      /* the checkpoint kick: one segment, the rest restaged */
      rc = txnBegin(pM);
      if( rc==VLOG_OK ) rc = txnEnd(pM, restageQueue(pM, nowUs(p)));
    }
    if( rc==VLOG_OK ) rc = gcRetireDead(pM);
  }
  return rc;
}

/* The stage and confirm steps of modes stage, confirm and auto: prune,
** plan; confirm a stage that is due (at once in mode confirm), or stage
** the plan when nothing is staged or queued. */
static int stageConfirm(Pass *pM, int eMode, u64 iNow, Plan *pPlan){
  VlogStore *p = pM->p;
  int rc = txnBegin(pM);
  if( rc ) return rc;
  rc = pruneState(pM);
  if( rc==VLOG_OK ) rc = planSegments(p, pM->aCfg, 1, iNow, pPlan);
  if( rc==VLOG_OK ){
    MaintEntry *aL = 0, *aQ = 0;
    int nL = 0, nQ = 0;
    rc = entryList(p, 'L', &aL, &nL);
    if( rc==VLOG_OK ) rc = entryList(p, 'Q', &aQ, &nQ);
    vlogFree(p->pEnv, aL);
    vlogFree(p->pEnv, aQ);
    pM->nPlanned = pPlan->nSeg;
    if( rc==VLOG_OK ){
      int bDue = pM->aSt[ST_PENDING]
              && (eMode==M_CONFIRM
                  || pM->aSt[ST_OBSERVED] + (u64)pM->aCfg[S_CONFIRM]*1000 <= iNow);
      if( eMode==M_CONFIRM || (eMode==M_AUTO && bDue) ){
        if( bDue ) rc = confirmStage(pM, iNow);
      }else if( (eMode==M_STAGE || eMode==M_AUTO) && nL==0 && nQ==0
             && pM->aSt[ST_PENDING]==0 && pPlan->nSeg>0 ){
        rc = stagePlan(pM, pPlan, iNow);
      }
    }
  }
  return txnEnd(pM, rc);
}

/*
** Run one maintenance pass of mode zMode (0: "auto") on trigger zTrigger
** (0: "explicit"); its JSON report into *pzReport (vlogFree), on success
** and on an error of the pass alike (when there is one to give).
*/
static int maintainPass(VlogStore*, const char*, const char*, char**);
int vlogMaintain(VlogStore *p, const char *zMode, const char *zTrigger,
                 char **pzReport){
  int rc;
  u8 bBusy = p->maint.bBusy;
  p->maint.bBusy = 1;
  p->maint.bStep = 0;          /* a step resumes from the queue's head */
  p->maint.bExplicit = 1;      /* its plans take compression candidates */
  rc = maintainPass(p, zMode, zTrigger, pzReport);
  p->maint.bExplicit = 0;
  p->maint.bBusy = bBusy;
  return rc;
}
static int maintainPass(VlogStore *p, const char *zMode, const char *zTrigger,
                        char **pzReport){
  Pass m;
  Plan plan;
  int eMode = modeFind(zMode);
  int eTrigger = 0, rc, i;
  *pzReport = 0;
  if( eMode<0 ){
    return vlogSetError(p, VLOG_ERROR, "unknown maintenance mode '%s': the modes "
        "are auto, plan, stage, confirm, rewrite-one, gc and full", zMode);
  }
  if( zTrigger ){
    for(eTrigger=0; eTrigger<N_TRIGGER && strcmp(azTrigger[eTrigger], zTrigger); eTrigger++);
    if( eTrigger>=N_TRIGGER ){
      return vlogSetError(p, VLOG_MISUSE, "unknown maintenance trigger '%s'", zTrigger);
    }
  }
  if( p->eTxn!=0 || p->bPrepared ){
    return vlogSetError(p, VLOG_MISUSE, "cannot run maintenance inside a "
                        "transaction on the store: commit first");
  }
  if( p->cfg.bReadOnly && eMode!=M_PLAN ) return vlogReadOnlyError(p);
  memset(&m, 0, sizeof(m));
  memset(&plan, 0, sizeof(plan));
  m.p = p;
  m.zMode = azMode[eMode];
  m.zTrigger = azTrigger[eTrigger];
  m.iStart = nowUs(p);
  rc = vlogBegin(p, 0);
  if( rc==VLOG_OK ){
    rc = settingsLoad(p, m.aCfg);
    if( rc==VLOG_OK ) rc = repState(&m, "before");
    if( rc ) (void)vlogRollback(p);            /* rc says what failed */
    else rc = vlogCommit(p);
  }
  if( rc ) goto done;
  repAdd(&m, ",\"mode\":\"%s\",\"trigger\":\"%s\",", m.zMode, m.zTrigger);
  rc = passRun(&m, eMode, eTrigger, &plan);
  repPlan(&m, &plan);
  repAdd(&m, ",\"staged\":%d,\"confirmed\":%d,\"restaged\":%d,\"pruned\":%d,"
         "\"rewritten\":[", m.nStaged, m.nConfirmed, m.nRestaged, m.nPruned);
  for(i=0; i<m.nRewritten; i++){
    repAdd(&m, "%s%llu", i ? "," : "", (unsigned long long)m.aRewritten[i]);
  }
  repAdd(&m, "],\"segments_rewritten\":%d,\"records_copied\":%llu,"
         "\"bytes_copied\":%llu,\"segments_freed\":%llu,\"segments_pinned\":%d,"
         "\"bytes_reclaimed\":%llu,\"holes_punched\":%llu,\"frames_unreadable\":%d,"
         "\"dictionaries_dropped\":%d,",
         m.nRewritten, (unsigned long long)m.nCopiedRec,
         (unsigned long long)m.nCopied, (unsigned long long)m.nFreed,
         m.nPinnedLeft, (unsigned long long)m.nReclaimed,
         (unsigned long long)m.nPunched, m.nSkippedFrames, m.nDictDropped);
  if( eMode!=M_PLAN ){
    const char *zMsg = rc ? vlogStoreErrMsg(p) : m.zErr;
    char *zCopy = zMsg ? vlogStrdup(p->pEnv, zMsg) : 0;
    int rc2 = logWrite(&m, eMode, eTrigger, m.nPlanned, rc ? rc : (m.zErr ? VLOG_ERROR : 0),
                       zCopy);
    vlogFree(p->pEnv, zCopy);
    if( rc==VLOG_OK ) rc = rc2;
  }
  if( rc==VLOG_OK ) rc = readState(&m, "after");
  if( rc==VLOG_OK && m.zErr ){
    rc = vlogSetError(p, VLOG_CORRUPT_BKPT, "%s", m.zErr);
  }
  repAdd(&m, ",\"ms\":%.3f,\"result\":\"%s\"}",
         (double)(nowUs(p) - m.iStart)/1000.0, rc ? vlogErrName(rc) : "ok");
 done:
  if( m.bRepFailed && rc==VLOG_OK ) rc = vlogSetError(p, VLOG_NOMEM, 0);
  if( rc==VLOG_OK && m.rep.a ){
    /* the object's opening brace */
    char *z = vlogMprintf(p->pEnv, "{%s", (const char*)m.rep.a);
    if( z==0 ) rc = vlogSetError(p, VLOG_NOMEM, 0);
    *pzReport = z;
  }
  vlogBufFree(p->pEnv, &m.rep);
  vlogBufFree(p->pEnv, &m.raw);
  vlogBufFree(p->pEnv, &m.val);
  vlogBufFree(p->pEnv, &m.enc);
  vlogFree(p->pEnv, m.aRewritten);
  vlogFree(p->pEnv, m.zErr);
  vlogFree(p->pEnv, plan.aSeg);
  return rc;
}

/* ---------------------------------------------------------------------
** Settings and state for SQL and the tool
*/
const char *vlogMaintSettingName(int i){
  return i>=0 && i<N_SETTING ? aSetting[i].zName : 0;
}

/*
** Read setting zName into *prValue; with prNew, first set it (persisted,
** in a transaction of its own unless the caller's write transaction is
** open).  An unknown name or a value out of range is VLOG_ERROR naming it.
*/
int vlogMaintSetting(VlogStore *p, const char *zName, const double *prNew,
                     double *prValue){
  int i = settingFind(zName);
  int bAuto = 0, rc;
  double aCfg[N_SETTING];
  if( i<0 ){
    VlogBuf b = {0, 0, 0};
    int j;
    for(j=0; j<N_SETTING; j++){
      if( vlogBufPrintf(p->pEnv, &b, "%s%s", j ? ", " : "", aSetting[j].zName) ) break;
    }
    rc = vlogSetError(p, VLOG_ERROR, "unknown setting '%s': the settings are %s",
                      zName, b.a ? (const char*)b.a : "?");
    vlogBufFree(p->pEnv, &b);
    return rc;
  }
  if( prNew ){
    double r = *prNew;
    if( !(r>=aSetting[i].rMin && r<=aSetting[i].rMax)
     || (aSetting[i].bInt && r!=(double)(i64)r) ){
      return vlogSetError(p, VLOG_ERROR, "setting %s: %g is not %s from %g to %g",
                          zName, r, aSetting[i].bInt ? "a whole number" : "a number",
                          aSetting[i].rMin, aSetting[i].rMax);
    }
    if( p->cfg.bReadOnly ) return vlogReadOnlyError(p);
  }
  rc = vlogAutoBegin(p, prNew!=0, &bAuto);
  if( rc ) return rc;
  if( prNew ){
    u8 aKey[MAINT_KEY_MAX], aVal[8];
    int nName = (int)strlen(zName);
    aKey[0] = 'C';
    memcpy(&aKey[1], zName, nName);
    putDouble(aVal, *prNew);
    rc = maintPut(p, aKey, 1+nName, aVal, 8);
  }
  if( rc==VLOG_OK ) rc = settingsLoad(p, aCfg);
  if( rc==VLOG_OK ) *prValue = aCfg[i];
  rc = vlogAutoEnd(p, bAuto, rc);
  if( rc==VLOG_OK && prNew && i==S_MMAP ){
    /* the store's map size, for every handle from its next open; this
    ** one at once */
    rc = vlogStoreSetMmapSize(p, (int64_t)*prNew);
  }
  return rc;
}

/* The rewrite queue (bLedger 0) or ledger (1), and the stage flag. */
int vlogMaintQueue(VlogStore *p, int bLedger, VlogMaintEntry **paE, int *pnE,
                   int *pbPending){
  MaintEntry *aE = 0;
  VlogMaintEntry *aOut = 0;
  u64 aSt[ST_N];
  int nE = 0, i, bAuto = 0;
  int rc = vlogAutoBegin(p, 0, &bAuto);
  *paE = 0;
  *pnE = 0;
  if( rc ) return rc;
  rc = stateLoad(p, aSt);
  if( rc==VLOG_OK ) rc = entryList(p, bLedger ? 'L' : 'Q', &aE, &nE);
  if( rc==VLOG_OK ){
    aOut = (VlogMaintEntry*)vlogMallocZero(p->pEnv, sizeof(VlogMaintEntry)*(nE+1));
    if( aOut==0 ) rc = vlogSetError(p, VLOG_NOMEM, 0);
  }
  for(i=0; rc==VLOG_OK && i<nE; i++){
    aOut[i].iPos = aE[i].iKey;
    aOut[i].iSeg = aE[i].iSeg;
    aOut[i].iGen = aE[i].iGen;
    aOut[i].nTotal = aE[i].nTotal;
    aOut[i].nLive = aE[i].nLive;
    aOut[i].iTime = aE[i].iTime;
  }
  vlogFree(p->pEnv, aE);
  if( rc==VLOG_OK ){
    *paE = aOut;
    *pnE = nE;
    if( pbPending ) *pbPending = (int)aSt[ST_PENDING];
  }else{
    vlogFree(p->pEnv, aOut);
  }
  return vlogAutoEnd(p, bAuto, rc);
}

/* The maintenance log, oldest first.  Messages are copied after the rows,
** in the same allocation. */
int vlogMaintLog(VlogStore *p, VlogMaintLogEntry **paE, int *pnE){
  VlogCursor *pCsr = 0;
  VlogBuf b = {0, 0, 0};
  int nE = 0, bAuto = 0, i;
  u8 aKey[1] = { 'G' };
  int rc = vlogAutoBegin(p, 0, &bAuto);
  *paE = 0;
  *pnE = 0;
  if( rc ) return rc;
  rc = vlogCursorOpen(p, TREE_MAINT, &pCsr);
  if( rc==VLOG_OK ) rc = vlogCursorSeek(pCsr, aKey, 1, VLOG_SEEK_GE);
  /* first pass: the rows, their messages as offsets into b */
  while( rc==VLOG_OK && vlogCursorValid(pCsr) ){
    const void *pK, *pV;
    int nK, nV;
    VlogMaintLogEntry e;
    const u8 *a;
    u32 nMsg;
    rc = vlogCursorKey(pCsr, &pK, &nK);
    if( rc || nK!=9 || ((const u8*)pK)[0]!='G' ) break;
    rc = vlogCursorValue(pCsr, &pV, &nV);
    if( rc ) break;
    a = (const u8*)pV;
    nMsg = nV>=LOG_FIXED ? vlogGet32(&a[64]) : 0;
    if( nV<LOG_FIXED || nMsg!=(u32)(nV-LOG_FIXED) || a[56]>=N_TRIGGER || a[57]>=N_MODE ){
      rc = vlogSetError(p, VLOG_CORRUPT_BKPT, "maintenance log entry %llu is damaged",
                        (unsigned long long)vlogGet64(&((const u8*)pK)[1]));
      break;
    }
    memset(&e, 0, sizeof(e));
    e.iSeq = vlogGet64(&((const u8*)pK)[1]);
    e.iStart = vlogGet64(&a[0]);
    e.iEnd = vlogGet64(&a[8]);
    e.nPlanned = vlogGet64(&a[16]);
    e.nRewritten = vlogGet64(&a[24]);
    e.nFreed = vlogGet64(&a[32]);
    e.nCopied = vlogGet64(&a[40]);
    e.nReclaimed = vlogGet64(&a[48]);
    e.zTrigger = azTrigger[a[56]];
    e.zMode = azMode[a[57]];
    e.rc = (int)vlogGet32(&a[60]);
    e.zError = (const char*)(uintptr_t)(nMsg ? 1 : 0);   /* fixed below */
    if( vlogBufAppend(p->pEnv, &b, &e, (int)sizeof(e))
     || vlogBufAppend(p->pEnv, &b, &nMsg, 4)
     || (nMsg && vlogBufAppend(p->pEnv, &b, &a[LOG_FIXED], (int)nMsg)) ){
      rc = vlogSetError(p, VLOG_NOMEM, 0);
      break;
    }
    nE++;
    rc = vlogCursorNext(pCsr);
  }
  if( pCsr ){
    int rc2 = vlogCursorClose(pCsr);
    if( rc==VLOG_OK ) rc = rc2;
  }
  if( rc==VLOG_OK ){
    /* second pass: rows first, then the messages, each ending in a zero */
    size_t nByte = sizeof(VlogMaintLogEntry)*(size_t)(nE+1) + (size_t)b.n + (size_t)nE;
    VlogMaintLogEntry *aOut = (VlogMaintLogEntry*)vlogMallocZero(p->pEnv, nByte);
    if( aOut==0 ){
      rc = vlogSetError(p, VLOG_NOMEM, 0);
    }else{
      char *zText = (char*)&aOut[nE+1];
      const u8 *z = b.a;
      for(i=0; i<nE; i++){
        u32 nMsg;
        memcpy(&aOut[i], z, sizeof(VlogMaintLogEntry));
        z += sizeof(VlogMaintLogEntry);
        memcpy(&nMsg, z, 4);
        z += 4;
        aOut[i].zError = 0;
        if( nMsg ){
          memcpy(zText, z, nMsg);
          zText[nMsg] = 0;
          aOut[i].zError = zText;
          zText += nMsg + 1;
          z += nMsg;
        }
      }
      *paE = aOut;
      *pnE = nE;
    }
  }
  vlogBufFree(p->pEnv, &b);
  return vlogAutoEnd(p, bAuto, rc);
}

/* The store's maintenance counters (vlog_stats). */
int vlogMaintCounters(VlogStore *p, u64 *aOut){
  u64 aSt[ST_N];
  int rc = stateLoad(p, aSt);
  if( rc==VLOG_OK ){
    aOut[0] = aSt[ST_PASSES];
    aOut[1] = aSt[ST_REWRITTEN];
    aOut[2] = aSt[ST_COPIED];
    aOut[3] = aSt[ST_FREED];
    aOut[4] = aSt[ST_RECLAIMED];
  }
  return rc;
}

/* The maintenance states of the segments a[0..n) (vlog_segments): a
** sealed one the ledger stages is "staged", one the queue holds "queued",
** the one a rewrite is in the middle of "rewriting". */
int vlogMaintMarks(VlogStore *p, VlogSegmentInfo *a, int n){
  MaintEntry *aE = 0;
  u64 aSt[ST_N];
  int nE = 0, i, j, k;
  int rc = stateLoad(p, aSt);
  /* the queue first: queued, or staged again while a stage is pending;
  ** then the ledger: staged while pending (after a confirmation its
  ** entries are the queue's) */
  for(k=0; rc==VLOG_OK && k<2; k++){
    rc = entryList(p, k==0 ? 'Q' : 'L', &aE, &nE);
    for(i=0; rc==VLOG_OK && i<nE; i++){
      for(j=0; j<n; j++){
        if( a[j].iSeg!=aE[i].iSeg || a[j].iGen!=aE[i].iGen
         || strcmp(a[j].zState, "sealed")!=0 ){
          continue;
        }
        if( aSt[ST_PENDING] ) a[j].zState = "staged";
        else if( k==0 ) a[j].zState = "queued";
      }
    }
    vlogFree(p->pEnv, aE);
    aE = 0;
  }
  for(j=0; rc==VLOG_OK && j<n; j++){
    if( aSt[ST_CURSEG] && a[j].iSeg==aSt[ST_CURSEG] && a[j].iGen==aSt[ST_CURGEN]
     && strcmp(a[j].zState, "zombie")!=0 ){
      a[j].zState = "rewriting";
    }
  }
  return rc;
}

/* ---------------------------------------------------------------------
** Automatic maintenance: a step after each commit
*/
#define STEP_MIN_BYTES   (64*1024)    /* a step copies at least this much */
#define STEP_CFG_EVERY   64           /* commits between two reads of 'auto' */
#define STEP_MAX_SEGMENTS 8           /* segments a step walks, at most */
#ifndef STEP_PACE
# define STEP_PACE        4           /* bytes a step may copy per byte committed */
#endif
#define STEP_GC_MIN       2           /* zombies that make a step run GC, */
#define STEP_GC_FRACTION  32          /* ... and the share of the buckets */
#define STEP_MAX_DEBT     (4*1024*1024)   /* work carried to the next step */
#define STEP_JOURNAL_MIN  (1024*1024)     /* a journal that a step checkpoints, */
#define STEP_JOURNAL_FRACTION 32          /* ... and its share of the file */
#define STEP_TAIL_MIN     4           /* free buckets below the file's top */
#define STEP_TAIL_FRACTION 4          /* ... and their share, for a tail step */

static void passFree(Pass *pM){
  VlogEnv *pEnv = pM->p->pEnv;
  vlogBufFree(pEnv, &pM->rep);
  vlogBufFree(pEnv, &pM->raw);
  vlogBufFree(pEnv, &pM->val);
  vlogBufFree(pEnv, &pM->enc);
  vlogFree(pEnv, pM->aRewritten);
  vlogFree(pEnv, pM->zErr);
}

/* Take the queue's head as the segment the steps rewrite, after a stage or
** confirmation when one is due (bPlan).  None (stage pending, queue
** empty): pS->bStep stays 0. */
static int stepTake(Pass *pM, int bPlan){
  VlogStore *p = pM->p;
  MaintState *pS = &p->maint;
  MaintEntry *aQ = 0;
  int nQ = 0, rc = VLOG_OK;
  u64 iNow = nowUs(p);
  if( bPlan ){
    int k;
    /* stage; and confirm at once when the delay is zero */
    for(k=0; rc==VLOG_OK && k<2; k++){
      if( pS->nSincePlan>=p->sb.nBucketSize || pS->bKick || pS->bCapped
       || (pS->bPending && pS->iObserved + (u64)pM->aCfg[S_CONFIRM]*1000 <= iNow) ){
        Plan plan;
        int nStaged = pM->nStaged;
        memset(&plan, 0, sizeof(plan));
        pS->nSincePlan = 0;
        rc = stageConfirm(pM, M_AUTO, iNow, &plan);
        pS->bCapped = plan.nCapped>0;
        vlogFree(p->pEnv, plan.aSeg);
        if( pM->nStaged==nStaged || pM->aCfg[S_CONFIRM]>0.0 ) break;
        pS->bPending = 1;
        pS->iObserved = iNow;
      }else{
        break;
      }
    }
  }
  if( rc==VLOG_OK ) rc = txnBegin(pM);
  if( rc==VLOG_OK ){
    pS->bPending = (u8)pM->aSt[ST_PENDING];
    pS->iObserved = pM->aSt[ST_OBSERVED];
    if( pM->aSt[ST_PENDING]==0 ) rc = entryList(p, 'Q', &aQ, &nQ);
    rc = txnEnd(pM, rc);
  }
  pS->bMore = 0;
  if( rc==VLOG_OK && nQ>0 && entryLive(p, &aQ[0]) ){
    pS->bStep = 1;
    pS->bStepKick = pS->bKick;
    pS->bMore = nQ>1;
    pS->iSeg = aQ[0].iSeg;
    pS->iGen = aQ[0].iGen;
    pS->iQueueKey = aQ[0].iKey;
    pS->iOff = 0;
  }
  pS->bKick = 0;
  vlogFree(p->pEnv, aQ);
  return rc;
}

/*
** One step: rewrite queued segments until the step has copied its budget,
** max(STEP_MIN_BYTES, twice the bytes the commit wrote), or walked
** STEP_MAX_SEGMENTS segments, or the queue waits for a confirmation.  A
** segment cut by the budget is resumed by the next step.  The segments
** finished are one entry of the maintenance log.
*/
static int stepRun(Pass *pM, u64 nWritten){
  VlogStore *p = pM->p;
  MaintState *pS = &p->maint;
  u64 nBudget = nWritten*STEP_PACE > STEP_MIN_BYTES ? nWritten*STEP_PACE : STEP_MIN_BYTES;
  u64 nCopied0 = pM->nCopied;
  int rc = VLOG_OK, nWalked = 0, bKickDone = 0;
  while( rc==VLOG_OK && nWalked<STEP_MAX_SEGMENTS && !bKickDone
      && pM->nCopied - nCopied0 < nBudget ){
    int bDone = 0;
    if( !pS->bStep ){
      /* the first time, or when the last plan left candidates out */
      rc = stepTake(pM, nWalked==0 || pS->bCapped);
      if( rc || !pS->bStep ) break;
    }
    nWalked++;
    pS->nStep++;
    rc = rewriteChunk(pM, pS->iSeg, pS->iGen, pS->iQueueKey, 1, &pS->iOff,
                      nBudget - (pM->nCopied - nCopied0), &bDone);
    if( rc==VLOG_OK && bDone ){
      pS->bStep = 0;
      rc = rewriteCheck(pM, pS->iSeg, pS->iGen);
      if( rc==VLOG_OK && pS->bStepKick ){
        /* the checkpoint kick: one segment, the rest restaged */
        bKickDone = 1;
        rc = txnBegin(pM);
        if( rc==VLOG_OK ) rc = txnEnd(pM, restageQueue(pM, nowUs(p)));
      }
    }
  }
  if( rc==VLOG_OK && (pM->nRewritten>0 || pM->zErr) ){
    rc = gcRetireDead(pM);
    if( rc==VLOG_OK ){
      rc = logWrite(pM, M_ONE, bKickDone ? 1 : 2, pM->nRewritten,
                    (pM->zErr ? VLOG_ERROR : VLOG_OK), pM->zErr);
    }
  }
  return rc;
}

/*
** GC keeping pace: when the zombies hold 1/STEP_GC_FRACTION of the file
** (and at least STEP_GC_MIN buckets), a step frees them through the journal (gcJournal:
** two syncs and small commits; before, two tree checkpoints, which wrote
** the whole dirty tree twice: a third of the write amplification at
** 200,000 keys).  What a reader still pins stays for a later step.  Then
** the journal: with no GC checkpoints, only the automatic one (32 MiB of
** journal by default) would trim it, and until then it holds space, and so
** do the B-tree's regions that wait for checkpoints; a step checkpoints
** when it holds 1/STEP_JOURNAL_FRACTION of the file (and at least
** STEP_JOURNAL_MIN).
*/
static int stepGc(Pass *pM, int *pbRan){
  VlogStore *p = pM->p;
  u64 nZ = countZombies(p), nJ;
  int rc, nPin;
  if( p->jrnl.nSize>=STEP_JOURNAL_MIN
   && (u64)p->jrnl.nSize*STEP_JOURNAL_FRACTION >= p->sb.nBucket*(u64)p->sb.nBucketSize ){
    /* the journal holds its share of the file: its space, and the tree's
    ** regions waiting for checkpoints, come back by one */
    *pbRan = 1;
    rc = vlogCheckpoint(p);
    return rc==VLOG_BUSY ? VLOG_OK : rc;
  }
  if( nZ<STEP_GC_MIN || nZ*STEP_GC_FRACTION < p->sb.nBucket ) return VLOG_OK;
  *pbRan = 1;
  rc = gcJournal(pM, &nJ, &nPin);
  if( rc==VLOG_OK ) rc = punchFree(pM);
  if( rc==VLOG_OK && countZombies(p)<nZ ){
    /* what it freed counts, and the log says so, as for a pass's GC */
    pM->nFreed = nZ - countZombies(p);
    pM->nReclaimed = pM->nFreed * p->sb.nBucketSize;
    rc = gcDicts(pM);
    if( rc==VLOG_OK ) rc = logWrite(pM, M_GC, 2, 0, VLOG_OK, 0);
  }
  return rc;
}

/*
** The file's end, keeping pace (stepTail).  The lowest free bucket is
** always taken, but a segment written early and never overwritten stays
** where it was written, high in the file, while the buckets below it
** empty: the file keeps the size of its largest moment (speedtest1 left
** a third of its file free inside).  When the free buckets below the
** file's top are at least 1/STEP_TAIL_FRACTION of the file (and at least
** STEP_TAIL_MIN), a step moves the topmost value-log segment down (its
** live records rewritten into the open segment, which sits low), at most
** one per half bucket of bytes committed since the last; the segment
** becomes a zombie that stepGc frees.  Free buckets at the end (an
** eighth of the file, two at least) are cut off by a checkpoint, which
** this step runs (at the same pace: a reader that keeps the checkpoint
** waiting costs one attempt per half bucket committed).  The setting
** tail_compaction (1) turns it off at 0.  *pbRan says whether it did
** anything.
*/
static int stepTail(Pass *pM, int *pbRan){
  VlogStore *p = pM->p;
  MaintState *pS = &p->maint;
  u64 nBucket = p->sb.nBucket, iTop = nBucket, nFree = 0, i;
  Bucket *pB;
  int rc;
  if( pM->aCfg[S_TAIL]==0.0 || pS->nSinceTail < p->sb.nBucketSize/2 ){
    return VLOG_OK;
  }
  while( iTop>2 && p->aBucket[iTop-1].eState==BUCKET_FREE ) iTop--;
  if( nBucket-iTop>=2 && (nBucket-iTop)*8>=nBucket ){
    *pbRan = 1;
    pS->nSinceTail = 0;
    pS->nTail++;
    rc = vlogCheckpoint(p);              /* cuts the free end off */
    return rc==VLOG_BUSY ? VLOG_OK : rc;
  }
  for(i=2; i<iTop; i++) if( p->aBucket[i].eState==BUCKET_FREE ) nFree++;
  if( nFree<STEP_TAIL_MIN || nFree*STEP_TAIL_FRACTION<iTop ) return VLOG_OK;
  pB = &p->aBucket[iTop-1];
  if( pB->eKind!=KIND_VLOG || pB->eState!=BUCKET_SEALED
   || (pS->bStep && pS->iSeg==iTop-1) ){
    return VLOG_OK;          /* a zombie waits for GC; anything else stays */
  }
  *pbRan = 1;
  pS->nSinceTail = 0;
  pS->nTail++;
  rc = rewriteSegment(pM, iTop-1, pB->iGen, 0, 0);
  if( rc==VLOG_OK ) rc = gcRetireDead(pM);
  if( rc==VLOG_OK ) rc = logWrite(pM, M_ONE, 2, 1, VLOG_OK, 0);
  return rc;
}

/*
** The quiet pass: the larger optional work, which automatic steps never
** do, run by the first commit after quiet_window_ms without a commit on
** this handle (vlogMaintAfterCommit).  Today that is background
** compression: the sealed segments that hold bytes a commit left raw and
** are not stale enough for a step, most bytes to compress first, under
** the pass's caps (max_segments, max_bytes of live records), rewritten
** compressed.  Stale segments are the steps' (and may be in the middle of
** one's rewrite): this pass leaves them.  *pbRan says whether it ran.
*/
static int stepQuiet(Pass *pM, int *pbRan){
  VlogStore *p = pM->p;
  MaintState *pS = &p->maint;
  Plan plan;
  u64 i, nLive = 0;
  int rc, j, nDone = 0;
  for(i=1; i<p->sb.nBucket; i++){
    const Bucket *pB = &p->aBucket[i];
    if( pB->eKind==KIND_VLOG && pB->eState==BUCKET_SEALED && segToCompress(pB)
     && !segStale(pM->aCfg, pB) ) break;
  }
  if( i>=p->sb.nBucket ) return VLOG_OK;
  *pbRan = 1;
  pS->nQuiet++;
  memset(&plan, 0, sizeof(plan));
  pS->bExplicit = 1;                  /* its plan takes compression candidates */
  rc = vlogBegin(p, 0);
  if( rc==VLOG_OK ){
    rc = planSegments(p, pM->aCfg, 0, nowUs(p), &plan);
    (void)vlogCommit(p);                     /* a read transaction */
  }
  for(j=0; rc==VLOG_OK && j<plan.nSeg && (double)nDone<pM->aCfg[S_MAXSEG]; j++){
    Bucket *pB = &p->aBucket[plan.aSeg[j]];
    if( pB->eState!=BUCKET_SEALED || segStale(pM->aCfg, pB) || !segToCompress(pB)
     || (pS->bStep && pS->iSeg==plan.aSeg[j]) ){
      continue;
    }
    if( nDone>0 && (double)(nLive + pB->nLive)>pM->aCfg[S_MAXBYTES] ) break;
    nLive += pB->nLive;
    rc = rewriteSegment(pM, plan.aSeg[j], pB->iGen, 0, 0);
    nDone++;
  }
  pS->bExplicit = 0;
  vlogFree(p->pEnv, plan.aSeg);
  if( rc==VLOG_OK ) rc = gcRetireDead(pM);
  if( rc==VLOG_OK ){
    rc = logWrite(pM, M_AUTO, 3, nDone, pM->zErr ? VLOG_ERROR : VLOG_OK, pM->zErr);
  }
  return rc;
}

/*
** After each commit of this handle (txn.c): when the 'auto' setting is on,
** one bounded step of maintenance.  Its errors do not fail the commit,
** which is done: the step is given up (the queue keeps its segment) and
** counted, and the handle's error message is the commit's.
*/
void vlogMaintAfterCommit(VlogStore *p, u64 nWritten){
  MaintState *pS = &p->maint;
  Pass m;
  char *zSave;
  int rc = VLOG_OK, bCkpt = pS->bCommitCkpt, bQuiet;
  u64 iNow, iLast;
  pS->bCommitCkpt = 0;
  if( pS->bBusy || p->cfg.bReadOnly || p->eTxn!=0 || !p->bValid ) return;
  pS->nCommit++;
  pS->nSincePlan += nWritten;
  pS->nSinceTail += nWritten;
  /* quiet: no commit on this handle for quiet_window_ms before this one
  ** (the default until the setting is read) */
  iNow = nowUs(p);
  iLast = pS->iLastCommit;
  pS->iLastCommit = iNow;
  bQuiet = iLast>0 && iNow>iLast
        && (pS->bQuietKnown ? (pS->nQuietUs>0 && iNow-iLast>=pS->nQuietUs)
                            : iNow-iLast>=(u64)aSetting[S_QUIET].rDefault*1000);
  if( bCkpt ){
    /* the commit checkpointed: that was its slow part; its step's work
    ** waits for the next commit */
    pS->nDebt += nWritten;
    if( pS->nDebt > STEP_MAX_DEBT ) pS->nDebt = STEP_MAX_DEBT;
    return;
  }
  if( !pS->bStep && !pS->bKick && !pS->bMore && !pS->bPending && !bQuiet
   && pS->nSincePlan<p->sb.nBucketSize && pS->nSinceTail<p->sb.nBucketSize/2
   && (pS->nCommit % STEP_CFG_EVERY)!=1 ){
    return;
  }
  zSave = p->zErr;
  p->zErr = 0;
  pS->bBusy = 1;
  memset(&m, 0, sizeof(m));
  m.p = p;
  m.zMode = azMode[M_ONE];
  m.zTrigger = azTrigger[2];
  m.iStart = nowUs(p);
  {
    rc = vlogBegin(p, 0);
    if( rc==VLOG_OK ){
      rc = settingsLoad(p, m.aCfg);
      if( rc ) (void)vlogRollback(p);          /* rc says what failed */
      else rc = vlogCommit(p);
    }
    if( rc==VLOG_OK ){
      pS->bAuto = m.aCfg[S_AUTO]!=0.0;
      pS->nQuietUs = (u64)m.aCfg[S_QUIET]*1000;
      pS->bQuietKnown = 1;
      bQuiet = bQuiet && pS->nQuietUs>0 && iNow-iLast>=pS->nQuietUs;
    }
  }
  /* One slow thing per commit at most: a GC checkpoint, a quiet pass, or
  ** a step. */
  if( rc==VLOG_OK && pS->bAuto ){
    int bGc = 0;
    if( !pS->bStep ) rc = stepGc(&m, &bGc);
    if( rc==VLOG_OK && !bGc && bQuiet ){
      m.zTrigger = azTrigger[3];
      rc = stepQuiet(&m, &bGc);
    }
    if( rc==VLOG_OK && !bGc && !pS->bStep ) rc = stepTail(&m, &bGc);
    if( rc==VLOG_OK && !bGc ){
      rc = stepRun(&m, nWritten + pS->nDebt);
      pS->nDebt = 0;
    }else{
      pS->nDebt += nWritten;
      if( pS->nDebt > STEP_MAX_DEBT ) pS->nDebt = STEP_MAX_DEBT;
    }
  }
  if( rc ){
    pS->bStep = 0;
    pS->nStepErr++;
  }
  pS->bBusy = 0;
  passFree(&m);
  vlogFree(p->pEnv, p->zErr);
  p->zErr = zSave;
}
