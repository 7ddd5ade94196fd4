/*
** storeInt.h: the engine's private structures, shared by store.c (file,
** superblocks, locks), open.c (opening, recovery), alloc.c (buckets:
** alloc.h), journal.c, bset.c, btree.c, cursor.c, txn.c, checkpoint.c,
** vlog.c, check.c and verify.c.
**
** ON-DISK LAYOUT (all integers little-endian)
**
**   bucket 0     [superblock A @0][superblock B @4096][change counter
**                @8192] ... unused
**   bucket 1..N  each one kind: journal, B-tree nodes (later: value log)
**
** Superblock (SB_SIZE bytes, two copies; the valid one with the larger
** sequence wins; written alternately, so a torn write leaves the other):
**     0  magic "vlog-store\0\0\0\0\0\0" (16)
**    16  u32 format version (3)     20  u32 bytes used by the fields (SB_USED)
**    24  u64 checkpoint sequence    32  u32 bucket size   36 u32 node size
**    40  u64 buckets in the file (bucket 0 included)
**    48  root of the roots tree: u64 gen, u64 offset, u32 length, u32 level
**    72  u64 journal offset: where the first entry after this checkpoint is
**    80  u64 journal sequence of that entry
**    88  u64 next node generation    96 u64 created (unix us)
**   104  u64 checkpoint time (unix us)
**   112  u64 next segment generation (vlog.c: a bucket that becomes a
**        value-log segment takes it; replay moves it past every
**        generation it meets)
**   120  u64 xxh3(bytes 0..119, seed SEED_SB)
**
** Three logs, three names (record.c): the VALUE LOG is the segments of
** value records (vlog.c, VlogLog, vlogLog*); the TRANSACTION LOG is the
** open write transaction's undo and redo records, in memory (txn.c,
** TxnLog); the JOURNAL is the durable chain of commit entries since the
** checkpoint (journal.c, Journal, vlogJournal*).  "Log" alone is never
** used for the journal.
**
** Format versions: 1 (vlog 0.1), 2 (0.2: dictionary frames), 3 (records
** name their tree, segments have generations, values continue into the
** next bucket).  A store of another version is refused (store.c says why
** there is no upgrade in place).
**
** Beside the file: "<store>-shm", the reader table in shared memory
** (shm.c; io.h), rebuilt from the file whenever no process has it open.
**
** Change counter (CHANGE_OFF, one u64 in a sector of its own): a hint for
** the handles that have the store open, never used by recovery.  A writer
** adds one to it as soon as it holds EXCLUSIVE and before it writes
** anything a reader could see; a reader that finds the value it saw at
** its last refresh knows its caches are current (store.c).
**
** Journal entry (VLOG_SECTOR-aligned, in journal buckets; see journal.c):
**     0  u32 magic "VLJE"   4 u32 type (JE_COMMIT, JE_LINK, JE_PART; | JE_ZSTD
**                             when the payload is zstd-compressed)
**     8  u64 sequence      16 u64 durable sequence (see journal.c)
**    24  u32 payload bytes 28 u32 records
**    32  u64 xxh3(payload, seed SEED_JPAYLOAD)
**    40  u64 xxh3(bytes 0..39, seed SEED_JHDR)
**    48  payload
**
** B-tree node region (node-size bytes in a B-tree bucket; see bset.c):
** one to three bsets, each starting on a VLOG_SECTOR boundary of the region
** (a bset appended later never shares a sector with an earlier one):
**     0  u32 magic "VLBS"  4 u16 format version  6 u8 level  7 u8 bset index
**     8  u32 tree id      12 u32 entries
**    16  u64 node generation   24 u64 checkpoint sequence of the write
**    32  u32 payload bytes     36 u32 reserved (0)
**    40  u64 xxh3(bytes 0..39 and payload, seed SEED_BSET)
**    48  payload: packed entries (bset.c)
** A pointer to a node (in its parent, in the superblock, in the roots tree)
** is (generation, offset, length): length covers the bsets the pointer's
** owner knows of; bsets appended later are ignored by it.
**
** Roots tree entry (TREE_ROOTS; btree.c's design note): key the tree id (4
** bytes big-endian), value varint levels, the root's pointer (levels > 0),
** varint flags (TREEF_*), varint inline max, varint zstd level.
*/
#ifndef VLOG_STORE_INT_H
#define VLOG_STORE_INT_H

#include <assert.h>
#include <string.h>
#include "engine.h"
#include "util.h"
#include "alloc.h"

/* sbDecode's answer for a sound superblock of another format version */
#define VLOG_FORMAT      (VLOG_NOTADB | (1<<8))

#define SB_SIZE          4096
#define CHANGE_OFF       (2*SB_SIZE)
#define SB_USED          128
#define SB_MAGIC         "vlog-store\0\0\0\0\0\0"
#define FORMAT_VERSION   3              /* see the layout above */

/* Writes that follow synced data start on a new sector, so that a torn
** write cannot damage bytes already durable (a sector written while the
** power fails may come back garbled whole).  4 KiB covers today's disks. */
#define VLOG_SECTOR      4096

#define JE_HDR           48
#define JE_ALIGN         VLOG_SECTOR
#define JE_MAGIC         0x454a4c56      /* "VLJE" */
#define JE_COMMIT        1     /* the last (or only) entry of a commit */
#define JE_LINK          2     /* the journal continues in another bucket */
#define JE_PART          3     /* part of a commit too big for one entry */
#define JE_LINK_RESERVE  VLOG_SECTOR  /* kept free at a bucket's end for a link */
#define JE_ZSTD          0x100 /* type flag: the payload is zstd-compressed */

/* Record types of a journal payload (and of the transaction log); their
** encoding is record.c's */
#define REC_PUT          1
#define REC_DELETE       2
#define REC_WB           3
#define REC_VEXT         4     /* value-log frames a commit wrote (vlog.c) */
#define REC_TREE         5     /* a tree created, cleared, dropped, or its
                               ** policy changed (btree.c "Trees") */

/* REC_TREE operations */
#define TOP_POLICY       1     /* the tree exists with this policy (made
                               ** by vlogTreeCreate or vlogTreeSetPolicy) */
#define TOP_CLEAR        2     /* every key goes; the tree stays */
#define TOP_DROP         3     /* every key goes, and the tree */
#define TOP_UNDO         4     /* undo log only: restore the tree as the
                               ** transaction's TreeUndo slot iSlot says */

/* One record, decoded (record.c) */
typedef struct LogRec LogRec;
struct LogRec {
  int eOp;                     /* REC_* */
  u32 iTree;                   /* PUT, DELETE, WB */
  const u8 *pKey;              /* PUT, DELETE */
  int nKey;
  const u8 *pVal;              /* PUT, WB */
  int nVal;
  u64 iKey;                    /* WB: the write buffer's key */
  int bDelete;                 /* WB */
  u64 iSeg, iGen;              /* VEXT */
  u32 iOff, nLen;
  int eTreeOp;                 /* TREE: TOP_* */
  VlogTreePolicy pol;          /* TREE, TOP_POLICY */
  u32 mTreeFlags;              /* TREE, TOP_POLICY: TREEF_* */
  u32 iSlot;                   /* TREE, TOP_UNDO */
};

#define BSET_HDR         48
#define BSET_PAD         16              /* a bset's length is a multiple */
#define BSET_MAGIC       0x53424c56      /* "VLBS" */
#define PTR_SIZE         20              /* encoded NodePtr */
#define BSET_MAX_EXPAND  16              /* a decoded bset's keys and values
                                         ** take at most this many node sizes */

/* Checksum seeds: one per structure. */
#define SEED_SB          0x76534230ULL
#define SEED_JHDR        0x764a4830ULL
#define SEED_JPAYLOAD    0x764a5030ULL
#define SEED_BSET        0x76425330ULL
#define SEED_FRAME       0x76465230ULL   /* value-log frames (vlog.c) */
#define SEED_RECORD      0x76524330ULL   /* ... a record, ^ its generation */
#define SEED_DICT        0x76444330ULL   /* ... a zstd dictionary */

/* Value-log frames and dictionaries (their layout: vlog.c's design note) */
#define FRAME_HDR        32
#define FRAME_MAGIC      0x52464c56      /* "VLFR" */
#define FRAME_ZSTD       0x01
#define FRAME_DICT       0x02            /* with FRAME_ZSTD: a dictionary's */
#define DICT_CHUNK       1024            /* bytes per TREE_DICTS value */

/* Geometry limits */
#define MIN_BUCKET_SIZE  (64*1024)
#define MAX_BUCKET_SIZE  (256*1024*1024)
#define MIN_NODE_SIZE    (8*1024)
#define MAX_NODE_SIZE    (1024*1024)
#define MAX_REGIONS      64              /* node regions per bucket */

/* The largest store file: 1 TiB.  The one bound on every bucket number
** and file offset read from disk (a bucket number is below
** MAX_STORE_BYTES / bucket size, so an offset computed from it cannot wrap),
** and on the bucket table in memory, which a hostile count could
** otherwise make grow without end. */
#define MAX_STORE_BYTES  ((u64)1<<40)
#define MAX_BUCKETS(nBucketSize) (MAX_STORE_BYTES/(u64)(nBucketSize))

/* The bound on every counter read from disk that the engine goes on
** counting from (superblock sequences and generations, segment
** generations and byte and record counts): below it, no number of
** increments a store can see wraps a u64, so the invariants written as
** asserts (a sequence one or more, live bytes at most the total) hold. */
#define MAX_COUNTER      ((u64)1<<62)

/* Engine trees */
#define TREE_ROOTS       1   /* tree id (4 bytes BE) -> levels, root pointer,
                             ** policy (btree.c, "Trees") */
#define TREE_ALLOC       2   /* bucket (8 bytes BE) -> state, kind */
#define TREE_SEGS        3   /* segment bucket (8 bytes BE) -> accounting */
#define TREE_DICTS       4   /* zstd dictionary id, chunk (u32, u32 BE) -> bytes */
#define TREE_MAINT       5   /* maintenance: settings, rewrite ledger and queue,
                             ** log of passes (maint.c) */

/* An engine-internal result: a walk is over (not an error) */
#define VLOG_DONE        101

/* Entry types */
#define ENTRY_PUT        0
#define ENTRY_WHITEOUT   1

typedef struct Bset Bset;
typedef struct Entry Entry;
typedef struct Node Node;
typedef struct NodePtr NodePtr;
typedef struct Superblock Superblock;
typedef struct Tree Tree;
typedef struct Journal Journal;
typedef struct TxnLog TxnLog;
typedef struct WriteBuf WriteBuf;
typedef struct WbEntry WbEntry;

struct NodePtr {
  u64 gen;                     /* node generation; 0: no node */
  u64 off;                     /* byte offset of the region; 0: not written */
  u32 len;                     /* bytes of bsets the owner knows of */
};

struct Superblock {
  u64 iSeq;
  u32 nBucketSize;
  u32 nNodeSize;
  u64 nBucket;
  NodePtr rootsRoot;
  u32 rootsLevel;
  u64 iJrnlOff;
  u64 iJrnlSeq;
  u64 iNextGen;
  u64 iCreated;
  u64 iCkptTime;
  u64 iNextSegGen;
};

/* One key of a bset in memory.  iPrefix holds the key's first 8 bytes
** big-endian (zero-padded), so that most comparisons in a search need not
** follow pKey: different prefixes order as the keys do. */
struct Entry {
  u64 iPrefix;
  u8 *pKey;
  u8 *pVal;                    /* leaf: value; interior: encoded NodePtr */
  u32 nKey;
  u32 nVal;
  u8 eType;                    /* ENTRY_PUT or ENTRY_WHITEOUT */
  u8 bOwn;                     /* pKey is a vlogMalloc() of nKey+nVal */
};

struct Bset {
  Entry *a;
  int n;
  int nAlloc;
  u8 bDisk;                    /* already written to the node's region */
  u8 *aArena;                  /* decoded keys and values of a disk bset */
};

/*
** A node in memory.  Leaves may carry up to three bsets, newest last; a
** newer bset shadows older ones (a whiteout hides an older key).  Interior
** nodes carry one.  aView is the merged, live-only view of a leaf, built
** on demand for cursors and invalidated by any change.
*/
struct Node {
  u64 gen;
  u64 iOff;                    /* region offset; 0: never written */
  u32 nDisk;                   /* bytes of bsets written in the region */
  u32 iTree;
  u8 iLevel;                   /* 0: leaf */
  u8 nBset;
  u8 bDirty;                   /* changed since written */
  u8 bDead;                    /* removed from its tree; freed when unpinned */
  Bset aBset[3];
  int nLive;                   /* live entries */
  int nLiveBytes;              /* their encoded size (no prefix compression) */
  int nCharge;                 /* bytes of it in the cache's nCacheBytes */
  Entry *aView;                /* merged live view, or 0 */
  int nView;
  Node *pParent;               /* in cache, a node pins its parent */
  int nRef;                    /* children in cache + cursor pins */
  Node *pHashNext;             /* gen hash chain */
  Node *pLruPrev, *pLruNext;   /* clean, unreferenced nodes: evictable */
  Node *pDirtyNext;            /* list of dirty nodes */
  u8 bInDirty;
};

/* Flags of a roots entry (TREEF_*) */
#define TREEF_KEEP       0x01  /* made by vlogTreeCreate/vlogTreeSetPolicy:
                               ** stays when empty, until vlogTreeDrop */
#define TREEF_ZINLINE    0x02  /* VlogTreePolicy.bCompressInline */
#define TREEF_ALL        0x03  /* every flag a roots entry may have */

/* A tree: an entry of the roots tree, in memory. */
#define VLOG_TREE_HASH 256      /* buckets of VlogStore.apTreeHash */

struct Tree {
  u32 iTree;
  u32 nLevel;                  /* levels: 1 = the root is a leaf; 0 empty */
  u32 nSavedLevel;             /* nLevel as the roots tree records it */
  NodePtr root;                /* as recorded in the roots tree */
  Node *pRoot;                 /* in memory (pinned while the Tree lives) */
  u32 mFlags;                  /* TREEF_* */
  VlogTreePolicy pol;          /* its value policy */
  u8 bEntryDirty;              /* flags or policy changed, or the tree was
                               ** cleared: its roots entry is rewritten at
                               ** the next checkpoint */
  Tree *pNext;
  Tree *pHashNext;             /* in VlogStore.apTreeHash[iTree % ...] */
};

/* What a REC_TREE change of the open transaction replaced (its undo
** record names the slot; txn.c).  A clear or drop moves the tree's root,
** still pinned, here: rollback puts it back, commit frees its nodes. */
typedef struct TreeUndo TreeUndo;
struct TreeUndo {
  u32 iTree;
  u32 mFlags;                  /* the tree's flags and policy before */
  VlogTreePolicy pol;
  u8 bEntryDirty;
  u8 bKeys;                    /* the change took the tree's keys */
  u8 bUndone;                  /* undone already (a slot below one kept by
                               ** a savepoint rollback: vlogRollbackTo) */
  u32 nLevel;                  /* bKeys: the tree as it was */
  NodePtr root;
  Node *pRoot;                 /* bKeys: its root, pinned; 0 when the tree
                               ** had no key, or once freed (commit) or
                               ** dropped with the cache */
};

/* The journal as this handle knows it. */
struct Journal {
  u64 iOff;                    /* where the next entry goes / is expected */
  u64 iSeq;                    /* its sequence number */
  u64 iDurable;                /* entries up to this sequence were synced */
  u64 iHdrDurable;             /* the largest durable sequence this handle
                               ** wrote in a header ... */
  u64 iSyncedHdrDurable;       /* ... in one that a sync of its own then
                               ** made durable (vlogJournalSync) */
  i64 nSize;                   /* bytes since the last checkpoint */
  u64 iFirstBucket;            /* bucket holding the checkpoint's start */
};

/* Write buffer for blind, derived updates (bucket states, segment
** accounting).  See wbuf.c. */
#define WB_MAX_VAL 96                 /* SEG_RECORD fits */
struct WbEntry {
  u32 iTree;
  u64 iKey;                    /* bucket number */
  u8 aVal[WB_MAX_VAL];
  u8 nVal;
  u8 bDelete;
  u64 iSeq;                    /* order of arrival: later wins */
};
struct WriteBuf {
  WbEntry *a;
  int n;                       /* entries waiting */
  int nAlloc;                  /* capacity: flush at 1/4, wait at 3/4 */
  int iFlush;                  /* entries [0, iFlush) sorted and flushing */
  u64 iNextSeq;
};

/*
** The transaction log of the open write transaction: redo records (for the
** journal entry) and undo records (for rollback), with savepoint marks.
** Records in both buffers are record.c's (REC_PUT, REC_DELETE); an undo
** record holds the value before, or is a REC_DELETE when the key was
** absent.
*/
struct TxnLog {
  VlogBuf redo;
  int nRedoRec;
  VlogBuf undo;
  int *aUndoOff;               /* start offset of each undo record */
  int nUndo, nUndoAlloc;
  int aSaveRedo[64], aSaveRedoRec[64], aSaveUndo[64];
  int nSave;
  TreeUndo *aTree;             /* slots of the REC_TREE undo records */
  int nTree, nTreeAlloc;
};

/* The most bytes of redo or undo records a transaction may log (each): a
** transaction that would log more fails with VLOG_FULL and stays open, so
** that no int of the logs and of the commit's journal payload (redo
** records plus the commit's extents and write-buffer records) can wrap. */
#define TXN_LOG_MAX  ((i64)1<<30)

#define MAX_SAVEPOINT 64

/* The value log's state in a handle (vlog.c). */
typedef struct VlogLog VlogLog;
typedef struct FrameCacheSlot FrameCacheSlot;
struct FrameCacheSlot {
  u64 iSeg;                    /* 0: empty */
  u64 iGen;                    /* the segment's generation */
  u32 iOff;
  u8 *aRaw;                    /* the frame's records, decompressed */
  int nRaw;
  u64 iUsed;                   /* for LRU */
};
#define FRAME_CACHE_SLOTS 64
#define DDICT_SLOTS       8
struct VlogLog {
  u64 iSeg;                    /* segment being appended to; 0: none */
  u32 iFrameOff;               /* offset of the open frame in iSeg */
  VlogBuf frame;               /* records of the open frame */
  int nFrameRec;
  int iFrameLevel;             /* zstd level of the open frame */
  int bFresh;                  /* the open transaction has aligned to a sector */
  int nNoGain;                 /* frames in a row that did not compress */
  int bFrameRaw;               /* the open frame is raw by decision: its
                               ** records get VTAG_RAW pointers */
  u32 nRawFrames;              /* frames raw by decision, for probing */
  VlogBuf zbuf;                /* compression output */
  VlogBuf val;                 /* the value last read */
  VlogBuf vext;                /* REC_VEXT records of the frames written */
  VlogBuf rbuf;                /* frame read buffer */
  VlogBuf dbuf;                /* a large frame decompressed (not cached) */
  VlogBuf wout;                /* frames not yet written, from ... */
  u64 iWoutSeg;                /* ... this segment ... */
  u32 iWoutOff;                /* ... at this offset on */
  void *pZc, *pZd;             /* zstd contexts */
  FrameCacheSlot aCache[FRAME_CACHE_SLOTS];
  i64 nCache;                  /* bytes cached */
  u64 iCacheClock;
  u64 nFrameRead, nFrameWrite, nCacheHit, nCacheMiss, nRecordRead;
  u64 nRawWritten, nDiskWritten, nBytesRead;
  /* zstd dictionaries (vlog.c, "Dictionaries") */
  u32 iDict;                   /* frames are compressed with it; 0: none */
  u32 iDictLast;               /* highest id in TREE_DICTS, when checked */
  int bDictPending;            /* iDict made by this transaction, uncommitted */
  int bDictChecked;            /* TREE_DICTS looked at in this transaction */
  VlogBuf dict;                /* iDict's bytes */
  void *pCDict;                /* iDict digested for compression ... */
  int iCDictLevel;             /* ... at this level */
  VlogBuf samp;                /* records sampled for training */
  VlogBuf sampSize;            /* their sizes, a size_t each */
  u64 nSampSkip;               /* record bytes to let pass before sampling */
  struct DDictSlot {
    u32 iId;                   /* 0: empty */
    void *pDDict;              /* digested for decompression */
    u64 iUsed;
  } aDDict[DDICT_SLOTS];
  u64 nDictTrained, nDictFrames;
  /* background compression (vlog.c, "Background compression") */
  u8 bBgChecked;               /* the setting was read in this write txn ... */
  u8 bBgDefer;                 /* ... and is on: commits write frames raw */
  u8 bCompressNow;             /* this write txn compresses whatever the
                               ** setting says (maintenance's rewrite) */
  u8 bFrameDefer;              /* the open frame is raw, its compression
                               ** left to maintenance */
  u64 nDeferWritten;           /* record bytes written so */
};

/* Automatic maintenance on this handle (maint.c, "Triggers") */
typedef struct MaintState MaintState;
struct MaintState {
  u8 bBusy;                    /* a pass or step runs: its commits do not step */
  u8 bKick;                    /* a checkpoint: the next step starts one segment
                               ** of the queue, and restages the rest after it */
  u8 bStep;                    /* a rewrite in progress, resumed by each step */
  u8 bStepKick;                /* ... started by a kick */
  u8 bAuto;                    /* the 'auto' setting, as last read */
  u8 bMore;                    /* the queue had more than the segment begun */
  u8 bPending;                 /* a stage was pending, observed at iObserved */
  u8 bCommitCkpt;              /* the commit just made checkpointed */
  u8 bCapped;                  /* the last plan left candidates out (caps) */
  u8 bExplicit;                /* an explicit pass runs (vlogMaintain): its
                               ** plans take compression candidates */
  u64 iObserved;
  u64 nSincePlan;              /* bytes committed since the last plan */
  u64 nSinceTail;              /* ... since the last tail step (maint.c) */
  u64 nTail;                   /* tail steps run */
  u64 nDebt;                   /* bytes committed by commits that ran no step */
  u64 iSeg, iGen, iQueueKey;   /* the segment being rewritten, its queue entry */
  u32 iOff;                    /* where its walk resumes */
  u64 nCommit;                 /* commits this handle made */
  u64 nStep, nStepErr;         /* steps run, and failed */
  u64 iLastCommit;             /* when this handle's last commit ended (us) */
  u64 nQuietUs;                /* quiet_window_ms as last read, in us (0: off) */
  u8 bQuietKnown;              /* ... read at least once */
  u64 nQuiet;                  /* quiet passes run */
};

#define WRITEBACK_BYTES (8*1024*1024) /* written between two xWriteback (store.c) */

struct VlogStore {
  VlogEnv *pEnv;
  VlogFile *pFile;
  char *zPath;
  char *zErr;                  /* last error message */
  VlogConfig cfg;
  const char *zReadOnly;       /* why the handle is read-only (static), or 0 */
  int eLock;                   /* VLOG_LOCK_* held */
  int eHold;                   /* SQLite's lock level that a VFS holds on
                               ** the file through this handle
                               ** (vlogStoreHold); eLock is never below it */
  u32 iExemptLo, iExemptHi;    /* trees vlogRollbackTo() leaves alone
                               ** (vlogStoreSavepointExempt); 0: none */
  u32 iExemptHigh;             /* ... and from this one up (0: none;
                               ** vlogStoreSavepointExemptHigh) */
  int eTxn;                    /* 0 none, 1 read, 2 write */
  int bAutoTxn;                /* the open txn was started implicitly */
  int bValid;                  /* in-memory state matches the file */
  u64 iChange;                 /* change counter the state matches, if
                               ** bChangeOk (see CHANGE_OFF) */
  u8 bChangeOk;
  u8 bChangeBumped;            /* counter bumped in this EXCLUSIVE hold */
  u8 bPrepared;                /* vlogCommitPrepare() wrote the entry; not
                               ** yet published (iPrep*: the journal before) */
  u64 iPrepOff, iPrepSeq;
  i64 nPrepSize;
  u8 bFastRead;                /* the read transaction holds no file lock:
                               ** its slot in the reader table protects it */
  volatile void *pShm;         /* the reader table (shm.c), or 0 */
  int iSlot;                   /* this handle's slot in it, or -1 */
  u64 iReplayEnd;              /* replay stops at this journal sequence (0:
                               ** at the tail) */
  u64 iWantSeq;                /* load the superblock of this checkpoint (0:
                               ** the newest) */
  int bPoison;                 /* a change failed half-way: the write
                               ** transaction's trees cannot be trusted;
                               ** rollback reloads from the file */
  Superblock sb;
  int iSbSlot;                 /* 0 (A) or 1 (B): which copy sb came from */
  Superblock sbOld;            /* the other superblock, when valid and older */
  int bOldValid;
  Journal jrnl;
  Bucket *aBucket;             /* sb.nBucket entries (alloc.c) */
  u64 nBucketAlloc;
  BucketSet freeSet;           /* FREE buckets */
  BucketSet btreeSet;          /* OPEN B-tree buckets with a free region */
  u64 iOpenBtree;              /* the B-tree bucket regions come from */
  u64 *aTouched;               /* segments whose figures changed (bTouched) */
  int nTouched, nTouchedAlloc;
  u64 nZombiePending;          /* zombies of the commit being written
                               ** (Bucket.iZombieSeq) */
  u64 nWithheld;               /* buckets it freed (Bucket.bWithheld) */
  Tree *pTrees;                /* trees loaded */
  Tree *apTreeHash[VLOG_TREE_HASH];  /* ... by id (a store's VFS holds a
                               ** tree per snapshot: hundreds) */
  Tree rootsTree;              /* TREE_ROOTS: root in the superblock */
  Node **apHash;               /* node cache: gen -> Node */
  int nHash;
  int nNode;
  i64 nCacheBytes;             /* bytes of nodes in cache */
  Node *pLruFirst, *pLruLast;  /* first = least recently used */
  Node *pDirty;
  TxnLog log;
  VlogLog vl;
  WriteBuf wb;
  VlogBuf wbJrnl;              /* write-buffer records not yet journaled */
  int bReplay;                 /* replaying the journal: do not journal */
  void *pJrnlZc, *pJrnlZd;     /* zstd contexts of journal payloads */
  u64 iModCount;               /* bumped by every tree change: cursors re-seek */
  int nRegionPerBucket;
  VlogCursor *pCursors;
  VlogBuf getBuf;              /* value copied out by autocommit vlogGet() */
  VlogBuf encBuf;              /* leaf value being written (vlogPutEx) */
  u64 *aRecount;               /* verify: live bytes counted per segment */
  int bInsertOnly;             /* vlogInsertEx() running */
  i64 nTxnLogMax;              /* TXN_LOG_MAX, or less (a test's knob) */
  MaintState maint;            /* automatic maintenance (maint.c) */
  /* statistics for info */
  u64 nReadUnlocked, nReadLocked, nCkptDeferred;
  u64 nTxnBegun;               /* transactions begun (vlogTxnCount) */
  u64 nCommit, nCheckpoint, nNodeRead, nNodeWrite, nCacheHit, nCacheMiss;
  u64 nUserBytes;              /* key and value bytes of committed puts */
  u64 nTxnUserBytes;           /* ... of the open transaction */
  u64 nFileBytesWritten;       /* every byte written to the file */
  u64 nWritebackMark;          /* nFileBytesWritten at the last xWriteback */
};

/* store.c */
int vlogSetError(VlogStore*, int rc, const char *zFmt, ...);
VLOG_MUST_CHECK int vlogReadAt(VlogStore*, u64 iOff, void *p, int n, const char *zWhat);
VLOG_MUST_CHECK int vlogReadPinned(VlogStore*, u64 iOff, void *p, int n);   /* rc of xRead */
int vlogReadOnlyError(VlogStore*);
VLOG_MUST_CHECK int vlogWriteAt(VlogStore*, u64 iOff, const void *p, int n);
int vlogSbWrite(VlogStore*);
int vlogSbDecode(const u8 *a, int nA, Superblock*);
int vlogSbDecodeWhy(const u8 *a, int nA, Superblock*, char *zWhy, int nWhy);
void vlogSbEncode(const Superblock*, u8 *a);
VLOG_MUST_CHECK int vlogSbRead(VlogStore*);
int vlogFormatError(VlogStore*, const char *zVersion);
int vlogStoreLock(VlogStore*, int eLevel);
VLOG_MUST_CHECK int vlogStoreLockWrite(VlogStore*);
VLOG_MUST_CHECK int vlogStoreLockWriter(VlogStore*);
VLOG_MUST_CHECK int vlogStoreLockNoWait(VlogStore*, int eLevel);
VLOG_MUST_CHECK int vlogStoreUnlock(VlogStore*, int eLevel);
VLOG_MUST_CHECK int vlogStoreRefresh(VlogStore*);
VLOG_MUST_CHECK int vlogStoreReadUnlocked(VlogStore*);
void vlogStoreTryPublish(VlogStore*);
void vlogStoreReset(VlogStore*);

/* shm.c */
VLOG_MUST_CHECK int vlogShmOpen(VlogStore*);
void vlogShmClose(VlogStore*);
VLOG_MUST_CHECK int vlogShmReadBegin(VlogStore*, u64 *piCkpt, u64 *piJrnlSeq);
void vlogShmReadEnd(VlogStore*);
int vlogShmIsCurrent(VlogStore*);
void vlogShmPublish(VlogStore*);
VLOG_MUST_CHECK int vlogShmCheckReaders(VlogStore*);
void vlogShmSetWriter(VlogStore*);
u32 vlogShmWriter(VlogStore*);
VLOG_MUST_CHECK int vlogShmOldestPin(VlogStore*, u64 *piCkpt, u64 *piJrnlSeq);
typedef struct VlogShmSlot VlogShmSlot;
struct VlogShmSlot {
  u32 iOwner;                  /* process id written by the owner (0: none) */
  u64 iCkpt;                   /* pinned checkpoint (0: idle) */
  u64 iJrnlSeq;                /* pinned journal sequence */
  int bLive;                   /* some handle holds the slot's lock byte */
  int bMine;                   /* it is this handle's slot */
};
VLOG_MUST_CHECK int vlogShmSlotInfo(VlogStore*, int iSlot, VlogShmSlot*);
int vlogShmSlotCount(void);
void vlogShmTestSetOwner(VlogStore*, int iSlot, u32 iPid);

/* The reader table's slots (shm.c's design note), for the programs that
** read it from outside (test/stress.c): VLOG_SHM_SLOT0 is the offset of
** slot 0 in the -shm, VLOG_SHM_SLOT_* of the fields in a slot. */
#define VLOG_SHM_SLOT0       256
#define VLOG_SHM_SLOT_SIZE   32
#define VLOG_SHM_SLOT_TAG0   0
#define VLOG_SHM_SLOT_PID    4
#define VLOG_SHM_SLOT_CKPT   8
#define VLOG_SHM_SLOT_TAG1   16
#define VLOG_SHM_SLOT_JSEQ   24

/* open.c */
VLOG_MUST_CHECK int vlogStoreLoad(VlogStore*);

/* journal.c */
VLOG_MUST_CHECK int vlogJournalSync(VlogStore*);
VLOG_MUST_CHECK int vlogJournalAppend(VlogStore*, int eType, const u8 *aPayload,
                                      int nPayload, int nRec);
VLOG_MUST_CHECK int vlogJournalReplay(VlogStore*, int bRecover);
int vlogBusyWait(VlogStore*, int *piTry);   /* store.c: sleep before a retry */
#ifndef NDEBUG
int vlogJournalChainHas(VlogStore*, u64 iOff, u64 iSeq, u64 iBucket);
#endif
VLOG_MUST_CHECK int vlogJournalApplyPayload(VlogStore*, const u8 *a, int n);
VLOG_MUST_CHECK int vlogJournalDump(VlogStore*, VlogBuf*);
void vlogJournalClose(VlogStore*);

/* record.c */
VLOG_MUST_CHECK int vlogRecEncode(VlogEnv*, VlogBuf*, const LogRec*);
VLOG_MUST_CHECK int vlogRecDecode(const u8 *a, int n, LogRec*, int *pnUsed);

/* print.c */
VLOG_MUST_CHECK int vlogSbToText(VlogEnv*, const Superblock*, VlogBuf*);
VLOG_MUST_CHECK int vlogBucketToText(VlogStore*, u64 iBucket, VlogBuf*);
VLOG_MUST_CHECK int vlogNodeToText(VlogStore*, const Node*, int bKeys, VlogBuf*);
VLOG_MUST_CHECK int vlogJournalEntryToText(VlogEnv*, u64 iOff, const u8 *aHdr, const u8 *aPayload,
                           int nPayload, VlogBuf*);
VLOG_MUST_CHECK int vlogJournalLinkTarget(VlogStore*, const u8 *a, int n, u64 iSeq, u64 iOff,
                          u64 *piBucket);
VLOG_MUST_CHECK int vlogSegToText(VlogStore*, u64 iSeg, VlogBuf*);

/* check.c: the structure checker of VLOG_DEBUG builds (configure
** --enable-debug, and every test build: Makefile.in's TST_CFLAGS).  It
** walks the handle's memory (trees, node cache, bucket table, write
** buffer, journal position, transaction state, cursors) and appends what
** is wrong to pOut: VLOG_CORRUPT then (VLOG_NOMEM when it cannot say).
** vlogStoreCheckOk() prints that to stderr and returns 0, for
** assert( vlogStoreCheckOk(p) ). */
#ifdef VLOG_DEBUG
VLOG_MUST_CHECK int vlogStoreCheck(VlogStore*, VlogBuf *pOut);
int vlogStoreCheckOk(VlogStore*);
#endif

/* bset.c: entry comparison, packing and unpacking */
int vlogKeyCmp(const u8 *a, int na, const u8 *b, int nb);
u64 vlogKeyPrefix(const u8 *a, int n);
int vlogEntryCmp(const Entry *e, u64 iPrefix, const u8 *pKey, int nKey);
int vlogBsetSearch(const Bset*, const u8 *pKey, int nKey, int *piPos);
int vlogEntrySize(const Entry*);
VLOG_MUST_CHECK int vlogBsetEncode(VlogStore*, Node*, const Entry *a, int n, int iBset, VlogBuf*);
VLOG_MUST_CHECK int vlogNodeDecode(VlogStore*, Node*, const u8 *a, int n, u32 iTree,
                                   int iLevel, u64 iOff);
void vlogPtrEncode(const NodePtr*, u8 *a, int *pn);
VLOG_MUST_CHECK int vlogPtrDecode(const u8 *a, int n, NodePtr*);
int vlogPtrValid(VlogStore*, const NodePtr*);

/* btree.c */
int vlogRootDecode(const u8 *a, int n, u32 *pnLevel, NodePtr*, u32 *pmFlags,
                   VlogTreePolicy*);
int vlogTreePolicyCheck(const VlogTreePolicy*);
int vlogTreeExists(const Tree*);
int vlogTreeNextId(VlogStore*, u32 *piTree);
int vlogTreeTakeKeys(VlogStore*, Tree*, Node **ppRoot);
void vlogTreeGiveKeys(VlogStore*, Tree*, Node *pRoot, u32 nLevel, const NodePtr*);
int vlogTreeFreeNodes(VlogStore*, Node *pRoot, int (*xStale)(VlogStore*, u64, u64));
Node *vlogNodeNew(VlogStore*, u32 iTree, int iLevel, u64 gen);
void vlogNodeFree(VlogStore*, Node*);
VLOG_MUST_CHECK int vlogNodeLoad(VlogStore*, u32 iTree, int iLevel, const NodePtr*,
                                 Node *pParent, Node **ppNode);
VLOG_MUST_CHECK int vlogNodeChild(VlogStore*, Node*, int iEntry, Node **ppChild);
VLOG_MUST_CHECK int vlogNodeView(VlogStore*, Node*);
void vlogNodeMarkDirty(VlogStore*, Node*);
void vlogNodeRef(VlogStore*, Node*);
void vlogNodeUnref(VlogStore*, Node*);
void vlogCacheShrink(VlogStore*);
void vlogCacheDropAll(VlogStore*);
int vlogTreeGet(VlogStore*, u32 iTree, int bCreate, Tree **ppTree);
int vlogBtreeInsert(VlogStore*, u32 iTree, const u8 *pKey, int nKey,
                    const u8 *pVal, int nVal, int eType);
VLOG_MUST_CHECK int vlogBtreeLookup(VlogStore*, u32 iTree, const u8 *pKey, int nKey,
                    const u8 **ppVal, int *pnVal);
int vlogBtreeMaxValue(VlogStore*);
int vlogTreeSaveRoot(VlogStore*, Tree*);
int vlogTreeRoot(VlogStore*, Tree*, Node **ppRoot);
int vlogTreesLoadAll(VlogStore*);
int vlogNodeWrite(VlogStore*, Node*);

/* txn.c */
int vlogAutoBegin(VlogStore*, int bWrite, int *pbAuto);
int vlogAutoEnd(VlogStore*, int bAuto, int rc);
int vlogTxnApply(VlogStore*, int op, u32 iTree, const u8 *pKey, int nKey,
                 const u8 *pVal, int nVal, int bLog);
int vlogTxnTreeApply(VlogStore*, const LogRec*, int bLog);
int vlogTxnTreesFree(VlogStore*, int (*xStale)(VlogStore*, u64, u64));
void vlogTxnLogClear(VlogStore*);

/* wbuf.c */
VLOG_MUST_CHECK int vlogWbAdd(VlogStore*, u32 iTree, u64 iKey, const u8 *aVal, int nVal,
                              int bDelete);
VLOG_MUST_CHECK int vlogWbFlush(VlogStore*, int bAll);
void vlogWbClear(VlogStore*);

/* checkpoint.c */
VLOG_MUST_CHECK int vlogCheckpointInternal(VlogStore*);

/* vlog.c */
#define VTAG_INLINE   0        /* leaf value of a user tree: tag, then bytes */
#define VTAG_PTR      1        /* tag, segment, generation, frame offset,
                               ** index, length */
#define VTAG_CHUNKS   2        /* tag, length, chunks, {segment, generation,
                               ** frame offset, length}... */
#define VTAG_RAW      3        /* tag, segment, generation, frame offset,
                               ** record offset, length, u32 record checksum */
#define VTAG_ZINLINE  4        /* tag, length, the value as one zstd frame */
VLOG_MUST_CHECK int vlogValueEncode(VlogStore*, u32 iTree, const u8 *pKey, int nKey, const u8 *pVal,
                    int nVal, int nInlineMax, int iLevel, int bZInline, VlogBuf *pOut);
VLOG_MUST_CHECK int vlogValueDecode(VlogStore*, u32 iTree, const u8 *pKey, int nKey, const u8 *a,
                    int n, const u8 **ppVal, int *pnVal);
VLOG_MUST_CHECK int vlogValueVerify(VlogStore*, u32 iTree, const u8 *pKey, int nKey, const u8 *a,
                    int n, const u8 **ppVal, int *pnVal);
VLOG_MUST_CHECK int vlogLogFlush(VlogStore*);
VLOG_MUST_CHECK int vlogLogCommit(VlogStore*);
void vlogLogCommitted(VlogStore*);
void vlogLogTxnStart(VlogStore*);
void vlogLogCompressNow(VlogStore*);
void vlogLogReset(VlogStore*);
void vlogLogClose(VlogStore*);
const u8 *vlogRecordParse(const u8 *z, const u8 *pEnd, u64 *piTree, const u8 **ppKey,
                          u64 *pnKey, const u8 **ppVal, u64 *pnVal);
VLOG_MUST_CHECK int vlogLogVerifyExtent(VlogStore*, const u8 *a, int n);
VLOG_MUST_CHECK int vlogDictVerify(VlogStore*, VlogBuf *pRep);
VLOG_MUST_CHECK int vlogDictGc(VlogStore*, int *pnDrop);
/* maint.c */
VLOG_MUST_CHECK int vlogMaintCounters(VlogStore*, u64 *aOut);   /* 5 figures */
VLOG_MUST_CHECK int vlogMaintMarks(VlogStore*, VlogSegmentInfo *a, int n);
void vlogMaintAfterCommit(VlogStore*, u64 nWritten);
VLOG_MUST_CHECK int vlogMaintBgCompression(VlogStore*, int *pbOn);
VLOG_MUST_CHECK int vlogSegFrameNext(VlogStore*, u64 iSeg, u64 iGen, u32 *piOff,
                                     u32 *piNext, const u8 **paRaw, int *pnRaw,
                                     int *pnSkip);
int vlogValuePointsAt(const u8 *a, int n, u64 iSeg, u64 iGen, u32 iOff, int iIdx,
                      u32 iRecOff, int *pbChunks);
u64 vlogRecordBytes(u32 iTree, int nKey, u64 nVal);
VLOG_MUST_CHECK int vlogLogSealOpen(VlogStore*);
VLOG_MUST_CHECK int vlogValueSize(VlogStore*, u32 iTree, const u8 *pKey, int nKey,
                                  const u8 *a, int n,
                                  u64 *pnVal, u64 *pnStored);
VLOG_MUST_CHECK int vlogValueSegBytes(VlogStore*, u32 iTree, int nKey, const u8 *a,
                                      int n, u64 *aBytes, u64 nSeg);
VLOG_MUST_CHECK int vlogValueForEach(VlogStore*, u32 iTree, int nKey, const u8 *a, int n,
                     int (*xPer)(VlogStore*, u64 iSeg, u64 nBytes));

/* cursor.c */
void vlogCursorsInvalidate(VlogStore*);
void vlogCursorsSave(VlogStore*);
#ifdef VLOG_DEBUG
/* check.c's view of the cursors: xPin(pCtx, node) for each node pinned
** by a cursor's path, then 0 if every cursor is sound, or what is wrong */
const char *vlogCursorsCheck(VlogStore*, void (*xPin)(void*, const Node*), void*);
#endif

#define BE32(a, v) do{ (a)[0]=(u8)((v)>>24); (a)[1]=(u8)((v)>>16); \
                       (a)[2]=(u8)((v)>>8); (a)[3]=(u8)(v); }while(0)
u32 vlogGetBE32(const u8 *a);
u64 vlogGetBE64(const u8 *a);
void vlogPutBE64(u8 *a, u64 v);

#endif /* VLOG_STORE_INT_H */
