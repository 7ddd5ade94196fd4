/*
** engine.h: the interface of vlog's storage engine to the rest of vlog
** (ext/, vfs/, tool/, the tests).
**
** A store is one file holding B-trees of keys and values (and, later, a
** value log).  A VlogStore is one handle on it, used by one thread at a
** time, with its own node cache, as a SQLite connection has its own page
** cache.  Handles in one process and in several processes coordinate
** through the file's locks (io.h) and see each other's commits at their
** next transaction.
**
** TRANSACTIONS
**   vlogBegin(p, 0)   read transaction: sees the last committed state and
**                     nothing else until it ends; no lock (the reader
**                     table in shared memory, shm.c), so commits go on
**   vlogBegin(p, 1)   write transaction: RESERVED lock (one writer per
**                     store); readers carry on; its changes are visible to
**                     this handle only until commit.  VLOG_BUSY when it
**                     upgrades a read transaction that another handle's
**                     commit has made out of date
**   vlogCommit(p)     EXCLUSIVE while the journal entry is written (waits
**                     only for readers that use file locks); durable when
**                     it returns with sync=full
**   vlogCommitPrepare(p)  the first phase of vlogCommit(): written (and
**                     synced) but not visible to others and still undone
**                     by vlogRollback(); vlogCommit() completes it
**   vlogRollback(p)   undoes the write transaction
**   vlogSavepoint(p, N), vlogRollbackTo(p, N), vlogRelease(p, N)
**                     nested savepoints, numbered from 1 like SQLite's
**                     xSavepoint(): N open savepoints after vlogSavepoint;
**                     vlogRollbackTo(p, 0) undoes the whole transaction
**                     and keeps it open (SQLite's xRollbackTo(-1))
** Calls made outside a transaction run in one of their own (autocommit);
** inside a read transaction a change (put, delete, tree drop) upgrades it to
** a write transaction, which stays the caller's to commit or roll back.
**
** TREES
** A tree is named by a 32-bit id; ids below VLOG_TREE_FIRST_USER belong to
** the engine.  vlogTreeCreate() hands out ids from VLOG_TREE_FIRST_AUTO up
** (one more than the largest id in use, so the id of the newest tree comes
** back after it is dropped); ids from VLOG_TREE_FIRST_USER to
** VLOG_TREE_FIRST_AUTO-1 are for trees a caller must find without looking
** anything up (the virtual table's catalog is tree 16), and so are those
** from VLOG_TREE_FIRST_HIGH up (the VFS's layers of snapshots), which
** vlogTreeCreate() neither hands out nor counts.  A tree's value
** policy (VlogTreePolicy: which values go to the value log, how they are
** compressed) is stored with its root and survives reopening; vlogPut()
** follows it.  A tree that was never given one (a put to an id nobody
** created) has the default policy (every value in the leaf) and ceases
** to exist when its last key goes; a created tree lasts until
** vlogTreeDrop(), empty or not.  Creating, clearing and dropping a tree
** and changing its policy are changes of the transaction like any other:
** a rollback (to a savepoint) undoes them.
**
** KEYS AND VALUES  Keys are byte strings of 1 to VLOG_MAX_KEY bytes compared
** with memcmp() (shorter first on a tie); values are 0 to the store's
** maximum inline value size (about a quarter of a node; vlogStoreLimits()).
** A pointer the engine returns (key, value, message) is valid until the next
** call on the same handle or any of its cursors, unless said otherwise:
** inside a transaction, and outside one too (the call's own transaction
** has ended, but the bytes are in the handle's memory, a pinned node or a
** buffer, which other handles' commits and checkpoints never touch).
**
** RESULT CODES
** The values of SQLite's result codes, so that ext/ and vfs/ pass them up
** unchanged.  Every error leaves a message in vlogStoreErrMsg().
*/
#ifndef VLOG_ENGINE_H
#define VLOG_ENGINE_H

#include <stdint.h>
#include "io.h"

#define VLOG_OK           0
#define VLOG_ERROR        1
#define VLOG_BUSY         5
#define VLOG_NOMEM        7
#define VLOG_READONLY     8
#define VLOG_IOERR       10
#define VLOG_CORRUPT     11
#define VLOG_NOTFOUND    12
#define VLOG_FULL        13
#define VLOG_CANTOPEN    14
#define VLOG_TOOBIG      18
#define VLOG_CONSTRAINT  19
#define VLOG_MISUSE      21
#define VLOG_RANGE       25
#define VLOG_NOTADB      26
#define VLOG_IOERR_READ        (VLOG_IOERR | (1<<8))
#define VLOG_IOERR_SHORT_READ  (VLOG_IOERR | (2<<8))
#define VLOG_IOERR_WRITE       (VLOG_IOERR | (3<<8))
#define VLOG_IOERR_FSYNC       (VLOG_IOERR | (4<<8))
#define VLOG_IOERR_TRUNCATE    (VLOG_IOERR | (6<<8))
#define VLOG_IOERR_FSTAT       (VLOG_IOERR | (7<<8))
#define VLOG_IOERR_DELETE      (VLOG_IOERR | (10<<8))
#define VLOG_IOERR_NOMEM       (VLOG_IOERR | (12<<8))
#define VLOG_IOERR_LOCK        (VLOG_IOERR | (15<<8))
#define VLOG_IOERR_SHMOPEN     (VLOG_IOERR | (18<<8))
#define VLOG_IOERR_SHMMAP      (VLOG_IOERR | (21<<8))
#define VLOG_CANTOPEN_ISDIR    (VLOG_CANTOPEN | (2<<8))   /* a directory */
#define VLOG_CANTOPEN_NOTREG   (VLOG_CANTOPEN | (32<<8))  /* a device, FIFO,
                                                         ** socket: vlog's own */

/* Limits */
#define VLOG_MAX_KEY          2048            /* bytes of key */
#define VLOG_MAX_VALUE        (256*1024*1024) /* bytes of value (vlogPutEx) */
#define VLOG_TREE_FIRST_USER  16              /* lower tree ids: the engine's */
#define VLOG_TREE_FIRST_AUTO  32              /* vlogTreeCreate()'s first id */
#define VLOG_TREE_FIRST_HIGH  0x70000000      /* from here up: a caller's
                                              ** again, never handed out */
#define VLOG_MAX_TREE         0x7fffffff
#define VLOG_INLINE_ALL       0x7fffffff      /* VlogTreePolicy.nInlineMax:
                                              ** every value in the leaf */
#define VLOG_MAX_ZSTD_LEVEL   22              /* zstd's highest level */

/* Synchronous levels, as SQLite's PRAGMA synchronous */
#define VLOG_SYNC_OFF     0     /* never sync: a crash may lose or corrupt */
#define VLOG_SYNC_NORMAL  1     /* sync at checkpoint: a crash may lose the
                                ** last commits, never tear one */
#define VLOG_SYNC_FULL    2     /* sync at every commit */

typedef struct VlogStore VlogStore;
typedef struct VlogCursor VlogCursor;
typedef struct VlogConfig VlogConfig;

struct VlogConfig {
  int bReadOnly;              /* open read-only: never writes the file, nor
                              ** creates or writes its -shm (reads take a
                              ** SHARED lock) */
  int bShmReadOnly;           /* with bReadOnly: map the shared memory all the
                              ** same (as SQLite's read-only connections do),
                              ** so that reads pin snapshots in the reader
                              ** table; the -shm is written, never the store */
  int bImmutable;             /* the file cannot change while open (read-only
                              ** media, SQLite's immutable=1): read-only,
                              ** and no locks at all */
  int bCreate;                /* create the store when the file is absent/empty */
  int nBucketSize;            /* new stores: bytes per bucket (default 1 MiB) */
  int nNodeSize;              /* new stores: bytes per B-tree node (64 KiB) */
  int64_t nCacheSize;         /* bytes of clean nodes kept cached (64 MiB) */
  int64_t nAutoCheckpoint;    /* checkpoint when the journal passes this many
                              ** bytes (default 32 MiB); 0: only explicitly */
  int eSync;                  /* VLOG_SYNC_* (default FULL) */
  int nBusyTimeout;           /* ms to wait for a busy lock (default 0) */
  int64_t nMmapSize;          /* bytes of the file read through a memory map
                              ** (default VLOG_DEFAULT_MMAP_SIZE; 0: none) */
};

/* The default map: as much as SQLite's unix VFS maps (its ceiling,
** SQLITE_MAX_MMAP_SIZE, is a little under 2 GiB on 64-bit Linux); past it,
** and in an env without maps, reads are system calls. */
#define VLOG_DEFAULT_MMAP_SIZE  ((int64_t)0x7fff0000)

/* Fill *pConfig with the defaults. */
void vlogConfigDefault(VlogConfig *pConfig);

/*
** Open (and with bCreate, create) the store in file zPath.  *ppStore is set
** even on failure (unless out of memory), so that vlogStoreErrMsg() can say
** what went wrong; the caller closes it either way.
*/
VLOG_MUST_CHECK int vlogStoreOpen(VlogEnv*, const char *zPath, const VlogConfig*,
                                  VlogStore **ppStore);
int vlogStoreClose(VlogStore*);       /* frees the handle, whatever it returns */
const char *vlogStoreErrMsg(VlogStore*);
/* Whether the handle is read-only: asked, or the file could only be
** opened for reading (its permissions, read-only media). */
int vlogStoreIsReadOnly(VlogStore*);
/* Whether the handle mapped the shared memory (the -shm's reader table);
** a read-only handle that did not reads under a shared file lock. */
int vlogStoreHasShm(VlogStore*);
/* The handle's file (its env's), for file controls a VFS forwards. */
VlogFile *vlogStoreFile(VlogStore*);
VLOG_MUST_CHECK int vlogStoreSetSync(VlogStore*, int eSync);
VLOG_MUST_CHECK int vlogStoreSetCacheSize(VlogStore*, int64_t nByte);
VLOG_MUST_CHECK int vlogStoreSetAutoCheckpoint(VlogStore*, int64_t nByte);
VLOG_MUST_CHECK int vlogStoreSetMmapSize(VlogStore*, int64_t nByte);  /* 0: no map */
VLOG_MUST_CHECK int vlogStoreSetBusyTimeout(VlogStore*, int nMs);     /* 0: fail at once */
int vlogStoreMaxValue(VlogStore*);          /* largest value a leaf holds */

/* Transactions */
VLOG_MUST_CHECK int vlogBegin(VlogStore*, int bWrite);
VLOG_MUST_CHECK int vlogCommit(VlogStore*);
VLOG_MUST_CHECK int vlogCommitPrepare(VlogStore*);
VLOG_MUST_CHECK int vlogRollback(VlogStore*);
VLOG_MUST_CHECK int vlogSavepoint(VlogStore*, int iSave);
VLOG_MUST_CHECK int vlogRollbackTo(VlogStore*, int iSave);
VLOG_MUST_CHECK int vlogRelease(VlogStore*, int iSave);
int vlogTxnState(VlogStore*);               /* 0 none, 1 read, 2 write */
/* A write transaction that has changed nothing (its commit would write
** nothing): 1, else 0. */
int vlogTxnIsEmpty(VlogStore*);
/* Take now the lock a commit of the open write transaction needs
** (EXCLUSIVE, waiting up to the busy timeout), so that the commit cannot
** fail to lock: for a VFS whose commit point is past where an error can
** be told.  VLOG_BUSY: the transaction stays open. */
VLOG_MUST_CHECK int vlogCommitLock(VlogStore*);
/* How many transactions the handle has begun: which one is open. */
uint64_t vlogTxnCount(VlogStore*);
/* Sync the store file: every commit this handle knows of is durable
** (those made at VLOG_SYNC_NORMAL included).  Any transaction state. */
VLOG_MUST_CHECK int vlogStoreSync(VlogStore*);
/* For a VFS (vfs/): hold SQLite's lock level eLevel (VLOG_LOCK_*) on the
** store file, on the same bytes as SQLite's, raised in one attempt
** (VLOG_BUSY: SQLite's busy handler waits) or lowered.  While a level is
** held, transactions run under it: they take no lock of their own nor
** use the reader table, and their end gives back only what they took
** above it (a write transaction under SHARED: RESERVED, EXCLUSIVE).
** Lowering to NONE needs a read transaction ended.  A write transaction
** keeps the locks it holds while the level is lowered under it (a virtual
** table's, in the VFS's store) and gives them back at its end. */
VLOG_MUST_CHECK int vlogStoreHold(VlogStore*, int eLevel);
/* For a VFS sharing its store with virtual tables: changes to trees iFirst
** to iLast (the VFS's pages, which SQLite's pager rolls back itself) are
** left alone by vlogRollbackTo(); vlogRollback() still undoes them.  0, 0:
** none (the default). */
VLOG_MUST_CHECK int vlogStoreSavepointExempt(VlogStore*, uint32_t iFirst, uint32_t iLast);
/* ... and the trees from iFirst (at least VLOG_TREE_FIRST_HIGH) up too
** (0: none; the VFS's layers of snapshots). */
VLOG_MUST_CHECK int vlogStoreSavepointExemptHigh(VlogStore*, uint32_t iFirst);
/* SQLite's xCheckReservedLock: does any handle hold RESERVED or above? */
VLOG_MUST_CHECK int vlogStoreCheckReserved(VlogStore*, int *pbReserved);
/* SQLITE_FCNTL_HAS_MOVED: the store file's name no longer leads to it. */
VLOG_MUST_CHECK int vlogStoreHasMoved(VlogStore*, int *pbMoved);

/* Trees */
typedef struct VlogTreePolicy VlogTreePolicy;
struct VlogTreePolicy {
  int nInlineMax;             /* values longer than this many bytes go to
                              ** the value log; VLOG_INLINE_ALL (or anything
                              ** above vlogStoreMaxValue()): none do, and a
                              ** longer value is VLOG_TOOBIG */
  int iZstdLevel;             /* zstd level of its value-log frames, 0 (raw)
                              ** to VLOG_MAX_ZSTD_LEVEL */
  int bCompressInline;        /* 1: values kept in the leaf are compressed
                              ** too (zstd at iZstdLevel, one value at a
                              ** time), each when that saves an eighth of
                              ** it; never with iZstdLevel 0 */
};
/* The default: every value in the leaf, nothing compressed.  A policy is
** set whole: a caller fills every field (start from the default). */
void vlogTreePolicyDefault(VlogTreePolicy*);
/* A new, empty tree with policy *pPolicy (0: the default); its id into
** *piTree.  VLOG_FULL when no id is left. */
int vlogTreeCreate(VlogStore*, const VlogTreePolicy*, uint32_t *piTree);
/* Tree iTree's policy; VLOG_NOTFOUND if there is no such tree. */
int vlogTreeGetPolicy(VlogStore*, uint32_t iTree, VlogTreePolicy*);
/* Set tree iTree's policy (for values written from now on); a tree that
** does not exist is created with that id (a caller's fixed tree). */
int vlogTreeSetPolicy(VlogStore*, uint32_t iTree, const VlogTreePolicy*);
/* Delete every key of tree iTree at once: no work per key until commit,
** which frees the tree's nodes and moves its value-log values to stale.
** vlogTreeClear keeps the tree and its policy; vlogTreeDrop removes the
** tree (its id may be handed out again). */
int vlogTreeClear(VlogStore*, uint32_t iTree);
int vlogTreeDrop(VlogStore*, uint32_t iTree);

/* Keys and values.  vlogPut follows the tree's policy.  Values up to
** VLOG_MAX_VALUE (256 MiB) bytes (vlogStoreMaxValue() for a tree whose
** values all stay in the leaf). */
int vlogPut(VlogStore*, uint32_t iTree, const void *pKey, int nKey,
            const void *pVal, int nVal);
/* vlogInsert: as vlogPut, but VLOG_CONSTRAINT (and nothing changes) when
** the key exists. */
int vlogInsert(VlogStore*, uint32_t iTree, const void *pKey, int nKey,
               const void *pVal, int nVal);
/* vlogPutEx, vlogInsertEx: with a policy of the caller's for this value
** instead of the tree's: values longer than nInlineMax bytes go to the
** value log, compressed with zstd at iZstdLevel (0: stored raw). */
int vlogPutEx(VlogStore*, uint32_t iTree, const void *pKey, int nKey,
              const void *pVal, int nVal, int nInlineMax, int iZstdLevel);
int vlogInsertEx(VlogStore*, uint32_t iTree, const void *pKey, int nKey,
                 const void *pVal, int nVal, int nInlineMax, int iZstdLevel);
int vlogDelete(VlogStore*, uint32_t iTree, const void *pKey, int nKey);
int vlogGet(VlogStore*, uint32_t iTree, const void *pKey, int nKey,
            const void **ppVal, int *pnVal);          /* VLOG_NOTFOUND */
int vlogHas(VlogStore*, uint32_t iTree, const void *pKey, int nKey); /* NOTFOUND */

/* Cursors */
#define VLOG_SEEK_EQ  0
#define VLOG_SEEK_GE  1
#define VLOG_SEEK_LE  2
#define VLOG_SEEK_GT  3
#define VLOG_SEEK_LT  4
VLOG_MUST_CHECK int vlogCursorOpen(VlogStore*, uint32_t iTree, VlogCursor **ppCsr);
int vlogCursorClose(VlogCursor*);
VLOG_MUST_CHECK int vlogCursorBounds(VlogCursor*,
    const void *pLo, int nLo, int bLoOpen,  /* pLo==0: no lower bound */
    const void *pHi, int nHi, int bHiOpen); /* pHi==0: no upper bound */
VLOG_MUST_CHECK int vlogCursorSeek(VlogCursor*, const void *pKey, int nKey, int eSeek);
VLOG_MUST_CHECK int vlogCursorFirst(VlogCursor*);
VLOG_MUST_CHECK int vlogCursorLast(VlogCursor*);
VLOG_MUST_CHECK int vlogCursorNext(VlogCursor*);
VLOG_MUST_CHECK int vlogCursorPrev(VlogCursor*);
int vlogCursorValid(VlogCursor*);
VLOG_MUST_CHECK int vlogCursorKey(VlogCursor*, const void **ppKey, int *pnKey);
VLOG_MUST_CHECK int vlogCursorValue(VlogCursor*, const void **ppVal, int *pnVal);

/* Maintenance and inspection */
VLOG_MUST_CHECK int vlogCheckpoint(VlogStore*);
VLOG_MUST_CHECK int vlogVerify(VlogStore*, char **pzReport);    /* report: vlogFree()  */
VLOG_MUST_CHECK int vlogStoreInfo(VlogStore*, char **pzInfo);   /* text:   vlogFree()  */
VLOG_MUST_CHECK int vlogStoreDump(VlogStore*, char **pzOut);    /* every structure, a line
                                                ** each (print.c): vlogFree() */
VlogEnv *vlogStoreEnv(VlogStore*);

/* Inspection (inspect.c).  Each call runs in a read transaction of its own
** unless one is open, and returns an array the caller frees with
** vlogFree(vlogStoreEnv(p), ...). */
typedef struct VlogSegmentInfo VlogSegmentInfo;
struct VlogSegmentInfo {
  uint64_t iSeg;                     /* segment id (its bucket) */
  uint64_t iGen;                     /* its generation: new each time the
                                     ** bucket becomes a segment */
  const char *zState;                /* "open", "sealed", "staged" (in
                                     ** the rewrite ledger), "queued",
                                     ** "rewriting" or "zombie" (nothing
                                     ** live: freed after two checkpoints) */
  const char *zKind;                 /* "value" (a commit's values) or
                                     ** "rewrite" (records maintenance moved) */
  uint64_t nTotal;                   /* bytes of records ever appended */
  uint64_t nLive;                    /* bytes of records still referenced */
  uint64_t nRec;                     /* records appended */
  uint64_t nDisk;                    /* bytes of the bucket in use */
  uint64_t iCreateSeq, iCreateTime;  /* commit sequence, unix microseconds */
  uint64_t iSealSeq, iSealTime;      /* 0 while open */
  uint64_t nToCompress;              /* record bytes written raw for
                                     ** background compression */
  uint32_t iDictLo, iDictHi;         /* zstd dictionary ids its frames
                                     ** name (0: none) */
};
VLOG_MUST_CHECK int vlogSegments(VlogStore*, VlogSegmentInfo **paSeg, int *pnSeg);

typedef struct VlogStat VlogStat;
struct VlogStat {
  const char *zName;                 /* static */
  double rValue;
  int bStore;                        /* 1: a figure of the store (every
                                     ** handle sees the same); 0: of this
                                     ** handle, since it was opened */
};
VLOG_MUST_CHECK int vlogStats(VlogStore*, VlogStat **paStat, int *pnStat);

typedef struct VlogTreeLevel VlogTreeLevel;
struct VlogTreeLevel {
  uint32_t iTree;
  int iLevel;                        /* 0: leaves */
  uint64_t nNode, nKey, nBset, nBytes;
  double rFill;                      /* live bytes / (nodes * node size) */
};
VLOG_MUST_CHECK int vlogTreeLevels(VlogStore*, VlogTreeLevel **paLevel, int *pnLevel);

/* The size of tree iTree, by one walk of its leaves (values not read):
** keys, bytes of values, and the bytes they take in the store file (the
** leaf's for values kept there; value-log records at their segment's
** ratio of bytes on disk to record bytes). */
typedef struct VlogTreeSize VlogTreeSize;
struct VlogTreeSize {
  uint64_t nKey, nValue, nStored;
};
VLOG_MUST_CHECK int vlogTreeSize(VlogStore*, uint32_t iTree, VlogTreeSize*);

/* Add to aBytes[s] the bytes of value-log records that tree iTree's values
** have in segment s, for each s below nSeg (one walk of its leaves). */
VLOG_MUST_CHECK int vlogTreeSegmentBytes(VlogStore*, uint32_t iTree, uint64_t *aBytes,
                                         int nSeg);

/* Value-log maintenance (maint.c).  vlogMaintain() runs one pass, outside
** any transaction, in transactions of its own: zMode "auto" (0), "plan",
** "stage", "confirm", "rewrite-one", "gc" or "full"; zTrigger "explicit"
** (0), "kick" or "auto".  Its JSON report into *pzReport (vlogFree()). */
VLOG_MUST_CHECK int vlogMaintain(VlogStore*, const char *zMode, const char *zTrigger,
                                 char **pzReport);
/* Setting zName into *prValue; with prNew, set it first (persisted in the
** store).  vlogMaintSettingName(i): the i-th name, 0 past the last. */
VLOG_MUST_CHECK int vlogMaintSetting(VlogStore*, const char *zName, const double *prNew,
                                     double *prValue);
const char *vlogMaintSettingName(int i);
typedef struct VlogMaintEntry VlogMaintEntry;
struct VlogMaintEntry {
  uint64_t iPos;                     /* queue: its position; ledger: segment */
  uint64_t iSeg, iGen;               /* the segment and its generation */
  uint64_t nTotal, nLive;            /* its figures when observed or queued */
  uint64_t iTime;                    /* then (unix microseconds) */
};
/* The rewrite queue (bLedger 0) or ledger (1) (vlogFree()); *pbPending:
** whether a stage waits for its confirmation. */
VLOG_MUST_CHECK int vlogMaintQueue(VlogStore*, int bLedger, VlogMaintEntry **paE,
                                   int *pnE, int *pbPending);
typedef struct VlogMaintLogEntry VlogMaintLogEntry;
struct VlogMaintLogEntry {
  uint64_t iSeq;                     /* pass number */
  uint64_t iStart, iEnd;             /* unix microseconds */
  const char *zTrigger, *zMode;
  uint64_t nPlanned, nRewritten, nFreed, nCopied, nReclaimed;
  int rc;                            /* its result (VLOG_OK: it succeeded) */
  const char *zError;                /* its message, or 0 */
};
/* The log of the last passes, oldest first (vlogFree()). */
VLOG_MUST_CHECK int vlogMaintLog(VlogStore*, VlogMaintLogEntry **paE, int *pnE);

/* The engine's name of one of its own trees (below VLOG_TREE_FIRST_USER):
** "roots", "buckets", "segments", "dictionaries", "maintenance"; 0 for any
** other id. */
const char *vlogTreeName(uint32_t iTree);

/* Name of a result code ("VLOG_CORRUPT"), for messages and tests. */
const char *vlogErrName(int rc);

#endif /* VLOG_ENGINE_H */
