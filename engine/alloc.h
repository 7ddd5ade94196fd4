/*
** alloc.h: buckets, the one module that gives them out and takes them back
** (alloc.c): the bucket state machine, the free list, node regions and
** value-log segment accounting.  Included by storeInt.h; alloc.c's design
** note says how it works.
*/
#ifndef VLOG_ALLOC_H
#define VLOG_ALLOC_H

/* Bucket states: the state machine
**
**    FREE --alloc--> OPEN --full--> SEALED
**      ^              |               |
**      |              +----empty------+--> ZOMBIE --two checkpoints--> FREE
**
** A ZOMBIE bucket holds nothing live, but a reader of an older snapshot,
** or recovery from the older superblock, may still read it: it is freed
** only once no snapshot can reach it (alloc.c, "Two checkpoints").
** NEED_DISCARD (free, hole not yet punched) is reserved for maintenance.
*/
#define BUCKET_FREE          0
#define BUCKET_OPEN          1
#define BUCKET_SEALED        2
#define BUCKET_ZOMBIE        3
#define BUCKET_NEED_DISCARD  4

#define KIND_NONE        0
#define KIND_JOURNAL     1
#define KIND_BTREE       2
#define KIND_VLOG        3

#define SEG_VALUE     1        /* segment kinds: values a commit wrote */
#define SEG_REWRITE   2        /* ... live records maintenance moved there */
#define SEG_RECORD    92       /* bytes of a TREE_SEGS value */

#define ZOMBIE_PENDING (~(u64)0)

typedef struct Bucket Bucket;
typedef struct BucketSet BucketSet;
struct LogRec;

struct Bucket {
  u8 eState;                   /* BUCKET_* */
  u8 eKind;                    /* KIND_* */
  u8 bChain;                   /* journal: on the chain being replayed */
  u8 bTouched;                 /* vlog: on VlogStore.aTouched */
  u8 bHeld;                    /* ZOMBIE: past its first checkpoint; the
                               ** next one frees it */
  u8 bPunched;                 /* FREE: its hole was punched (maint.c) */
  u8 bWithheld;                /* FREE by the open transaction: not taken
                               ** again before it commits (vlogBucketFreeTxn) */
  u64 iZombieSeq;              /* ZOMBIE: the journal entry that emptied it
                               ** (or one after); ZOMBIE_PENDING until the
                               ** commit's entry is written */
  u64 mPunched;                /* B-tree: free regions whose hole was punched */
  u64 mLive;                   /* B-tree: bitmap of live regions */
  u64 mPending;                /* B-tree: superseded since the checkpoint */
  u64 mHeld;                   /* B-tree: used by the previous checkpoint */
  /* Value-log segments (eKind==KIND_VLOG): exact accounting */
  u64 iGen;                    /* generation: new each time it becomes one */
  u8 eSegKind;                 /* SEG_* */
  u64 nTotal;                  /* record bytes ever appended */
  u64 nLive;                   /* record bytes still referenced */
  u64 nRec;                    /* records appended */
  u64 nDisk;                   /* bytes used in the bucket (append offset) */
  u64 nToCompress;             /* record bytes of frames written raw for
                               ** background compression (vlog.c): a
                               ** rewrite would compress them */
  u32 iDictLo, iDictHi;        /* ids of the zstd dictionaries its frames
                               ** name, lowest and highest (0: none) */
  u64 iCreateSeq, iCreateTime; /* journal sequence and time of creation */
  u64 iSealSeq, iSealTime;     /* ... of sealing (0: still open) */
};

/* A set of bucket numbers: a bitmap, and a bitmap of its non-zero words,
** so that the lowest member is found without walking the table. */
struct BucketSet {
  u64 *aWord;                  /* bit i%64 of aWord[i/64]: i is a member */
  u64 *aSum;                   /* bit j%64 of aSum[j/64]: aWord[j]!=0 */
  u64 nWord;                   /* words of aWord (a multiple of 64) */
  u64 iLow;                    /* aSum[k]==0 for every k<iLow */
};

/* The table */
int vlogAllocGrow(VlogStore*, u64 nBucket);
void vlogAllocClear(VlogStore*);
void vlogAllocRebuild(VlogStore*);
void vlogAllocFree(VlogStore*);
u64 vlogAllocSetsCheck(VlogStore*);
int vlogAllocLoad(VlogStore*);
int vlogAllocReconcile(VlogStore*);
int vlogAllocReplay(VlogStore*, const struct LogRec*, char *zWhy, int nWhy);
int vlogAllocAfterCheckpoint(VlogStore*);

/* Buckets */
int vlogBucketSetState(VlogStore*, u64 iBucket, int eState, int eKind);
int vlogBucketAlloc(VlogStore*, int eKind, u64 *piBucket);
int vlogBucketRetire(VlogStore*, u64 iBucket, int eKind, int bHeld);
void vlogAllocZombiesWritten(VlogStore*, u64 iSeq);
int vlogBucketFreeTxn(VlogStore*, u64 iBucket);
u64 vlogBucketOffset(VlogStore*, u64 iBucket);
const char *vlogBucketStateName(int);
const char *vlogBucketKindName(int);

/* B-tree node regions */
int vlogRegionAlloc(VlogStore*, u64 *piOff);
void vlogRegionSetLive(VlogStore*, u64 iOff, int bLive);
void vlogRegionRelease(VlogStore*, u64 iOff);

/* Value-log segments */
int vlogSegCreate(VlogStore*, int eSegKind, u64 *piSeg);
int vlogSegSeal(VlogStore*, u64 iSeg);
int vlogSegTouch(VlogStore*, u64 iSeg);
int vlogSegLive(VlogStore*, u64 iSeg, u64 nBytes, int bAdd);
int vlogSegCommit(VlogStore*);
u64 vlogSegFindOpen(VlogStore*);
int vlogSegLoad(VlogStore*, u64 iSeg, const u8 *a, int n);
int vlogSegRecordMatches(VlogStore*, u64 iSeg, const u8 *a, int n);

#endif /* VLOG_ALLOC_H */
