/*
** vfs.c: the vlog VFS.  SQLite databases stored in vlog stores: each page
** a key of the store, its value the page compressed and checksummed in the
** value log, each SQLite write transaction one engine commit.
**
** USING
**   sqlite3 'file:app.db?vfs=vlog'            (after .load ./vlog)
**   .open --vfs vlog app.db
**   sqlite3_open_v2("app.db", &db, flags, "vlog");
**   SELECT vlog_vfs_default(1);              -- vlog becomes the default
**
** URI parameters: immutable=1 (as SQLite's); dirty_max=BYTES, how many
** bytes of a transaction's pages are kept until its commit (default 32
** MiB; past it they go to the store's transaction at once, compressed;
** 0: every page at once); dirty_mem=BYTES, how many of those in memory
** (default: all; the rest wait in a temporary file, as do those that
** would pass SQLite's soft or hard heap limit).
**
** The VFS is registered by the extension's first load (ext/vlog.c) and
** stays registered for the life of the process.  sqlite3_vlog_vfs_register()
** (vlog.h) registers another instance over a named parent VFS (the tests
** put SQLite's crash-simulating VFS under one).
**
** DESIGN NOTE (see vfs/README.md for the reasons)
**
** Files.  A main database file opened through the VFS is a vlog store.
** Its pages are the keys of tree VFS_TREE_MAIN: the key is the big-endian
** 32-bit number of the chunk (the page number: chunk k covers bytes
** [(k-1)*sz, k*sz) for the file's chunk size sz), the value the chunk's
** bytes, always in the value log, compressed at the tree's zstd level.
** An all-zero chunk is no key.  The file's logical size and chunk size are
** its entry in tree VFS_TREE_CATALOG, under the key "main" (16 bytes:
** version 1, three zero bytes, chunk size BE32, size BE64), written in the
** transaction that changes them.  The chunk size is the size of the first
** page-aligned write of a power of two from 512 to 65536 (SQLite's page
** size); a write of another such size, aligned to it, re-chunks the file
** (VACUUM to a new page_size does that once).  Any other read or write is
** served by read-modify-write of the chunks it covers.
**
** A file that is not a store (a plain SQLite database, anything else, a
** directory) opened through the VFS is handed to the parent VFS, whole:
** it works, or fails, as it would on its own, with its journals on disk
** (vlog_files says it is not a store; VACUUM INTO 'file:new.db?vfs=vlog'
** converts a database).  The engine tells, from the first bytes, before
** it creates anything.  A store that another connection holds locked
** (a writer committing) is opened at its first use, as the unix VFS opens
** a locked file and waits at the lock: until then SQLite's unlocked peek
** at the header reads it as empty.
**
** Transactions.  SQLite's lock levels are held on the store file's lock
** bytes through the engine (vlogStoreHold): SHARED gives the connection's
** reads one snapshot, RESERVED lets it write, and every page write goes
** into one engine write transaction, which nobody else sees.  That
** transaction commits at SQLite's commit point:
**   - rollback journal modes (DELETE, TRUNCATE, PERSIST): the journal is a
**     file in this process's memory (VfsJrnl), attached to its database
**     file; it never reaches the disk.  Its start is the header SQLite
**     writes at offset 0 (non-zero sector and page size fields); its end,
**     the commit, is its deletion (xClose, then xDelete of its name), its
**     truncation to 0, or its first 28 bytes zeroed;
**   - no journal (MEMORY, OFF): the database file's xSync, or with
**     synchronous=OFF SQLITE_FCNTL_COMMIT_PHASETWO, which SQLite sends
**     after every commit (before it unlocks; locking_mode=EXCLUSIVE never
**     unlocks).
** A lock going below RESERVED with the VFS's part of the transaction not
** ended (SQLite gave up on an I/O error, leaving what would be a hot
** journal, or rolled back with no journal) rolls the engine transaction
** back: that is the hot journal's rollback, done at once.  A ROLLBACK
** plays the journal back into the file and then ends it; SQLite first
** reads where a super-journal's name would end the journal (16 bytes
** before its end) only to play it all back (pager_playback, not a
** ROLLBACK TO, which may read the first header too: a savepoint opened
** before the journal), so after such a read the journal's end rolls the
** engine transaction back instead (bPlayback).  Past VFS_JRNL_SPILL bytes the
** journal moves to an unlinked temporary file of the parent.  The pages
** SQLite writes wait (DirtyPage) until the commit, up to dirty_max bytes
** (VFS_DIRTY_MAX): a page written again after a cache spill is compressed
** once.  The pages first written last (dirty_mem bytes) are in memory,
** the rest in an unlinked temporary file, as are those past SQLite's heap
** limits.  The commit syncs (VLOG_SYNC_FULL) when SQLite synced the
** journal or the database in the transaction, and otherwise
** (synchronous=OFF) commits at VLOG_SYNC_NORMAL: a crash may lose it,
** never tear it.
**
** Virtual tables in the store.  A vlog table of the database without
** file= lives in this store (ext/vtab.c), in the same engine transaction
** as the pages.  The VFS ends the transaction when it has a part in it
** (bPart: a page or the size written, or the journal started): the
** commit commits both halves, the rollback rolls back both.  A
** transaction with no page changed is the tables' alone: SQLite's commit
** reaches the file as SQLITE_FCNTL_COMMIT_PHASETWO, which commits it, and
** a rollback leaves it to the tables' xRollback (the lock going down,
** even to NONE, leaves it open: the engine keeps its locks until it
** ends).  SQLite's pager rolls back its own savepoints by writing pages
** back, so the engine's savepoint rollback, which the tables call, leaves
** the VFS's trees alone (vlogStoreSavepointExempt).

** Transactions over several databases.  With ATTACHed databases SQLite
** commits through a super-journal, whose deletion is the commit point of
** all: each database's journal names it, and after a crash a hot journal
** whose super-journal exists is played back.  So a journal of such a
** transaction goes to disk at phase one (SQLITE_FCNTL_SYNC names the
** super-journal: jrnlToDisk), synced, and the engine transaction commits
** there, synced; the journal's end commits what a ROLLBACK wrote back and
** deletes the copy.  xAccess and xOpen of the journal's name find a copy
** on disk (hot after a crash: SQLite plays it back through the VFS, or
** deletes it when its super-journal is gone).  The one case where pages
** are written twice; a vlog table in the store is not in the copy, so its
** changes in such a transaction commit at phase one, whatever the others
** do.
**
** WAL mode.  SQLite's -wal is a file of the store (VfsWal): tree
** VFS_TREE_WAL, chunk 0 its 32-byte header, chunk j frame j (a page and
** its 24-byte header, stored raw), its size and last commit frame (salts,
** number) in the catalog entry "wal".  Its writes join the engine write
** transaction of the connection's database file, with a vlog table's
** changes, and SQLite's write transaction is one engine commit: at
** SQLITE_FCNTL_COMMIT_PHASETWO, after SQLite wrote every frame (it
** rewrites earlier frames' checksums after the commit frame) and
** published the commit in its wal-index; the lock that commit needs is
** taken at the commit frame's write, where SQLite can be told it is busy.
** SQLite's write lock (shm lock 0) is the engine's writer lock too, taken
** without waiting (SQLite's busy handler waits), and its end rolls back
** frames never published.  SQLite's read transaction (a read lock,
** shared) pins one engine snapshot for all of it, so that a vlog table
** reads what SQLite's pages show; that snapshot must hold the commit the
** wal-index header names, or the read lock is SQLITE_BUSY and SQLite
** tries again (a writer between publishing and committing: microseconds;
** one that died or failed there leaves the header ahead with the
** writer lock free, and the header is zeroed so that SQLite rebuilds the
** wal-index from the -wal in the store: walHeaderReset).  The wal-index
** (shared memory) is the parent's shared memory of the store file,
** region i of SQLite's being region i+1 (region 0 is the engine's reader
** table), its eight locks the parent's: one file and one -shm, one
** dead-man switch.  Checkpoints copy frames to pages under SHARED between
** SQLITE_FCNTL_CKPT_START and SQLITE_FCNTL_CKPT_DONE: one engine write
** transaction, begun without waiting at CKPT_START (a writer in its
** transaction: the checkpoint copies nothing and says SQLITE_BUSY),
** committed (synced) at CKPT_DONE, before SQLite marks the frames copied.
** In WAL mode every connection holds SQLite's SHARED for as long as it is
** open; held on the store's lock bytes it would keep every engine commit
** from taking EXCLUSIVE, so in WAL mode SQLite's lock is the WAL lock, a
** byte of the -shm (walLock), with the engine holding only levels above
** SHARED (EXCLUSIVE: the last connection's close, leaving WAL mode).  A
** connection learns of WAL mode from SQLite's xShmMap, or from the
** header, the -wal found (xAccess) or opened (a shim that keeps its own
** shared memory, such as testvfs).  A read-only connection without the
** -shm (readonly_shm=1, which never writes it, as on unix; a parent that
** cannot map it, as in a folder it cannot write) has no WAL lock: xShmMap
** says SQLITE_READONLY_CANTINIT, SQLite builds its wal-index in its heap
** from the -wal and checks it at each read transaction (as it does for
** unix's readonly_shm connections with no writer to vouch for the -shm),
** and read-lock 0, that read transaction, is an engine read transaction
** under a shared file lock (the engine's readers without a slot), which
** a writer's commit waits for.  The cost: each page is written twice
** (a raw frame, then compressed by a checkpoint), as on any VFS, and a
** commit is an engine commit (one sync at synchronous=FULL, as SQLite's).
**
** Overlays.  With URI base=FILE the store is a writable overlay of a plain
** SQLite file: pages it has no key for, below nBase bytes, are read from
** the base (see "Overlays" below); with base_snapshot=NAME too, of a
** snapshot of the store FILE (a branch).
**
** Snapshots.  vlog_snapshot() freezes the file's tree as a layer and puts
** a new one on top; reads walk the layers (see "Snapshots" below);
** snapshot=NAME opens one read-only.
**
** Other files.  Statement journals, temp databases and super-journals are
** the parent VFS's (SQLite's own handling; they hold no committed state).
**
** Names.  xAccess and xDelete of "<db>-journal" for a database this
** process has open through the VFS answer for the virtual journal: it
** never exists for anyone to find (so never hot; only a copy on disk of a
** transaction with a super-journal can be found), and its deletion is the
** commit point.  Those of "<db>-wal" answer for the -wal in the store
** (it exists while it has an entry; its deletion clears it), and its xOpen
** opens it, through the connection whose database file this thread used
** last (SQLite opens, probes and deletes a -wal right after using its
** database file), or the only one.  A -wal file on disk beside a store
** (vlog before the -wal moved into the store kept it there) is refused
** with what to do.  Open databases are in one process-wide list, under
** a pthread mutex of vlog's own (SQLite's static APP mutexes are the
** application's).
*/
#include <assert.h>
#include <stdarg.h>
#include <stddef.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "vlogInt.h"
#include "vfs.h"
#include "util.h"                 /* vlogChecksum(), u8 */

/* The store's trees the VFS uses (below VLOG_TREE_FIRST_AUTO: found
** without looking anything up; tree 16 is the virtual tables' catalog). */
#define VFS_TREE_CATALOG  17
#define VFS_TREE_MAIN     18

#define VFS_TREE_WAL      19

#define VFS_ENTRY_SIZE    16      /* a catalog entry: the database file's */
#define VFS_OVERLAY_ENTRY_SIZE 24 /* ... an overlay's (version 3: the bytes
                                  ** of its base that show through) */
#define VFS_BASE_ENTRY_MIN 36     /* the "base" entry without its path */
#define VFS_BASE_ID_BYTES 65536   /* the base's first bytes its identity
                                  ** checksum covers */
#define VFS_BASE_ID_SAMPLES 16    /* ... and of as many pages spread over
                                  ** the rest (the last one among them) */
#define VFS_BASE_SEED     0x626173656964ULL   /* the checksum's: "baseid" */
#define VFS_LOG_MAX       209     /* the bytes of a message sqlite3_log()
                                  ** keeps (printf.c renderLogMsg) */
#define VFS_PATH_MAX      4096    /* a base's path, read back whole */
#define VFS_MAT_STEP      256     /* pages a vlog_materialize() commit copies */
#define VFS_MAT_PENDING   1024    /* base pages read, to copy at the end of
                                  ** the read (materialize_on_read) */
#define VFS_WAL_ENTRY_SIZE 28     /* ... the -wal's */
#define VFS_LAYERED_ENTRY_SIZE 32 /* ... a layered one's (version 4: its top
                                  ** tree and the one below; snapshots) */
#define VFS_LAYERED_GEN_SIZE 40   /* ... version 5: and the chain's
                                  ** generation (session 19) */
#define VFS_LAYER_ENTRY_SIZE 20   /* a frozen layer's ("layer" BE32 tree) */
#define VFS_SNAP_ENTRY_SIZE 32    /* a snapshot's ("snap:" name) */
#define VFS_SNAP_NAME_MAX 200     /* bytes of a snapshot's name */
#define VFS_TREE_LAYER    VLOG_TREE_FIRST_HIGH  /* the first layer tree after
                                  ** VFS_TREE_MAIN (ids never handed out to
                                  ** vlog tables) */
#define VFS_MAX_LAYERS    4096    /* frozen layers a chain may have */
#define VFS_MAP_PROBES    65536   /* lookups in unmapped frozen layers
                                  ** before they are mapped */
#define VFS_MAP_MAX_PAGES (1u<<25)  /* the largest page number a map has
                                  ** (64 MiB of it) */
#define VFS_MAP_NONE      0xffff  /* a map's: no layer has the page */
#define VFS_SNAP_TXN_READS 4096   /* a snapshot connection's reads in one */
#define VFS_SNAP_TXN_MS   20      /* engine read transaction, at most, and
                                  ** for at most so long */
#define VFS_WAL_HDR       32      /* SQLite's WAL header */
#define VFS_WAL_FRAME_HDR 24      /* ... and a frame's */
#define VFS_MIN_CHUNK     512
#define VFS_MAX_CHUNK     65536
#define VFS_DEFAULT_CHUNK 4096
#define VFS_ZSTD_LEVEL    3
#define VFS_WAL_ZSTD_LEVEL 1      /* -wal frames: written once, read by a
                                  ** checkpoint, stale after it */
#define VFS_SECTOR        512
#define VFS_JRNL_HDR      28      /* the fields of a journal header */
#define VFS_JRNL_SPILL    (16*1024*1024)  /* journal bytes kept in memory */
#define VFS_DIRTY_MAX     (32*1024*1024)  /* dirty page bytes kept until commit */
#define VFS_DIRTY_MEM     VFS_DIRTY_MAX   /* ... of them in memory; the rest in
                                          ** a temporary file (DirtyPage) */
#define VFS_DIRTY_HASH    1024
#define VFS_WAL_BUSY_MS   5000    /* engine locks' wait in WAL mode */
#define VFS_WAL_WRITE_LOCK 0     /* SQLite's shm locks: its writer's */
#define VFS_WAL_READ_LOCK0 3      /* ... and its first read lock */
#define VFS_WAL_INDEX_HDR 96      /* SQLite's two wal-index header copies */
#define VFS_WAL_CKPT_INFO 96      /* SQLite's WalCkptInfo in its region 0:
                                  ** after the two 48-byte header copies;
                                  ** its first u32 is nBackfill */

/* The journal's states, on its database (VfsDb.eJrnl) */
#define JRNL_NONE     0           /* no journal of a transaction */
#define JRNL_LIVE     1           /* header written, not ended */
#define JRNL_CLOSED   2           /* live when closed: xDelete ends it */

typedef struct VlogVfs VlogVfs;
typedef struct VfsDb VfsDb;
typedef struct DirtyPage DirtyPage;
typedef struct VfsBase VfsBase;
typedef struct VfsJrnl VfsJrnl;
typedef struct VfsState VfsState;
typedef struct VfsLayer VfsLayer;
typedef struct VfsLayerMap VfsLayerMap;
typedef struct VfsWal VfsWal;

struct VlogVfs {
  sqlite3_vfs base;               /* must be first */
  sqlite3_vfs *pParent;
  VlogEnv *pEnv;                  /* &env */
  VlogEnv env;                    /* vlogEnvVfs(pParent), for the stores */
  VlogVfs *pNextVfs;
};

/* A file's entry in the catalog (tree VFS_TREE_CATALOG), as read in the
** current transaction: its logical size and chunk size, and for the -wal
** the last commit in it. */
struct VfsState {
  int bWal;                       /* the -wal's (else the database file's) */
  int bOk;                        /* read in this transaction */
  int bDirty;                     /* ... and changed: write the entry */
  int bEntry;                     /* the catalog has the entry */
  sqlite3_int64 nSize;            /* logical size in bytes */
  int szChunk;                    /* chunk size: the page size, or for the
                                  ** -wal a frame's (0: none yet) */
  u8 aCommit[12];                 /* -wal: the salts and frame number of
                                  ** the last commit frame (zero: none) */
  int bOverlay;                   /* the database file of an overlay ... */
  sqlite3_int64 nBase;            /* ... or over a frozen layer, whose
                                  ** first nBase bytes that it has not
                                  ** written are the base's or the layer's */
  unsigned int iTop;              /* the tree written: VFS_TREE_MAIN until
                                  ** a snapshot, VFS_TREE_WAL for the -wal */
  unsigned int iBelow;            /* the frozen layer under it (0: none) */
  VfsLayer *aLow;                 /* the frozen layers under it, top down */
  int nLow, nLowAlloc;            /* ... how many; entries of aLow */
  VfsLayerMap *pMap;              /* ... which holds each page, or 0 */
  sqlite3_uint64 iGen;            /* the chain's generation (entry version
                                  ** 5): new at each change of a layer */
  int bGen;                       /* ... the entry has one */
  int bChain;                     /* aLow holds the chain of ... */
  sqlite3_uint64 iChainGen;       /* ... this generation, ... */
  unsigned int iChainBelow;       /* ... under this layer, ... */
  int nChainLow, bChainOverlay;   /* ... of so many layers, over a base */
};

/* A frozen layer of the database file (see "Snapshots"): a tree that is
** written no more, and what shows through where it has no key. */
struct VfsLayer {
  unsigned int iTree;
  unsigned int iBelow;            /* the layer under it (0: none) */
  int szChunk;                    /* its chunk size */
  int bDropped;                   /* its snapshot dropped: to merge */
  sqlite3_int64 nBase;            /* bytes of the one under it that show */
  sqlite3_int64 nShow;            /* bytes of it that show at the top (the
                                  ** least nBase above it; chainLoad) */
};

/* Which frozen layer holds each page (see "Snapshots: the layer map"):
** for a chain's bottom nL layers, the topmost with a key for page k is
** aTop[k] (0: the bottom one), VFS_MAP_NONE for none. */
struct VfsLayerMap {
  VfsLayer *aL;                   /* the layers it maps, bottom up */
  int nL, nLAlloc;                /* ... how many; entries of aL */
  unsigned short *aTop;           /* per page number */
  unsigned int nPg;               /* ... entries of aTop */
  sqlite3_int64 nProbe;           /* lookups in frozen layers it does not
                                  ** map, since it last grew or was reset */
  int bNoMap;                     /* too large, or out of memory: no more
                                  ** until the chain changes */
};

/* An overlay's base (see "Overlays" below): a plain SQLite file, read,
** never written. */
struct VfsBase {
  char *zPath;                    /* its full path */
  sqlite3_file *pFile;            /* open, read-only, under SHARED; or 0 */
  int bShmPin;                    /* ... holding WAL read lock 0 (basePin) */
  char *zOpen;                    /* the name pFile was opened with (it
                                  ** lives as long: extra NULs end it) */
  sqlite3_int64 nSize;            /* identity: its size ... */
  int szPage;                     /* ... page size ... */
  sqlite3_uint64 iSum;            /* ... and checksum of its first bytes */
  sqlite3_int64 iMade;            /* when the overlay was made (Unix ms) */
  int bMatRead;                   /* materialize_on_read */
  unsigned int *aPending;         /* pages read from it, to copy */
  int nPending, szPending;        /* ... how many, of which size */
  sqlite3_uint64 nReadOverlay;    /* pages read from the overlay */
  sqlite3_uint64 nReadBase;       /* ... from the base */
  sqlite3_uint64 nMaterialized;   /* ... copied into the overlay */
  sqlite3_uint64 nOpen, nReuse;   /* base handle opens, reads reusing one */
  unsigned int iMatNext;          /* vlog_materialize(): the next page */
  char *zSnap;                    /* a branch's: the base store's snapshot */
  sqlite3_int64 iTaken;           /* ... taken at (Unix ms; identity) */
  VlogStore *pSnapStore;          /* ... the base store, read-only, or 0 */
  VfsState snapSt;                /* ... the snapshot's file (snapLoad) */
  u8 *aBuf;                       /* ... a chunk of it */
  int nSnapReads;                 /* ... reads in the engine transaction
                                  ** open on pSnapStore (snapBaseRead) */
  sqlite3_int64 iSnapTxnStart;    /* ... begun then (Julian day ms) */
};

/* A main database file that is a store. */
struct VfsDb {
  sqlite3_file base;              /* pMethods: &dbMethods */
  VlogVfs *pVfs;
  char *zPath;                    /* the name given to xOpen (full path) */
  char *zJournal;                 /* zPath "-journal" */
  VlogStore *pStore;              /* 0 until the store could be opened */
  VlogConfig cfg;                 /* how to open it */
  int eLock;                      /* SQLite's lock level on this file */
  VfsState st;                    /* the database file's entry */
  VfsState wal;                   /* its -wal's (WAL mode) */
  VfsWal *pWal;                   /* the -wal open on it, or 0 */
  int eJrnl;                      /* JRNL_* */
  VfsJrnl *pJrnl;                 /* the open journal, or 0 */
  int bSynced;                    /* SQLite synced in this transaction */
  int bJrnlDisk;                  /* the journal is on disk too and the
                                  ** engine transaction committed (a
                                  ** transaction with a super-journal) */
  int bPlayback;                  /* SQLite read the journal's first
                                  ** header: a ROLLBACK plays it back */
  int bTxnStarted;                /* the engine txn was begun by this file */
  int bNoLock;                     /* URI nolock=1: SQLite takes no lock */
  sqlite3_int64 nMmapSql;         /* SQLite's mmap_size (a hint kept) */
  int bPart;                      /* pages or size written in the engine
                                  ** write transaction (the VFS ends it) */
  int eHold;                      /* level held through the engine
                                  ** (vlogStoreHold) */
  int bCallTxn;                   /* the engine transaction is a call's
                                  ** own (no level held: txnEnter) */
  int bWal;                       /* SQLite mapped shared memory: WAL mode */
  int bWalHdr;                    /* the header SQLite read says WAL mode,
                                  ** or its -wal was opened (walOpened:
                                  ** set by other threads: atomic) */
  int bShmHeap;                   /* WAL mode without shared memory: the
                                  ** wal-index is in SQLite's heap */
  int bWalLock;                   /* SQLite's lock is the WAL lock (WAL
                                  ** mode: walLock) */
  int eWalLock;                   /* the WAL lock's level: 0, 1 shared,
                                  ** 2 exclusive */
  void volatile **apShm;          /* SQLite's shared-memory regions */
  int nShm;                       /* ... entries of apShm */
  int bCkpt;                      /* inside SQLite's checkpoint (between
                                  ** SQLITE_FCNTL_CKPT_START and _DONE) */
  int bCkptTail;                  /* after CKPT_DONE, until the sync */
  int rcCkpt;                     /* the checkpoint's commit failed so */
  int bBackfill;                  /* nBackfill is SQLite's, at CKPT_START */
  unsigned int nBackfill;
  int bPersistWal;                /* SQLITE_FCNTL_PERSIST_WAL */
  int bWalPart;                   /* -wal frames (or its header) written
                                  ** in the engine write transaction */
  int bWalCommit;                 /* ... and a commit frame among them */
  int bWalTrunc;                  /* the -wal truncated in it */
  int bWalNoCksum;                /* its commit frame has no checksums yet */
  int bWalTxn;                    /* it was begun for SQLite's WAL write
                                  ** lock (walWriterBegin) */
  int bCkptTxn;                   /* ... for SQLITE_FCNTL_CKPT_START */
  int bWalRead;                   /* a read transaction pinned for SQLite's
                                  ** (walReadBegin) */
  sqlite3_uint64 iWalRead;        /* ... its vlogTxnCount() */
  int bPinCheck;                  /* ... checked at SQLite's next barrier */
  unsigned int nPinBackfill;      /* ... against nBackfill as it was */
  u8 *aChunk;                     /* a chunk: read-modify-write (a -wal
                                  ** frame is a page and 24 bytes) */
  DirtyPage **apDirty;            /* the transaction's dirty pages: hash */
  DirtyPage *pDirty;              /* ... and list */
  sqlite3_int64 nDirty;           /* ... and their bytes */
  sqlite3_int64 nDirtyMax;        /* most bytes kept (URI dirty_max=) */
  sqlite3_int64 nDirtyMem;        /* bytes of them in memory ... */
  DirtyPage *pMemFirst, *pMemLast;/* ... oldest first */
  sqlite3_int64 nDirtyMemMax;     /* most in memory (URI dirty_mem=) */
  sqlite3_file *pDirtyFile;       /* the rest: a temporary file, or 0 */
  sqlite3_int64 nDirtyFile;       /* its bytes in use (the next slot) */
  u8 *aDirtyBuf;                  /* a page read back from it */
  int nDirtyBuf;
  char *zBaseArg;                 /* URI base=, or 0 */
  char *zBaseSnapArg;             /* URI base_snapshot=, or 0 */
  int eMatReadArg;                /* URI materialize_on_read= (-1: none) */
  VfsBase *pBase;                 /* an overlay's base, or 0 */
  char *zSnap;                    /* URI snapshot=: the snapshot read */
  int nSnapReads;                 /* ... calls in its engine transaction */
  sqlite3_int64 iSnapTxnStart;    /* ... begun then (Julian day ms) */
  unsigned int iMergeTree;        /* a dropped layer being merged ... */
  unsigned int iMergeNext;        /* ... and its next chunk (mergeStep) */
  VfsDb *pNext;                   /* the process's list */
};

/* A page written in the transaction, not yet put in the store. */
struct DirtyPage {
  unsigned int iTree;             /* VFS_TREE_MAIN or VFS_TREE_WAL */
  unsigned int iPg;
  int sz;
  u8 *a;                          /* its sz bytes in memory, or 0: */
  sqlite3_int64 iFile;            /* ... at this offset of pDirtyFile */
  DirtyPage *pHash;
  DirtyPage *pNext, *pPrev;       /* the list of all (p->pDirty) */
  DirtyPage *pMemNext, *pMemPrev; /* in memory: the next written after it,
                                  ** the one before */
};

/* The rollback journal of a VfsDb, in memory. */
struct VfsJrnl {
  sqlite3_file base;              /* pMethods: &jrnlMethods */
  VlogVfs *pVfs;
  VfsDb *pDb;                     /* its database, or 0 */
  u8 *a;                          /* the bytes, until spilled */
  sqlite3_int64 n, nAlloc;        /* size; bytes of a[] */
  sqlite3_file *pSpill;           /* the parent's temporary file, or 0 */
  int bCopying;                   /* jrnlToDisk reads it (no playback) */
};

/* The -wal of a VfsDb, in its store: its connection's engine handle. */
struct VfsWal {
  sqlite3_file base;              /* pMethods: &walMethods */
  VfsDb *pDb;                     /* its database file, or 0 once closed */
};

static pthread_mutex_t vfsMu = PTHREAD_MUTEX_INITIALIZER;
static void vfsEnter(void){ (void)pthread_mutex_lock(&vfsMu); }
static void vfsLeave(void){ (void)pthread_mutex_unlock(&vfsMu); }
static VfsDb *pAllDb = 0;         /* open databases, under vfsEnter() */
/* The database file this thread used last: SQLite opens, probes and
** deletes a -wal right after using its database file, so this says which
** connection's it is (walOwner; checked against pAllDb before use) */
static __thread VfsDb *vfsLast = 0;
static VlogVfs *pAllVfs = 0;      /* registered instances, never freed */

static const sqlite3_io_methods dbMethods;
static const sqlite3_io_methods jrnlMethods;
static const sqlite3_io_methods walMethods;
static int jrnlToDisk(VfsDb*);
static int walLockSet(VfsDb*, int);
static int walLockEnter(VfsDb*);
static int dbDeviceCharacteristics(sqlite3_file*);
static void stateForget(VfsDb*);
static int walWriterBegin(VfsDb*);
static int walWriterEnd(VfsDb*);
static int walReadBegin(VfsDb*);
static void walReadEnd(VfsDb*);
static void walPinCheck(VfsDb*);
static int walIndexZero(VfsDb*);
static int walBeginWrite(VfsDb*);
static int baseRead(VfsDb*, sqlite3_int64, unsigned int, int, u8*);
static int snapLoad(VlogStore*, const char*, VfsState*, sqlite3_int64*, char*, int);
static int chainLoad(VlogStore*, VfsState*, char*, int);
static int chainSame(const VfsState*);
static void chainShow(VfsState*);
static int overlayError(VfsDb*, int, const char*, ...);
static void stateFree(VfsState*);
static int chunkLookup(VlogStore*, VfsState*, unsigned int, int, u8*, int*,
                       sqlite3_int64*, char*, int);
static int vfsCurrentTimeInt64(sqlite3_vfs*, sqlite3_int64*);

/* ---------------------------------------------------------------------
** Errors.  Engine codes are SQLite's; the message goes to sqlite3_log()
** (a VFS has no other way to say it), with the file named.
*/
static void dbLog(VfsDb *p, int rc, char *zMsg);

static int dbError(VfsDb *p, int rc){
  if( rc!=SQLITE_OK && rc!=SQLITE_BUSY ){
    dbLog(p, rc, sqlite3_mprintf("%s", vlogStoreErrMsg(p->pStore)));
  }
  return rc;
}

/* ---------------------------------------------------------------------
** The engine transaction a call runs in.
**
** Under SQLite's lock (SHARED or above) calls run in a transaction that
** lasts until the lock goes down (or, a write one, until the commit
** point); with no lock (SQLite reads the header before locking) a call
** runs in one of its own, which txnLeave ends.
*/
static int txnEnter(VfsDb *p, int bWrite){
  int eTxn = vlogTxnState(p->pStore);
  int rc;
  if( eTxn==2 || (eTxn==1 && !bWrite) ) return SQLITE_OK;
  rc = vlogBegin(p->pStore, bWrite);
  if( rc ) return dbError(p, rc);
  if( eTxn==0 ){
    stateForget(p);                      /* a new snapshot */
    p->bCallTxn = (p->eHold==SQLITE_LOCK_NONE);
    if( p->zSnap ){
      p->nSnapReads = 0;
      (void)vfsCurrentTimeInt64(&p->pVfs->base, &p->iSnapTxnStart);
    }
  }
  return SQLITE_OK;
}

/* End the read transaction txnEnter() began for this call alone (not one
** that a virtual table of the store has open). */
/* A reader of a snapshot (a snapshot connection, a branch's base) keeps
** its engine read transaction for the next reads too, for a while: a
** snapshot's pages are the same in every engine snapshot in which it
** exists.  Has the one begun at iStart served its turn, *pnReads reads? */
static int snapTxnDone(VfsDb *p, int *pnReads, sqlite3_int64 iStart){
  sqlite3_int64 iNow = 0;
  (void)vfsCurrentTimeInt64(&p->pVfs->base, &iNow);
  return ++*pnReads>=VFS_SNAP_TXN_READS || iNow-iStart>=VFS_SNAP_TXN_MS;
}

static void txnLeave(VfsDb *p){
  if( p->bCallTxn && vlogTxnState(p->pStore)==1 ){
    /* (SQLite takes no lock on a snapshot connection: snapTxnDone) */
    if( p->zSnap && !snapTxnDone(p, &p->nSnapReads, p->iSnapTxnStart) ) return;
    (void)vlogCommit(p->pStore);          /* a read transaction's end */
  }
  if( vlogTxnState(p->pStore)!=2 ) p->bCallTxn = 0;
}

static unsigned int get32(const u8 *a){
  return ((unsigned int)a[0]<<24) | (a[1]<<16) | (a[2]<<8) | a[3];
}
static void put32(u8 *a, unsigned int v){
  a[0] = (u8)(v>>24); a[1] = (u8)(v>>16); a[2] = (u8)(v>>8); a[3] = (u8)v;
}

/* 64-bit big-endian fields of the entries. */
static sqlite3_uint64 get64(const u8 *a){
  return ((sqlite3_uint64)get32(a)<<32) | get32(&a[4]);
}
static void put64(u8 *a, sqlite3_uint64 v){
  put32(a, (unsigned int)(v>>32));
  put32(&a[4], (unsigned int)v);
}

/*
** Decode a file's catalog entry a[0..n) into *pS (chunk size, logical size,
** and for the -wal its last commit).  Every field is checked (its checksum
** is the leaf's, which says nothing of whether the numbers make sense):
** VLOG_CORRUPT, with the reason in zWhy[nWhy], for an entry that is not
** one.  The database file's entry is version 1, VFS_ENTRY_SIZE bytes; the
** -wal's version 2, VFS_WAL_ENTRY_SIZE bytes (aCommit appended); an
** overlay's version 3 (nBase appended); a layered one's version 4 (nBase,
** flags in byte 1: 1 an overlay, and the top and lower layers' trees),
** written as version 5 since session 19: the chain's generation appended,
** a random number each commit that changes a layer writes (chainChanged),
** by which a connection knows the chain it loaded is still the chain.
*/
/* pS as a file of one layer, no base under it. */
static void stateOneLayer(VfsState *pS){
  pS->bGen = 0;
  pS->bOverlay = 0;
  pS->nBase = 0;
  pS->iTop = pS->bWal ? VFS_TREE_WAL : VFS_TREE_MAIN;
  pS->iBelow = 0;
  pS->nLow = 0;
}

static int entryDecode(const u8 *a, int n, VfsState *pS, char *zWhy, int nWhy){
  int nWant = pS->bWal ? VFS_WAL_ENTRY_SIZE : VFS_ENTRY_SIZE;
  int iVersion = pS->bWal ? 2 : 1;
  sqlite3_int64 nSize, nMax;
  int sz, szPage;
  stateOneLayer(pS);
  if( !pS->bWal && n==VFS_OVERLAY_ENTRY_SIZE && a[0]==3 ){
    /* an overlay's: the bytes of its base that show through */
    nWant = n;
    iVersion = 3;
    pS->bOverlay = 1;
    pS->nBase = (sqlite3_int64)get64(&a[16]);
  }else if( !pS->bWal && ((n==VFS_LAYERED_ENTRY_SIZE && a[0]==4)
                          || (n==VFS_LAYERED_GEN_SIZE && a[0]==5)) ){
    unsigned int iTop = get32(&a[24]), iBelow = get32(&a[28]);
    nWant = n;
    iVersion = a[0];
    pS->bGen = a[0]==5;
    if( pS->bGen ) pS->iGen = get64(&a[32]);
    pS->bOverlay = a[1]==1;
    pS->nBase = (sqlite3_int64)get64(&a[16]);
    if( a[1]>1 || (iTop!=VFS_TREE_MAIN && iTop<VFS_TREE_LAYER)
     || (iBelow!=0 && iBelow!=VFS_TREE_MAIN && iBelow<VFS_TREE_LAYER)
     || iBelow==iTop || (iBelow==0 && !pS->bOverlay && pS->nBase!=0) ){
      sqlite3_snprintf(nWhy, zWhy, "the file's catalog entry says layer %u "
                       "over %u (flags %d, base bytes %lld)", iTop, iBelow, a[1],
                       pS->nBase);
      return VLOG_CORRUPT;
    }
    pS->iTop = iTop;
    pS->iBelow = iBelow;
  }
  if( n!=nWant || a[0]!=iVersion ){
    sqlite3_snprintf(nWhy, zWhy, "the %s's catalog entry has %d bytes, version "
                     "%d (expected %d bytes, version %d)",
                     pS->bWal ? "WAL" : "file", n, n>0 ? a[0] : -1, nWant, iVersion);
    return VLOG_CORRUPT;
  }
  sz = (int)get32(&a[4]);
  szPage = pS->bWal ? sz - VFS_WAL_FRAME_HDR : sz;
  nSize = (sqlite3_int64)get64(&a[8]);
  nMax = pS->bWal ? nSize - VFS_WAL_HDR : nSize;
  if( (sz!=0 && (szPage<VFS_MIN_CHUNK || szPage>VFS_MAX_CHUNK || (szPage & (szPage-1))))
   || nSize<0 || (sz==0 && nSize!=0) || (sz && nMax/sz>=0xffffffffLL)
   || pS->nBase<0 || pS->nBase>nSize ){
    sqlite3_snprintf(nWhy, zWhy, "the %s's catalog entry says chunk size %d, "
                     "size %lld, base bytes %lld", pS->bWal ? "WAL" : "file", sz,
                     nSize, pS->nBase);
    return VLOG_CORRUPT;
  }
  pS->szChunk = sz;
  pS->nSize = nSize;
  if( pS->bWal ) memcpy(pS->aCommit, &a[16], sizeof(pS->aCommit));
  return VLOG_OK;
}

/* The file's tree (its top layer) and catalog key. */
#define stateTree(pS) ((pS)->bWal ? VFS_TREE_WAL : (pS)->iTop ? (pS)->iTop : VFS_TREE_MAIN)
#define stateKey(pS)  ((pS)->bWal ? "wal" : "main")

/* Read the file's entry (size, chunk size, layers) in the current
** transaction; a snapshot connection's database file is its snapshot's. */
static int stateLoad(VfsDb *p, VfsState *pS){
  const void *pVal;
  int nVal, rc;
  char zWhy[160];
  if( pS->bOk ) return SQLITE_OK;
  if( p->zSnap && !pS->bWal ){
    rc = snapLoad(p->pStore, p->zSnap, pS, 0, zWhy, sizeof(zWhy));
    if( rc==VLOG_NOTFOUND ){
      return overlayError(p, SQLITE_CANTOPEN, "no snapshot named '%s' (it was "
                          "dropped, or never taken)", p->zSnap);
    }
    if( rc==VLOG_CORRUPT ){
      dbLog(p, SQLITE_CORRUPT, sqlite3_mprintf("%s", zWhy));
      return SQLITE_CORRUPT;
    }
    if( rc ) return dbError(p, rc);
    pS->bOk = 1;
    pS->bDirty = 0;
    return SQLITE_OK;
  }
  rc = vlogGet(p->pStore, VFS_TREE_CATALOG, stateKey(pS), (int)strlen(stateKey(pS)),
               &pVal, &nVal);
  if( rc==VLOG_NOTFOUND ){
    pS->nSize = 0;
    pS->szChunk = 0;
    pS->bEntry = 0;
    stateOneLayer(pS);
    memset(pS->aCommit, 0, sizeof(pS->aCommit));
  }else if( rc ){
    return dbError(p, rc);
  }else{
    zWhy[0] = 0;
    rc = entryDecode((const u8*)pVal, nVal, pS, zWhy, sizeof(zWhy));
    if( rc==VLOG_OK && chainSame(pS) ){
      pS->nLow = pS->nChainLow;           /* the chain loaded before */
      chainShow(pS);
    }else if( rc==VLOG_OK ){
      pS->bChain = 0;
      rc = chainLoad(p->pStore, pS, zWhy, sizeof(zWhy));
      if( rc==VLOG_OK && pS->bGen ){
        pS->bChain = 1;
        pS->iChainGen = pS->iGen;
        pS->iChainBelow = pS->iBelow;
        pS->nChainLow = pS->nLow;
        pS->bChainOverlay = pS->bOverlay;
      }
    }
    if( rc==VLOG_CORRUPT && zWhy[0] ){
      dbLog(p, SQLITE_CORRUPT, sqlite3_mprintf("%s", zWhy));
      return SQLITE_CORRUPT;
    }
    if( rc ) return dbError(p, rc);
    pS->bEntry = 1;
  }
  pS->bOk = 1;
  pS->bDirty = 0;
  return SQLITE_OK;
}

/* Create the file: its tree, with its policy (every chunk in the value
** log; the -wal's raw, as SQLite's is), before the first write.  The entry
** is written at commit. */
static int stateCreate(VfsDb *p, VfsState *pS){
  VlogTreePolicy pol;
  int rc;
  assert( pS->bOk && !pS->bEntry && vlogTxnState(p->pStore)==2 );
  vlogTreePolicyDefault(&pol);
  pol.nInlineMax = 0;
  pol.iZstdLevel = pS->bWal ? VFS_WAL_ZSTD_LEVEL : VFS_ZSTD_LEVEL;
  rc = vlogTreeSetPolicy(p->pStore, stateTree(pS), &pol);
  if( rc ) return dbError(p, rc);
  pS->bEntry = 1;
  pS->bDirty = 1;
  return SQLITE_OK;
}

/* The chain's generation: a new random one (no two commits that change
** the chain can meet on one, rolled back or not). */
static void chainNewGen(VfsState *pS){
  sqlite3_uint64 g;
  sqlite3_randomness(sizeof(g), &g);
  pS->iGen = g;
  pS->bGen = 1;
}

/* A layer of pS's chain changes in this transaction (or did in memory):
** a new generation, in the entry the commit writes; the chain loaded is
** not to be used again. */
static void chainChanged(VfsState *pS){
  chainNewGen(pS);
  pS->bDirty = 1;
  pS->bChain = 0;
}

/* Is the chain pS loaded last still the chain under the entry just
** decoded?  Only with a generation (version 5), and the same one. */
static int chainSame(const VfsState *pS){
  return pS->bChain && pS->bGen && pS->iGen==pS->iChainGen
      && pS->iBelow==pS->iChainBelow && pS->bOverlay==pS->bChainOverlay;
}

/* What of each layer of the chain shows at the top (nShow: the least
** nBase above it), which follows the top's nBase: a truncation changes it
** and no layer, so a chain kept (chainSame) has it computed again. */
static void chainShow(VfsState *pS){
  sqlite3_int64 nShow = pS->nBase;
  int i;
  for(i=0; i<pS->nLow; i++){
    pS->aLow[i].nShow = nShow;
    if( pS->aLow[i].nBase<nShow ) nShow = pS->aLow[i].nBase;
  }
}

/* Write the entry. */
static int stateSave(VfsDb *p, VfsState *pS){
  u8 a[VFS_LAYERED_GEN_SIZE];
  int rc, bLayered = !pS->bWal && stateTree(pS)!=VFS_TREE_MAIN;
  if( !pS->bDirty ) return SQLITE_OK;
  assert( pS->bOk && pS->bEntry && vlogTxnState(p->pStore)==2 );
  assert( p->zSnap==0 );
  memset(a, 0, sizeof(a));
  a[0] = pS->bWal ? 2 : bLayered ? 4 : pS->bOverlay ? 3 : 1;
  put32(&a[4], (unsigned int)pS->szChunk);
  put64(&a[8], (sqlite3_uint64)pS->nSize);
  if( pS->bWal ) memcpy(&a[16], pS->aCommit, sizeof(pS->aCommit));
  if( pS->bOverlay || bLayered ) put64(&a[16], (sqlite3_uint64)pS->nBase);
  if( bLayered ){
    a[0] = 5;
    a[1] = (u8)pS->bOverlay;
    put32(&a[24], stateTree(pS));
    put32(&a[28], pS->iBelow);
    if( !pS->bGen ) chainNewGen(pS);     /* (a version 4 entry had none) */
    put64(&a[32], pS->iGen);
  }
  rc = vlogPut(p->pStore, VFS_TREE_CATALOG, stateKey(pS), (int)strlen(stateKey(pS)),
               a, pS->bWal ? VFS_WAL_ENTRY_SIZE : bLayered ? VFS_LAYERED_GEN_SIZE :
                  pS->bOverlay ? VFS_OVERLAY_ENTRY_SIZE : VFS_ENTRY_SIZE);
  if( rc ) return dbError(p, rc);
  pS->bDirty = 0;
  return SQLITE_OK;
}

/* Both files' entries are to be read again (a new snapshot). */
static void stateForget(VfsDb *p){
  p->st.bOk = 0;
  p->wal.bOk = 0;
}

/* ---------------------------------------------------------------------
** Chunks.  The database file's chunk k (from 1) covers bytes [(k-1)*sz,
** k*sz): the page number.  The -wal's chunk 0 is its 32-byte header and
** chunk j (from 1) frame j, bytes [32+(j-1)*sz, 32+j*sz) for the frame
** size sz: SQLite's frame numbers.
*/
static int isZero(const u8 *a, int n){
  int i;
  for(i=0; i<n; i++) if( a[i] ) return 0;
  return 1;
}

/* The chunk that bytes [iOfst, iEnd) of file pS begin in: they begin at
** *piIn in it and take *pn bytes of it, and it has *psz bytes. */
static unsigned int chunkSpan(const VfsState *pS, sqlite3_int64 iOfst,
                              sqlite3_int64 iEnd, int *piIn, int *pn, int *psz){
  sqlite3_int64 o = iOfst;
  unsigned int k;
  int sz = pS->szChunk;
  if( pS->bWal && o<VFS_WAL_HDR ){
    sz = VFS_WAL_HDR;
    k = 0;
  }else{
    if( pS->bWal ) o -= VFS_WAL_HDR;
    k = (unsigned int)(o/sz) + 1;
  }
  *psz = sz;
  *piIn = (int)(o % sz);
  *pn = sz - *piIn;
  if( *pn>iEnd-iOfst ) *pn = (int)(iEnd-iOfst);
  return k;
}

/* The last chunk holding bytes of the file's first n bytes (-1: none, or
** for the database file 0). */
static sqlite3_int64 chunkLast(const VfsState *pS, sqlite3_int64 n){
  int sz = pS->szChunk;
  if( pS->bWal ){
    if( n<=VFS_WAL_HDR || sz==0 ) return n>0 ? 0 : -1;
    return (n - VFS_WAL_HDR + sz - 1)/sz;
  }
  return sz ? (n + sz - 1)/sz : 0;
}

/* The offset in the file where chunk iPg begins. */
static sqlite3_int64 chunkOffset(const VfsState *pS, unsigned int iPg){
  if( pS->bWal ) return iPg ? VFS_WAL_HDR + (sqlite3_int64)(iPg-1)*pS->szChunk : 0;
  return (sqlite3_int64)(iPg-1)*pS->szChunk;
}

/* Where chunkLookup() found a chunk */
#define FROM_TOP   0              /* the file's tree (its top layer) */
#define FROM_LAYER 1              /* a frozen layer under it */
#define FROM_BASE  2              /* none: the overlay's base has it */
#define FROM_NONE  3              /* none: zeros */

/*
** The layer map.  A page the database has not written since the oldest
** snapshot is found in the bottom layer, after a lookup that misses in
** every layer above it: with hundreds of snapshots that is hundreds of
** lookups a read (a full scan took 46x its time under 500).  So once a
** connection has made VFS_MAP_PROBES lookups in frozen layers, it reads
** the keys of the layers once (no values) into a map of which layer
** holds each page, and a read then takes at most one lookup under the
** top.  A frozen layer's keys change in one way only: a merge copies keys
** into it from the dropped layer under it, and until the merge ends that
** layer is still in the chain with the same chunks, so the map's answer
** reads the same bytes.  The merge's end changes the entry of the layer
** above (its iBelow, its nBase): chainLoad compares the entries the map
** was made from (mapCheck) and the map is made again later.  A snapshot
** taken adds layers on top; the map keeps the ones under them and maps
** the new ones when the lookups in them add up again.  Layer ids are
** never reused (layernext).
*/
#ifdef VLOG_DEBUG
/* Tests set them lower (vlogVfsMapLimits), to map after a few lookups or
** to find a page past the largest a map has. */
static sqlite3_int64 vfsMapProbes = VFS_MAP_PROBES;
static unsigned int vfsMapMaxPages = VFS_MAP_MAX_PAGES;
#else
# define vfsMapProbes   VFS_MAP_PROBES
# define vfsMapMaxPages VFS_MAP_MAX_PAGES
#endif

static void mapReset(VfsLayerMap *pM){
  sqlite3_free(pM->aTop);
  pM->aTop = 0;
  pM->nPg = 0;
  pM->nL = 0;
  pM->nProbe = 0;
}

static void mapFree(VfsState *pS){
  if( pS->pMap ){
    mapReset(pS->pMap);
    sqlite3_free(pS->pMap->aL);
    sqlite3_free(pS->pMap);
    pS->pMap = 0;
  }
}

/* After chainLoad: the map goes if a layer it maps is no longer the same
** (the chain's bottom layers, as it read them). */
static void mapCheck(VfsState *pS){
  VfsLayerMap *pM = pS->pMap;
  int b, bSame;
  if( pM==0 ) return;
  bSame = pM->nL<=pS->nLow;
  for(b=0; bSame && b<pM->nL; b++){
    const VfsLayer *pL = &pS->aLow[pS->nLow-1-b], *pW = &pM->aL[b];
    bSame = pL->iTree==pW->iTree && pL->iBelow==pW->iBelow
         && pL->szChunk==pW->szChunk && pL->nBase==pW->nBase;
  }
  if( !bSame ){
    mapReset(pM);
    pM->bNoMap = 0;
  }
}

/* Map the layers of pS's chain that the map does not, bottom up.  A page
** number past VFS_MAP_MAX_PAGES leaves the chain unmapped (bNoMap). */
static int mapGrow(VlogStore *pStore, VfsState *pS, char *zWhy, int nWhy){
  VfsLayerMap *pM = pS->pMap;
  int j, rc = VLOG_OK;
  if( pM->nLAlloc<pS->nLow ){
    VfsLayer *aNew = (VfsLayer*)sqlite3_realloc64(pM->aL, sizeof(VfsLayer)*pS->nLow);
    if( aNew==0 ) return VLOG_NOMEM;
    pM->aL = aNew;
    pM->nLAlloc = pS->nLow;
  }
  for(j=pS->nLow-1-pM->nL; rc==VLOG_OK && j>=0 && !pM->bNoMap; j--){
    const VfsLayer *pL = &pS->aLow[j];
    unsigned short b = (unsigned short)(pS->nLow-1-j);
    VlogCursor *pCsr = 0;
    rc = vlogCursorOpen(pStore, pL->iTree, &pCsr);
    if( rc==VLOG_OK ) rc = vlogCursorFirst(pCsr);
    while( rc==VLOG_OK && vlogCursorValid(pCsr) ){
      const void *pKey;
      int nKey;
      unsigned int k;
      rc = vlogCursorKey(pCsr, &pKey, &nKey);
      if( rc ) break;
      if( nKey!=4 ){
        sqlite3_snprintf(nWhy, zWhy, "layer %u has a key of %d bytes",
                         pL->iTree, nKey);
        rc = VLOG_CORRUPT;
        break;
      }
      k = get32((const u8*)pKey);
      if( k>=vfsMapMaxPages ){
        pM->bNoMap = 1;
        break;
      }
      if( k>=pM->nPg ){
        unsigned int nNew = pM->nPg ? pM->nPg : 1024;
        unsigned short *aNew;
        while( nNew<=k ) nNew *= 2;
        if( nNew>vfsMapMaxPages ) nNew = vfsMapMaxPages;
        aNew = (unsigned short*)sqlite3_realloc64(pM->aTop, sizeof(unsigned short)*nNew);
        if( aNew==0 ){
          rc = VLOG_NOMEM;
          break;
        }
        memset(&aNew[pM->nPg], 0xff, sizeof(unsigned short)*(nNew - pM->nPg));
        pM->aTop = aNew;
        pM->nPg = nNew;
      }
      pM->aTop[k] = b;                    /* (a layer above comes later) */
      rc = vlogCursorNext(pCsr);
    }
    (void)vlogCursorClose(pCsr);
    if( rc==VLOG_OK ) pM->aL[pM->nL++] = *pL;
  }
  if( rc || pM->bNoMap ) mapReset(pM);   /* (a half-mapped layer) */
  pM->nProbe = 0;
  return rc;
}

/*
** Chunk iPg of file pS, size sz, as store pStore has it, into aOut: the
** top layer's key, else (below the layer's nBase) the next layer's, and
** so on; zeros past that.  *peFrom says which; FROM_BASE leaves aOut for
** the caller to read from the base, of which *pnBase bytes show.  A key
** of no bytes is zeros (written over what is below).  VLOG_CORRUPT with
** zWhy set for a chunk of the wrong size, an engine error without.  Under
** the layers the map has (pS->pMap), it says which one to look in.
*/
static int chunkLookup(VlogStore *pStore, VfsState *pS, unsigned int iPg,
                       int sz, u8 *aOut, int *peFrom, sqlite3_int64 *pnBase,
                       char *zWhy, int nWhy){
  sqlite3_int64 iOff = chunkOffset(pS, iPg);
  sqlite3_int64 nBase;
  unsigned int iTree;
  int i, bZeroKey, bJumped;
  u8 aKey[4];
  zWhy[0] = 0;
  put32(aKey, iPg);
 restart:
  nBase = pS->bWal ? 0 : pS->nBase;
  iTree = stateTree(pS);
  i = 0;
  bZeroKey = !pS->bWal && (pS->bOverlay || iTree!=VFS_TREE_MAIN);
  bJumped = 0;
  for(;;){
    const void *pVal;
    int nVal;
    VfsLayerMap *pM;
    int rc = vlogGet(pStore, iTree, aKey, 4, &pVal, &nVal);
    if( rc==VLOG_OK ){
      *peFrom = i==0 ? FROM_TOP : FROM_LAYER;
      if( nVal==0 && bZeroKey ){
        memset(aOut, 0, sz);              /* zeros written over what is below */
      }else if( nVal!=sz ){
        sqlite3_snprintf(nWhy, zWhy, "%s %u (offset %lld): stored with a size "
                         "of %d, not %d", pS->bWal ? "WAL frame" : "page", iPg,
                         iOff, nVal, sz);
        return VLOG_CORRUPT;
      }else{
        memcpy(aOut, pVal, sz);
      }
      return VLOG_OK;
    }
    if( rc!=VLOG_NOTFOUND ) return rc;
    if( bJumped ){
      mapReset(pS->pMap);                 /* the map named a layer without
                                          ** the key: not to be trusted */
      goto restart;
    }
    if( iOff>=nBase ){
      *peFrom = FROM_NONE;
      memset(aOut, 0, sz);
      return VLOG_OK;
    }
    if( i==pS->nLow ){
      /* under the last layer: the base (chainLoad checked there is one) */
      *peFrom = FROM_BASE;
      *pnBase = nBase;
      return VLOG_OK;
    }
    /* aLow[i] is next */
    if( pS->pMap==0 ){
      pS->pMap = (VfsLayerMap*)sqlite3_malloc(sizeof(VfsLayerMap));
      if( pS->pMap==0 ) return VLOG_NOMEM;
      memset(pS->pMap, 0, sizeof(VfsLayerMap));
    }
    pM = pS->pMap;
    if( pM->nL<pS->nLow-i && !pM->bNoMap && ++pM->nProbe>=vfsMapProbes ){
      rc = mapGrow(pStore, pS, zWhy, nWhy);
      if( rc ) return rc;
    }
    if( pM->nL>=pS->nLow-i ){
      /* aLow[i] and every layer under it mapped: at most one lookup */
      const VfsLayer *pLast = &pS->aLow[pS->nLow-1];
      unsigned int b = iPg<pM->nPg ? pM->aTop[iPg] : VFS_MAP_NONE;
      if( b==VFS_MAP_NONE ){
        if( iOff>=pLast->nShow || iOff>=pLast->nBase ){
          *peFrom = FROM_NONE;
          memset(aOut, 0, sz);
        }else{
          *peFrom = FROM_BASE;
          *pnBase = pLast->nBase;
        }
        return VLOG_OK;
      }
      assert( b<(unsigned int)pM->nL && (int)(pS->nLow-1-b)>=i );
      i = pS->nLow-1-(int)b;
      if( iOff>=pS->aLow[i].nShow ){
        *peFrom = FROM_NONE;              /* hidden by a truncation above */
        memset(aOut, 0, sz);
        return VLOG_OK;
      }
      bJumped = 1;
    }
    iTree = pS->aLow[i].iTree;
    nBase = pS->aLow[i].nBase;
    bZeroKey = 1;
    i++;
  }
}

/* Chunk iPg of file pS, size sz, as the store has it, into aOut: zeros
** when absent. */
static int storeChunkRead(VfsDb *p, VfsState *pS, unsigned int iPg, int sz,
                          u8 *aOut){
  sqlite3_int64 nBase = 0;
  char zWhy[128];
  int eFrom = FROM_NONE;
  int rc = chunkLookup(p->pStore, pS, iPg, sz, aOut, &eFrom, &nBase, zWhy, sizeof(zWhy));
  if( rc==VLOG_OK ){
    if( eFrom==FROM_BASE ) return baseRead(p, nBase, iPg, sz, aOut);
    if( p->pBase && !pS->bWal && eFrom==FROM_TOP ) p->pBase->nReadOverlay++;
    return SQLITE_OK;
  }
  if( rc==VLOG_CORRUPT && zWhy[0] ){
    dbLog(p, SQLITE_CORRUPT, sqlite3_mprintf("%s", zWhy));
    return SQLITE_CORRUPT;
  }
  if( rc==VLOG_CORRUPT ){
    sqlite3_log(SQLITE_CORRUPT, "vlog: %s: %s %u (offset %lld): %s", p->zPath,
                pS->bWal ? "WAL frame" : "page", iPg, chunkOffset(pS, iPg),
                vlogStoreErrMsg(p->pStore));
    return SQLITE_CORRUPT;
  }
  return dbError(p, rc);
}

static int storeChunkWrite(VfsDb *p, unsigned int iTree, unsigned int iPg, int sz,
                           const u8 *a){
  u8 aKey[4];
  int rc;
  put32(aKey, iPg);
  if( isZero(a, sz) && iTree!=VFS_TREE_WAL
   && (sqlite3_int64)(iPg-1)*sz<p->st.nBase ){
    /* over a page of the base or a frozen layer: a key of no bytes, which
    ** reads as zeros */
    rc = vlogPutEx(p->pStore, iTree, aKey, 4, "", 0, 0, VFS_ZSTD_LEVEL);
  }else if( isZero(a, sz) ){
    rc = vlogDelete(p->pStore, iTree, aKey, 4);
    if( rc==VLOG_NOTFOUND ) rc = VLOG_OK;
  }else{
    rc = vlogPutEx(p->pStore, iTree, aKey, 4, a, sz, 0,
                   iTree==VFS_TREE_WAL ? VFS_WAL_ZSTD_LEVEL : VFS_ZSTD_LEVEL);
  }
  return rc ? dbError(p, rc) : SQLITE_OK;
}

/* ---------------------------------------------------------------------
** A temporary file of the parent VFS (deleted on close, never found by
** anyone): where a large journal and a transaction's dirty chunks past
** dirty_mem go, so that memory stays bounded as on the plain file, where
** they would be in the OS's page cache.
*/
static void tempClose(sqlite3_file **pp){
  if( *pp ){
    if( (*pp)->pMethods ) (void)(*pp)->pMethods->xClose(*pp);
    sqlite3_free(*pp);
    *pp = 0;
  }
}

static int tempOpen(VlogVfs *pVfs, sqlite3_file **pp){
  sqlite3_vfs *pParent = pVfs->pParent;
  int rc, outFlags = 0;
  assert( *pp==0 );
  *pp = (sqlite3_file*)sqlite3_malloc(pParent->szOsFile);
  if( *pp==0 ) return SQLITE_IOERR_NOMEM;
  memset(*pp, 0, pParent->szOsFile);
  rc = pParent->xOpen(pParent, 0, *pp, SQLITE_OPEN_TEMP_JOURNAL
                      |SQLITE_OPEN_READWRITE|SQLITE_OPEN_CREATE
                      |SQLITE_OPEN_EXCLUSIVE|SQLITE_OPEN_DELETEONCLOSE, &outFlags);
  if( rc ) tempClose(pp);
  return rc;
}

/* ---------------------------------------------------------------------
** The transaction's dirty chunks.  A page SQLite writes is kept here
** until the commit (or until dirty_max bytes are kept): SQLite writes a
** page more than once in a transaction when its cache spills, and each
** put would compress and append it to the value log again, the earlier
** copies stale at once; a -wal frame comes in two writes (its header,
** then its page).  The chunks first written last, dirty_mem bytes of
** them, are in memory; older ones move to a temporary file (pDirtyFile, a
** slot per chunk, rewritten there in place), oldest first (first in,
** first out: a rewrite does not bring a chunk back): a transaction larger than SQLite's cache
** takes no more memory than on the plain file, and the writes and reads
** that follow each other (a frame's two, SQLite reading back what it
** spilled) stay in memory.  By default dirty_mem is dirty_max: on this
** VFS a transaction larger than SQLite's cache rewrites and rereads the
** pages it spilled, and through a file each is a system call (speedtest1
** took 1.45x unix's time with 512 KiB in memory, 1.15x with 32 MiB), so
** the file serves dirty_mem=BYTES and SQLite's soft and hard heap limits
** (heapTight), as SQLite's page cache gives way to them.
** Reads of the transaction see them first.  A rollback drops them; nobody
** else ever sees them.
*/
static DirtyPage *dirtyFind(VfsDb *p, unsigned int iTree, unsigned int iPg){
  DirtyPage *d = 0;
  if( p->apDirty ){
    for(d=p->apDirty[iPg % VFS_DIRTY_HASH]; d && (d->iPg!=iPg || d->iTree!=iTree);
        d=d->pHash){}
  }
  return d;
}

/* Chunk d's bytes, into aOut. */
static int dirtyGet(VfsDb *p, DirtyPage *d, u8 *aOut){
  if( d->a ){
    memcpy(aOut, d->a, d->sz);
    return SQLITE_OK;
  }
  return p->pDirtyFile->pMethods->xRead(p->pDirtyFile, aOut, d->sz, d->iFile);
}

/* Chunk d's bytes become a[0..sz). */
static int dirtySet(VfsDb *p, DirtyPage *d, const u8 *a){
  if( d->a ){
    memcpy(d->a, a, d->sz);
    return SQLITE_OK;
  }
  return p->pDirtyFile->pMethods->xWrite(p->pDirtyFile, a, d->sz, d->iFile);
}

/* Take d, in memory, off the list of those in memory. */
static void dirtyMemUnlink(VfsDb *p, DirtyPage *d){
  assert( d->a );
  if( d->pMemPrev ) d->pMemPrev->pMemNext = d->pMemNext;
  else p->pMemFirst = d->pMemNext;
  if( d->pMemNext ) d->pMemNext->pMemPrev = d->pMemPrev;
  else p->pMemLast = d->pMemPrev;
  d->pMemNext = d->pMemPrev = 0;
  p->nDirtyMem -= d->sz;
}

/* The oldest chunk in memory moves to the file, to a new slot; its
** buffer is returned (*paBuf) for the caller to reuse or free. */
static int dirtyEvict(VfsDb *p, u8 **paBuf, int *pnBuf){
  DirtyPage *d = p->pMemFirst;
  int rc = SQLITE_OK;
  assert( d && d->a );
  if( p->pDirtyFile==0 ) rc = tempOpen(p->pVfs, &p->pDirtyFile);
  if( rc==SQLITE_OK ){
    rc = p->pDirtyFile->pMethods->xWrite(p->pDirtyFile, d->a, d->sz, p->nDirtyFile);
  }
  if( rc ) return rc;
  dirtyMemUnlink(p, d);
  d->iFile = p->nDirtyFile;
  p->nDirtyFile += d->sz;
  *paBuf = d->a;
  *pnBuf = d->sz;
  d->a = 0;
  return SQLITE_OK;
}

static void dirtyFree(DirtyPage *d){
  sqlite3_free(d->a);
  sqlite3_free(d);
}

#ifndef NDEBUG
/* The dirty chunks' structure holds: each in the hash, once, and both
** lists linked both ways; the byte counts are theirs.  (An assert, at
** each flush: O(n).) */
static int dirtyOk(VfsDb *p){
  DirtyPage *d, *pPrev = 0;
  sqlite3_int64 nAll = 0, nMem = 0;
  for(d=p->pDirty; d; pPrev=d, d=d->pNext){
    if( d->pPrev!=pPrev || dirtyFind(p, d->iTree, d->iPg)!=d ) return 0;
    if( (d->a==0)!=(d->iFile>=0) ) return 0;
    if( d->a==0 && d->iFile+d->sz>p->nDirtyFile ) return 0;
    nAll += d->sz;
  }
  for(pPrev=0, d=p->pMemFirst; d; pPrev=d, d=d->pMemNext){
    if( d->pMemPrev!=pPrev || d->a==0 ) return 0;
    nMem += d->sz;
  }
  return nAll==p->nDirty && nMem==p->nDirtyMem && pPrev==p->pMemLast;
}
#endif

/* Forget every dirty chunk (bWrite 0), or write each to the store first. */
static int dirtyFlush(VfsDb *p, int bWrite){
  int rc = SQLITE_OK;
  DirtyPage *d, *pNext;
  assert( dirtyOk(p) );
  for(d=p->pDirty; d; d=pNext){
    pNext = d->pNext;
    if( bWrite && rc==SQLITE_OK ){
      if( d->a ){
        rc = storeChunkWrite(p, d->iTree, d->iPg, d->sz, d->a);
      }else{
        if( p->nDirtyBuf<d->sz ){
          u8 *aNew = (u8*)sqlite3_realloc(p->aDirtyBuf, d->sz);
          if( aNew==0 ) rc = SQLITE_IOERR_NOMEM;
          else{ p->aDirtyBuf = aNew; p->nDirtyBuf = d->sz; }
        }
        if( rc==SQLITE_OK ) rc = dirtyGet(p, d, p->aDirtyBuf);
        if( rc==SQLITE_OK ) rc = storeChunkWrite(p, d->iTree, d->iPg, d->sz, p->aDirtyBuf);
      }
    }
    dirtyFree(d);
  }
  p->pDirty = 0;
  p->nDirty = 0;
  p->pMemFirst = p->pMemLast = 0;
  p->nDirtyMem = 0;
  if( p->apDirty ) memset(p->apDirty, 0, sizeof(DirtyPage*)*VFS_DIRTY_HASH);
  if( p->nDirtyFile ){
    /* the OS may drop its pages: a failure here costs nothing */
    (void)p->pDirtyFile->pMethods->xTruncate(p->pDirtyFile, 0);
    p->nDirtyFile = 0;
  }
  return rc;
}

static void dirtyRemove(VfsDb *p, unsigned int iTree, unsigned int iPg){
  DirtyPage **pp, *d = dirtyFind(p, iTree, iPg);
  if( d==0 ) return;
  for(pp=&p->apDirty[iPg % VFS_DIRTY_HASH]; *pp!=d; pp=&(*pp)->pHash){}
  *pp = d->pHash;
  if( d->pPrev ) d->pPrev->pNext = d->pNext;
  else p->pDirty = d->pNext;
  if( d->pNext ) d->pNext->pPrev = d->pPrev;
  p->nDirty -= d->sz;
  if( d->a ) dirtyMemUnlink(p, d);            /* a file slot stays unused */
  dirtyFree(d);
}

/* Chunk iPg of size sz: the transaction's copy, else the store's. */
static int chunkRead(VfsDb *p, VfsState *pS, unsigned int iPg, int sz, u8 *aOut){
  DirtyPage *d = dirtyFind(p, stateTree(pS), iPg);
  if( d && d->sz==sz ) return dirtyGet(p, d, aOut);
  return storeChunkRead(p, pS, iPg, sz, aOut);
}

/* Would sz more bytes of the heap pass SQLite's soft or hard heap limit
** (sqlite3_soft_heap_limit64(), sqlite3_hard_heap_limit64())?  SQLite's
** page cache gives way to them; so do the dirty chunks, to the file. */
static int heapTight(int sz){
  sqlite3_int64 lim = sqlite3_soft_heap_limit64(-1);
  sqlite3_int64 hard = sqlite3_hard_heap_limit64(-1);
  if( hard>0 && (lim<=0 || hard<lim) ) lim = hard;
  return lim>0 && sqlite3_memory_used()+sz>lim;
}

/* A new dirty chunk iPg of sz bytes, in memory (the oldest there moving
** to the file to make room) or, when sz is more than dirty_mem or the
** heap is at SQLite's limit with nothing left to move, in the file.  Out of memory is an error (SQLITE_IOERR_NOMEM), not a fallback
** to the store: an extension cannot mark an allocation benign as SQLite
** does, and SQLite's tests of every failed allocation (do_malloc_test)
** need each one to show. */
static int dirtyAdd(VfsDb *p, unsigned int iTree, unsigned int iPg, int sz,
                    const u8 *a){
  DirtyPage *d;
  u8 *aBuf = 0;
  int nBuf = 0, rc = SQLITE_OK;
  if( p->apDirty==0 ){
    p->apDirty = (DirtyPage**)sqlite3_malloc(sizeof(DirtyPage*)*VFS_DIRTY_HASH);
    if( p->apDirty==0 ) return SQLITE_IOERR_NOMEM;
    memset(p->apDirty, 0, sizeof(DirtyPage*)*VFS_DIRTY_HASH);
  }
  d = (DirtyPage*)sqlite3_malloc(sizeof(DirtyPage));
  if( d==0 ) return SQLITE_IOERR_NOMEM;
  memset(d, 0, sizeof(*d));
  d->iTree = iTree;
  d->iPg = iPg;
  d->sz = sz;
  d->iFile = -1;
  if( sz<=p->nDirtyMemMax ){
    while( rc==SQLITE_OK && p->pMemFirst
        && (p->nDirtyMem+sz>p->nDirtyMemMax || heapTight(sz)) ){
      sqlite3_free(aBuf);
      rc = dirtyEvict(p, &aBuf, &nBuf);
    }
    if( rc==SQLITE_OK && heapTight(sz) ){
      sqlite3_free(aBuf);                     /* nothing left to move */
      aBuf = 0;
      if( p->pDirtyFile==0 ) rc = tempOpen(p->pVfs, &p->pDirtyFile);
    }else if( rc==SQLITE_OK ){
      if( aBuf && nBuf==sz ){
        d->a = aBuf;                          /* the evicted one's buffer */
        aBuf = 0;
      }else{
        d->a = (u8*)sqlite3_malloc(sz);
        if( d->a==0 ) rc = SQLITE_IOERR_NOMEM;
      }
    }
    sqlite3_free(aBuf);
  }else if( p->pDirtyFile==0 ){
    rc = tempOpen(p->pVfs, &p->pDirtyFile);
  }
  if( rc==SQLITE_OK ){
    if( d->a==0 ) d->iFile = p->nDirtyFile;
    rc = dirtySet(p, d, a);
  }
  if( rc ){
    dirtyFree(d);
    return rc;
  }
  if( d->a ){
    d->pMemPrev = p->pMemLast;
    if( p->pMemLast ) p->pMemLast->pMemNext = d;
    else p->pMemFirst = d;
    p->pMemLast = d;
    p->nDirtyMem += sz;
  }else{
    p->nDirtyFile += sz;
  }
  d->pHash = p->apDirty[iPg % VFS_DIRTY_HASH];
  p->apDirty[iPg % VFS_DIRTY_HASH] = d;
  d->pNext = p->pDirty;
  if( p->pDirty ) p->pDirty->pPrev = d;
  p->pDirty = d;
  p->nDirty += sz;
  return SQLITE_OK;
}

/* Write chunk iPg: kept dirty (an all-zero one is no key, at once). */
static int chunkWrite(VfsDb *p, VfsState *pS, unsigned int iPg, int sz, const u8 *a){
  unsigned int iTree = stateTree(pS);
  DirtyPage *d = dirtyFind(p, iTree, iPg);
  int rc;
  if( isZero(a, sz) ){
    /* no key, at once: nothing kept (a zeroblob of any size takes no
    ** memory), and a delete writes nothing to the value log */
    dirtyRemove(p, iTree, iPg);
    return storeChunkWrite(p, iTree, iPg, sz, a);
  }
  if( d && d->sz!=sz ){
    dirtyRemove(p, iTree, iPg);
    d = 0;
  }
  if( d==0 ){
    rc = dirtyAdd(p, iTree, iPg, sz, a);
  }else{
    /* a failed rewrite in the file leaves the chunk unknown: SQLite rolls
    ** the transaction back after an error of a write */
    rc = dirtySet(p, d, a);
  }
  if( rc ) return rc;
  if( p->nDirty>p->nDirtyMax || p->nDirtyFile>2*p->nDirtyMax ){
    return dirtyFlush(p, 1);
  }
  return SQLITE_OK;
}

static int chunkDelete(VfsDb *p, VfsState *pS, unsigned int iPg){
  u8 aKey[4];
  int rc;
  dirtyRemove(p, stateTree(pS), iPg);
  put32(aKey, iPg);
  rc = vlogDelete(p->pStore, stateTree(pS), aKey, 4);
  return (rc && rc!=VLOG_NOTFOUND) ? dbError(p, rc) : SQLITE_OK;
}

/* ---------------------------------------------------------------------
** Reads, writes and truncation of a file's bytes (the database file's or
** the -wal's), in the current transaction: the chunks each covers, read
** whole or patched (read-modify-write).
*/
static int fileRead(VfsDb *p, VfsState *pS, u8 *aOut, int iAmt,
                    sqlite3_int64 iOfst, int *pbShort){
  sqlite3_int64 iEnd = iOfst + iAmt;
  int rc = SQLITE_OK;
  *pbShort = 0;
  if( iEnd>pS->nSize ){
    sqlite3_int64 nHave = pS->nSize>iOfst ? pS->nSize-iOfst : 0;
    memset(&aOut[nHave], 0, iAmt - nHave);
    iEnd = iOfst + nHave;
    *pbShort = 1;
  }
  while( rc==SQLITE_OK && iOfst<iEnd ){
    int sz, iIn, n;
    unsigned int iPg = chunkSpan(pS, iOfst, iEnd, &iIn, &n, &sz);
    if( iIn==0 && n==sz ){
      rc = chunkRead(p, pS, iPg, sz, aOut);
    }else{
      rc = chunkRead(p, pS, iPg, sz, p->aChunk);
      if( rc==SQLITE_OK ) memcpy(aOut, &p->aChunk[iIn], n);
    }
    aOut += n;
    iOfst += n;
  }
  return rc;
}

static int fileWrite(VfsDb *p, VfsState *pS, const u8 *aIn, int iAmt,
                     sqlite3_int64 iOfst){
  sqlite3_int64 iEnd = iOfst + iAmt;
  int rc = SQLITE_OK;
  while( rc==SQLITE_OK && iOfst<iEnd ){
    int sz, iIn, n;
    unsigned int iPg = chunkSpan(pS, iOfst, iEnd, &iIn, &n, &sz);
    if( iIn==0 && n==sz ){
      rc = chunkWrite(p, pS, iPg, sz, aIn);
    }else{
      if( iOfst-iIn < pS->nSize ){
        rc = chunkRead(p, pS, iPg, sz, p->aChunk);
      }else{
        memset(p->aChunk, 0, sz);
      }
      if( rc==SQLITE_OK ){
        memcpy(&p->aChunk[iIn], aIn, n);
        rc = chunkWrite(p, pS, iPg, sz, p->aChunk);
      }
    }
    aIn += n;
    iOfst += n;
  }
  if( rc==SQLITE_OK && iEnd>pS->nSize ){
    pS->nSize = iEnd;
    pS->bDirty = 1;
  }
  return rc;
}

/* Truncate the file to size bytes (fewer than it has). */
static int fileTruncate(VfsDb *p, VfsState *pS, sqlite3_int64 size){
  int rc = SQLITE_OK;
  assert( size<pS->nSize && vlogTxnState(p->pStore)==2 );
  if( size==0 ){
    DirtyPage *d, *pNext;
    for(d=p->pDirty; d; d=pNext){
      pNext = d->pNext;
      if( d->iTree==stateTree(pS) ) dirtyRemove(p, d->iTree, d->iPg);
    }
    rc = vlogTreeClear(p->pStore, stateTree(pS));
    if( rc==VLOG_NOTFOUND ) rc = VLOG_OK;
    if( rc ) rc = dbError(p, rc);
  }else if( pS->szChunk ){
    sqlite3_int64 kNew = chunkLast(pS, size), kOld = chunkLast(pS, pS->nSize), k;
    int sz, iIn, n;
    for(k=kNew+1; rc==SQLITE_OK && k<=kOld; k++) rc = chunkDelete(p, pS, (unsigned int)k);
    (void)chunkSpan(pS, size-1, size, &iIn, &n, &sz);
    if( rc==SQLITE_OK && iIn+1<sz ){
      /* the last chunk's tail reads as zeros if the file grows again */
      rc = chunkRead(p, pS, (unsigned int)kNew, sz, p->aChunk);
      if( rc==SQLITE_OK ){
        memset(&p->aChunk[iIn+1], 0, sz - iIn - 1);
        rc = chunkWrite(p, pS, (unsigned int)kNew, sz, p->aChunk);
      }
    }
  }
  if( rc==SQLITE_OK ){
    pS->nSize = size;
    if( pS->nBase>size ) pS->nBase = size;  /* an overlay's base shows no
                                            ** more past it, grown again */
    pS->bDirty = 1;
  }
  return rc;
}

/* Chunks the database file's first n bytes need, at chunk size sz. */
static sqlite3_int64 chunkCount(sqlite3_int64 n, int sz){
  return sz ? (n + sz - 1)/sz : 0;
}

/*
** Change the chunk size to szNew, moving every byte.  Growing, new chunk
** j (from 1) gathers old chunks whose keys are at least j, so ascending
** order reads each old chunk before its key is overwritten; shrinking,
** old chunk k spreads over new keys at least k, so descending order does.
*/
static int rechunk(VfsDb *p, int szNew){
  int szOld = p->st.szChunk;
  sqlite3_int64 nOld = chunkCount(p->st.nSize, szOld);
  sqlite3_int64 nNew = chunkCount(p->st.nSize, szNew);
  sqlite3_int64 k;
  int rc = dirtyFlush(p, 1);            /* the loops below read the store */
  assert( szOld && szNew && szOld!=szNew );
  if( szNew>szOld ){
    int r = szNew/szOld, i;
    for(k=1; rc==SQLITE_OK && k<=nNew; k++){
      for(i=0; rc==SQLITE_OK && i<r; i++){
        sqlite3_int64 iOld = (k-1)*r + i + 1;
        if( iOld<=nOld ){
          rc = chunkRead(p, &p->st, (unsigned int)iOld, szOld, &p->aChunk[i*szOld]);
        }else{
          memset(&p->aChunk[i*szOld], 0, szOld);
        }
      }
      if( rc==SQLITE_OK ) rc = chunkWrite(p, &p->st, (unsigned int)k, szNew, p->aChunk);
    }
    for(k=nNew+1; rc==SQLITE_OK && k<=nOld; k++) rc = chunkDelete(p, &p->st, (unsigned int)k);
  }else{
    int r = szOld/szNew, i;
    for(k=nOld; rc==SQLITE_OK && k>=1; k--){
      rc = chunkRead(p, &p->st, (unsigned int)k, szOld, p->aChunk);
      for(i=r-1; rc==SQLITE_OK && i>=0; i--){
        sqlite3_int64 iNew = (k-1)*r + i + 1;
        if( iNew<=nNew ){
          rc = chunkWrite(p, &p->st, (unsigned int)iNew, szNew, &p->aChunk[i*szNew]);
        }
      }
    }
  }
  if( rc==SQLITE_OK ){
    p->st.szChunk = szNew;
    p->st.nBase = 0;                      /* an overlay's every chunk is
                                          ** its own now */
    p->st.bDirty = 1;
  }
  return rc;
}

/* ---------------------------------------------------------------------
** Overlays (URI base=FILE).  The store is a writable overlay of FILE, a
** plain SQLite database that it reads and never writes: a page the
** overlay has not written is read from the base.  Its catalog holds the
** entry "base" (the base's path, and its identity: size, page size and a
** checksum of its first VFS_BASE_ID_BYTES bytes, which hold SQLite's
** header and its file change counter, and of VFS_BASE_ID_SAMPLES pages
** spread over the rest) and the database file's entry is
** version 3, with nBase: its first nBase bytes that the overlay has not
** written are the base's.  nBase starts at the base's size and only goes
** down: a truncation lowers it to the new size (what grows again there is
** the overlay's, zeros where unwritten), and a page-size change writes
** every page (rechunk) and sets it to 0.  A page of zeros the overlay
** writes below nBase is a key of no bytes (elsewhere zeros are no key).
** So a page is the overlay's whenever it has the key, and sizes are read
** in each transaction as for any database file: nothing is cached that
** could go stale.
**
** Opening is O(1) in the base's size: the base is opened read-only
** through the parent VFS, its identity checked against the entry (a base
** changed since is a clear error, never pages mixed), and it stays open
** for the connection under SHARED, so that no SQLite connection can write
** it meanwhile.  Pages are copied into the overlay (materialized) by
** vlog_materialize(), in commits of VFS_MAT_STEP pages, after which nBase
** is 0 and the overlay stands alone; and with materialize_on_read, those
** a read transaction took from the base, at its end, in a commit of their
** own if the store's writer lock is free at once.
*/

/* Does the overlay's base still show through its top layer?  (After a
** snapshot the top shows the frozen layer instead: a snapshot is taken of
** an overlay that stands alone.) */
#define baseShows(pS) ((pS)->bOverlay && (pS)->iBelow==0 && (pS)->nBase>0)

static int isPageSize(int n){
  return n>=VFS_MIN_CHUNK && n<=VFS_MAX_CHUNK && (n & (n-1))==0;
}


/* Log zMsg (from sqlite3_mprintf(), which this frees; 0 when it failed)
** for database p.  sqlite3_log() keeps VFS_LOG_MAX bytes of a message, and
** what to do comes last in ours: so other files in the database's
** directory, and the store itself, are named in zMsg relative to that
** directory, and a path too long for the rest to fit loses its start
** ("vlog: ...ep/app.db: ..."). */
static void dbLog(VfsDb *p, int rc, char *zMsg){
  const char *zSlash = strrchr(p->zPath, '/');
  const char *zName = p->zPath, *zDots = "";
  int nRoom;
  if( zMsg && zSlash ){
    size_t nDir = (size_t)(zSlash - p->zPath) + 1;
    char *zIn = zMsg, *zOut = zMsg;
    while( *zIn ){
      if( strncmp(zIn, p->zPath, nDir)==0 ){
        zIn += nDir;
      }else{
        *zOut++ = *zIn++;
      }
    }
    *zOut = 0;
  }
  nRoom = VFS_LOG_MAX - (int)strlen("vlog: ...: ") - (zMsg ? (int)strlen(zMsg) : 13);
  if( nRoom>=16 && (int)strlen(zName)>nRoom ){
    zName += strlen(zName) - nRoom;
    zDots = "...";
  }
  sqlite3_log(rc, "vlog: %s%s: %s", zDots, zName, zMsg ? zMsg : "out of memory");
  sqlite3_free(zMsg);
}

/* Log an overlay's error (dbLog) and return rc. */
static int overlayError(VfsDb *p, int rc, const char *zFmt, ...){
  va_list ap;
  va_start(ap, zFmt);
  dbLog(p, rc, sqlite3_vmprintf(zFmt, ap));
  va_end(ap);
  return rc;
}

/* zPath and zSuffix as a name for the parent's xOpen(): extra NULs end it
** (a VFS looks for URI parameters after it), and it must live until the
** file's xClose(). */
static char *parentName(const char *zPath, const char *zSuffix){
  size_t n = strlen(zPath), nSuffix = strlen(zSuffix);
  char *z = (char*)sqlite3_malloc64(n + nSuffix + 4);
  if( z ){
    memcpy(z, zPath, n);
    memcpy(&z[n], zSuffix, nSuffix);
    memset(&z[n+nSuffix], 0, 4);
  }
  return z;
}

/* The size of the parent's file zPath with zSuffix, -1 when there is none
** (0 when it cannot be told). */
static sqlite3_int64 parentFileSize(sqlite3_vfs *pParent, const char *zPath,
                                    const char *zSuffix){
  char *zName = parentName(zPath, zSuffix);
  sqlite3_file *pF = (sqlite3_file*)sqlite3_malloc(pParent->szOsFile);
  sqlite3_int64 n = 0;
  int bExists = 0, flags = SQLITE_OPEN_READONLY|SQLITE_OPEN_MAIN_JOURNAL;
  if( zName && pF ){
    memset(pF, 0, pParent->szOsFile);
    if( pParent->xAccess(pParent, zName, SQLITE_ACCESS_EXISTS, &bExists) || !bExists ){
      n = -1;
    }else if( pParent->xOpen(pParent, zName, pF, flags, &flags)==SQLITE_OK ){
      if( pF->pMethods->xFileSize(pF, &n) ) n = 0;
    }
    if( pF->pMethods ) pF->pMethods->xClose(pF);
  }
  sqlite3_free(pF);
  sqlite3_free(zName);
  return n;
}

static void baseClose(VfsBase *pB){
  if( pB->pSnapStore ){
    if( vlogTxnState(pB->pSnapStore) ) (void)vlogRollback(pB->pSnapStore);
    (void)vlogStoreClose(pB->pSnapStore);
    pB->pSnapStore = 0;
  }
  stateFree(&pB->snapSt);
  if( pB->pFile ){
    if( pB->bShmPin ){
      (void)pB->pFile->pMethods->xShmLock(pB->pFile, VFS_WAL_READ_LOCK0, 1,
                                          SQLITE_SHM_UNLOCK|SQLITE_SHM_SHARED);
      (void)pB->pFile->pMethods->xShmUnmap(pB->pFile, 0);
      pB->bShmPin = 0;
    }
    if( pB->pFile->pMethods ){
      (void)pB->pFile->pMethods->xUnlock(pB->pFile, SQLITE_LOCK_NONE);
      (void)pB->pFile->pMethods->xClose(pB->pFile);
    }
    sqlite3_free(pB->pFile);
    pB->pFile = 0;
  }
  sqlite3_free(pB->zOpen);
  pB->zOpen = 0;
}

/* A base in WAL mode is pinned: the SHARED lock that stops a rollback-mode
** writer does not stop a WAL-mode one, whose checkpoints would write its
** pages under the overlay.  So the handle holds WAL read lock 0 in the
** base's -shm, shared, as a reader of the database file alone does, and
** no checkpoint copies a frame back while it is held (SQLite's
** walCheckpoint() needs that lock exclusive); writers may go on adding to
** the WAL.  The -shm is the parent VFS's and is opened (made, if need be)
** as any reader of a WAL database would.  Where it cannot be (a read-only
** directory without one), no WAL writer can have made one either: the
** base goes unpinned.  SQLITE_BUSY while a checkpoint runs. */
static int basePin(VfsBase *pB){
  sqlite3_file *pF = pB->pFile;
  u8 aMode[2];
  volatile void *pMap = 0;
  int rc;
  if( pF->pMethods->iVersion<2 || pF->pMethods->xShmMap==0 ) return SQLITE_OK;
  rc = pF->pMethods->xRead(pF, aMode, 2, 18);
  if( rc==SQLITE_IOERR_SHORT_READ || (rc==SQLITE_OK && aMode[0]!=2
                                      && aMode[1]!=2) ){
    return SQLITE_OK;                     /* not in WAL mode */
  }
  if( rc ) return rc;
  rc = pF->pMethods->xShmMap(pF, 0, 32768, 0, &pMap);
  if( rc!=SQLITE_OK && rc!=SQLITE_READONLY_CANTINIT ){
    (void)pF->pMethods->xShmUnmap(pF, 0);
    return (rc&0xff)==SQLITE_CANTOPEN || (rc&0xff)==SQLITE_READONLY
           ? SQLITE_OK : rc;
  }
  rc = pF->pMethods->xShmLock(pF, VFS_WAL_READ_LOCK0, 1,
                              SQLITE_SHM_LOCK|SQLITE_SHM_SHARED);
  if( rc ){
    (void)pF->pMethods->xShmUnmap(pF, 0);
    return rc;
  }
  pB->bShmPin = 1;
  return SQLITE_OK;
}

static void baseFree(VfsBase *pB){
  if( pB ){
    baseClose(pB);
    sqlite3_free(pB->zSnap);
    sqlite3_free(pB->aBuf);
    sqlite3_free(pB->aPending);
    sqlite3_free(pB->zPath);
    sqlite3_free(pB);
  }
}

/*
** A branch's base: snapshot pB->zSnap of the vlog store pB->pSnapStore,
** read through its engine along the snapshot's layers, in a read
** transaction that serves a turn of reads (snapTxnDone) and at its start
** finds the snapshot again: one dropped since, or taken again (another
** time), is an error, never other pages.  n bytes at iOff into aOut
** (zeros past its size).
*/
static int snapBaseRead(VfsDb *p, VfsBase *pB, u8 *aOut, int n, sqlite3_int64 iOff){
  VlogStore *pStore = pB->pSnapStore;
  VfsState *pSt = &pB->snapSt;
  sqlite3_int64 iTaken = 0;
  char zWhy[160];
  int rc;
  zWhy[0] = 0;
  if( pB->aBuf==0 ){
    pB->aBuf = (u8*)sqlite3_malloc(VFS_MAX_CHUNK);
    if( pB->aBuf==0 ) return SQLITE_NOMEM;
  }
  /* the read transaction serves the next reads too, for a while (as a
  ** snapshot connection's: txnLeave) */
  if( vlogTxnState(pStore)==0 ){
    rc = vlogBegin(pStore, 0);
    pB->nSnapReads = 0;
    (void)vfsCurrentTimeInt64(&p->pVfs->base, &pB->iSnapTxnStart);
    if( rc==VLOG_OK ) rc = snapLoad(pStore, pB->zSnap, pSt, &iTaken, zWhy, sizeof(zWhy));
    if( rc==VLOG_OK && pB->iTaken && iTaken!=pB->iTaken ) rc = VLOG_NOTFOUND;
  }else{
    rc = VLOG_OK;
  }
  while( rc==VLOG_OK && n>0 ){
    int sz = pSt->szChunk, eFrom = FROM_NONE, iIn, nCopy;
    sqlite3_int64 nBase = 0;
    unsigned int k;
    if( iOff>=pSt->nSize ){
      memset(aOut, 0, n);
      break;
    }
    k = (unsigned int)(iOff/sz) + 1;
    iIn = (int)(iOff % sz);
    nCopy = sz - iIn < n ? sz - iIn : n;
    rc = chunkLookup(pStore, pSt, k, sz, pB->aBuf, &eFrom, &nBase, zWhy, sizeof(zWhy));
    if( rc==VLOG_OK && eFrom==FROM_BASE ){
      sqlite3_snprintf(sizeof(zWhy), zWhy, "snapshot %s shows the base of an "
                       "overlay", pB->zSnap);
      rc = VLOG_CORRUPT;
    }
    if( rc==VLOG_OK ){
      memcpy(aOut, &pB->aBuf[iIn], nCopy);
      aOut += nCopy;
      n -= nCopy;
      iOff += nCopy;
    }
  }
  if( vlogTxnState(pStore)
   && (rc || snapTxnDone(p, &pB->nSnapReads, pB->iSnapTxnStart)) ){
    (void)vlogCommit(pStore);             /* a read transaction's end */
  }
  if( rc==VLOG_NOTFOUND ){
    return overlayError(p, SQLITE_CANTOPEN, "its base %s has no snapshot '%s' "
        "(dropped, or taken again, since)", pB->zPath, pB->zSnap);
  }
  if( rc==VLOG_CORRUPT && zWhy[0] ){
    return overlayError(p, SQLITE_CORRUPT, "its base %s: %s", pB->zPath, zWhy);
  }
  if( rc ){
    return overlayError(p, rc, "its base %s: %s", pB->zPath,
                        vlogStoreErrMsg(pStore));
  }
  return SQLITE_OK;
}

/* n bytes of the base at iOff, a file or a snapshot. */
static int baseReadAt(VfsDb *p, VfsBase *pB, u8 *a, int n, sqlite3_int64 iOff){
  if( pB->pSnapStore ) return snapBaseRead(p, pB, a, n, iOff);
  return pB->pFile->pMethods->xRead(pB->pFile, a, n, iOff);
}

/*
** The base's identity checksum: of its first VFS_BASE_ID_BYTES bytes,
** which hold SQLite's header and file change counter, and of
** VFS_BASE_ID_SAMPLES pages spread over the rest (a change that leaves
** the header alone, a WAL-mode base's checkpoint, may show there).
*/
static int baseSum(VfsDb *p, VfsBase *pB, sqlite3_int64 nSize, int szPage,
                   sqlite3_uint64 *piSum){
  int n = nSize<VFS_BASE_ID_BYTES ? (int)nSize : VFS_BASE_ID_BYTES;
  u8 *a = (u8*)sqlite3_malloc(n>szPage ? n : szPage>0 ? szPage : 1);
  sqlite3_uint64 iSum;
  int rc = a ? SQLITE_OK : SQLITE_NOMEM;
  if( rc==SQLITE_OK && n>0 ) rc = baseReadAt(p, pB, a, n, 0);
  iSum = vlogChecksum(a, rc==SQLITE_OK ? n : 0, VFS_BASE_SEED);
  if( rc==SQLITE_OK && nSize>VFS_BASE_ID_BYTES ){
    sqlite3_int64 nPg = nSize/szPage, k;
    for(k=1; rc==SQLITE_OK && k<=VFS_BASE_ID_SAMPLES; k++){
      sqlite3_int64 iOff = (nPg-1)*k/VFS_BASE_ID_SAMPLES*szPage;
      rc = baseReadAt(p, pB, a, szPage, iOff);
      if( rc==SQLITE_OK ) iSum = vlogChecksum(a, szPage, iSum);
    }
  }
  sqlite3_free(a);
  *piSum = iSum;
  return rc;
}

/*
** Open a branch's base: the vlog store zPath, read-only, and its snapshot
** pB->zSnap, whose identity (size, page size, checksum as for a file)
** goes to *pnSize, *pszPage, *piSum; and when it was taken to pB->iTaken,
** which, when set already (the branch's entry), must be the same.
*/
static int baseOpenSnap(VfsDb *p, VfsBase *pB, const char *zPath,
                        sqlite3_int64 *pnSize, int *pszPage, sqlite3_uint64 *piSum){
  VlogConfig cfg;
  sqlite3_int64 iTaken = 0;
  char zWhy[160];
  int rc;
  assert( pB->pSnapStore==0 && pB->zSnap );
  vlogConfigDefault(&cfg);
  cfg.bReadOnly = 1;
  cfg.bCreate = 0;
  cfg.bShmReadOnly = 1;
  rc = vlogStoreOpen(p->pVfs->pEnv, zPath, &cfg, &pB->pSnapStore);
  if( rc ){
    baseClose(pB);
    if( rc==VLOG_NOTADB ){
      return overlayError(p, SQLITE_CANTOPEN, "its base %s is not a vlog store "
          "(base_snapshot= names a snapshot of one)", zPath);
    }
    return overlayError(p, SQLITE_CANTOPEN, "its base %s cannot be opened "
                        "(it is missing or cannot be read)", zPath);
  }
  pB->nOpen++;
  (void)vlogStoreSetBusyTimeout(pB->pSnapStore, VFS_WAL_BUSY_MS);
  rc = vlogBegin(pB->pSnapStore, 0);
  if( rc==VLOG_OK ){
    /* (the transaction serves the identity's reads: snapBaseRead) */
    pB->nSnapReads = 0;
    (void)vfsCurrentTimeInt64(&p->pVfs->base, &pB->iSnapTxnStart);
    rc = snapLoad(pB->pSnapStore, pB->zSnap, &pB->snapSt, &iTaken, zWhy, sizeof(zWhy));
  }
  if( rc==VLOG_NOTFOUND ){
    rc = overlayError(p, SQLITE_CANTOPEN, "its base %s has no snapshot named "
                      "'%s'", zPath, pB->zSnap);
  }else if( rc==VLOG_CORRUPT ){
    rc = overlayError(p, SQLITE_CORRUPT, "its base %s: %s", zPath, zWhy);
  }else if( rc ){
    rc = overlayError(p, rc, "its base %s: %s", zPath, vlogStoreErrMsg(pB->pSnapStore));
  }else if( pB->iTaken && pB->iTaken!=iTaken ){
    rc = overlayError(p, SQLITE_CANTOPEN, "its base %s's snapshot '%s' was "
        "taken again since the branch was made", zPath, pB->zSnap);
  }
  if( rc==SQLITE_OK ){
    pB->iTaken = iTaken;
    *pnSize = pB->snapSt.nSize;
    *pszPage = pB->snapSt.szChunk;
    rc = baseSum(p, pB, *pnSize, *pszPage, piSum);
  }
  if( rc ) baseClose(pB);                 /* (which ends the transaction) */
  return rc;
}

/*
** Open the base zPath (a full path) into pB->pFile: read-only, through the
** parent VFS, under SHARED for as long as it is open; and read its
** identity into *pnSize, *pszPage, *piSum.  A file that is not a SQLite
** database, or one with a rollback journal or a WAL beside it (its pages
** are not all in the file), is refused; errors are logged.
*/
static int baseOpen(VfsDb *p, VfsBase *pB, const char *zPath,
                    sqlite3_int64 *pnSize, int *pszPage, sqlite3_uint64 *piSum){
  sqlite3_vfs *pParent = p->pVfs->pParent;
  int flags = SQLITE_OPEN_READONLY|SQLITE_OPEN_MAIN_DB;
  sqlite3_int64 nSize = 0, nSide;
  u8 *a = 0;
  int rc, n, szPage = 0;
  struct stat st;
  assert( pB->pFile==0 );
  if( pB->zSnap ) return baseOpenSnap(p, pB, zPath, pnSize, pszPage, piSum);
  if( stat(zPath, &st)==0 && !S_ISREG(st.st_mode) ){
    /* (a FIFO would block the open; a directory is no database) */
    return overlayError(p, SQLITE_CANTOPEN, "its base %s is not a regular "
                        "file", zPath);
  }
  pB->zOpen = parentName(zPath, "");
  pB->pFile = (sqlite3_file*)sqlite3_malloc(pParent->szOsFile);
  if( pB->pFile==0 || pB->zOpen==0 ){
    baseClose(pB);
    return SQLITE_NOMEM;
  }
  memset(pB->pFile, 0, pParent->szOsFile);
  rc = pParent->xOpen(pParent, pB->zOpen, pB->pFile, flags, &flags);
  if( rc ){
    baseClose(pB);
    return overlayError(p, SQLITE_CANTOPEN, "its base %s cannot be opened "
                        "(it is missing or cannot be read)", zPath);
  }
  pB->nOpen++;
  rc = pB->pFile->pMethods->xLock(pB->pFile, SQLITE_LOCK_SHARED);
  if( rc ){
    baseClose(pB);
    if( rc==SQLITE_BUSY ){
      return overlayError(p, rc, "its base %s is being written", zPath);
    }
    return overlayError(p, rc, "its base %s cannot be locked", zPath);
  }
  rc = basePin(pB);
  if( rc ){
    baseClose(pB);
    if( rc==SQLITE_BUSY ){
      return overlayError(p, rc, "its base %s is being checkpointed", zPath);
    }
    return overlayError(p, rc, "its base %s's -shm cannot be locked", zPath);
  }
  nSide = parentFileSize(pParent, zPath, "-journal");
  if( nSide>0 ){
    baseClose(pB);
    return overlayError(p, SQLITE_CANTOPEN, "its base %s has a rollback "
        "journal: open it with SQLite once to roll it back", zPath);
  }
  nSide = parentFileSize(pParent, zPath, "-wal");
  if( nSide>0 ){
    baseClose(pB);
    return overlayError(p, SQLITE_CANTOPEN, "its base %s has pages in its WAL: "
        "checkpoint it (PRAGMA wal_checkpoint(TRUNCATE))", zPath);
  }
  rc = pB->pFile->pMethods->xFileSize(pB->pFile, &nSize);
  n = nSize<VFS_BASE_ID_BYTES ? (int)nSize : VFS_BASE_ID_BYTES;
  if( rc==SQLITE_OK && n>0 ){
    a = (u8*)sqlite3_malloc(n);
    rc = a ? pB->pFile->pMethods->xRead(pB->pFile, a, n, 0) : SQLITE_NOMEM;
  }
  if( rc ){
    sqlite3_free(a);
    baseClose(pB);
    return overlayError(p, rc, "its base %s cannot be read", zPath);
  }
  if( nSize>0 ){
    szPage = nSize<100 ? 0 : (a[16]<<8) | a[17];
    if( szPage==1 ) szPage = 65536;
    if( nSize>=16 && memcmp(a, "vlog-store", 11)==0 ){
      /* a store (a vlog-VFS database) changes: not a base */
      rc = overlayError(p, SQLITE_CANTOPEN, "its base %s is a vlog store: "
          "name a snapshot of it (base_snapshot=), or export-db a copy", zPath);
    }else if( nSize<100 || memcmp(a, "SQLite format 3", 16)!=0 ){
      /* (not SQLITE_NOTADB, which would open the file as a plain one) */
      rc = overlayError(p, SQLITE_CANTOPEN, "its base %s is not a SQLite "
                        "database", zPath);
    }else if( !isPageSize(szPage) || nSize%szPage ){
      rc = overlayError(p, SQLITE_CORRUPT, "its base %s says page size %d and "
                        "has %lld bytes", zPath, szPage, nSize);
    }
  }
  sqlite3_free(a);
  if( rc==SQLITE_OK ){
    rc = baseSum(p, pB, nSize, szPage, piSum);
    if( rc ) rc = overlayError(p, rc, "its base %s cannot be read", zPath);
    *pnSize = nSize;
    *pszPage = szPage;
  }
  if( rc ) baseClose(pB);
  return rc;
}

/* The "base" entry, VFS_BASE_ENTRY_MIN bytes and the path:
**   0  version (1), then 3 zero bytes   16  checksum of its first bytes
**   4  its page size                    24  when the overlay was made (ms)
**   8  its size                         32  the path's length, then it
** A branch's (version 2) has after the path when its snapshot was taken
** (ms, 8 bytes), its name's length (1 byte) and its name. */
/* The layout of the "base" entry a[0..n): its path's length into *pnPath
** and, for a branch's, its snapshot name's into *pnName (else 0).  1 for
** an entry that is not one.  (vlogVfsBasePath() reads it too.) */
static int baseSplit(const u8 *a, int n, int *pnPath, int *pnName){
  int nPath = n>=VFS_BASE_ENTRY_MIN ? (int)get32(&a[32]) : -1;
  int nName = 0;
  if( nPath<1 || nPath>n-VFS_BASE_ENTRY_MIN || (a[0]!=1 && a[0]!=2)
   || memchr(&a[VFS_BASE_ENTRY_MIN], 0, nPath) ){
    return 1;
  }
  if( a[0]==2 ){
    const u8 *t = &a[VFS_BASE_ENTRY_MIN + nPath];
    if( nPath>n-VFS_BASE_ENTRY_MIN-10 ) return 1;
    nName = t[8];
    if( nName<1 || 9+nName!=n-VFS_BASE_ENTRY_MIN-nPath || memchr(&t[9], 0, nName) ){
      return 1;
    }
  }else if( nPath!=n-VFS_BASE_ENTRY_MIN ){
    return 1;
  }
  *pnPath = nPath;
  *pnName = nName;
  return 0;
}

static int baseDecode(VfsDb *p, const u8 *a, int n, VfsBase *pB){
  int nPath = 0, nName = 0;
  if( baseSplit(a, n, &nPath, &nName) ){
    return overlayError(p, SQLITE_CORRUPT, "the base's catalog entry (%d bytes, "
                        "version %d) is not one", n, n>0 ? a[0] : -1);
  }
  if( nName ){
    const u8 *t = &a[VFS_BASE_ENTRY_MIN + nPath];
    pB->iTaken = (sqlite3_int64)get64(t);
    pB->zSnap = sqlite3_mprintf("%.*s", nName, &t[9]);
    if( pB->zSnap==0 ) return SQLITE_NOMEM;
  }
  pB->szPage = (int)get32(&a[4]);
  pB->nSize = (sqlite3_int64)get64(&a[8]);
  pB->iSum = get64(&a[16]);
  pB->iMade = (sqlite3_int64)get64(&a[24]);
  pB->zPath = sqlite3_mprintf("%.*s", nPath, &a[VFS_BASE_ENTRY_MIN]);
  if( pB->zPath==0 ) return SQLITE_NOMEM;
  if( pB->nSize<0 || (pB->nSize>0 && (!isPageSize(pB->szPage) || pB->nSize%pB->szPage)) ){
    return overlayError(p, SQLITE_CORRUPT, "the base's catalog entry says page "
                        "size %d, size %lld", pB->szPage, pB->nSize);
  }
  return SQLITE_OK;
}

static int baseSave(VfsDb *p, VfsBase *pB){
  int nPath = (int)strlen(pB->zPath);
  int nName = pB->zSnap ? (int)strlen(pB->zSnap) : 0;
  int nTail = pB->zSnap ? 9 + nName : 0;
  u8 *a = (u8*)sqlite3_malloc(VFS_BASE_ENTRY_MIN + nPath + nTail);
  int rc;
  if( a==0 ) return SQLITE_NOMEM;
  assert( nName<=VFS_SNAP_NAME_MAX );
  memset(a, 0, VFS_BASE_ENTRY_MIN);
  a[0] = pB->zSnap ? 2 : 1;
  if( pB->zSnap ){
    u8 *t = &a[VFS_BASE_ENTRY_MIN + nPath];
    put64(t, (sqlite3_uint64)pB->iTaken);
    t[8] = (u8)nName;
    memcpy(&t[9], pB->zSnap, nName);
  }
  put32(&a[4], (unsigned int)pB->szPage);
  put64(&a[8], (sqlite3_uint64)pB->nSize);
  put64(&a[16], pB->iSum);
  put64(&a[24], (sqlite3_uint64)pB->iMade);
  put32(&a[32], (unsigned int)nPath);
  memcpy(&a[VFS_BASE_ENTRY_MIN], pB->zPath, nPath);
  rc = vlogPut(p->pStore, VFS_TREE_CATALOG, "base", 4, a,
               VFS_BASE_ENTRY_MIN + nPath + nTail);
  sqlite3_free(a);
  return rc ? dbError(p, rc) : SQLITE_OK;
}

/* The full path of zName, as the parent VFS says it. */
static char *baseFullPath(VfsDb *p, const char *zName){
  sqlite3_vfs *pParent = p->pVfs->pParent;
  char *z = (char*)sqlite3_malloc(pParent->mxPathname+1);
  if( z && pParent->xFullPathname(pParent, zName, pParent->mxPathname+1, z) ){
    sqlite3_free(z);
    z = sqlite3_mprintf("%s", zName);
  }
  return z;
}

/* The overlay is made: its entries, in one commit. */
static int overlayCreate(VfsDb *p, VfsBase *pB){
  sqlite3_int64 nSize = 0;
  sqlite3_uint64 iSum = 0;
  int rc, szPage = 0;
  if( p->cfg.bReadOnly ){
    return overlayError(p, SQLITE_READONLY, "a new overlay of %s cannot be made "
                        "read-only", pB->zPath);
  }
  if( strcmp(pB->zPath, p->zPath)==0 ){
    return overlayError(p, SQLITE_CANTOPEN, "a database cannot be its own base");
  }
  rc = baseOpen(p, pB, pB->zPath, &nSize, &szPage, &iSum);
  if( rc ) return rc;
  rc = vlogBegin(p->pStore, 1);
  if( rc ) return rc==VLOG_BUSY ? SQLITE_BUSY : dbError(p, rc);
  stateForget(p);
  rc = stateLoad(p, &p->st);
  if( rc==SQLITE_OK && p->st.bEntry && (p->st.nSize>0 || p->st.bOverlay) ){
    rc = overlayError(p, SQLITE_CANTOPEN, "it is a database already: base= "
                      "makes a new overlay, in a new file");
  }
  if( rc==SQLITE_OK && !p->st.bEntry ) rc = stateCreate(p, &p->st);
  if( rc==SQLITE_OK ){
    sqlite3_int64 iNow = 0;
    (void)vfsCurrentTimeInt64(&p->pVfs->base, &iNow);  /* a version 1
                                          ** parent (a shim) has no Int64 */
    pB->nSize = nSize;
    pB->szPage = szPage;
    pB->iSum = iSum;
    pB->iMade = iNow - 210866760000000LL;   /* Julian day ms to Unix ms */
    p->st.szChunk = szPage;
    p->st.nSize = nSize;
    p->st.nBase = nSize;
    p->st.bOverlay = 1;
    p->st.bDirty = 1;
    rc = stateSave(p, &p->st);
  }
  if( rc==SQLITE_OK ) rc = baseSave(p, pB);
  if( rc==SQLITE_OK ){
    (void)vlogStoreSetSync(p->pStore, VLOG_SYNC_FULL);
    rc = vlogCommit(p->pStore);
    if( rc ) rc = dbError(p, rc);
  }
  if( vlogTxnState(p->pStore) ) (void)vlogRollback(p->pStore);
  stateForget(p);
  return rc;
}

/*
** Before a new store is made for base=: is the base one?  So that a base
** that is not leaves no store behind.
*/
static int overlayPrecheck(VfsDb *p){
  sqlite3_vfs *pParent = p->pVfs->pParent;
  VfsBase b;
  sqlite3_int64 nSize;
  sqlite3_uint64 iSum;
  int szPage, rc;
  if( p->zBaseArg==0 || parentFileSize(pParent, p->zPath, "")>0 ) return SQLITE_OK;
  memset(&b, 0, sizeof(b));
  b.zPath = baseFullPath(p, p->zBaseArg);
  if( b.zPath==0 ) return SQLITE_NOMEM;
  b.zSnap = p->zBaseSnapArg;
  if( strcmp(b.zPath, p->zPath)==0 ){
    rc = overlayError(p, SQLITE_CANTOPEN, "a database cannot be its own base");
  }else{
    rc = baseOpen(p, &b, b.zPath, &nSize, &szPage, &iSum);
  }
  baseClose(&b);
  sqlite3_free(b.aBuf);
  sqlite3_free(b.zPath);
  return rc;
}

/*
** After the store is open: with base= on a store that is not an overlay,
** make it one; on an overlay, open its base (the one base= names, where it
** has moved, or the one it was made from) and check that it is the same.
*/
static int overlayOpen(VfsDb *p){
  VfsBase *pB;
  const void *pVal;
  int nVal, rc, bFound;
  assert( p->pBase==0 );
  rc = vlogBegin(p->pStore, 0);
  if( rc ) return rc==VLOG_BUSY ? SQLITE_BUSY : dbError(p, rc);
  stateForget(p);
  rc = vlogGet(p->pStore, VFS_TREE_CATALOG, "base", 4, &pVal, &nVal);
  bFound = rc==VLOG_OK;
  if( rc==VLOG_NOTFOUND ) rc = VLOG_OK;
  if( rc ) rc = dbError(p, rc);
  /* not an overlay: nothing to read now (a damaged entry is found by the
  ** first read, as a damaged file is on unix) */
  if( rc==SQLITE_OK && (bFound || p->zBaseArg) ) rc = stateLoad(p, &p->st);
  if( rc==SQLITE_OK && !bFound && p->st.bOverlay ){
    rc = overlayError(p, SQLITE_CORRUPT, "an overlay without its base's entry");
  }
  if( rc || (!bFound && p->zBaseArg==0) ){
    (void)vlogCommit(p->pStore);          /* a read transaction's end */
    stateForget(p);
    return rc;
  }
  pB = (VfsBase*)sqlite3_malloc(sizeof(*pB));
  if( pB==0 ){
    (void)vlogCommit(p->pStore);
    return SQLITE_NOMEM;
  }
  memset(pB, 0, sizeof(*pB));
  if( bFound ) rc = baseDecode(p, (const u8*)pVal, nVal, pB);
  (void)vlogCommit(p->pStore);            /* a read transaction's end */
  if( rc==SQLITE_OK && bFound && p->zBaseSnapArg
   && (pB->zSnap==0 || strcmp(pB->zSnap, p->zBaseSnapArg)!=0) ){
    rc = overlayError(p, SQLITE_CANTOPEN, "it was made from %s%s%s, not snapshot "
        "'%s'", pB->zSnap ? "snapshot '" : "a plain file", pB->zSnap ? pB->zSnap : "",
        pB->zSnap ? "'" : "", p->zBaseSnapArg);
  }
  if( rc==SQLITE_OK && !bFound ){
    pB->zPath = baseFullPath(p, p->zBaseArg);
    if( p->zBaseSnapArg ){
      pB->zSnap = sqlite3_mprintf("%s", p->zBaseSnapArg);
      if( pB->zSnap==0 ) rc = SQLITE_NOMEM;
    }
    if( rc==SQLITE_OK ) rc = pB->zPath ? overlayCreate(p, pB) : SQLITE_NOMEM;
  }else if( rc==SQLITE_OK && baseShows(&p->st) ){
    /* pages still fall through: the base must be there, and the same */
    char *zPath = p->zBaseArg ? baseFullPath(p, p->zBaseArg) : 0;
    const char *zUse = zPath ? zPath : pB->zPath;
    sqlite3_int64 nSize = 0;
    sqlite3_uint64 iSum = 0;
    int szPage = 0;
    if( p->zBaseArg && zPath==0 ) rc = SQLITE_NOMEM;
    if( rc==SQLITE_OK ) rc = baseOpen(p, pB, zUse, &nSize, &szPage, &iSum);
    if( rc==SQLITE_OK && (nSize!=pB->nSize || szPage!=pB->szPage || iSum!=pB->iSum) ){
      if( nSize!=pB->nSize ){
        rc = overlayError(p, SQLITE_CANTOPEN, "its base %s changed since the "
            "overlay was made: %lld bytes, not %lld", zUse, nSize, pB->nSize);
      }else{
        rc = overlayError(p, SQLITE_CANTOPEN, "its base %s changed since the "
            "overlay was made: its pages differ", zUse);
      }
    }
    if( rc==SQLITE_OK && zPath ){
      sqlite3_free(pB->zPath);            /* where it is now (base=) */
      pB->zPath = zPath;
      zPath = 0;
    }
    sqlite3_free(zPath);
  }
  stateForget(p);
  if( rc ){
    baseFree(pB);
    return rc;
  }
  pB->bMatRead = p->eMatReadArg;
  if( pB->bMatRead<0 ){
    double r = 0.0;
    pB->bMatRead = vlogMaintSetting(p->pStore, "materialize_on_read", 0, &r)==VLOG_OK
                   && r!=0.0;
  }
  p->pBase = pB;
  return SQLITE_OK;
}

/* Read bytes of the base, with no figures counted: zeros past nBase. */
static int baseReadRaw(VfsDb *p, sqlite3_int64 nBase, unsigned int iPg, int sz,
                       u8 *aOut){
  VfsBase *pB = p->pBase;
  sqlite3_int64 iOff = (sqlite3_int64)(iPg-1)*sz;
  int n = nBase-iOff<sz ? (int)(nBase-iOff) : sz;
  int rc;
  if( pB==0 || (pB->pFile==0 && pB->pSnapStore==0) ){
    /* another connection made the (empty) database an overlay after this
    ** one opened it */
    return overlayError(p, SQLITE_CANTOPEN, "page %u is its base's, which this "
                        "connection has not opened: open the database again", iPg);
  }
  if( pB->pSnapStore ){
    rc = snapBaseRead(p, pB, aOut, n, iOff);
    if( rc==SQLITE_OK && n<sz ) memset(&aOut[n], 0, sz-n);
    return rc;
  }
  rc = pB->pFile->pMethods->xRead(pB->pFile, aOut, n, iOff);
  if( rc==SQLITE_IOERR_SHORT_READ ){
    return overlayError(p, SQLITE_CORRUPT, "its base %s is shorter than when "
                        "the overlay was made (page %u, offset %lld)",
                        pB->zPath, iPg, iOff);
  }
  if( rc ) return overlayError(p, rc, "page %u (offset %lld) of its base %s "
                               "cannot be read", iPg, iOff, pB->zPath);
  if( n<sz ) memset(&aOut[n], 0, sz-n);
  return SQLITE_OK;
}

/* Chunk iPg, which the overlay has not written, from its base. */
static int baseRead(VfsDb *p, sqlite3_int64 nBase, unsigned int iPg, int sz,
                    u8 *aOut){
  VfsBase *pB = p->pBase;
  int rc = baseReadRaw(p, nBase, iPg, sz, aOut);
  if( rc==SQLITE_OK ){
    pB->nReadBase++;
    pB->nReuse++;
    if( pB->bMatRead && !p->cfg.bReadOnly ){
      if( pB->szPending!=sz ) pB->nPending = 0;
      pB->szPending = sz;
      if( pB->aPending==0 ){
        pB->aPending = (unsigned int*)sqlite3_malloc(sizeof(unsigned int)*VFS_MAT_PENDING);
      }
      if( pB->aPending && pB->nPending<VFS_MAT_PENDING ){
        pB->aPending[pB->nPending++] = iPg;
      }
    }
  }
  return rc;
}

/*
** Copy into the overlay, in the engine write transaction open, the pages
** aPg[0..n) of size sz that it has not written and that are its base's.
** *pnCopied counts them.
*/
static int baseCopy(VfsDb *p, const unsigned int *aPg, int n, int sz,
                    sqlite3_int64 *pnCopied){
  int rc = stateLoad(p, &p->st), i;
  for(i=0; rc==SQLITE_OK && i<n && baseShows(&p->st); i++){
    u8 aKey[4];
    const void *pVal;
    int nVal;
    if( p->st.szChunk!=sz || (sqlite3_int64)(aPg[i]-1)*sz>=p->st.nBase ) continue;
    put32(aKey, aPg[i]);
    rc = vlogGet(p->pStore, stateTree(&p->st), aKey, 4, &pVal, &nVal);
    if( rc==VLOG_OK ) continue;             /* the overlay's already */
    if( rc!=VLOG_NOTFOUND ){
      rc = dbError(p, rc);
      break;
    }
    rc = baseReadRaw(p, p->st.nBase, aPg[i], sz, p->aChunk);
    if( rc==SQLITE_OK ) rc = storeChunkWrite(p, stateTree(&p->st), aPg[i], sz, p->aChunk);
    if( rc==SQLITE_OK ){
      p->pBase->nMaterialized++;
      (*pnCopied)++;
    }
  }
  return rc;
}

/*
** materialize_on_read: the pages a read transaction took from the base,
** into the overlay, in a commit of their own when nothing else is open on
** the handle and the store's writer lock is free at once (else they wait
** for the next).  The overlay stays right whatever happens here: errors
** are logged and the pages forgotten.
*/
static void overlayFlush(VfsDb *p){
  VfsBase *pB = p->pBase;
  sqlite3_int64 nCopied = 0;
  int rc;
  if( pB==0 || pB->nPending==0 || p->pStore==0 || vlogTxnState(p->pStore)!=0 ){
    return;
  }
  (void)vlogStoreSetBusyTimeout(p->pStore, 0);
  rc = vlogBegin(p->pStore, 1);
  (void)vlogStoreSetBusyTimeout(p->pStore, p->bWalLock ? VFS_WAL_BUSY_MS : 0);
  if( rc==VLOG_BUSY ) return;
  if( rc==VLOG_OK ){
    stateForget(p);
    rc = baseCopy(p, pB->aPending, pB->nPending, pB->szPending, &nCopied);
    if( rc==SQLITE_OK ){
      (void)vlogStoreSetSync(p->pStore, VLOG_SYNC_NORMAL);
      rc = vlogCommit(p->pStore);
    }
    if( vlogTxnState(p->pStore) ) (void)vlogRollback(p->pStore);
    stateForget(p);
  }
  if( rc ) sqlite3_log(rc, "vlog: %s: pages read from the base could not be "
                       "copied into the overlay (materialize_on_read)", p->zPath);
  pB->nPending = 0;
}

/*
** vlog_materialize(): copy the pages of the base that the overlay has not
** written, VFS_MAT_STEP a commit, at most nMax (all when negative); when
** none is left, nBase becomes 0 and the overlay stands alone (its base
** closed).  *pnCopied: pages copied; *pnLeft: pages still the base's.
*/
static int overlayMaterialize(VfsDb *p, sqlite3_int64 nMax,
                              sqlite3_int64 *pnCopied, sqlite3_int64 *pnLeft){
  VfsBase *pB = p->pBase;
  unsigned int aPg[VFS_MAT_STEP];
  int rc = SQLITE_OK;
  *pnCopied = 0;
  *pnLeft = 0;
  if( pB==0 ) return SQLITE_OK;
  if( p->cfg.bReadOnly ) return SQLITE_READONLY;
  if( vlogTxnState(p->pStore)!=0 ) return SQLITE_LOCKED;
  while( rc==SQLITE_OK ){
    sqlite3_int64 nPg, nCopied = 0;
    unsigned int iPg = pB->iMatNext;
    int n = 0;
    rc = vlogBegin(p->pStore, 1);
    if( rc ){
      rc = rc==VLOG_BUSY ? SQLITE_BUSY : dbError(p, rc);
      break;
    }
    stateForget(p);
    rc = stateLoad(p, &p->st);
    if( rc==SQLITE_OK && baseShows(&p->st) ){
      int sz = p->st.szChunk;
      nPg = (p->st.nBase + sz - 1)/sz;
      for(iPg = iPg<1 ? 1 : iPg; iPg<=nPg && n<VFS_MAT_STEP
                            && (nMax<0 || *pnCopied+n<nMax); iPg++){
        aPg[n++] = iPg;
      }
      rc = baseCopy(p, aPg, n, sz, &nCopied);
      if( rc==SQLITE_OK && iPg>nPg ){
        p->st.nBase = 0;                  /* nothing left: it stands alone */
        p->st.bDirty = 1;
        rc = stateSave(p, &p->st);
      }
      *pnLeft = rc==SQLITE_OK && iPg<=nPg ? nPg-iPg+1 : 0;
    }
    if( rc==SQLITE_OK ){
      (void)vlogStoreSetSync(p->pStore, baseShows(&p->st) ? VLOG_SYNC_NORMAL : VLOG_SYNC_FULL);
      rc = vlogCommit(p->pStore);
      if( rc ) rc = dbError(p, rc);
    }
    if( vlogTxnState(p->pStore) ) (void)vlogRollback(p->pStore);
    if( rc==SQLITE_OK ){
      pB->iMatNext = iPg;                 /* committed: go on from there (a
                                          ** step rolled back is done again) */
      *pnCopied += nCopied;
    }
    if( rc==SQLITE_OK && !baseShows(&p->st) ) baseClose(pB);
    if( !baseShows(&p->st) || (nMax>=0 && *pnCopied>=nMax) ){
      stateForget(p);
      break;
    }
    stateForget(p);
  }
  return rc;
}

/* ---------------------------------------------------------------------
** Snapshots (vlog_snapshot(), snapshot=, vlog_snapshot_drop()).  The
** database file's pages are kept in layers: its top tree, written, over
** frozen layers, each a tree written no more.  Where a layer has no key
** for a chunk below its nBase bytes the chunk is the next layer's (under
** the last, an overlay's base); past nBase it is zeros.  A store that
** never took a snapshot has one layer, tree VFS_TREE_MAIN, and its entry
** is the version it always was.
**
** Taking a snapshot is one commit and O(1): the top is frozen (its
** catalog entry "layer" BE32 tree: the tree under it, its chunk size and
** nBase), a new empty tree becomes the top with nBase the file's size,
** and the entry "snap:NAME" records the frozen tree, the file's size and
** chunk size, and when it was taken.  A snapshot connection (URI
** snapshot=NAME) reads its database file along the chain from that tree,
** read-only; SQLite is told the file is immutable (it reads without
** locks; the reads share an engine read transaction for a turn,
** snapTxnDone, since the snapshot's pages never change while it exists).  No page is copied and
** nothing pins anything: a frozen layer's values are live records of its
** tree, which maintenance moves (compare-and-swap) and GC keeps like any
** other.
**
** Dropping one deletes its entry and marks its layer dropped in one
** commit; then the layer is merged into the one above it (the top, or
** the layer of a later snapshot): each of its chunks below that layer's
** nBase that it has no key for is copied up, VFS_MAT_STEP a commit, and a
** last commit links the upper layer to the one under, lowers its nBase to
** the dropped layer's if that was less, and drops the tree (its values
** go stale: GC reclaims them).  Every step leaves what each layer above
** shows unchanged, so readers and writers go on meanwhile; a merge cut
** short (a crash, a busy writer) is finished by the next vlog_snapshot()
** or vlog_snapshot_drop().
**
** Rules: a snapshot is of what the database file holds, so in WAL mode
** the -wal must hold no frame (PRAGMA wal_checkpoint(TRUNCATE) first); an
** overlay is snapshotted once it stands alone (vlog_materialize()); a page
** size change (VACUUM) writes every page into the top and sets its nBase
** to 0, as for an overlay.  vlog tables of the store are not layered: a
** snapshot connection reads their current rows.
*/

/* A frozen layer's catalog key: "layer" and its tree, BE32. */
#define VFS_LAYER_KEY 9
static void layerKey(u8 *aKey, unsigned int iTree){
  memcpy(aKey, "layer", 5);
  put32(&aKey[5], iTree);
}

/* Layer iTree's entry into *pL (VLOG_NOTFOUND: none; VLOG_CORRUPT with
** zWhy: one that is not an entry). */
static int layerGet(VlogStore *pStore, unsigned int iTree, VfsLayer *pL,
                    char *zWhy, int nWhy){
  u8 aKey[VFS_LAYER_KEY];
  const void *pVal;
  const u8 *a;
  int nVal, rc;
  layerKey(aKey, iTree);
  rc = vlogGet(pStore, VFS_TREE_CATALOG, aKey, VFS_LAYER_KEY, &pVal, &nVal);
  if( rc ) return rc;
  a = (const u8*)pVal;
  memset(pL, 0, sizeof(*pL));
  pL->iTree = iTree;
  if( nVal==VFS_LAYER_ENTRY_SIZE && a[0]==1 && a[1]<=1 ){
    pL->bDropped = a[1];
    pL->iBelow = get32(&a[4]);
    pL->szChunk = (int)get32(&a[8]);
    pL->nBase = (sqlite3_int64)get64(&a[12]);
    if( (pL->iBelow==0 || pL->iBelow==VFS_TREE_MAIN || pL->iBelow>=VFS_TREE_LAYER)
     && pL->iBelow!=iTree && isPageSize(pL->szChunk)
     && pL->nBase>=0 && pL->nBase/pL->szChunk<0xffffffffLL ){
      return VLOG_OK;
    }
  }
  sqlite3_snprintf(nWhy, zWhy, "the entry of layer %u is not one (%d bytes, "
                   "version %d)", iTree, nVal, nVal>0 ? a[0] : -1);
  return VLOG_CORRUPT;
}

static int layerPut(VlogStore *pStore, const VfsLayer *pL){
  u8 aKey[VFS_LAYER_KEY], a[VFS_LAYER_ENTRY_SIZE];
  memset(a, 0, sizeof(a));
  a[0] = 1;
  a[1] = (u8)pL->bDropped;
  put32(&a[4], pL->iBelow);
  put32(&a[8], (unsigned int)pL->szChunk);
  put64(&a[12], (sqlite3_uint64)pL->nBase);
  layerKey(aKey, pL->iTree);
  return vlogPut(pStore, VFS_TREE_CATALOG, aKey, VFS_LAYER_KEY, a, sizeof(a));
}

/*
** The frozen layers under pS's top (pS->iBelow down) into pS->aLow, each
** checked: its entry there, its chunk size the one above's where any of
** it shows, no more than VFS_MAX_LAYERS (a loop), and the last showing
** nothing unless the file is an overlay (its base is under it).
*/
static int chainLoad(VlogStore *pStore, VfsState *pS, char *zWhy, int nWhy){
  unsigned int iTree = pS->iBelow;
  sqlite3_int64 nAbove = pS->nBase;
  int szAbove = pS->szChunk, rc = VLOG_OK;
  pS->nLow = 0;
  while( iTree ){
    VfsLayer L;
    if( pS->nLow>=VFS_MAX_LAYERS ){
      sqlite3_snprintf(nWhy, zWhy, "more than %d layers under the file "
                       "(a loop)", VFS_MAX_LAYERS);
      return VLOG_CORRUPT;
    }
    rc = layerGet(pStore, iTree, &L, zWhy, nWhy);
    if( rc==VLOG_NOTFOUND ){
      sqlite3_snprintf(nWhy, zWhy, "layer %u of the file has no entry", iTree);
      return VLOG_CORRUPT;
    }
    if( rc ) return rc;
    if( nAbove>0 && L.szChunk!=szAbove ){
      sqlite3_snprintf(nWhy, zWhy, "layer %u has chunks of %d bytes under "
                       "chunks of %d", iTree, L.szChunk, szAbove);
      return VLOG_CORRUPT;
    }
    if( pS->nLow==pS->nLowAlloc ){
      int nNew = pS->nLowAlloc ? pS->nLowAlloc*2 : 8;
      VfsLayer *aNew = (VfsLayer*)sqlite3_realloc64(pS->aLow, sizeof(VfsLayer)*nNew);
      if( aNew==0 ) return VLOG_NOMEM;
      pS->aLow = aNew;
      pS->nLowAlloc = nNew;
    }
    pS->aLow[pS->nLow++] = L;
    nAbove = L.nBase;
    szAbove = L.szChunk;
    iTree = L.iBelow;
  }
  if( pS->nLow>0 && nAbove>0 && !pS->bOverlay ){
    sqlite3_snprintf(nWhy, zWhy, "layer %u shows %lld bytes of nothing under it",
                     pS->aLow[pS->nLow-1].iTree, nAbove);
    return VLOG_CORRUPT;
  }
  chainShow(pS);
  mapCheck(pS);
  return VLOG_OK;
}

static void stateFree(VfsState *pS){
  mapFree(pS);
  sqlite3_free(pS->aLow);
  pS->aLow = 0;
  pS->nLow = pS->nLowAlloc = 0;
}

/* A snapshot's catalog key: "snap:" and its name, into aKey; its length. */
static int snapKey(u8 *aKey, const char *zName){
  int n = (int)strlen(zName);
  memcpy(aKey, "snap:", 5);
  memcpy(&aKey[5], zName, n);
  return 5 + n;
}

/* A snapshot's entry a[0..n) into *pS and *piTaken (Unix ms). */
static int snapDecode(const u8 *a, int n, VfsState *pS, sqlite3_int64 *piTaken,
                      char *zWhy, int nWhy){
  int sz = n==VFS_SNAP_ENTRY_SIZE ? (int)get32(&a[4]) : 0;
  sqlite3_int64 nSize = n==VFS_SNAP_ENTRY_SIZE ? (sqlite3_int64)get64(&a[8]) : -1;
  unsigned int iTree = n==VFS_SNAP_ENTRY_SIZE ? get32(&a[16]) : 0;
  if( n!=VFS_SNAP_ENTRY_SIZE || a[0]!=1 || !isPageSize(sz) || nSize<0
   || nSize/sz>=0xffffffffLL || (iTree!=VFS_TREE_MAIN && iTree<VFS_TREE_LAYER) ){
    sqlite3_snprintf(nWhy, zWhy, "a snapshot's entry is not one (%d bytes, "
                     "version %d)", n, n>0 ? a[0] : -1);
    return VLOG_CORRUPT;
  }
  memset(pS, 0, offsetof(VfsState, aLow));
  pS->bEntry = 1;
  pS->szChunk = sz;
  pS->nSize = nSize;
  pS->iTop = iTree;
  if( piTaken ) *piTaken = (sqlite3_int64)get64(&a[24]);
  return VLOG_OK;
}

/*
** Snapshot zName's database file into *pS, in the open transaction: its
** size and chunk size, its frozen layer as the top and the chain under
** it.  VLOG_NOTFOUND: no such snapshot.
*/
static int snapLoad(VlogStore *pStore, const char *zName, VfsState *pS,
                    sqlite3_int64 *piTaken, char *zWhy, int nWhy){
  u8 aKey[5+VFS_SNAP_NAME_MAX];
  const void *pVal;
  VfsLayer L;
  int nVal, rc;
  if( strlen(zName)>VFS_SNAP_NAME_MAX ) return VLOG_NOTFOUND;
  rc = vlogGet(pStore, VFS_TREE_CATALOG, aKey, snapKey(aKey, zName), &pVal, &nVal);
  if( rc ) return rc;                     /* VLOG_NOTFOUND: no such one */
  rc = snapDecode((const u8*)pVal, nVal, pS, piTaken, zWhy, nWhy);
  if( rc==VLOG_OK ) rc = layerGet(pStore, pS->iTop, &L, zWhy, nWhy);
  if( rc==VLOG_NOTFOUND ){
    sqlite3_snprintf(nWhy, zWhy, "snapshot %s's layer %u has no entry", zName, pS->iTop);
    rc = VLOG_CORRUPT;
  }
  if( rc==VLOG_OK && L.nBase>0 && L.szChunk!=pS->szChunk ){
    sqlite3_snprintf(nWhy, zWhy, "snapshot %s's layer %u has chunks of %d "
                     "bytes, not %d", zName, L.iTree, L.szChunk, pS->szChunk);
    rc = VLOG_CORRUPT;
  }
  if( rc==VLOG_OK ){
    pS->nBase = L.nBase;
    pS->iBelow = L.iBelow;
    rc = chainLoad(pStore, pS, zWhy, nWhy);
  }
  return rc;
}

/* Log a snapshot operation's error, with the file named, and return rc. */
#define snapError overlayError

/* snapshot=: is there such a snapshot?  (Its absence later, when it is
** dropped, is the error of the next read.) */
static int snapOpen(VfsDb *p){
  int rc = vlogBegin(p->pStore, 0);
  if( rc ) return rc==VLOG_BUSY ? SQLITE_BUSY : dbError(p, rc);
  stateForget(p);
  rc = stateLoad(p, &p->st);
  (void)vlogCommit(p->pStore);            /* a read transaction's end */
  stateForget(p);
  return rc;
}

/*
** One step of merging a dropped layer, in the engine write transaction
** open: the first dropped layer of the chain has up to VFS_MAT_STEP of
** its chunks copied into the layer above it; when none is left, it is
** unlinked and its tree dropped.  *pbMore: a step is left to do.
** *pnCopied counts the chunks copied.  Where the next step begins
** (iMergeTree, iMergeNext) is set by the caller once the step committed:
** a step rolled back (its commit busy) is done again.
*/
static int mergeStep(VfsDb *p, int *pbMore, sqlite3_int64 *pnCopied,
                     unsigned int *piTree, unsigned int *piNext){
  VfsState *pS = &p->st;
  VfsLayer *pL = 0, *pUp = 0;
  VlogCursor *pCsr = 0;
  unsigned int iUpTree;
  sqlite3_int64 nUpBase;
  int i, n = 0, rc, bLast = 0, bLogged = 0;
  u8 aKey[4];
  *pbMore = 0;
  rc = stateLoad(p, pS);
  if( rc ) return rc;
  for(i=0; i<pS->nLow && !pS->aLow[i].bDropped; i++){}
  if( i==pS->nLow ) return SQLITE_OK;
  pL = &pS->aLow[i];
  if( i>0 ) pUp = &pS->aLow[i-1];
  iUpTree = pUp ? pUp->iTree : stateTree(pS);
  nUpBase = pUp ? pUp->nBase : pS->nBase;
  /* the chunks under the upper layer's nBase, from where the last step
  ** ended (a key the upper layer has is skipped: copying is idempotent) */
  put32(aKey, p->iMergeTree==pL->iTree ? p->iMergeNext : 1);
  rc = vlogCursorOpen(p->pStore, pL->iTree, &pCsr);
  if( rc==VLOG_OK ) rc = vlogCursorSeek(pCsr, aKey, 4, VLOG_SEEK_GE);
  while( rc==VLOG_OK && vlogCursorValid(pCsr) && n<VFS_MAT_STEP ){
    const void *pKey, *pVal;
    int nKey, nVal;
    unsigned int k;
    rc = vlogCursorKey(pCsr, &pKey, &nKey);
    if( rc ) break;
    if( nKey!=4 ){
      rc = snapError(p, SQLITE_CORRUPT, "layer %u has a key of %d bytes",
                     pL->iTree, nKey);
      break;
    }
    k = get32((const u8*)pKey);
    if( (sqlite3_int64)(k-1)*pL->szChunk>=nUpBase ) break;   /* past: hidden */
    put32(aKey, k);                       /* (the engine's bytes last only
                                          ** until its next call) */
    rc = vlogHas(p->pStore, iUpTree, aKey, 4);
    if( rc==VLOG_NOTFOUND ){
      rc = vlogCursorValue(pCsr, &pVal, &nVal);
      if( rc==VLOG_OK && nVal!=0 && nVal!=pL->szChunk ){
        rc = snapError(p, SQLITE_CORRUPT, "layer %u: page %u has %d bytes, not %d",
                       pL->iTree, k, nVal, pL->szChunk);
        break;
      }
      if( rc==VLOG_OK ){
        memcpy(p->aChunk, pVal, nVal);
        rc = vlogPutEx(p->pStore, iUpTree, aKey, 4, p->aChunk, nVal, 0, VFS_ZSTD_LEVEL);
      }
      if( rc==VLOG_OK ) (*pnCopied)++;
    }
    n++;
    *piTree = pL->iTree;
    *piNext = k+1;
    if( k==0xffffffff ){
      bLast = 1;                          /* no key can follow */
      break;
    }
    if( rc==VLOG_OK ) rc = vlogCursorNext(pCsr);
  }
  if( rc==VLOG_NOTFOUND ) rc = VLOG_OK;
  if( rc==VLOG_OK && n==VFS_MAT_STEP && vlogCursorValid(pCsr) && !bLast ){
    *pbMore = 1;                          /* more to copy */
  }else if( rc==VLOG_OK ){
    /* all copied: unlink the layer, drop its tree */
    u8 aLK[VFS_LAYER_KEY];
    sqlite3_int64 nBase = pL->nBase<nUpBase ? pL->nBase : nUpBase;
    chainChanged(pS);
    if( pUp ){
      pUp->iBelow = pL->iBelow;
      pUp->nBase = nBase;
      rc = layerPut(p->pStore, pUp);
    }else{
      pS->iBelow = pL->iBelow;
      pS->nBase = nBase;
    }
    if( rc==VLOG_OK ){
      rc = stateSave(p, pS);
      bLogged = rc!=SQLITE_OK;
    }
    layerKey(aLK, pL->iTree);
    if( rc==VLOG_OK ) rc = vlogDelete(p->pStore, VFS_TREE_CATALOG, aLK, VFS_LAYER_KEY);
    if( rc==VLOG_OK ) rc = vlogTreeDrop(p->pStore, pL->iTree);
    if( rc==VLOG_NOTFOUND ) rc = VLOG_OK;
    *piTree = 0;
    *pbMore = 1;                          /* another dropped layer, maybe */
  }
  if( pCsr ) (void)vlogCursorClose(pCsr);
  stateForget(p);                         /* the chain changed */
  if( rc && !bLogged && rc!=SQLITE_ERROR && rc!=SQLITE_CORRUPT ) rc = dbError(p, rc);
  return rc;
}

/*
** Finish the merges of dropped layers, a commit a step, waiting up to
** VFS_WAL_BUSY_MS for the writer lock.  SQLITE_BUSY: a writer kept it;
** the rest waits for the next call.  *pnCopied: chunks copied.
*/
static int mergeAll(VfsDb *p, sqlite3_int64 *pnCopied){
  int rc = SQLITE_OK, bMore = 1;
  while( rc==SQLITE_OK && bMore ){
    unsigned int iTree = 0, iNext = 0;
    sqlite3_int64 nCopied = 0;
    (void)vlogStoreSetBusyTimeout(p->pStore, VFS_WAL_BUSY_MS);
    rc = vlogBegin(p->pStore, 1);
    (void)vlogStoreSetBusyTimeout(p->pStore, p->bWalLock ? VFS_WAL_BUSY_MS : 0);
    if( rc ) return rc==VLOG_BUSY ? SQLITE_BUSY : dbError(p, rc);
    stateForget(p);
    rc = mergeStep(p, &bMore, &nCopied, &iTree, &iNext);
    if( rc==SQLITE_OK ){
      (void)vlogStoreSetSync(p->pStore, VLOG_SYNC_NORMAL);
      rc = vlogCommit(p->pStore);
      if( rc ) rc = dbError(p, rc);
    }
    if( vlogTxnState(p->pStore) ) (void)vlogRollback(p->pStore);
    stateForget(p);
    if( rc==SQLITE_OK ){
      p->iMergeTree = iTree;              /* committed: go on from there */
      p->iMergeNext = iNext;
      *pnCopied += nCopied;
    }
  }
  return rc;
}

/* Can this connection change the store's snapshots now? */
static int snapWritable(VfsDb *p, const char *zWhat){
  if( p->zSnap ){
    return snapError(p, SQLITE_READONLY, "a snapshot connection cannot %s", zWhat);
  }
  if( p->cfg.bReadOnly ){
    return snapError(p, SQLITE_READONLY, "a read-only connection cannot %s", zWhat);
  }
  if( vlogTxnState(p->pStore)!=0 || (p->eLock>SQLITE_LOCK_NONE && !p->bWalLock) ){
    return SQLITE_LOCKED;                 /* inside a transaction */
  }
  return SQLITE_OK;
}

/*
** vlog_snapshot(): freeze the top layer as snapshot zName and put a new
** empty one over it, in one commit.
*/
static int snapshotTake(VfsDb *p, const char *zName){
  sqlite3_int64 nCopied = 0, iNow = 0;
  unsigned int iNew = VFS_TREE_LAYER;
  u8 aKey[5+VFS_SNAP_NAME_MAX];
  int nKey, rc = snapWritable(p, "take a snapshot");
  if( rc ) return rc;
  (void)mergeAll(p, &nCopied);            /* a drop's merge left over */
  (void)vfsCurrentTimeInt64(&p->pVfs->base, &iNow);
  (void)vlogStoreSetBusyTimeout(p->pStore, VFS_WAL_BUSY_MS);
  rc = vlogBegin(p->pStore, 1);
  (void)vlogStoreSetBusyTimeout(p->pStore, p->bWalLock ? VFS_WAL_BUSY_MS : 0);
  if( rc ) return rc==VLOG_BUSY ? SQLITE_BUSY : dbError(p, rc);
  stateForget(p);
  rc = stateLoad(p, &p->st);
  if( rc==SQLITE_OK ) rc = stateLoad(p, &p->wal);
  nKey = snapKey(aKey, zName);
  if( rc ){
    /* logged */
  }else if( !p->st.bEntry || p->st.szChunk==0 ){
    rc = snapError(p, SQLITE_ERROR, "an empty database has no snapshot");
  }else if( p->wal.nSize>VFS_WAL_HDR ){
    rc = snapError(p, SQLITE_BUSY, "its WAL holds frames: a snapshot is of the "
                   "database file (PRAGMA wal_checkpoint(TRUNCATE) first)");
  }else if( baseShows(&p->st) ){
    rc = snapError(p, SQLITE_ERROR, "an overlay whose base still shows has no "
                   "snapshot: vlog_materialize() it first");
  }else if( (rc = vlogHas(p->pStore, VFS_TREE_CATALOG, aKey, nKey))!=VLOG_NOTFOUND ){
    rc = rc ? dbError(p, rc) : snapError(p, SQLITE_CONSTRAINT, "a snapshot named "
                                         "'%s' exists", zName);
  }else{
    const void *pVal;
    int nVal;
    rc = vlogGet(p->pStore, VFS_TREE_CATALOG, "layernext", 9, &pVal, &nVal);
    if( rc==VLOG_OK && nVal==4 ){
      iNew = get32((const u8*)pVal);
    }else if( rc==VLOG_OK ){
      rc = snapError(p, SQLITE_CORRUPT, "the entry layernext has %d bytes", nVal);
    }else if( rc==VLOG_NOTFOUND ){
      rc = VLOG_OK;
    }
    if( rc==VLOG_OK && (iNew<VFS_TREE_LAYER || iNew>=VLOG_MAX_TREE) ){
      rc = snapError(p, SQLITE_FULL, "no layer id is left for a snapshot (next %u)", iNew);
    }
    if( rc==VLOG_OK ){
      VlogTreePolicy pol;
      VfsLayer L;
      u8 a[VFS_SNAP_ENTRY_SIZE];
      vlogTreePolicyDefault(&pol);
      pol.nInlineMax = 0;
      pol.iZstdLevel = VFS_ZSTD_LEVEL;
      memset(&L, 0, sizeof(L));
      L.iTree = stateTree(&p->st);
      L.iBelow = p->st.iBelow;
      L.szChunk = p->st.szChunk;
      L.nBase = p->st.nBase;
      memset(a, 0, sizeof(a));
      a[0] = 1;
      put32(&a[4], (unsigned int)p->st.szChunk);
      put64(&a[8], (sqlite3_uint64)p->st.nSize);
      put32(&a[16], L.iTree);
      put64(&a[24], (sqlite3_uint64)(iNow - 210866760000000LL));  /* Unix ms */
      rc = vlogTreeSetPolicy(p->pStore, iNew, &pol);
      if( rc==VLOG_OK ) rc = layerPut(p->pStore, &L);
      if( rc==VLOG_OK ) rc = vlogPut(p->pStore, VFS_TREE_CATALOG, aKey, nKey, a, sizeof(a));
      if( rc==VLOG_OK ){
        put32(a, iNew+1);
        rc = vlogPut(p->pStore, VFS_TREE_CATALOG, "layernext", 9, a, 4);
      }
      if( rc ) rc = dbError(p, rc);
      if( rc==SQLITE_OK ){
        p->st.iBelow = L.iTree;
        p->st.iTop = iNew;
        p->st.nBase = p->st.nSize;
        chainChanged(&p->st);
        rc = stateSave(p, &p->st);
      }
    }
  }
  if( rc==SQLITE_OK ){
    (void)vlogStoreSetSync(p->pStore, VLOG_SYNC_FULL);
    rc = vlogCommit(p->pStore);
    if( rc ) rc = dbError(p, rc);
  }
  if( vlogTxnState(p->pStore) ) (void)vlogRollback(p->pStore);
  stateForget(p);
  return rc;
}

/*
** vlog_snapshot_drop(): snapshot zName's entry goes and its layer is
** marked dropped, in one commit; then the merges (mergeAll).  *pnCopied:
** chunks the merges copied.  A merge kept from finishing by a writer is
** left for later: the drop itself is done.
*/
static int snapshotDrop(VfsDb *p, const char *zName, sqlite3_int64 *pnCopied){
  u8 aKey[5+VFS_SNAP_NAME_MAX];
  VfsState snap;
  VfsLayer L;
  char zWhy[160];
  int rc = snapWritable(p, "drop a snapshot");
  if( rc ) return rc;
  memset(&snap, 0, sizeof(snap));
  (void)vlogStoreSetBusyTimeout(p->pStore, VFS_WAL_BUSY_MS);
  rc = vlogBegin(p->pStore, 1);
  (void)vlogStoreSetBusyTimeout(p->pStore, p->bWalLock ? VFS_WAL_BUSY_MS : 0);
  if( rc ) return rc==VLOG_BUSY ? SQLITE_BUSY : dbError(p, rc);
  stateForget(p);
  rc = snapLoad(p->pStore, zName, &snap, 0, zWhy, sizeof(zWhy));
  if( rc==VLOG_NOTFOUND ){
    rc = snapError(p, SQLITE_ERROR, "no snapshot named '%s'", zName);
  }else if( rc==VLOG_CORRUPT ){
    rc = snapError(p, SQLITE_CORRUPT, "%s", zWhy);
  }else if( rc ){
    rc = dbError(p, rc);
  }else{
    rc = layerGet(p->pStore, snap.iTop, &L, zWhy, sizeof(zWhy));
    if( rc==VLOG_OK ){
      L.bDropped = 1;
      rc = layerPut(p->pStore, &L);
    }
    if( rc==VLOG_OK ){
      rc = vlogDelete(p->pStore, VFS_TREE_CATALOG, aKey, snapKey(aKey, zName));
    }
    if( rc ) rc = dbError(p, rc);
    if( rc==SQLITE_OK ) rc = stateLoad(p, &p->st);
    if( rc==SQLITE_OK ){
      chainChanged(&p->st);               /* the layer's flag: to merge */
      rc = stateSave(p, &p->st);
    }
  }
  stateFree(&snap);
  if( rc==SQLITE_OK ){
    (void)vlogStoreSetSync(p->pStore, VLOG_SYNC_FULL);
    rc = vlogCommit(p->pStore);
    if( rc ) rc = dbError(p, rc);
  }
  if( vlogTxnState(p->pStore) ) (void)vlogRollback(p->pStore);
  stateForget(p);
  if( rc==SQLITE_OK ){
    rc = mergeAll(p, pnCopied);
    if( rc==SQLITE_BUSY ) rc = SQLITE_OK; /* finished later */
  }
  return rc;
}

/*
** Open the engine handle.  A store that another connection holds locked
** (a writer committing, one being created) cannot be opened now:
** SQLITE_BUSY, and the database file opens all the same, its store at its
** first use (dbReady), as the unix VFS opens a file that another process
** has locked.  Errors other than SQLITE_BUSY are logged.
*/
static int storeOpen(VfsDb *p){
  int rc;
  assert( p->pStore==0 );
  rc = vlogStoreOpen(p->pVfs->pEnv, p->zPath, &p->cfg, &p->pStore);
  /* SQLite's pager rolls its pages back to a savepoint itself; the
  ** virtual tables of the store roll back theirs (cannot fail) */
  if( rc==VLOG_OK ){
    (void)vlogStoreSavepointExempt(p->pStore, VFS_TREE_CATALOG, VFS_TREE_WAL);
    (void)vlogStoreSavepointExemptHigh(p->pStore, VFS_TREE_LAYER);
    rc = p->zSnap ? snapOpen(p) : overlayOpen(p);  /* base=, or an overlay's
                                          ** base; or snapshot= */
    if( rc ){
      /* logged (SQLITE_BUSY: opened again at its first use) */
      (void)vlogStoreClose(p->pStore);
      p->pStore = 0;
      return rc;
    }
  }
  if( rc && p->pStore ){
    if( rc!=VLOG_NOTADB && rc!=VLOG_BUSY ){
      sqlite3_log(rc, "vlog: %s", vlogStoreErrMsg(p->pStore));
    }
    (void)vlogStoreClose(p->pStore);      /* the open's error is returned */
    p->pStore = 0;
  }
  return rc;
}

/* The store, opened if it is not yet (storeOpen). */
#define dbReady(p) ((p)->pStore ? SQLITE_OK : storeOpen(p))

/* The parent's file of the store (its sqlite3_file), or 0 before the
** store is open. */
static sqlite3_file *dbParent(VfsDb *p){
  return p->pStore ? (sqlite3_file*)vlogEnvVfsFile(vlogStoreFile(p->pStore)) : 0;
}

/* ---------------------------------------------------------------------
** Commit and rollback of the engine transaction.
*/
/* Does the VFS end the engine write transaction (its pages are in it, or
** SQLite's journal started)?  If not, the transaction is the virtual
** tables' of the store (ext/vtab.c), theirs to end unless SQLite's
** commit reaches the file (SQLITE_FCNTL_COMMIT_PHASETWO). */
static int vfsHasPart(VfsDb *p){
  return p->bPart || p->eJrnl!=JRNL_NONE;
}

/* Forget the -wal's part in the engine transaction (its end). */
static void walPartClear(VfsDb *p){
  p->bWalPart = 0;
  p->bWalNoCksum = 0;
  p->bWalCommit = 0;
  p->bWalTrunc = 0;
  p->bWalTxn = 0;
  p->bCkptTxn = 0;
}

/*
** At the commit of a transaction that wrote the database file in a
** rollback mode: if page 1's header names a page size that is not the
** chunk size (VACUUM to a new page size: SQLite's backup writes the new
** pages at the old size, so no write re-chunked the file), re-chunk now,
** so that each page is one chunk again.
*/
static int chunkFollowHeader(VfsDb *p){
  VfsState *pS = &p->st;
  u8 aHdr[100];
  int rc, bShort = 0, sz;
  if( !pS->bOk || !pS->szChunk || pS->nSize<(sqlite3_int64)sizeof(aHdr) ){
    return SQLITE_OK;
  }
  rc = fileRead(p, pS, aHdr, (int)sizeof(aHdr), 0, &bShort);
  if( rc || bShort || memcmp(aHdr, "SQLite format 3", 16)!=0 ) return rc;
  sz = (aHdr[16]<<8) | aHdr[17];
  if( sz==1 ) sz = 65536;
  if( !isPageSize(sz) || sz==pS->szChunk || pS->nSize%sz ) return SQLITE_OK;
  return rechunk(p, sz);
}

static int dbCommit(VfsDb *p){
  int rc = SQLITE_OK;
  int bPart = vfsHasPart(p) || p->bWalPart || p->bWalTrunc;
  int bFile = vfsHasPart(p) && !p->bWalLock && !p->bWal;
  walPartClear(p);
  p->bCallTxn = 0;
  p->eJrnl = JRNL_NONE;
  p->bPlayback = 0;
  p->bPart = 0;
  if( vlogTxnState(p->pStore)==2 ){
    rc = bFile ? chunkFollowHeader(p) : SQLITE_OK;
    if( rc==SQLITE_OK ) rc = dirtyFlush(p, 1);
    if( rc==SQLITE_OK ) rc = stateSave(p, &p->st);
    if( rc==SQLITE_OK ) rc = stateSave(p, &p->wal);
    if( rc==SQLITE_OK ){
      /* a transaction of virtual tables only keeps their xBegin's level */
      if( bPart ){
        (void)vlogStoreSetSync(p->pStore, p->bSynced ? VLOG_SYNC_FULL : VLOG_SYNC_NORMAL);
      }
      rc = vlogCommit(p->pStore);
      if( rc ) rc = dbError(p, rc);
    }
    /* a commit that failed is rolled back: SQLite's hot journal would
    ** be, and what the journal ended is not to be tried again */
    if( rc && vlogTxnState(p->pStore)==2 ) (void)vlogRollback(p->pStore);
    stateForget(p);
  }
  p->bSynced = 0;
  return rc;
}

static void dbRollback(VfsDb *p){
  (void)dirtyFlush(p, 0);                 /* only forgets: cannot fail */
  walPartClear(p);
  p->bCallTxn = 0;
  p->eJrnl = JRNL_NONE;
  p->bJrnlDisk = 0;                       /* a copy on disk stays: hot */
  p->bPart = 0;
  p->bPlayback = 0;
  p->bSynced = 0;
  stateForget(p);
  if( vlogTxnState(p->pStore)==2 ){
    (void)vlogRollback(p->pStore);        /* nothing is left to undo */
  }
}

/* ---------------------------------------------------------------------
** The database file's methods.
*/
static int dbClose(sqlite3_file *pFile){
  VfsDb *p = (VfsDb*)pFile;
  VfsDb **pp;
  int rc;
  vfsEnter();
  for(pp=&pAllDb; *pp; pp=&(*pp)->pNext){
    if( *pp==p ){ *pp = p->pNext; break; }
  }
  vfsLeave();
  if( p->pJrnl ) p->pJrnl->pDb = 0;
  if( p->pWal ) p->pWal->pDb = 0;
  if( vfsLast==p ) vfsLast = 0;
  if( p->pStore ){
    walReadEnd(p);
    dbRollback(p);
    overlayFlush(p);
  }
  if( p->pStore ) (void)walLockSet(p, 0); /* closing: harmless if it fails */
  sqlite3_free((void*)p->apShm);
  rc = vlogStoreClose(p->pStore);         /* ends a read transaction */
  if( rc ) sqlite3_log(rc, "vlog: closing %s", p->zPath);
  sqlite3_free(p->apDirty);
  tempClose(&p->pDirtyFile);
  sqlite3_free(p->aDirtyBuf);
  sqlite3_free(p->aChunk);
  sqlite3_free(p->zJournal);
  sqlite3_free(p->zPath);
  sqlite3_free(p->zBaseArg);
  sqlite3_free(p->zBaseSnapArg);
  sqlite3_free(p->zSnap);
  stateFree(&p->st);
  stateFree(&p->wal);
  baseFree(p->pBase);
  return rc;
}

/*
** A read that failed with rc.  SQLite peeks at the header before it locks
** (for the page size) and reads it again under SHARED, where an error
** counts; the unix VFS's peek reads whatever bytes are there.  So to the
** peek, a store another connection holds locked, and a damaged one, read
** as empty (the error comes at the read under the lock, as on unix, where
** SQLite finds the damage after the open); any other error stands.
*/
static int readPeekError(VfsDb *p, void *zBuf, int iAmt, int rc){
  if( p->eLock==SQLITE_LOCK_NONE && (rc==SQLITE_BUSY || rc==SQLITE_CORRUPT) ){
    memset(zBuf, 0, iAmt);
    return SQLITE_IOERR_SHORT_READ;
  }
  return rc;
}

static int dbRead(sqlite3_file *pFile, void *zBuf, int iAmt, sqlite3_int64 iOfst){
  VfsDb *p = (VfsDb*)pFile;
  int rc = dbReady(p);
  int bShort = 0;
  if( rc ) return readPeekError(p, zBuf, iAmt, rc);
  vfsLast = p;
  if( __atomic_load_n(&p->bWalHdr, __ATOMIC_RELAXED)
   && !p->bWalLock && p->eLock==SQLITE_LOCK_SHARED ){
    rc = walLockEnter(p);                 /* walOpened() */
    if( rc ) return rc;
  }
  rc = txnEnter(p, 0);
  if( rc==SQLITE_OK ) rc = stateLoad(p, &p->st);
  if( rc==SQLITE_OK ) rc = fileRead(p, &p->st, (u8*)zBuf, iAmt, iOfst, &bShort);
  txnLeave(p);
  if( rc==SQLITE_OK && iOfst==0 && iAmt>=20 && p->eLock==SQLITE_LOCK_SHARED
   && !p->bWalLock && ((u8*)zBuf)[18]==2 && ((u8*)zBuf)[19]==2 ){
    /* the header says WAL mode: SQLite's lock moves to the WAL lock now,
    ** even if this file never sees SQLite's shared memory (a shim that
    ** keeps its own, such as testvfs) */
    __atomic_store_n(&p->bWalHdr, 1, __ATOMIC_RELAXED);
    rc = walLockEnter(p);
  }
  if( rc==SQLITE_OK && bShort ) rc = SQLITE_IOERR_SHORT_READ;
  if( rc && rc!=SQLITE_IOERR_SHORT_READ ){
    rc = readPeekError(p, zBuf, iAmt, rc);
  }
  return rc;
}


/* Is a write now one of WAL mode's (a checkpoint's, or the truncation
** after it)?  In WAL mode (the WAL lock held), or between SQLite's
** SQLITE_FCNTL_CKPT_START and the sync after SQLITE_FCNTL_CKPT_DONE (a
** shim that keeps its own shared memory, so that this file never learns
** of WAL mode otherwise: the engine then holds SQLite's SHARED). */
static int walWriting(VfsDb *p){
  return p->bWalLock || p->bCkpt || p->bCkptTail;
}

/*
** May SQLite write the file now?  Under RESERVED or above; with nolock=1;
** and in WAL mode under SHARED, which is when SQLite's checkpoints write
** (walWriteBegin()).
*/
static int writeAllowed(VfsDb *p){
  return p->eLock>=SQLITE_LOCK_RESERVED || p->bNoLock
      || (p->eLock>=SQLITE_LOCK_SHARED && walWriting(p));
}

/*
** A write in WAL mode with no level held above SHARED: it needs an engine
** write transaction of its own (the engine's writer lock, RESERVED).  One
** that a virtual table of the store has open is not this file's to join
** (SQLite never checkpoints inside a transaction: a defence).
*/
static int walWriteBegin(VfsDb *p){
  if( walWriting(p) && p->eHold<SQLITE_LOCK_RESERVED
   && vlogTxnState(p->pStore)==2 && !p->bPart && !p->bWalTxn && !p->bCkptTxn ){
    sqlite3_log(SQLITE_BUSY, "vlog: %s: a checkpoint inside a transaction of "
                "a vlog table", p->zPath);
    return SQLITE_BUSY;
  }
  return SQLITE_OK;
}

/*
** The end of a write call in WAL mode: a write outside SQLite's checkpoint
** (the truncation after it) commits at once; inside, every page goes to
** the store as it comes (so that an error is the write's, where SQLite
** sees it) and SQLITE_FCNTL_CKPT_DONE commits them together.
*/
static int walWriteEnd(VfsDb *p, int rc){
  if( !walWriting(p) || p->eHold>=SQLITE_LOCK_RESERVED
   || vlogTxnState(p->pStore)!=2 || !p->bPart ){
    return rc;
  }
  if( rc==SQLITE_OK ) rc = dirtyFlush(p, 1);
  if( rc==SQLITE_OK && !p->bCkpt ){
    p->bSynced = 1;
    rc = dbCommit(p);
  }
  if( rc && !p->bCkpt ) dbRollback(p);
  return rc;
}

static int dbWrite(sqlite3_file *pFile, const void *zBuf, int iAmt,
                   sqlite3_int64 iOfst){
  VfsDb *p = (VfsDb*)pFile;
  const u8 *aIn = (const u8*)zBuf;
  sqlite3_int64 iEnd = iOfst + iAmt;
  int rc;
  if( !writeAllowed(p) ){
    sqlite3_log(SQLITE_IOERR_WRITE, "vlog: %s: a write without a write lock", p->zPath);
    return SQLITE_IOERR_WRITE;
  }
  if( p->rcCkpt ) return p->rcCkpt;       /* the checkpoint cannot commit */
  rc = dbReady(p);                        /* dbLock opened it, or nolock=1 */
  if( rc==SQLITE_OK ) rc = walWriteBegin(p);
  if( rc==SQLITE_OK ) rc = txnEnter(p, 1);
  if( rc==SQLITE_OK ) rc = stateLoad(p, &p->st);
  if( rc==SQLITE_OK && !p->st.bEntry ) rc = stateCreate(p, &p->st);
  if( rc!=SQLITE_OK ) return rc;
  p->bPart = 1;
  if( p->st.szChunk==0 ){
    p->st.szChunk = (isPageSize(iAmt) && iOfst%iAmt==0) ? iAmt : VFS_DEFAULT_CHUNK;
    p->st.bDirty = 1;
  }else if( isPageSize(iAmt) && iOfst%iAmt==0 && iAmt!=p->st.szChunk ){
    rc = rechunk(p, iAmt);
  }
  if( rc==SQLITE_OK && iEnd/p->st.szChunk>=0xfffffffeLL ){
    sqlite3_log(SQLITE_FULL, "vlog: %s: a write at offset %lld is past the "
                "largest file at page size %d", p->zPath, iOfst, p->st.szChunk);
    rc = SQLITE_FULL;
  }
  if( rc==SQLITE_OK ) rc = fileWrite(p, &p->st, aIn, iAmt, iOfst);
  return walWriteEnd(p, rc);
}

static int dbTruncate(sqlite3_file *pFile, sqlite3_int64 size){
  VfsDb *p = (VfsDb*)pFile;
  int rc;
  if( !writeAllowed(p) ){
    sqlite3_log(SQLITE_IOERR_TRUNCATE, "vlog: %s: a truncation without a write "
                "lock", p->zPath);
    return SQLITE_IOERR_TRUNCATE;
  }
  if( p->rcCkpt ) return p->rcCkpt;       /* the checkpoint did not commit */
  rc = dbReady(p);
  if( rc==SQLITE_OK ) rc = walWriteBegin(p);
  if( rc==SQLITE_OK ) rc = txnEnter(p, 0);
  if( rc==SQLITE_OK ) rc = stateLoad(p, &p->st);
  if( rc!=SQLITE_OK || size==p->st.nSize ){
    txnLeave(p);                          /* SQLite truncates to the size */
    return rc;                            /* after every checkpoint */
  }
  rc = txnEnter(p, 1);
  if( rc ){
    txnLeave(p);
    return rc;
  }
  p->bPart = 1;
  if( !p->st.bEntry ) rc = stateCreate(p, &p->st);
  if( rc==SQLITE_OK && size<p->st.nSize ){
    rc = fileTruncate(p, &p->st, size);
  }else if( rc==SQLITE_OK ){
    p->st.nSize = size;                   /* grown: zeros */
    p->st.bDirty = 1;
  }
  return walWriteEnd(p, rc);
}

static int dbSync(sqlite3_file *pFile, int flags){
  VfsDb *p = (VfsDb*)pFile;
  (void)flags;
  if( p->pStore==0 ) return SQLITE_OK;
  if( p->rcCkpt ) return p->rcCkpt;       /* the checkpoint did not commit */
  p->bCkptTail = 0;
  p->bSynced = 1;
  /* With no journal of the transaction (MEMORY, OFF), this is the commit */
  if( p->eJrnl==JRNL_NONE && p->bPart && vlogTxnState(p->pStore)==2 ){
    return dbCommit(p);
  }
  return SQLITE_OK;
}

static int dbFileSize(sqlite3_file *pFile, sqlite3_int64 *pSize){
  VfsDb *p = (VfsDb*)pFile;
  vfsLast = p;
  int rc = dbReady(p);
  *pSize = 0;
  if( rc ) return rc;
  rc = txnEnter(p, 0);
  if( rc==SQLITE_OK ) rc = stateLoad(p, &p->st);
  *pSize = rc==SQLITE_OK ? p->st.nSize : 0;
  txnLeave(p);
  return rc;
}

/*
** The level the engine holds for SQLite (vlogStoreHold): raised one step at
** a time from below SHARED (the engine's rule), lowered at once.  A read
** transaction that the held level protected ends first when it goes to
** NONE.
*/
static int holdSet(VfsDb *p, int eLevel){
  int rc = VLOG_OK;
  if( eLevel==p->eHold ) return VLOG_OK;
  if( eLevel==SQLITE_LOCK_NONE && p->eHold!=SQLITE_LOCK_NONE
   && vlogTxnState(p->pStore)==1 ){
    rc = vlogCommit(p->pStore);           /* a read transaction's end */
    if( rc ) return rc;
  }
  if( eLevel>SQLITE_LOCK_SHARED && p->eHold<SQLITE_LOCK_SHARED ){
    rc = vlogStoreHold(p->pStore, SQLITE_LOCK_SHARED);
    if( rc ) return rc;
    p->eHold = SQLITE_LOCK_SHARED;
  }
  if( eLevel==SQLITE_LOCK_NONE && vlogTxnState(p->pStore)==1 ){
    p->eHold = eLevel;                    /* a virtual table's read: the */
    return VLOG_OK;                       /* engine keeps its lock */
  }
  rc = vlogStoreHold(p->pStore, eLevel);
  if( rc==VLOG_OK ) p->eHold = eLevel;
  return rc;
}

/* The WAL lock (io.h) at level eWal (0, 1 shared, 2 exclusive): SQLite's
** codes, errors but SQLITE_BUSY logged. */
static int walLockSet(VfsDb *p, int eWal){
  int rc;
  if( p->eWalLock==eWal ) return SQLITE_OK;
  rc = vlogEnvVfsWalLock(vlogStoreFile(p->pStore), &p->eWalLock, eWal);
  if( rc==VLOG_NOTFOUND && !vlogStoreHasShm(p->pStore)
   && vlogStoreIsReadOnly(p->pStore) ){
    /* a read-only connection without the -shm (readonly_shm=1, a folder
    ** it cannot write): no WAL lock; each of SQLite's read transactions
    ** is an engine read transaction under a shared file lock (dbShmMap) */
    rc = SQLITE_OK;
  }else if( rc==VLOG_NOTFOUND ){
    /* as the unix VFS when it cannot open the -shm */
    rc = SQLITE_CANTOPEN;
    sqlite3_log(rc, "vlog: %s: WAL mode needs the store's shared memory "
                "(its -shm file, which this connection must be able to "
                "write), and it could not be mapped", p->zPath);
  }else if( rc && rc!=SQLITE_BUSY ){
    sqlite3_log(rc, "vlog: %s: the WAL lock (a byte of the -shm file)", p->zPath);
  }
  return rc;
}

/* WAL mode's locks on or off: the engine's own locks then wait (its
** writer lock and commit at a checkpoint, a read the reader table cannot
** serve), where SQLite's busy handler waits for SQLite's. */
static void walLockMode(VfsDb *p, int bOn){
  p->bWalLock = bOn;
  (void)vlogStoreSetBusyTimeout(p->pStore, bOn ? VFS_WAL_BUSY_MS : 0);
}

/*
** SQLite's lock in WAL mode.  Every connection holds SHARED for as long as
** it is open; that is the WAL lock's shared level alone, so that the
** engine's commits (a checkpoint's) can take the store file's EXCLUSIVE
** meanwhile.  Above SHARED the engine holds the level too, and EXCLUSIVE
** (the last connection's close, leaving WAL mode) is also the WAL lock's
** exclusive level: no other WAL connection, nor any connection of the
** rollback modes, is left.
*/
static int walLock(VfsDb *p, int eLock){
  int eHold0 = p->eHold;
  int rc = walLockSet(p, p->eWalLock ? p->eWalLock : 1);
  if( rc==SQLITE_OK && eLock>SQLITE_LOCK_SHARED ){
    /* the engine's level protects reads from now (locking_mode=EXCLUSIVE
    ** taken inside a read transaction): the pinned snapshot ends */
    walReadEnd(p);
    rc = holdSet(p, eLock);
    if( rc && rc!=SQLITE_BUSY ) rc = dbError(p, rc);
    if( rc==SQLITE_OK && eLock==SQLITE_LOCK_EXCLUSIVE ){
      rc = walLockSet(p, 2);
      if( rc ) (void)holdSet(p, eHold0);  /* rc says what failed */
    }
  }
  if( rc ){
    if( p->eLock==SQLITE_LOCK_NONE ) (void)walLockSet(p, 0);
    return rc;
  }
  p->eLock = eLock;
  return SQLITE_OK;
}

/*
** Into WAL mode's locks, at SHARED: the WAL lock is taken shared, then the
** engine's level dropped.  Nobody can hold the WAL lock exclusive now (its
** holder holds the engine's EXCLUSIVE too, and this file holds SHARED).
*/
static int walLockEnter(VfsDb *p){
  int rc;
  assert( p->eLock==SQLITE_LOCK_SHARED && !p->bWalLock );
  if( vlogTxnState(p->pStore)==2 ){
    return SQLITE_OK;             /* a virtual table's, under the level held:
                                  ** at the next unlock to SHARED */
  }
  rc = walLockSet(p, 1);
  if( rc ) return rc;
  rc = holdSet(p, SQLITE_LOCK_NONE);
  if( rc ){
    (void)walLockSet(p, 0);               /* rc says what failed */
    return dbError(p, rc);
  }
  walLockMode(p, 1);
  return SQLITE_OK;
}

/* Out of them: the engine holds SQLite's level (or it is NONE). */
static void walLockLeave(VfsDb *p){
  assert( p->bWalLock && (p->eHold==p->eLock || p->eLock==SQLITE_LOCK_NONE) );
  (void)walLockSet(p, 0);                 /* an unlock: harmless if not */
  walLockMode(p, 0);
}

static int dbLock(sqlite3_file *pFile, int eLock){
  VfsDb *p = (VfsDb*)pFile;
  vfsLast = p;
  int rc, eHold0;
  if( eLock<=p->eLock ) return SQLITE_OK;
  if( eLock==SQLITE_LOCK_PENDING ) eLock = SQLITE_LOCK_EXCLUSIVE;
  rc = dbReady(p);
  if( rc ) return rc;
  if( p->eLock==SQLITE_LOCK_NONE ){
    stateForget(p);
    __atomic_store_n(&p->bWalHdr, 0, __ATOMIC_RELAXED);
    if( p->bWal && !p->bWalLock ) walLockMode(p, 1);
  }
  if( p->bWalLock ) return walLock(p, eLock);
  eHold0 = p->eHold;
  rc = holdSet(p, eLock);
  if( rc==VLOG_OK && eLock==SQLITE_LOCK_EXCLUSIVE && p->eWalLock!=2 ){
    /* WAL connections hold none of the store's lock bytes, only the WAL
    ** lock: EXCLUSIVE must exclude them too (a connection that has not
    ** learnt of WAL mode yet, locking_mode=EXCLUSIVE, a hot journal).
    ** A store without shared memory has no WAL connection. */
    int rc2 = vlogEnvVfsWalLock(vlogStoreFile(p->pStore), &p->eWalLock, 2);
    if( rc2 && rc2!=VLOG_NOTFOUND ){
      (void)holdSet(p, eHold0);         /* rc2 says what failed */
      if( rc2!=SQLITE_BUSY ) sqlite3_log(rc2, "vlog: %s: the WAL lock", p->zPath);
      return rc2;
    }
  }
  if( rc==VLOG_OK ){
    p->eLock = eLock;
  }else if( rc==VLOG_BUSY && eLock==SQLITE_LOCK_EXCLUSIVE
         && p->eLock>=SQLITE_LOCK_RESERVED ){
    /* the parent holds PENDING now (new readers wait), as on unix */
    p->eLock = SQLITE_LOCK_PENDING;
  }
  return rc==VLOG_BUSY ? SQLITE_BUSY : dbError(p, rc);
}

static int dbUnlock(sqlite3_file *pFile, int eLock){
  VfsDb *p = (VfsDb*)pFile;
  vfsLast = p;
  int rc = SQLITE_OK, rc2;
  int eHold = eLock;
  if( eLock>=p->eLock ) return SQLITE_OK;
  assert( p->pStore );                    /* dbLock opened it */
  if( eLock<SQLITE_LOCK_RESERVED && vfsHasPart(p) ){
    /* Not committed (SQLITE_FCNTL_COMMIT_PHASETWO would have): SQLite
    ** gave up, leaving what would be a hot journal; rolled back at once */
    dbRollback(p);
  }
  if( p->bWalLock && eLock<=SQLITE_LOCK_SHARED ) eHold = SQLITE_LOCK_NONE;
  /* a write transaction left open is the virtual tables' (xCommit or
  ** xRollback ends it): it keeps its locks until then */
  rc2 = holdSet(p, eHold);
  if( rc2 ) rc = dbError(p, rc2);
  if( p->bWalLock ){
    rc2 = walLockSet(p, eLock==SQLITE_LOCK_NONE ? 0 : 1);
    if( rc==SQLITE_OK ) rc = rc2;
  }else if( p->eWalLock ){
    (void)walLockSet(p, 0);             /* EXCLUSIVE's (dbLock): an unlock */
  }
  p->eLock = eLock;
  if( p->bWalLock && eLock==SQLITE_LOCK_NONE && !p->bWal ) walLockLeave(p);
  stateForget(p);
  p->bCkptTail = 0;
  if( p->pBase && eLock==SQLITE_LOCK_NONE ) overlayFlush(p);
  /* SQLite mapped its shared memory under a higher level: WAL mode's
  ** locks from now */
  if( rc==SQLITE_OK && !p->bWalLock
   && (p->bWal || __atomic_load_n(&p->bWalHdr, __ATOMIC_RELAXED))
   && eLock==SQLITE_LOCK_SHARED ){
    rc = walLockEnter(p);
  }
  return rc;
}

static int dbCheckReservedLock(sqlite3_file *pFile, int *pResOut){
  VfsDb *p = (VfsDb*)pFile;
  int rc = dbReady(p);
  *pResOut = 0;
  if( rc==SQLITE_BUSY ){
    *pResOut = 1;                         /* a writer has it locked */
    return SQLITE_OK;
  }
  if( rc ) return rc;
  rc = vlogStoreCheckReserved(p->pStore, pResOut);
  return dbError(p, rc);
}

/* ---------------------------------------------------------------------
** WAL mode.  SQLite's shared memory (its wal-index) is the parent's shared
** memory of the store file, region i of SQLite's being the parent's region
** i+1 (region 0 is the engine's reader table, shm.c); SQLite's eight
** locks are the parent's own.  So one -shm file serves both, with one
** dead-man switch.  The -wal is a file of the store (VfsWal, below).
** SQLite's database lock is the WAL lock while in WAL mode (walLock).
** Pages reach the database's tree only in checkpoints: SQLite writes them
** under SHARED between SQLITE_FCNTL_CKPT_START and SQLITE_FCNTL_CKPT_DONE,
** one engine write transaction of this file (walWriteEnd), which CKPT_DONE
** commits, synced.  SQLite's write and read locks are the engine's write
** transaction and pinned snapshot too (dbShmLock: walWriterBegin,
** walReadBegin).
*/

/* SQLite's WalCkptInfo, in its region 0, when mapped. */
static volatile unsigned int *ckptInfo(VfsDb *p){
  if( p->nShm<1 || p->apShm[0]==0 ) return 0;
  return (volatile unsigned int*)((volatile u8*)p->apShm[0] + VFS_WAL_CKPT_INFO);
}

/*
** The checkpoint's pages written: commit them, synced, before SQLite
** marks the frames copied (nBackfill), for a later writer may then write
** over them in the -wal.  SQLite ignores what this file control returns:
** a commit that fails is remembered (rcCkpt) and fails the truncation and
** sync that follow a complete checkpoint, so that SQLite marks nothing;
** after a partial one, SQLite's nBackfill is put back as it was when the
** checkpoint began, when SQLite lets go of read-lock 0 (dbShmLock), before
** any other connection may see it... (one may have read it in between:
** see vfs/README.md).
*/
static int ckptCommit(VfsDb *p){
  int rc;
  if( p->pStore==0 || vlogTxnState(p->pStore)!=2 || p->eJrnl!=JRNL_NONE ){
    return SQLITE_OK;
  }
  if( !p->bPart ){
    /* nothing copied: the transaction CKPT_START began ends */
    if( p->bCkptTxn && !p->bWalTxn && vlogTxnIsEmpty(p->pStore) ) return dbCommit(p);
    return SQLITE_OK;
  }
  p->bSynced = 1;
  rc = dbCommit(p);
  if( rc ){
    sqlite3_log(rc, "vlog: %s: the checkpoint's pages could not be committed; "
                "the WAL keeps them", p->zPath);
    p->rcCkpt = rc;
  }
  return rc;
}

static int dbShmMap(sqlite3_file *pFile, int iRegion, int szRegion, int bExtend,
                    void volatile **pp){
  VfsDb *p = (VfsDb*)pFile;
  sqlite3_file *pReal;
  int rc = dbReady(p);
  *pp = 0;
  if( rc ) return rc;
  pReal = dbParent(p);
  if( p->pStore && !vlogStoreHasShm(p->pStore) && vlogStoreIsReadOnly(p->pStore) ){
    /* a read-only connection that does not map the -shm (readonly_shm=1,
    ** a folder it cannot write, immutable=1): SQLite then builds its
    ** wal-index in its heap from the -wal, as the unix VFS's readonly_shm
    ** connections do when no writer vouches for the -shm, and checks it at
    ** each read transaction (walBeginShmUnreliable), which is an engine
    ** read transaction under a shared file lock (dbShmLock) */
    if( !p->bWal ){
      if( p->eLock==SQLITE_LOCK_SHARED && !p->bWalLock ){
        rc = walLockEnter(p);
        if( rc ) return rc;
      }
      p->bWal = 1;
    }
    p->bShmHeap = 1;
    return SQLITE_READONLY_CANTINIT;
  }
  if( pReal==0 || pReal->pMethods->iVersion<2 || pReal->pMethods->xShmMap==0
   || szRegion!=VLOG_SHM_SIZE || iRegion<0 ){
    sqlite3_log(SQLITE_IOERR_SHMMAP, "vlog: %s: no shared memory for WAL mode "
                "(the parent VFS has none, or regions of %d bytes)", p->zPath,
                szRegion);
    return SQLITE_IOERR_SHMMAP;
  }
  if( iRegion>=p->nShm ){
    void volatile **apNew = (void volatile**)sqlite3_realloc64(
        (void*)p->apShm, sizeof(void*)*(iRegion+1));
    if( apNew==0 ) return SQLITE_IOERR_NOMEM;
    memset((void*)&apNew[p->nShm], 0, sizeof(void*)*(iRegion+1-p->nShm));
    p->apShm = apNew;
    p->nShm = iRegion+1;
  }
  if( !p->bWal ){
    /* WAL mode begins: SQLite's lock moves to the WAL lock */
    if( p->eLock==SQLITE_LOCK_SHARED && !p->bWalLock ){
      rc = walLockEnter(p);
      if( rc ) return rc;
    }
    p->bWal = 1;
  }
  rc = pReal->pMethods->xShmMap(pReal, iRegion+1, szRegion, bExtend, pp);
  if( rc==SQLITE_OK ) p->apShm[iRegion] = *pp;
  return rc;
}

static int dbShmLock(sqlite3_file *pFile, int ofst, int n, int flags){
  VfsDb *p = (VfsDb*)pFile;
  sqlite3_file *pReal = dbParent(p);
  if( pReal==0 || !p->bWal ) return SQLITE_IOERR_SHMLOCK;
  if( p->bShmHeap ){
    /* the wal-index in SQLite's heap: read-lock 0 is its read transaction
    ** (walBeginShmUnreliable), the engine's; no other lock is shared with
    ** anyone (SQLite takes none in that mode) */
    if( ofst==VFS_WAL_READ_LOCK0 && n==1 ){
      if( flags==(SQLITE_SHM_LOCK|SQLITE_SHM_SHARED) ) return walReadBegin(p);
      if( flags==(SQLITE_SHM_UNLOCK|SQLITE_SHM_SHARED) ) walReadEnd(p);
    }
    return SQLITE_OK;
  }
  if( p->rcCkpt && ofst==3 && n==1
   && flags==(SQLITE_SHM_UNLOCK|SQLITE_SHM_EXCLUSIVE) ){
    /* read-lock 0 let go after a checkpoint whose commit failed: the
    ** frames are not in the store, so not copied (ckptCommit) */
    volatile unsigned int *pInfo = ckptInfo(p);
    if( pInfo && p->bBackfill ) pInfo[0] = p->nBackfill;
    p->rcCkpt = SQLITE_OK;
    p->bBackfill = 0;
  }
  if( n==1 && (ofst==VFS_WAL_WRITE_LOCK
               || (ofst>=VFS_WAL_READ_LOCK0 && ofst<SQLITE_SHM_NLOCK)) ){
    /* SQLite's write transaction (the write lock, exclusive) and its read
    ** transactions (a read lock, shared) are the engine's too */
    int bWrite = ofst==VFS_WAL_WRITE_LOCK;
    int eLevel = bWrite ? SQLITE_SHM_EXCLUSIVE : SQLITE_SHM_SHARED;
    if( flags==(SQLITE_SHM_LOCK|eLevel) ){
      int rc = pReal->pMethods->xShmLock(pReal, ofst, n, flags);
      if( rc==SQLITE_OK ) rc = bWrite ? walWriterBegin(p) : walReadBegin(p);
      if( rc ){
        (void)pReal->pMethods->xShmLock(pReal, ofst, n, SQLITE_SHM_UNLOCK|eLevel);
      }
      return rc;
    }
    if( flags==(SQLITE_SHM_UNLOCK|eLevel) ){
      int rc;
      if( bWrite ){
        (void)walWriterEnd(p);            /* logged */
      }else{
        walReadEnd(p);
      }
      rc = pReal->pMethods->xShmLock(pReal, ofst, n, flags);
      if( !bWrite && p->pBase ) overlayFlush(p);  /* materialize_on_read */
      return rc;
    }
  }
  return pReal->pMethods->xShmLock(pReal, ofst, n, flags);
}

static void dbShmBarrier(sqlite3_file *pFile){
  VfsDb *p = (VfsDb*)pFile;
  sqlite3_file *pReal = dbParent(p);
  if( pReal && pReal->pMethods->xShmBarrier ){
    pReal->pMethods->xShmBarrier(pReal);
  }else{
    __sync_synchronize();
  }
  if( p->bPinCheck ) walPinCheck(p);
}

/*
** SQLite is done with its shared memory (WAL mode ends, or the connection
** closes).  The parent's map stays: region 0 is the engine's, and the
** parent unmaps it all when the store closes.  deleteFlag (the last
** connection left WAL mode, holding EXCLUSIVE): SQLite's regions are
** zeroed, as the -shm file would be deleted, so the next WAL opened
** recovers from its own -wal and trusts no header of this one.
*/
static int dbShmUnmap(sqlite3_file *pFile, int deleteFlag){
  VfsDb *p = (VfsDb*)pFile;
  vfsLast = p;
  int i;
  if( deleteFlag ){
    for(i=0; i<p->nShm; i++){
      if( p->apShm[i] ) memset((void*)p->apShm[i], 0, VLOG_SHM_SIZE);
    }
  }
  sqlite3_free((void*)p->apShm);
  p->apShm = 0;
  p->nShm = 0;
  p->bWal = 0;
  p->bShmHeap = 0;
  if( p->bWalLock && p->eLock>SQLITE_LOCK_SHARED ) walLockLeave(p);
  return SQLITE_OK;
}

static int dbFileControl(sqlite3_file *pFile, int op, void *pArg){
  VfsDb *p = (VfsDb*)pFile;
  switch( op ){
    case SQLITE_FCNTL_VFSNAME: {
      *(char**)pArg = sqlite3_mprintf("%s", p->pVfs->base.zName);
      return SQLITE_OK;
    }
    case SQLITE_FCNTL_LOCKSTATE: {
      *(int*)pArg = p->eLock;
      return SQLITE_OK;
    }
    case SQLITE_FCNTL_MMAP_SIZE: {
      /* PRAGMA mmap_size: SQLite's own limit, kept and told back as the
      ** unix VFS does.  Its pager maps nothing here (xFetch gives no
      ** page); the store's map is vlog_config('main', 'mmap_size') */
      sqlite3_int64 n = *(sqlite3_int64*)pArg;
      if( n>=0 ) p->nMmapSql = n;
      *(sqlite3_int64*)pArg = p->nMmapSql;
      return SQLITE_OK;
    }
    case SQLITE_FCNTL_CHUNK_SIZE:
    case SQLITE_FCNTL_SIZE_HINT:
      /* hints of file growth: a store allocates in buckets of its own */
      return SQLITE_OK;
    case SQLITE_FCNTL_LAST_ERRNO:
    case SQLITE_FCNTL_EXTERNAL_READER:
    case SQLITE_FCNTL_TEMPFILENAME: {
      /* the parent's file answers (the store's file, opened through it;
      ** its shared memory is SQLite's wal-index too, so the parent tells
      ** whether another process holds a WAL read lock) */
      sqlite3_file *pReal = dbParent(p);
      if( pReal && pReal->pMethods && pReal->pMethods->xFileControl ){
        return pReal->pMethods->xFileControl(pReal, op, pArg);
      }
      if( op==SQLITE_FCNTL_LAST_ERRNO || op==SQLITE_FCNTL_EXTERNAL_READER ){
        *(int*)pArg = 0;
        return SQLITE_OK;
      }
      return SQLITE_NOTFOUND;
    }
    case SQLITE_FCNTL_POWERSAFE_OVERWRITE: {
      /* the device's (dbDeviceCharacteristics), as the parent says */
      if( *(int*)pArg<0 ){
        *(int*)pArg = (dbDeviceCharacteristics(pFile)
                       & SQLITE_IOCAP_POWERSAFE_OVERWRITE)!=0;
      }
      return SQLITE_OK;
    }
    case SQLITE_FCNTL_PERSIST_WAL: {
      if( *(int*)pArg<0 ){
        *(int*)pArg = p->bPersistWal;
      }else{
        p->bPersistWal = *(int*)pArg!=0;
      }
      return SQLITE_OK;
    }
    case SQLITE_FCNTL_CKPT_START: {
      /* SQLite's checkpoint begins writing pages: one engine transaction
      ** for all of them, committed at SQLITE_FCNTL_CKPT_DONE */
      volatile unsigned int *pInfo = ckptInfo(p);
      p->bCkpt = 1;
      p->bCkptTail = 0;
      p->rcCkpt = SQLITE_OK;
      p->bBackfill = pInfo!=0;
      if( pInfo ) p->nBackfill = pInfo[0];
      if( p->pStore && p->bWalLock && vlogTxnState(p->pStore)!=2 ){
        /* a writer in its transaction (its frames not yet committed in
        ** the store): the checkpoint writes nothing, and says SQLITE_BUSY */
        p->rcCkpt = walBeginWrite(p);
        p->bCkptTxn = p->rcCkpt==SQLITE_OK;
      }
      return SQLITE_OK;
    }
    case SQLITE_FCNTL_CKPT_DONE: {
      p->bCkpt = 0;
      p->bCkptTail = p->eLock>=SQLITE_LOCK_SHARED;
      return ckptCommit(p);
    }
    case SQLITE_FCNTL_SYNC: {
      /* pArg: the super-journal of a transaction over several databases */
      if( pArg && p->pStore && p->eJrnl==JRNL_LIVE && p->pJrnl && !p->bJrnlDisk ){
        return jrnlToDisk(p);
      }
      return SQLITE_OK;
    }
    case SQLITE_FCNTL_COMMIT_PHASETWO: {
      /* SQLite committed (the journal ended, or there was none): what is
      ** left of the engine transaction commits too (synchronous=OFF with
      ** no journal; virtual tables of the store in a transaction that
      ** changed no page) */
      if( p->pStore && vlogTxnState(p->pStore)==2 ){
        int bWal = p->bWalCommit, rc = dbCommit(p);
        if( rc && bWal && walIndexZero(p) ){
          /* SQLite published frames the store does not have */
          sqlite3_log(rc, "vlog: %s: the WAL commit failed: the wal-index "
                      "is rebuilt", p->zPath);
        }
        return rc;
      }
      return SQLITE_OK;
    }
    case SQLITE_FCNTL_HAS_MOVED: {
      *(int*)pArg = 0;
      if( p->pStore==0 ) return SQLITE_OK;
      return dbError(p, vlogStoreHasMoved(p->pStore, (int*)pArg));
    }
  }
  return SQLITE_NOTFOUND;
}

/* The parent's sector size for the store file, as its device
** characteristics (dbDeviceCharacteristics): SQLite sizes journal headers
** and WAL padding by it, as it would for the plain file. */
static int dbSectorSize(sqlite3_file *pFile){
  VfsDb *p = (VfsDb*)pFile;
  sqlite3_file *pReal = dbParent(p);
  if( pReal && pReal->pMethods && pReal->pMethods->xSectorSize ){
    return pReal->pMethods->xSectorSize(pReal);
  }
  return VFS_SECTOR;
}

/*
** The parent's characteristics of the store file's device, as its sector
** size.  The store's own writes are never in place, so a power loss never
** harms the bytes around one, and the -wal is in the store now; but when
** the -wal was a plain file of the parent, claiming
** SQLITE_IOCAP_POWERSAFE_OVERWRITE (SQLite reads the database file's for
** its -wal) let SQLite skip padding a commit to the sector, and a power
** loss took the last frame of a commit with it (vfs_crash, session 14).
** SQLite's WAL padding and journal headers are sized as for the plain
** file, which SQLite's tests count on (walvfs-1.2).
*/
static int dbDeviceCharacteristics(sqlite3_file *pFile){
  VfsDb *p = (VfsDb*)pFile;
  sqlite3_file *pReal = dbParent(p);
  /* a snapshot never changes: SQLite reads it without locks or a WAL */
  int iSnap = p->zSnap ? SQLITE_IOCAP_IMMUTABLE : 0;
  if( pReal && pReal->pMethods && pReal->pMethods->xDeviceCharacteristics ){
    return pReal->pMethods->xDeviceCharacteristics(pReal) | iSnap;
  }
  return iSnap;
}

/* Version 3 without shared memory (SQLite asks xShmMap before it uses
** WAL); xFetch maps no page: SQLite reads every page. */
static int dbFetch(sqlite3_file *pFile, sqlite3_int64 iOfst, int iAmt, void **pp){
  (void)pFile; (void)iOfst; (void)iAmt;
  *pp = 0;
  return SQLITE_OK;
}
static int dbUnfetch(sqlite3_file *pFile, sqlite3_int64 iOfst, void *p){
  (void)pFile; (void)iOfst; (void)p;
  return SQLITE_OK;
}

static const sqlite3_io_methods dbMethods = {
  3,                              /* iVersion: no shared memory */
  dbClose,                        /* xClose */
  dbRead,                         /* xRead */
  dbWrite,                        /* xWrite */
  dbTruncate,                     /* xTruncate */
  dbSync,                         /* xSync */
  dbFileSize,                     /* xFileSize */
  dbLock,                         /* xLock */
  dbUnlock,                       /* xUnlock */
  dbCheckReservedLock,            /* xCheckReservedLock */
  dbFileControl,                  /* xFileControl */
  dbSectorSize,                   /* xSectorSize */
  dbDeviceCharacteristics,        /* xDeviceCharacteristics */
  dbShmMap,                       /* xShmMap */
  dbShmLock,                      /* xShmLock */
  dbShmBarrier,                   /* xShmBarrier */
  dbShmUnmap,                     /* xShmUnmap */
  dbFetch,                        /* xFetch */
  dbUnfetch                       /* xUnfetch */
};

/* ---------------------------------------------------------------------
** The journal's methods: a file in memory, whose calls tell the database
** file where the transaction starts and ends.  Past VFS_JRNL_SPILL bytes
** it moves to a temporary file of the parent VFS (deleted on close, never
** found by anyone: not a hot journal), as SQLite's own memory journals
** spill; a transaction's journal can be as large as the database.
*/
static int jrnlSpill(VfsJrnl *p){
  int rc = tempOpen(p->pVfs, &p->pSpill);
  if( rc==SQLITE_OK ){
    /* in pieces: the unix VFS takes writes of less than 128 KiB */
    sqlite3_int64 i;
    for(i=0; rc==SQLITE_OK && i<p->n; i+=VFS_MAX_CHUNK){
      int n = p->n-i < VFS_MAX_CHUNK ? (int)(p->n-i) : VFS_MAX_CHUNK;
      rc = p->pSpill->pMethods->xWrite(p->pSpill, &p->a[i], n, i);
    }
    if( rc ) tempClose(&p->pSpill);
  }
  if( rc ) return rc;
  sqlite3_free(p->a);
  p->a = 0;
  p->nAlloc = 0;
  return SQLITE_OK;
}

static int jrnlClose(sqlite3_file *pFile){
  VfsJrnl *p = (VfsJrnl*)pFile;
  if( p->pDb ){
    if( p->pDb->eJrnl==JRNL_LIVE ) p->pDb->eJrnl = JRNL_CLOSED;
    p->pDb->pJrnl = 0;
  }
  tempClose(&p->pSpill);
  sqlite3_free(p->a);
  return SQLITE_OK;
}

static int jrnlRead(sqlite3_file *pFile, void *zBuf, int iAmt, sqlite3_int64 iOfst){
  VfsJrnl *p = (VfsJrnl*)pFile;
  int n = 0;
  /* Only a full rollback (pager_playback) looks for a super-journal's
  ** name first: the 4 bytes of its length, 16 bytes before the journal's
  ** end (readSuperJournal).  A ROLLBACK TO reads no such thing, but may
  ** read the first header's fields (a savepoint opened before the
  ** journal, SAVEPOINT beginning the transaction), which a full rollback
  ** reads too: they cannot tell the two apart. */
  if( iAmt==4 && iOfst==p->n-16 && p->pDb && p->pDb->eJrnl==JRNL_LIVE
   && !p->bCopying ){
    p->pDb->bPlayback = 1;
  }
  if( p->pSpill ) return p->pSpill->pMethods->xRead(p->pSpill, zBuf, iAmt, iOfst);
  if( iOfst<p->n ) n = (int)(p->n-iOfst < iAmt ? p->n-iOfst : iAmt);
  if( n>0 ) memcpy(zBuf, &p->a[iOfst], n);
  if( n<iAmt ){
    memset((u8*)zBuf + n, 0, iAmt - n);
    return SQLITE_IOERR_SHORT_READ;
  }
  return SQLITE_OK;
}

/* Delete the journal's copy on disk (jrnlToDisk). */
static int jrnlDiskDelete(VfsDb *p){
  sqlite3_vfs *pParent = p->pVfs->pParent;
  int rc = pParent->xDelete(pParent, p->zJournal, 1);
  if( rc==SQLITE_IOERR_DELETE_NOENT ) rc = SQLITE_OK;
  if( rc==SQLITE_OK ) p->bJrnlDisk = 0;
  return rc;
}

/*
** The journal of database p ended: the transaction commits, or, when
** SQLite played the journal back (ROLLBACK), rolls back: the file is as it
** was before the transaction, which the engine transaction's rollback
** gives at no cost (and with nothing written).  A transaction whose
** journal went to disk committed at its super-journal's sync: what SQLite
** wrote since is a ROLLBACK's pages written back, which commit, and the
** copy goes.
*/
static int jrnlFinish(VfsDb *p){
  if( p->bJrnlDisk ){
    int rc;
    p->bSynced = 1;             /* durable before the copy goes */
    rc = dbCommit(p);
    if( rc==SQLITE_OK ) rc = jrnlDiskDelete(p);
    return rc;
  }
  if( p->bPlayback ){
    dbRollback(p);
    return SQLITE_OK;
  }
  return dbCommit(p);
}
static int jrnlEnd(VfsJrnl *p){
  if( p->pDb==0 || p->pDb->eJrnl==JRNL_NONE ) return SQLITE_OK;
  return jrnlFinish(p->pDb);
}

/*
** Phase one of a transaction over several databases (SQLite's
** super-journal, zSuper, which it deletes once every database synced: the
** commit point of all): the journal goes to disk, synced, and the engine
** transaction commits, synced.  A crash before the super-journal's
** deletion leaves a hot journal that SQLite plays back (it writes the old
** pages through the VFS); after it, a journal whose super-journal is gone,
** which SQLite deletes.  The one case where pages are written twice.
*/
static int jrnlToDisk(VfsDb *p){
  VfsJrnl *pJ = p->pJrnl;
  sqlite3_vfs *pParent = p->pVfs->pParent;
  sqlite3_file *pF = (sqlite3_file*)sqlite3_malloc(pParent->szOsFile);
  u8 *aBuf = (u8*)sqlite3_malloc(VFS_MAX_CHUNK);
  int rc, flags = 0;
  sqlite3_int64 i;
  if( pF==0 || aBuf==0 ){
    sqlite3_free(pF);
    sqlite3_free(aBuf);
    return SQLITE_IOERR_NOMEM;
  }
  memset(pF, 0, pParent->szOsFile);
  rc = pParent->xOpen(pParent, p->zJournal, pF, SQLITE_OPEN_MAIN_JOURNAL
                      |SQLITE_OPEN_READWRITE|SQLITE_OPEN_CREATE, &flags);
  for(i=0; rc==SQLITE_OK && i<pJ->n; i+=VFS_MAX_CHUNK){
    int n = pJ->n-i < VFS_MAX_CHUNK ? (int)(pJ->n-i) : VFS_MAX_CHUNK;
    pJ->bCopying = 1;
    rc = pJ->base.pMethods->xRead(&pJ->base, aBuf, n, i);
    pJ->bCopying = 0;
    if( rc==SQLITE_OK ) rc = pF->pMethods->xWrite(pF, aBuf, n, i);
  }
  if( rc==SQLITE_OK ) rc = pF->pMethods->xSync(pF, SQLITE_SYNC_NORMAL);
  if( pF->pMethods ) (void)pF->pMethods->xClose(pF);
  sqlite3_free(pF);
  sqlite3_free(aBuf);
  if( rc==SQLITE_OK ){
    p->bSynced = 1;                       /* durable before the super goes */
    rc = dbCommit(p);
    p->eJrnl = JRNL_LIVE;                 /* its end deletes the copy */
    if( rc==SQLITE_OK ) p->bJrnlDisk = 1;
  }
  if( rc ){
    (void)pParent->xDelete(pParent, p->zJournal, 0);    /* rc says why */
  }
  return rc;
}

static int jrnlWrite(sqlite3_file *pFile, const void *zBuf, int iAmt,
                     sqlite3_int64 iOfst){
  VfsJrnl *p = (VfsJrnl*)pFile;
  const u8 *a = (const u8*)zBuf;
  sqlite3_int64 iEnd = iOfst + iAmt;
  if( iOfst==0 && iAmt>=VFS_JRNL_HDR ){
    if( isZero(a, VFS_JRNL_HDR) ){
      int rc = jrnlEnd(p);              /* PERSIST: the header zeroed */
      if( rc ) return rc;
    }else if( p->pDb && !isZero(&a[20], 8) ){
      p->pDb->eJrnl = JRNL_LIVE;        /* a transaction's first header */
      p->pDb->bPlayback = 0;
    }
  }
  if( p->pSpill==0 && iEnd>VFS_JRNL_SPILL ){
    int rc = jrnlSpill(p);
    if( rc ) return rc;
  }
  if( p->pSpill ){
    int rc = p->pSpill->pMethods->xWrite(p->pSpill, zBuf, iAmt, iOfst);
    if( rc==SQLITE_OK && iEnd>p->n ) p->n = iEnd;
    return rc;
  }
  if( iEnd>p->nAlloc ){
    sqlite3_int64 nNew = p->nAlloc ? p->nAlloc*2 : 65536;
    u8 *aNew;
    while( nNew<iEnd ) nNew *= 2;
    aNew = (u8*)sqlite3_realloc64(p->a, nNew);
    if( aNew==0 ) return SQLITE_IOERR_NOMEM;
    p->a = aNew;
    p->nAlloc = nNew;
  }
  if( iOfst>p->n ) memset(&p->a[p->n], 0, iOfst - p->n);
  memcpy(&p->a[iOfst], a, iAmt);
  if( iEnd>p->n ) p->n = iEnd;
  return SQLITE_OK;
}

static int jrnlTruncate(sqlite3_file *pFile, sqlite3_int64 size){
  VfsJrnl *p = (VfsJrnl*)pFile;
  if( p->pSpill ){
    int rc = p->pSpill->pMethods->xTruncate(p->pSpill, size);
    if( rc ) return rc;
  }
  if( size<p->n ) p->n = size;
  if( size==0 ) return jrnlEnd(p);        /* TRUNCATE */
  return SQLITE_OK;
}

static int jrnlSync(sqlite3_file *pFile, int flags){
  VfsJrnl *p = (VfsJrnl*)pFile;
  (void)flags;
  if( p->pDb ) p->pDb->bSynced = 1;
  return SQLITE_OK;
}

static int jrnlFileSize(sqlite3_file *pFile, sqlite3_int64 *pSize){
  *pSize = ((VfsJrnl*)pFile)->n;
  return SQLITE_OK;
}

static int jrnlLock(sqlite3_file *pFile, int eLock){
  (void)pFile; (void)eLock;
  return SQLITE_OK;
}

static int jrnlCheckReservedLock(sqlite3_file *pFile, int *pResOut){
  (void)pFile;
  *pResOut = 0;
  return SQLITE_OK;
}

static int jrnlFileControl(sqlite3_file *pFile, int op, void *pArg){
  (void)pFile; (void)op; (void)pArg;
  return SQLITE_NOTFOUND;
}

/* The journal's sector size: its database's (the journal is SQLite's to
** lay out by it). */
static int jrnlSectorSize(sqlite3_file *pFile){
  VfsJrnl *p = (VfsJrnl*)pFile;
  return p->pDb ? dbSectorSize(&p->pDb->base) : VFS_SECTOR;
}

static const sqlite3_io_methods jrnlMethods = {
  1,                              /* iVersion */
  jrnlClose,                      /* xClose */
  jrnlRead,                       /* xRead */
  jrnlWrite,                      /* xWrite */
  jrnlTruncate,                   /* xTruncate */
  jrnlSync,                       /* xSync */
  jrnlFileSize,                   /* xFileSize */
  jrnlLock,                       /* xLock */
  jrnlLock,                       /* xUnlock */
  jrnlCheckReservedLock,          /* xCheckReservedLock */
  jrnlFileControl,                /* xFileControl */
  jrnlSectorSize,                 /* xSectorSize */
  dbDeviceCharacteristics,        /* xDeviceCharacteristics */
  0, 0, 0, 0, 0, 0
};

/* ---------------------------------------------------------------------
** The -wal, in the store (tree VFS_TREE_WAL, entry "wal"): SQLite writes
** and reads it as a file, each frame a chunk; its changes join the engine
** write transaction of its database file, so that a vlog table's changes
** and the pages commit together.  The commit is SQLite's
** SQLITE_FCNTL_COMMIT_PHASETWO, after every write of the transaction
** (SQLite rewrites the checksums of earlier frames after writing the
** commit frame when a page was written twice) and after SQLite published
** it in the wal-index; the write lock's release rolls back frames SQLite
** never published (walWriterEnd).
*/
static int walTxnEnter(VfsDb *p){
  int rc = dbReady(p);
  if( rc==SQLITE_OK ) rc = txnEnter(p, 1);
  if( rc==SQLITE_OK ){
    p->bCallTxn = 0;                      /* the -wal's part ends it */
    rc = stateLoad(p, &p->wal);
  }
  if( rc==SQLITE_OK && !p->wal.bEntry ) rc = stateCreate(p, &p->wal);
  return rc;
}

/* SQLite writes the -wal's header (a new WAL, or one restarted): the frame
** size follows its page size.  Frames of another page size are gone. */
static int walHeader(VfsDb *p, const u8 *a){
  unsigned int szPage = get32(&a[8]);
  int rc = SQLITE_OK;
  if( !isPageSize((int)szPage) ){
    sqlite3_log(SQLITE_IOERR_WRITE, "vlog: %s: a WAL header with page size %u",
                p->zPath, szPage);
    return SQLITE_IOERR_WRITE;
  }
  if( p->wal.szChunk!=(int)szPage + VFS_WAL_FRAME_HDR ){
    if( p->wal.nSize>0 ) rc = fileTruncate(p, &p->wal, 0);
    p->wal.szChunk = (int)szPage + VFS_WAL_FRAME_HDR;
    p->wal.bDirty = 1;
  }
  return rc;
}

/*
** A write of bytes [iOfst, iOfst+iAmt) of the -wal: the frames whose
** headers it wrote (in part: SQLite splits a write at a sector it syncs
** to) are read back, and a commit frame (its header gives the database
** size) becomes the WAL's last commit: its number, with the salts of the
** WAL's header (a frame's own are zero until SQLite fills in its
** checksums, which SQLite 3.40 sometimes never does: below).  The
** commit's lock is taken now, where SQLite can be told it is busy: the
** commit comes after SQLite publishes it (walWriterEnd).
*/
static int walCommitFrames(VfsDb *p, sqlite3_int64 iOfst, int iAmt){
  int sz = p->wal.szChunk, rc;
  sqlite3_int64 iFirst = iOfst<VFS_WAL_HDR ? 0 : (iOfst-VFS_WAL_HDR)/sz;
  sqlite3_int64 j, iLast = (iOfst+iAmt-1-VFS_WAL_HDR)/sz;
  u8 aHdr[VFS_WAL_HDR];
  rc = chunkRead(p, &p->wal, 0, VFS_WAL_HDR, aHdr);
  for(j=iFirst; rc==SQLITE_OK && j<=iLast; j++){
    sqlite3_int64 iHdr = VFS_WAL_HDR + j*sz;     /* frame j+1's header */
    u8 *c = p->wal.aCommit;
    unsigned int iFrame = (unsigned int)(j+1);
    if( iHdr>=iOfst+iAmt || iHdr+VFS_WAL_FRAME_HDR<=iOfst ) continue;
    rc = chunkRead(p, &p->wal, iFrame, sz, p->aChunk);
    if( rc || get32(&p->aChunk[4])==0 ) continue;
    /* SQLite 3.40 leaves a commit's frames without salts and checksums
    ** when ROLLBACK TO undid frames after a page was written twice (its
    ** iReCksum outlives the undo): SQLite itself reads them (its
    ** wal-index), but its recovery, after a crash, drops them, on unix
    ** too.  Noted at the commit (walNoChecksums). */
    p->bWalNoCksum = memcmp(&p->aChunk[8], &aHdr[16], 8)!=0;
    if( memcmp(c, &aHdr[16], 8)==0 && get32(&c[8])>=iFrame ) continue;
    memcpy(c, &aHdr[16], 8);
    put32(&c[8], iFrame);
    p->wal.bDirty = 1;
    if( !p->bWalCommit ){
      p->bWalCommit = 1;
      rc = vlogCommitLock(p->pStore);
      if( rc ) rc = rc==VLOG_BUSY ? SQLITE_BUSY : dbError(p, rc);
    }
  }
  return rc;
}

static int walWrite(sqlite3_file *pFile, const void *zBuf, int iAmt,
                    sqlite3_int64 iOfst){
  VfsDb *p = ((VfsWal*)pFile)->pDb;
  const u8 *a = (const u8*)zBuf;
  int rc;
  if( p==0 ) return SQLITE_IOERR_WRITE;
  rc = walTxnEnter(p);
  if( rc ) return rc;
  p->bWalPart = 1;
  if( iOfst==0 && iAmt>=VFS_WAL_HDR ){
    rc = walHeader(p, a);
  }else if( p->wal.szChunk==0 ){
    sqlite3_log(SQLITE_IOERR_WRITE, "vlog: %s: a WAL frame before the WAL's "
                "header", p->zPath);
    rc = SQLITE_IOERR_WRITE;
  }
  if( rc==SQLITE_OK ) rc = fileWrite(p, &p->wal, a, iAmt, iOfst);
  if( rc==SQLITE_OK && iOfst+iAmt>VFS_WAL_HDR ) rc = walCommitFrames(p, iOfst, iAmt);
  return rc;
}

static int walRead(sqlite3_file *pFile, void *zBuf, int iAmt, sqlite3_int64 iOfst){
  VfsDb *p = ((VfsWal*)pFile)->pDb;
  int rc, bShort = 0;
  if( p==0 ) return SQLITE_IOERR_READ;
  rc = dbReady(p);
  if( rc==SQLITE_OK ) rc = txnEnter(p, 0);
  if( rc==SQLITE_OK ) rc = stateLoad(p, &p->wal);
  if( rc==SQLITE_OK ) rc = fileRead(p, &p->wal, (u8*)zBuf, iAmt, iOfst, &bShort);
  txnLeave(p);
  return (rc==SQLITE_OK && bShort) ? SQLITE_IOERR_SHORT_READ : rc;
}

/* The -wal truncated (a checkpoint's TRUNCATE, journal_size_limit) or
** deleted (bDelete: no entry left).  In SQLite's write transaction it is
** part of it; otherwise it commits at once. */
static int walTruncateTo(VfsDb *p, sqlite3_int64 size, int bDelete){
  int bAuto, rc = dbReady(p);
  if( rc ) return rc;
  bAuto = vlogTxnState(p->pStore)!=2;
  rc = walTxnEnter(p);
  if( rc==SQLITE_OK && size<p->wal.nSize ) rc = fileTruncate(p, &p->wal, size);
  if( rc==SQLITE_OK && size>p->wal.nSize ){
    p->wal.nSize = size;                  /* grown: zeros */
    p->wal.bDirty = 1;
  }
  if( rc==SQLITE_OK && bDelete ){
    rc = vlogDelete(p->pStore, VFS_TREE_CATALOG, "wal", 3);
    if( rc==VLOG_NOTFOUND ) rc = VLOG_OK;
    if( rc ) rc = dbError(p, rc);
    p->wal.bEntry = 0;
    p->wal.bDirty = 0;
    memset(p->wal.aCommit, 0, sizeof(p->wal.aCommit));
  }
  p->bWalTrunc = 1;
  if( bAuto ){
    if( rc==SQLITE_OK ){
      rc = dbCommit(p);
    }else if( vlogTxnState(p->pStore)==2 ){
      dbRollback(p);                      /* rc says what failed */
    }
  }
  return rc;
}

static int walTruncate(sqlite3_file *pFile, sqlite3_int64 size){
  VfsDb *p = ((VfsWal*)pFile)->pDb;
  if( p==0 ) return SQLITE_IOERR_TRUNCATE;
  return walTruncateTo(p, size, 0);
}

/* SQLite syncs the -wal: its transaction's commit is to be synced, or the
** commits made already are made durable (before a checkpoint). */
static int walSync(sqlite3_file *pFile, int flags){
  VfsDb *p = ((VfsWal*)pFile)->pDb;
  (void)flags;
  if( p==0 || p->pStore==0 ) return SQLITE_OK;
  if( vlogTxnState(p->pStore)==2 && (p->bWalPart || p->bWalTrunc) ){
    p->bSynced = 1;
    return SQLITE_OK;
  }
  return dbError(p, vlogStoreSync(p->pStore));
}

static int walFileSize(sqlite3_file *pFile, sqlite3_int64 *pSize){
  VfsDb *p = ((VfsWal*)pFile)->pDb;
  int rc;
  *pSize = 0;
  if( p==0 ) return SQLITE_IOERR_FSTAT;
  rc = dbReady(p);
  if( rc==SQLITE_OK ) rc = txnEnter(p, 0);
  if( rc==SQLITE_OK ) rc = stateLoad(p, &p->wal);
  if( rc==SQLITE_OK ) *pSize = p->wal.nSize;
  txnLeave(p);
  return rc;
}

static int walClose(sqlite3_file *pFile){
  VfsWal *pW = (VfsWal*)pFile;
  if( pW->pDb && pW->pDb->pWal==pW ) pW->pDb->pWal = 0;
  pW->pDb = 0;
  return SQLITE_OK;
}

static int walFileControl(sqlite3_file *pFile, int op, void *pArg){
  (void)pFile; (void)pArg;
  if( op==SQLITE_FCNTL_SIZE_HINT || op==SQLITE_FCNTL_CHUNK_SIZE ) return SQLITE_OK;
  return SQLITE_NOTFOUND;
}

static int walDeviceCharacteristics(sqlite3_file *pFile){
  VfsDb *p = ((VfsWal*)pFile)->pDb;
  return p ? dbDeviceCharacteristics(&p->base) : 0;
}

static int walSectorSize(sqlite3_file *pFile){
  VfsDb *p = ((VfsWal*)pFile)->pDb;
  return p ? dbSectorSize(&p->base) : VFS_SECTOR;
}

static const sqlite3_io_methods walMethods = {
  1,                              /* iVersion */
  walClose,                       /* xClose */
  walRead,                        /* xRead */
  walWrite,                       /* xWrite */
  walTruncate,                    /* xTruncate */
  walSync,                        /* xSync */
  walFileSize,                    /* xFileSize */
  jrnlLock,                       /* xLock */
  jrnlLock,                       /* xUnlock */
  jrnlCheckReservedLock,          /* xCheckReservedLock */
  walFileControl,                 /* xFileControl */
  walSectorSize,                  /* xSectorSize */
  walDeviceCharacteristics,       /* xDeviceCharacteristics */
  0, 0, 0, 0, 0, 0
};

/*
** SQLite's WAL write lock taken: its write transaction begins, and the
** engine's with it (the writer lock, without waiting: SQLITE_BUSY lets
** SQLite's busy handler wait).  From the read transaction pinned for
** SQLite's (walReadBegin) when there is one: if another commit came
** since, that is SQLITE_BUSY, as SQLite's own snapshot would be.
*/
static int walWriterBegin(VfsDb *p){
  int rc, bPinned;
  if( vlogTxnState(p->pStore)==2 ) return SQLITE_OK;  /* a vlog table's,
                                  ** or a checkpoint's: joined */
  if( vlogStoreIsReadOnly(p->pStore) ){
    return SQLITE_OK;             /* a read-only connection's recovery of
                                  ** the wal-index: it writes only that */
  }
  bPinned = p->bWalRead && vlogTxnState(p->pStore)==1;
  rc = walBeginWrite(p);
  if( rc==SQLITE_BUSY && bPinned ){
    /* with nobody holding the writer lock, the snapshot is too old to
    ** write from (another commit came since): SQLite's own word for it */
    int bReserved = 1;
    if( vlogStoreCheckReserved(p->pStore, &bReserved)==VLOG_OK && !bReserved ){
      rc = SQLITE_BUSY_SNAPSHOT;
    }
  }
  if( rc==SQLITE_OK ) p->bWalTxn = 1;
  return rc;
}

/* Begin the engine write transaction without waiting for the writer lock
** (SQLITE_BUSY: SQLite's busy handler, or its checkpoint, gives up). */
static int walBeginWrite(VfsDb *p){
  int rc, bPinned = p->bWalRead && vlogTxnState(p->pStore)==1;
  (void)vlogStoreSetBusyTimeout(p->pStore, 0);
  rc = vlogBegin(p->pStore, 1);
  (void)vlogStoreSetBusyTimeout(p->pStore, p->bWalLock ? VFS_WAL_BUSY_MS : 0);
  if( rc ) return rc==VLOG_BUSY ? SQLITE_BUSY : dbError(p, rc);
  if( !bPinned ) stateForget(p);
  p->bCallTxn = 0;
  return SQLITE_OK;
}

/* SQLite's wal-index header (its region 0, offset 0), when mapped and
** initialized: the last frame of the last commit, and the WAL's salts. */
static int walIndexHdr(VfsDb *p, unsigned int *pmxFrame, u8 *aSalt){
  volatile u8 *h = (p->nShm>0 && p->apShm[0]) ? (volatile u8*)p->apShm[0] : 0;
  if( h==0 || h[12]==0 ) return 0;        /* isInit */
  memcpy(pmxFrame, (const void*)&h[16], 4);
  memcpy(aSalt, (const void*)&h[32], 8);
  return 1;
}

/* Zero SQLite's wal-index header (both copies), so that the next read
** transaction rebuilds the wal-index from the -wal as the store has it
** (SQLite's recovery).  0 if it is not mapped. */
static int walIndexZero(VfsDb *p){
  if( p->nShm<1 || p->apShm[0]==0 ) return 0;
  memset((void*)p->apShm[0], 0, VFS_WAL_INDEX_HDR);
  return 1;
}

/* Does the header name the -wal's last commit as this transaction has it? */
static int walHeaderIsOurs(VfsDb *p){
  unsigned int mxFrame;
  u8 aSalt[8];
  return walIndexHdr(p, &mxFrame, aSalt) && mxFrame==get32(&p->wal.aCommit[8])
      && memcmp(aSalt, p->wal.aCommit, 8)==0;
}

/*
** SQLite's WAL write lock let go: its write transaction ended.  Frames
** with a commit frame among them that SQLite published in the wal-index
** commit at SQLITE_FCNTL_COMMIT_PHASETWO, which comes next and whose
** error SQLite reports (with whatever else the engine transaction holds:
** a vlog table's changes, one commit); until then readers wait for it
** (walReadBegin).  Frames not published (SQLite rolled back, or its
** commit failed) are rolled back.  A truncation of the -wal alone (a
** checkpoint's) commits now.  A transaction with nothing of the -wal's is
** a vlog table's, which SQLITE_FCNTL_COMMIT_PHASETWO or its xRollback
** ends, unless it is empty.
*/
static int walWriterEnd(VfsDb *p){
  int rc = SQLITE_OK;
  if( vlogTxnState(p->pStore)!=2 ){
    p->bWalTxn = 0;
  }else if( p->bWalCommit && walHeaderIsOurs(p) ){
    p->bWalTxn = 0;                       /* SQLITE_FCNTL_COMMIT_PHASETWO */
    if( p->bWalNoCksum ){
      sqlite3_log(SQLITE_WARNING, "vlog: %s: SQLite wrote this commit's WAL "
                  "frames without checksums (SQLite 3.40, ROLLBACK TO after a "
                  "cache spill): a crash before the next checkpoint loses it, "
                  "as on the unix VFS", p->zPath);
    }
  }else if( p->bWalPart ){
    dbRollback(p);
  }else if( p->bWalTrunc || (p->bWalTxn && vlogTxnIsEmpty(p->pStore)) ){
    rc = dbCommit(p);
    if( rc ) sqlite3_log(rc, "vlog: %s: truncating the WAL failed", p->zPath);
  }else{
    p->bWalTxn = 0;
  }
  return rc;
}

/*
** SQLite's wal-index header (region 0, offset 0): is the engine's last
** commit of the -wal (the snapshot just begun) the one the header says?
** 0 when it is (or the header is not initialized: SQLite recovers), 1 when
** the header says more (a writer published its commit and has not yet
** committed it in the store: walWriterEnd comes after).
*/
static int walHeaderAhead(VfsDb *p){
  unsigned int mxFrame;
  u8 aSalt[8];
  if( !walIndexHdr(p, &mxFrame, aSalt) || mxFrame==0 ) return 0;
  if( memcmp(aSalt, p->wal.aCommit, 8)!=0 ) return 1;  /* restarted since */
  return mxFrame>get32(&p->wal.aCommit[8]);
}

/*
** SQLite's barrier right after it read nBackfill for the read transaction
** walReadBegin() pinned (walTryBeginRead): SQLite reads the pages of
** frames up to nBackfill from the database file, which a checkpoint
** commits before it sets nBackfill.  If nBackfill moved since the pin, the
** snapshot may be older than that checkpoint's commit: pinned again, newer.
** (That stays consistent with SQLite's snapshot: a WAL commit in the
** newer one was published before it, and SQLite, which compares the
** header after this barrier, begins again if it came after its read.)
*/
static void walPinCheck(VfsDb *p){
  volatile unsigned int *pInfo = ckptInfo(p);
  p->bPinCheck = 0;
  if( pInfo==0 || pInfo[0]==p->nPinBackfill || !p->bWalRead ) return;
  if( vlogTxnState(p->pStore)!=1 || vlogTxnCount(p->pStore)!=p->iWalRead ) return;
  (void)vlogCommit(p->pStore);            /* a read transaction's end */
  if( vlogBegin(p->pStore, 0)==VLOG_OK ){
    p->iWalRead = vlogTxnCount(p->pStore);
  }else{
    p->bWalRead = 0;                      /* reads begin their own */
  }
  stateForget(p);
}

/* End the read transaction walReadBegin() pinned, if still open. */
static void walReadEnd(VfsDb *p){
  if( p->bWalRead && vlogTxnState(p->pStore)==1
   && vlogTxnCount(p->pStore)==p->iWalRead ){
    (void)vlogCommit(p->pStore);          /* a read transaction's end */
  }
  p->bWalRead = 0;
  p->bPinCheck = 0;
}

/*
** The header ahead of the store with no writer left to commit: a writer's
** commit failed after SQLite published it, or its process died in
** between (it holds the engine's writer lock, RESERVED, until it commits
** or rolls back).  Under SQLite's WAL write lock (no writer can begin)
** with RESERVED free, the header is zeroed, so that the next reader
** rebuilds the wal-index from the -wal as the store has it (SQLite's
** recovery).
*/
static void walHeaderReset(VfsDb *p){
  sqlite3_file *pReal = dbParent(p);
  int bReserved = 1;
  if( pReal->pMethods->xShmLock(pReal, 0, 1, SQLITE_SHM_LOCK|SQLITE_SHM_EXCLUSIVE) ){
    return;                               /* a writer is there */
  }
  if( vlogStoreCheckReserved(p->pStore, &bReserved)==VLOG_OK && !bReserved
   && vlogBegin(p->pStore, 0)==VLOG_OK ){
    stateForget(p);
    if( stateLoad(p, &p->wal)==SQLITE_OK && walHeaderAhead(p) ){
      sqlite3_log(SQLITE_NOTICE, "vlog: %s: the wal-index names a commit the "
                  "store does not have (its writer failed or died): rebuilt "
                  "from the WAL", p->zPath);
      (void)walIndexZero(p);
    }
    (void)vlogCommit(p->pStore);          /* a read transaction's end */
  }
  (void)pReal->pMethods->xShmLock(pReal, 0, 1, SQLITE_SHM_UNLOCK|SQLITE_SHM_EXCLUSIVE);
}

/*
** SQLite's read transaction begins (a read lock taken, shared): one engine
** snapshot for all of it, pinned in the reader table, so that a vlog
** table's reads see what SQLite's pages show.  It must hold the commit
** the wal-index header names: if not yet (a writer between publishing and
** committing), SQLITE_BUSY, and SQLite tries again.
*/
static int walReadBegin(VfsDb *p){
  volatile unsigned int *pInfo = ckptInfo(p);
  int rc;
  if( vlogTxnState(p->pStore)!=0 ) return SQLITE_OK;
  p->bPinCheck = pInfo!=0;
  if( pInfo ) p->nPinBackfill = pInfo[0];
  rc = vlogBegin(p->pStore, 0);
  if( rc ) return rc==VLOG_BUSY ? SQLITE_BUSY : dbError(p, rc);
  p->bWalRead = 1;
  p->iWalRead = vlogTxnCount(p->pStore);
  p->bCallTxn = 0;
  stateForget(p);
  rc = stateLoad(p, &p->wal);
  if( rc==SQLITE_OK && walHeaderAhead(p) ){
    walReadEnd(p);
    walHeaderReset(p);
    rc = SQLITE_BUSY;
  }
  if( rc ) walReadEnd(p);
  return rc;
}

/* ---------------------------------------------------------------------
** The VFS's methods.
*/
/* The VlogVfs of a method's pVfs: through pAppData, since a shim may call
** the methods with its own copy of the struct (SQLite's quota shim copies
** the VFS it wraps and replaces a few methods) */
#define VLOGVFS(pVfs) ((VlogVfs*)(pVfs)->pAppData)
#define PARENT(pVfs)  (VLOGVFS(pVfs)->pParent)


static VfsDb *findByJournal(sqlite3_vfs *pVfs, const char *zName, int eJrnl){
  VfsDb *p;
  for(p=pAllDb; p; p=p->pNext){
    if( p->pVfs==VLOGVFS(pVfs) && strcmp(p->zJournal, zName)==0
     && (eJrnl<0 || p->eJrnl==eJrnl) ){
      return p;
    }
  }
  return 0;
}

/*
** The database whose journal SQLite opens as zName: by name, not with
** sqlite3_database_file_object(), which is defined only for the name
** SQLite itself passed (a shim such as multiplex passes a copy).  Of the
** connections of this process on that database, the one writing (RESERVED
** or above: one at a most), or the only one (nolock=1 takes no lock).
*/
static VfsDb *findJournalOwner(sqlite3_vfs *pVfs, const char *zName){
  VfsDb *p, *pOnly = 0;
  int n = 0;
  vfsEnter();
  for(p=pAllDb; p; p=p->pNext){
    if( p->pVfs==VLOGVFS(pVfs) && strcmp(p->zJournal, zName)==0 ){
      if( p->eLock>=SQLITE_LOCK_RESERVED ) break;
      pOnly = p;
      n++;
    }
  }
  vfsLeave();
  return p ? p : n==1 ? pOnly : 0;
}

/* Is zWal the name of p's -wal? */
static int isWalOf(VfsDb *p, const char *zWal){
  size_t n = strlen(p->zPath);
  return strncmp(p->zPath, zWal, n)==0 && strcmp(&zWal[n], "-wal")==0;
}

/*
** The connection (its database file) whose -wal zWal is: 1 and *ppDb, or 0
** when no database of this VFS of that name is open (a plain database,
** the parent's whole), or -1 when several are and none is the one this
** thread used last (vfsLast).
*/
static int walOwner(VlogVfs *pV, const char *zWal, VfsDb **ppDb){
  VfsDb *p, *pOnly = 0;
  int n = 0;
  *ppDb = 0;
  vfsEnter();
  for(p=pAllDb; p; p=p->pNext){
    if( p->pVfs==pV && isWalOf(p, zWal) ){
      if( p==vfsLast ) break;
      pOnly = p;
      n++;
    }
  }
  vfsLeave();
  if( p==0 && n>1 ) return -1;
  *ppDb = p ? p : pOnly;
  return *ppDb!=0;
}

static int dbOpen(VlogVfs *pV, const char *zName, VfsDb *p, int flags, int *pOutFlags){
  int rc;
  memset(p, 0, sizeof(*p));
  p->pVfs = pV;
  p->wal.bWal = 1;
  p->zPath = sqlite3_mprintf("%s", zName);
  p->zJournal = sqlite3_mprintf("%s-journal", zName);
  p->aChunk = (u8*)sqlite3_malloc(VFS_MAX_CHUNK + VFS_WAL_FRAME_HDR);
  if( p->zPath==0 || p->zJournal==0 || p->aChunk==0 ){
    rc = SQLITE_NOMEM;
    goto open_failed;
  }
  vlogConfigDefault(&p->cfg);
  p->cfg.bCreate = (flags & SQLITE_OPEN_CREATE)!=0;
  p->cfg.bReadOnly = (flags & SQLITE_OPEN_READONLY)!=0;
  p->cfg.bImmutable = sqlite3_uri_boolean(zName, "immutable", 0);
  /* read-only connections share the -shm (WAL mode), as on unix; with
  ** readonly_shm=1 the connection is read-only and never writes the -shm,
  ** and so does not map it (the reader table's slots are writes): it reads
  ** with file locks, and SQLite keeps its wal-index in its heap (dbShmMap) */
  p->cfg.bShmReadOnly = 1;
  if( sqlite3_uri_boolean(zName, "readonly_shm", 0) ){
    p->cfg.bReadOnly = 1;
    p->cfg.bShmReadOnly = 0;
  }
  p->bNoLock = sqlite3_uri_boolean(zName, "nolock", 0);
  p->cfg.nBusyTimeout = 0;            /* SQLite's busy handler waits */
  p->nDirtyMax = sqlite3_uri_int64(zName, "dirty_max", VFS_DIRTY_MAX);
  if( p->nDirtyMax<0 ) p->nDirtyMax = VFS_DIRTY_MAX;
  p->nDirtyMemMax = sqlite3_uri_int64(zName, "dirty_mem", VFS_DIRTY_MEM);
  if( p->nDirtyMemMax<0 ) p->nDirtyMemMax = VFS_DIRTY_MEM;
  if( sqlite3_uri_parameter(zName, "base") ){
    p->zBaseArg = sqlite3_mprintf("%s", sqlite3_uri_parameter(zName, "base"));
    if( p->zBaseArg==0 ){
      rc = SQLITE_NOMEM;
      goto open_failed;
    }
  }
  if( sqlite3_uri_parameter(zName, "base_snapshot") ){
    /* a branch: base= is a vlog store, and this its snapshot */
    const char *zS = sqlite3_uri_parameter(zName, "base_snapshot");
    p->zBaseSnapArg = sqlite3_mprintf("%s", zS);
    if( p->zBaseSnapArg==0 ){
      rc = SQLITE_NOMEM;
      goto open_failed;
    }
    if( p->zBaseArg==0 || zS[0]==0 || strlen(zS)>VFS_SNAP_NAME_MAX ){
      rc = overlayError(p, SQLITE_CANTOPEN, "base_snapshot= names a snapshot "
          "(1 to %d bytes) of the store that base= names", VFS_SNAP_NAME_MAX);
      goto open_failed;
    }
  }
  p->eMatReadArg = sqlite3_uri_parameter(zName, "materialize_on_read") ?
      sqlite3_uri_boolean(zName, "materialize_on_read", 0) : -1;
  if( sqlite3_uri_parameter(zName, "snapshot") ){
    /* a snapshot, read-only; its store is not created */
    p->zSnap = sqlite3_mprintf("%s", sqlite3_uri_parameter(zName, "snapshot"));
    if( p->zSnap==0 ){
      rc = SQLITE_NOMEM;
      goto open_failed;
    }
    if( p->zBaseArg ){
      rc = overlayError(p, SQLITE_CANTOPEN, "snapshot= opens a snapshot "
          "read-only: base= with it makes no sense (a branch is base=STORE"
          "&base_snapshot=NAME)");
      goto open_failed;
    }
    p->cfg.bReadOnly = 1;
    p->cfg.bCreate = 0;
    flags = (flags & ~(SQLITE_OPEN_READWRITE|SQLITE_OPEN_CREATE)) | SQLITE_OPEN_READONLY;
  }
  rc = overlayPrecheck(p);
  if( rc ) goto open_failed;
  rc = storeOpen(p);
  if( rc==SQLITE_BUSY ){
    rc = SQLITE_OK;                   /* opened at the first use (storeOpen) */
  }else if( rc==SQLITE_NOTADB && p->zSnap ){
    rc = overlayError(p, SQLITE_CANTOPEN, "it is not a vlog store, and so has "
                      "no snapshot '%s'", p->zSnap);
    goto open_failed;
  }else if( rc==SQLITE_NOTADB && p->zBaseArg ){
    /* a plain database (else the parent's): not with base= */
    rc = overlayError(p, SQLITE_CANTOPEN, "it is a plain SQLite database: "
                      "base= makes a new overlay, in a new file");
    goto open_failed;
  }else if( rc ){
    goto open_failed;
  }
  if( p->pStore && vlogStoreIsReadOnly(p->pStore) ){
    /* SQLite learns it (sqlite3_db_readonly()) as from the unix VFS */
    flags = (flags & ~(SQLITE_OPEN_READWRITE|SQLITE_OPEN_CREATE)) | SQLITE_OPEN_READONLY;
  }
  if( pOutFlags ) *pOutFlags = flags;
  p->base.pMethods = &dbMethods;
  vfsEnter();
  p->pNext = pAllDb;
  pAllDb = p;
  vfsLeave();
  return SQLITE_OK;

open_failed:
  sqlite3_free(p->zBaseArg);
  sqlite3_free(p->zBaseSnapArg);
  sqlite3_free(p->zSnap);
  sqlite3_free(p->aChunk);
  sqlite3_free(p->zJournal);
  sqlite3_free(p->zPath);
  memset(p, 0, sizeof(*p));
  return rc;
}

/*
** SQLite opens the -wal of a database of this VFS: its connections are in
** WAL mode.  The lock of each that holds SHARED moves to the WAL lock at
** its next read (dbRead), for a shim that keeps its own shared memory
** hides the mode otherwise, and the connection that turned WAL mode on
** reads no header again.  Only a flag is set here: the files may be in use
** by other threads.
*/
static void walOpened(VlogVfs *pV, const char *zWal){
  VfsDb *p;
  vfsEnter();
  for(p=pAllDb; p; p=p->pNext){
    if( p->pVfs==pV && isWalOf(p, zWal) ){
      __atomic_store_n(&p->bWalHdr, 1, __ATOMIC_RELAXED);
    }
  }
  vfsLeave();
}

/*
** A -wal file on disk beside a store whose -wal is not in it: one that
** vlog before the -wal moved into the store wrote (it may hold commits
** not yet checkpointed).  Refused, with what to do, rather than passed
** over.
*/
static int walLegacy(VfsDb *p, const char *zWal){
  sqlite3_vfs *pParent = p->pVfs->pParent;
  int bDisk = 0, bStore = 0;
  if( pParent->xAccess(pParent, zWal, SQLITE_ACCESS_EXISTS, &bDisk) || !bDisk ){
    return 0;
  }
  if( dbReady(p)==SQLITE_OK && txnEnter(p, 0)==SQLITE_OK ){
    if( stateLoad(p, &p->wal)==SQLITE_OK ) bStore = p->wal.bEntry;
  }
  txnLeave(p);
  if( bStore ) return 0;
  sqlite3_log(SQLITE_CANTOPEN, "vlog: %s: a WAL file written by an earlier "
              "vlog, which kept it beside the store; open the database with "
              "that version and run PRAGMA wal_checkpoint(TRUNCATE), or "
              "delete the file if its commits are not wanted", zWal);
  return 1;
}

static int vfsOpen(sqlite3_vfs *pVfs, const char *zName, sqlite3_file *pFile,
                   int flags, int *pOutFlags){
  VlogVfs *pV = VLOGVFS(pVfs);
  sqlite3_vfs *pParent = pV->pParent;
  if( zName && (flags & SQLITE_OPEN_MAIN_DB) ){
    /* a file that is not a store (a plain database) is the parent's */
    int rc = dbOpen(pV, zName, (VfsDb*)pFile, flags, pOutFlags);
    if( rc!=SQLITE_NOTADB && rc!=VLOG_CANTOPEN_ISDIR && rc!=VLOG_CANTOPEN_NOTREG ){
      return rc;
    }
  }
  if( zName && (flags & SQLITE_OPEN_MAIN_JOURNAL) ){
    VfsDb *pDb = findJournalOwner(pVfs, zName);
    int bDisk = 0;
    if( pDb && !(flags & SQLITE_OPEN_CREATE)
     && pParent->xAccess(pParent, zName, SQLITE_ACCESS_EXISTS, &bDisk)==SQLITE_OK
     && bDisk ){
      /* a hot journal on disk (jrnlToDisk), opened to be played back */
      return pParent->xOpen(pParent, zName, pFile, flags, pOutFlags);
    }
    if( pDb ){
      VfsJrnl *p = (VfsJrnl*)pFile;
      memset(p, 0, sizeof(*p));
      p->base.pMethods = &jrnlMethods;
      p->pVfs = pV;
      if( pDb->pJrnl==0 ){
        p->pDb = pDb;
        pDb->pJrnl = p;
      }
      if( pOutFlags ) *pOutFlags = flags;
      return SQLITE_OK;
    }
  }
  if( zName && (flags & SQLITE_OPEN_WAL) ){
    VfsDb *pDb;
    int eOwner = walOwner(pV, zName, &pDb);
    walOpened(pV, zName);
    if( eOwner<0 ){
      sqlite3_log(SQLITE_CANTOPEN, "vlog: %s: which connection's WAL this is "
                  "cannot be told", zName);
      return SQLITE_CANTOPEN;
    }
    if( pDb && walLegacy(pDb, zName) ) return SQLITE_CANTOPEN;
    if( pDb ){
      /* the -wal is in the store */
      VfsWal *p = (VfsWal*)pFile;
      memset(p, 0, sizeof(*p));
      p->base.pMethods = &walMethods;
      p->pDb = pDb;
      if( pDb->pWal==0 ) pDb->pWal = p;
      if( pOutFlags ) *pOutFlags = flags;
      return SQLITE_OK;
    }
  }
  return pParent->xOpen(pParent, zName, pFile, flags, pOutFlags);
}

/* The open database of this VFS whose journal is zName, or 0. */
static int vfsDelete(sqlite3_vfs *pVfs, const char *zName, int syncDir){
  VfsDb *p;
  int bOurs;
  if( walOwner(VLOGVFS(pVfs), zName, &p)>0 ){
    /* the -wal in the store (SQLite deletes it when the last connection
    ** leaves WAL mode, or closes, holding EXCLUSIVE) */
    int rc = walTruncateTo(p, 0, 1);
    if( rc==SQLITE_OK && syncDir ) rc = dbError(p, vlogStoreSync(p->pStore));
    return rc;
  }
  vfsEnter();
  p = findByJournal(pVfs, zName, JRNL_CLOSED);
  bOurs = p!=0 || findByJournal(pVfs, zName, -1)!=0;
  vfsLeave();
  /* One connection at a time holds RESERVED, so one database at most has a
  ** closed live journal of this name: this deletion is its commit. */
  if( p ) return jrnlFinish(p);
  if( bOurs ){
    /* a journal on disk (jrnlToDisk), hot after a crash: SQLite deletes it
    ** once played back, or when its super-journal is gone */
    int rc = PARENT(pVfs)->xDelete(PARENT(pVfs), zName, syncDir);
    return rc==SQLITE_IOERR_DELETE_NOENT ? SQLITE_OK : rc;
  }
  return PARENT(pVfs)->xDelete(PARENT(pVfs), zName, syncDir);
}

static int vfsAccess(sqlite3_vfs *pVfs, const char *zName, int flags, int *pResOut){
  int bOurs;
  VfsDb *p;
  if( walOwner(VLOGVFS(pVfs), zName, &p)>0 ){
    /* the -wal in the store: it exists while it has an entry */
    int rc = dbReady(p);
    *pResOut = 0;
    if( rc==SQLITE_OK ) rc = txnEnter(p, 0);
    if( rc==SQLITE_OK ) rc = stateLoad(p, &p->wal);
    if( rc==SQLITE_OK ) *pResOut = p->wal.bEntry;
    txnLeave(p);
    if( rc==SQLITE_OK && *pResOut && p->eLock==SQLITE_LOCK_SHARED && !p->bWalLock ){
      /* the database is in WAL mode: SQLite's lock moves to the WAL lock
      ** now (a connection that cannot open the WAL, in locking_mode=
      ** EXCLUSIVE, keeps SHARED, which must not hold off WAL commits) */
      __atomic_store_n(&p->bWalHdr, 1, __ATOMIC_RELAXED);
      rc = walLockEnter(p);
    }
    return rc;
  }
  vfsEnter();
  bOurs = findByJournal(pVfs, zName, -1)!=0;
  vfsLeave();
  if( bOurs && flags==SQLITE_ACCESS_EXISTS ){
    /* A journal in memory is never found (never hot); one on disk is the
    ** copy of a transaction with a super-journal (jrnlToDisk), hot when a
    ** crash left it */
    return PARENT(pVfs)->xAccess(PARENT(pVfs), zName, flags, pResOut);
  }
  if( bOurs ){
    *pResOut = 0;
    return SQLITE_OK;
  }
  return PARENT(pVfs)->xAccess(PARENT(pVfs), zName, flags, pResOut);
}

static int vfsFullPathname(sqlite3_vfs *pVfs, const char *zName, int nOut, char *zOut){
  return PARENT(pVfs)->xFullPathname(PARENT(pVfs), zName, nOut, zOut);
}
static void *vfsDlOpen(sqlite3_vfs *pVfs, const char *zPath){
  return PARENT(pVfs)->xDlOpen(PARENT(pVfs), zPath);
}
static void vfsDlError(sqlite3_vfs *pVfs, int nByte, char *zErrMsg){
  PARENT(pVfs)->xDlError(PARENT(pVfs), nByte, zErrMsg);
}
static void (*vfsDlSym(sqlite3_vfs *pVfs, void *p, const char *zSym))(void){
  return PARENT(pVfs)->xDlSym(PARENT(pVfs), p, zSym);
}
static void vfsDlClose(sqlite3_vfs *pVfs, void *pHandle){
  PARENT(pVfs)->xDlClose(PARENT(pVfs), pHandle);
}
static int vfsRandomness(sqlite3_vfs *pVfs, int nByte, char *zBufOut){
  return PARENT(pVfs)->xRandomness(PARENT(pVfs), nByte, zBufOut);
}
static int vfsSleep(sqlite3_vfs *pVfs, int nMicro){
  return PARENT(pVfs)->xSleep(PARENT(pVfs), nMicro);
}
static int vfsCurrentTime(sqlite3_vfs *pVfs, double *pTimeOut){
  return PARENT(pVfs)->xCurrentTime(PARENT(pVfs), pTimeOut);
}
static int vfsGetLastError(sqlite3_vfs *pVfs, int a, char *b){
  return PARENT(pVfs)->xGetLastError(PARENT(pVfs), a, b);
}
/* The parent's system calls (the unix VFS's: what SQLite's test_syscall
** replaces to inject errors, which then reach the stores' I/O too). */
static int vfsSetSystemCall(sqlite3_vfs *pVfs, const char *zName,
                            sqlite3_syscall_ptr pNew){
  sqlite3_vfs *pParent = PARENT(pVfs);
  if( pParent->iVersion<3 || pParent->xSetSystemCall==0 ) return SQLITE_NOTFOUND;
  return pParent->xSetSystemCall(pParent, zName, pNew);
}
static sqlite3_syscall_ptr vfsGetSystemCall(sqlite3_vfs *pVfs, const char *zName){
  sqlite3_vfs *pParent = PARENT(pVfs);
  if( pParent->iVersion<3 || pParent->xGetSystemCall==0 ) return 0;
  return pParent->xGetSystemCall(pParent, zName);
}
static const char *vfsNextSystemCall(sqlite3_vfs *pVfs, const char *zName){
  sqlite3_vfs *pParent = PARENT(pVfs);
  if( pParent->iVersion<3 || pParent->xNextSystemCall==0 ) return 0;
  return pParent->xNextSystemCall(pParent, zName);
}

static int vfsCurrentTimeInt64(sqlite3_vfs *pVfs, sqlite3_int64 *p){
  sqlite3_vfs *pParent = PARENT(pVfs);
  if( pParent->iVersion>=2 && pParent->xCurrentTimeInt64 ){
    return pParent->xCurrentTimeInt64(pParent, p);
  }else{
    double r;
    int rc = pParent->xCurrentTime(pParent, &r);
    *p = (sqlite3_int64)(r*86400000.0);
    return rc;
  }
}

/* ---------------------------------------------------------------------
** Registration.
*/
static const sqlite3_vfs vfsTemplate = {
  3,                              /* iVersion */
  0,                              /* szOsFile: set at registration */
  0,                              /* mxPathname: the parent's */
  0,                              /* pNext */
  0,                              /* zName: set at registration */
  0,                              /* pAppData */
  vfsOpen,                        /* xOpen */
  vfsDelete,                      /* xDelete */
  vfsAccess,                      /* xAccess */
  vfsFullPathname,                /* xFullPathname */
  vfsDlOpen,                      /* xDlOpen */
  vfsDlError,                     /* xDlError */
  vfsDlSym,                       /* xDlSym */
  vfsDlClose,                     /* xDlClose */
  vfsRandomness,                  /* xRandomness */
  vfsSleep,                       /* xSleep */
  vfsCurrentTime,                 /* xCurrentTime */
  vfsGetLastError,                /* xGetLastError */
  vfsCurrentTimeInt64,            /* xCurrentTimeInt64 */
  vfsSetSystemCall,               /* xSetSystemCall */
  vfsGetSystemCall,               /* xGetSystemCall */
  vfsNextSystemCall               /* xNextSystemCall */
};
int vlogVfsRegister(const char *zName, const char *zParent, int bDefault){
  sqlite3_vfs *pParent = zParent ? sqlite3_vfs_find(zParent)
                                 : vlogVfsParent(sqlite3_vfs_find(0));
  sqlite3_vfs *pOld;
  VlogVfs *pV;
  VlogEnv *pEnv;
  int szFile;
  if( zName==0 ) zName = "vlog";
  if( pParent==0 ) return SQLITE_NOTFOUND;
  if( vlogVfsParent(pParent)!=pParent ){
    return SQLITE_MISUSE;                 /* a vlog VFS over a vlog VFS */
  }
  vfsEnter();
  pOld = sqlite3_vfs_find(zName);
  if( pOld ){
    int rc = SQLITE_OK;
    vfsLeave();
    if( vlogVfsParent(pOld)==pOld ) rc = SQLITE_ERROR;       /* not ours */
    else if( zParent && ((VlogVfs*)pOld)->pParent!=pParent ) rc = SQLITE_ERROR;
    else if( bDefault ) rc = sqlite3_vfs_register(pOld, 1);
    return rc;
  }
  /* malloc(), not sqlite3_malloc(): a VFS lives as long as the process,
  ** past sqlite3_shutdown() (SQLite's own VFSes are static) */
  pV = (VlogVfs*)malloc(sizeof(VlogVfs) + strlen(zName) + 1);
  pEnv = vlogEnvVfs(pParent);
  if( pV==0 || pEnv==0 ){
    free(pV);
    if( pEnv ) vlogEnvVfsFree(pEnv);
    vfsLeave();
    return SQLITE_NOMEM;
  }
  memset(pV, 0, sizeof(*pV));
  pV->pParent = pParent;
  pV->env = *pEnv;
  pV->pEnv = &pV->env;
  vlogEnvVfsFree(pEnv);
  szFile = (int)sizeof(VfsDb);
  if( szFile<(int)sizeof(VfsJrnl) ) szFile = (int)sizeof(VfsJrnl);
  if( szFile<pParent->szOsFile ) szFile = pParent->szOsFile;
  pV->base = vfsTemplate;
  pV->base.pAppData = pV;
  pV->base.szOsFile = szFile;
  pV->base.mxPathname = pParent->mxPathname;
  pV->base.zName = (char*)&pV[1];
  memcpy(&pV[1], zName, strlen(zName)+1);
  pV->pNextVfs = pAllVfs;
  pAllVfs = pV;
  vfsLeave();
  return sqlite3_vfs_register(&pV->base, bDefault);
}

sqlite3_vfs *vlogVfsParent(sqlite3_vfs *pVfs){
  VlogVfs *pV;
  vfsEnter();
  for(pV=pAllVfs; pV; pV=pV->pNextVfs){
    if( &pV->base==pVfs ) break;
  }
  vfsLeave();
  return pV ? pV->pParent : pVfs;
}

int vlogVfsIsStore(sqlite3_file *pFile){
  return pFile && pFile->pMethods==&dbMethods;
}

int vlogVfsTxnPart(sqlite3_file *pFile){
  VfsDb *p = (VfsDb*)pFile;
  if( !vlogVfsIsStore(pFile) ) return 0;
  return (vfsHasPart(p) ? VLOG_VFS_PART : 0) | (p->pJrnl ? VLOG_VFS_JOURNAL : 0);
}

VlogStore *vlogVfsStore(sqlite3_file *pFile){
  return vlogVfsIsStore(pFile) ? ((VfsDb*)pFile)->pStore : 0;
}

#ifdef VLOG_DEBUG
void vlogVfsMapLimits(sqlite3_int64 nProbes, unsigned int nMaxPages){
  vfsMapProbes = nProbes>0 ? nProbes : VFS_MAP_PROBES;
  vfsMapMaxPages = nMaxPages>0 && nMaxPages<=VFS_MAP_MAX_PAGES ? nMaxPages
                                                               : VFS_MAP_MAX_PAGES;
}

int vlogVfsMapState(sqlite3_file *pFile, int *pnLow, int *pnMapped, int *pbNoMap){
  VfsDb *p = (VfsDb*)pFile;
  if( !vlogVfsIsStore(pFile) ) return 0;
  *pnLow = p->st.nLow;
  *pnMapped = p->st.pMap ? p->st.pMap->nL : 0;
  *pbNoMap = p->st.pMap ? p->st.pMap->bNoMap : 0;
  return 1;
}
#endif

/* ---------------------------------------------------------------------
** Overlays, as ext/ sees them (vlog_overlay, vlog_materialize).
*/
int vlogVfsMaterialize(sqlite3_file *pFile, sqlite3_int64 nMax,
                       sqlite3_int64 *pnCopied, sqlite3_int64 *pnLeft){
  VfsDb *p = (VfsDb*)pFile;
  int rc;
  *pnCopied = 0;
  *pnLeft = 0;
  if( !vlogVfsIsStore(pFile) ) return SQLITE_OK;
  rc = dbReady(p);
  if( rc ) return rc;
  if( p->eLock>SQLITE_LOCK_NONE && !p->bWalLock ) return SQLITE_LOCKED;
  return overlayMaterialize(p, nMax, pnCopied, pnLeft);
}

int vlogVfsOverlay(VlogStore *pStore, VlogVfsOverlayInfo *pInfo){
  VfsDb *p;
  VfsBase *pB;
  VlogCursor *pCsr = 0;
  int rc, bRead = vlogTxnState(pStore)==0;
  memset(pInfo, 0, sizeof(*pInfo));
  vfsEnter();
  for(p=pAllDb; p && p->pStore!=pStore; p=p->pNext){}
  vfsLeave();
  if( p==0 || p->pBase==0 ) return VLOG_NOTFOUND;
  pB = p->pBase;
  pInfo->zBase = sqlite3_mprintf("%s", pB->zPath);
  if( pInfo->zBase==0 ) return VLOG_NOMEM;
  if( pB->zSnap ){
    sqlite3_snprintf(sizeof(pInfo->zSnap), pInfo->zSnap, "%s", pB->zSnap);
  }
  pInfo->nBaseSize = pB->nSize;
  pInfo->szBasePage = pB->szPage;
  pInfo->iBaseSum = pB->iSum;
  pInfo->iMade = pB->iMade;
  pInfo->bMatRead = pB->bMatRead;
  pInfo->nReadOverlay = pB->nReadOverlay;
  pInfo->nReadBase = pB->nReadBase;
  pInfo->nMaterialized = pB->nMaterialized;
  pInfo->nOpen = pB->nOpen;
  pInfo->nReuse = pB->nReuse;
  rc = bRead ? vlogBegin(pStore, 0) : VLOG_OK;
  if( rc==VLOG_OK ){
    VfsState st;
    const void *pVal;
    int nVal;
    VlogTreeSize sz;
    memset(&st, 0, sizeof(st));
    rc = vlogGet(pStore, VFS_TREE_CATALOG, "main", 4, &pVal, &nVal);
    if( rc==VLOG_OK ){
      char zWhy[128];
      rc = entryDecode((const u8*)pVal, nVal, &st, zWhy, sizeof(zWhy));
    }
    if( rc==VLOG_OK ){
      sqlite3_int64 nBase = baseShows(&st) ? st.nBase : 0;
      sqlite3_int64 nPg = st.szChunk ? (nBase + st.szChunk - 1)/st.szChunk : 0;
      sqlite3_int64 nOwnBelow = 0;
      pInfo->nBaseBytes = nBase;
      rc = vlogCursorOpen(pStore, stateTree(&st), &pCsr);
      if( rc==VLOG_OK ) rc = vlogCursorFirst(pCsr);
      while( rc==VLOG_OK && vlogCursorValid(pCsr) ){
        const void *pKey;
        int nKey;
        rc = vlogCursorKey(pCsr, &pKey, &nKey);
        if( rc ) break;
        pInfo->nPagesOwn++;
        if( nKey==4 && (sqlite3_int64)get32((const u8*)pKey)<=nPg ) nOwnBelow++;
        rc = vlogCursorNext(pCsr);
      }
      if( rc==VLOG_NOTFOUND ) rc = VLOG_OK;
      pInfo->nPagesBase = nPg - nOwnBelow;
    }
    if( rc==VLOG_OK ){
      rc = vlogTreeSize(pStore, stateTree(&st), &sz);
      if( rc==VLOG_OK ) pInfo->nOwnBytes = sz.nStored;
      if( rc==VLOG_NOTFOUND ) rc = VLOG_OK;
    }
  }
  if( pCsr ) (void)vlogCursorClose(pCsr);
  if( bRead && vlogTxnState(pStore) ) (void)vlogCommit(pStore);
  if( rc ){
    sqlite3_free(pInfo->zBase);
    pInfo->zBase = 0;
  }
  return rc;
}

int vlogVfsBasePath(VlogStore *pStore, char *zOut, int nOut, int *pbBranch){
  const void *pVal;
  int nVal, rc, bRead = vlogTxnState(pStore)==0;
  assert( nOut>0 );
  zOut[0] = 0;
  rc = bRead ? vlogBegin(pStore, 0) : VLOG_OK;
  if( rc==VLOG_OK ) rc = vlogGet(pStore, VFS_TREE_CATALOG, "base", 4, &pVal, &nVal);
  if( rc==VLOG_OK ){
    const u8 *a = (const u8*)pVal;
    int nPath = 0, nName = 0;
    if( baseSplit(a, nVal, &nPath, &nName) || nPath>=nOut ){
      rc = VLOG_CORRUPT;
    }else{
      sqlite3_snprintf(nOut, zOut, "%.*s", nPath, &a[VFS_BASE_ENTRY_MIN]);
      if( pbBranch ) *pbBranch = nName>0;
    }
  }
  if( bRead && vlogTxnState(pStore) ) (void)vlogCommit(pStore);
  return rc;
}

/* ---------------------------------------------------------------------
** vlog_files (ext/introspect.c).
*/
int vlogVfsFiles(VlogStore *pStore, VlogVfsFileInfo **paFile, int *pnFile){
  VlogEnv *pEnv = vlogStoreEnv(pStore);
  VlogVfsFileInfo *a = 0;
  VlogCursor *pCsr = 0;
  int n = 0, bRead = vlogTxnState(pStore)==0;
  int rc = bRead ? vlogBegin(pStore, 0) : VLOG_OK;
  *paFile = 0;
  *pnFile = 0;
  if( rc ) return rc;
  rc = vlogCursorOpen(pStore, VFS_TREE_CATALOG, &pCsr);
  if( rc==VLOG_OK ) rc = vlogCursorFirst(pCsr);
  while( rc==VLOG_OK && vlogCursorValid(pCsr) ){
    const void *pKey, *pVal;
    int nKey, nVal;
    VlogTreeSize sz;
    VlogVfsFileInfo *aNew;
    VfsState st;
    char zWhy[128];
    rc = vlogCursorKey(pCsr, &pKey, &nKey);
    if( rc==VLOG_OK ) rc = vlogCursorValue(pCsr, &pVal, &nVal);
    if( rc ) break;
    aNew = (VlogVfsFileInfo*)vlogRealloc(pEnv, a, sizeof(*a)*(n+1));
    if( aNew==0 ){ rc = VLOG_NOMEM; break; }
    a = aNew;
    memset(&a[n], 0, sizeof(a[n]));
    memset(&st, 0, sizeof(st));
    if( (nKey==4 && memcmp(pKey, "base", 4)==0)
     || (nKey==9 && memcmp(pKey, "layernext", 9)==0)
     || (nKey==VFS_LAYER_KEY && memcmp(pKey, "layer", 5)==0)
     || (nKey>5 && memcmp(pKey, "snap:", 5)==0) ){
      rc = vlogCursorNext(pCsr);          /* an overlay's base, snapshots and
                                          ** their layers: no file */
      continue;
    }
    if( nKey==3 && memcmp(pKey, "wal", 3)==0 ){
      st.bWal = 1;
    }else if( nKey!=4 || memcmp(pKey, "main", 4)!=0 ){
      rc = VLOG_CORRUPT;         /* no other key is written */
      break;
    }
    memcpy(a[n].zName, stateKey(&st), strlen(stateKey(&st))+1);
    rc = entryDecode((const u8*)pVal, nVal, &st, zWhy, sizeof(zWhy));
    if( rc ) break;
    a[n].szPage = st.szChunk;
    a[n].nLogical = st.nSize;
    a[n].bOverlay = st.bOverlay;
    a[n].nBase = baseShows(&st) ? st.nBase : 0;
    rc = vlogTreeSize(pStore, stateTree(&st), &sz);
    if( rc==VLOG_NOTFOUND ){
      memset(&sz, 0, sizeof(sz));         /* no page stored yet */
      rc = VLOG_OK;
    }
    a[n].nPage = sz.nKey;
    a[n].nStored = sz.nStored;
    n++;
    if( rc==VLOG_OK ) rc = vlogCursorNext(pCsr);
  }
  if( pCsr ) (void)vlogCursorClose(pCsr);
  if( rc==VLOG_NOTFOUND ) rc = VLOG_OK;   /* no catalog: no file */
  if( bRead ) (void)vlogCommit(pStore);   /* a read transaction's end */
  if( rc ){
    vlogFree(pEnv, a);
    return rc;
  }
  *paFile = a;
  *pnFile = n;
  return VLOG_OK;
}

/* ---------------------------------------------------------------------
** vlogtool export-db: the database a store holds, as a plain file (and
** its -wal, when the store has one with frames: SQLite recovers it).
*/
static int exportFile(VlogStore *pStore, VfsState *pS, const char *zBase,
                      const char *zOut, char *zErr, int nErr){
  FILE *pOut = fopen(zOut, "wbx");        /* never over an existing file */
  FILE *pBase = 0;                        /* an overlay's base */
  u8 *aChunk = (u8*)malloc(VFS_MAX_CHUNK + VFS_WAL_FRAME_HDR);
  sqlite3_int64 iOfst = 0;
  int rc = VLOG_OK;
  if( aChunk==0 ){
    rc = VLOG_NOMEM;
  }else if( pOut==0 ){
    snprintf(zErr, nErr, "cannot create %s (it exists, or the folder is not "
             "writable)", zOut);
    rc = VLOG_CANTOPEN;
  }
  while( rc==VLOG_OK && iOfst<pS->nSize ){
    int sz, iIn, n, eFrom = FROM_NONE;
    unsigned int k = chunkSpan(pS, iOfst, pS->nSize, &iIn, &n, &sz);
    sqlite3_int64 nBase = 0;
    rc = chunkLookup(pStore, pS, k, sz, aChunk, &eFrom, &nBase, zErr, nErr);
    if( rc==VLOG_OK && eFrom==FROM_BASE ){
      /* not written: the base's (zeros past nBase) */
      sqlite3_int64 iOff = (sqlite3_int64)(k-1)*sz;
      size_t nWant = nBase-iOff<sz ? (size_t)(nBase-iOff) : (size_t)sz;
      memset(aChunk, 0, sz);
      if( pBase==0 ){
        struct stat st;
        /* a regular file only: the entry may name anything (a FIFO blocks) */
        if( stat(zBase, &st)==0 && S_ISREG(st.st_mode) ) pBase = fopen(zBase, "rb");
      }
      if( pBase==0 || fseeko(pBase, (off_t)iOff, SEEK_SET)!=0
       || fread(aChunk, 1, nWant, pBase)!=nWant ){
        snprintf(zErr, nErr, "page %u is the base's, and the base %s cannot be "
                 "read there", k, zBase);
        rc = VLOG_CANTOPEN;
      }
    }
    if( rc==VLOG_OK && fwrite(&aChunk[iIn], n, 1, pOut)!=1 ){
      snprintf(zErr, nErr, "cannot write %s", zOut);
      rc = VLOG_IOERR_WRITE;
    }
    iOfst += n;
  }
  if( pOut ){
    if( fclose(pOut)!=0 && rc==VLOG_OK ){
      snprintf(zErr, nErr, "cannot write %s", zOut);
      rc = VLOG_IOERR_WRITE;
    }
    if( rc ) remove(zOut);                  /* no half file left */
  }
  if( pBase ) fclose(pBase);
  free(aChunk);
  return rc;
}

int vlogVfsExport(VlogStore *pStore, const char *zOut, char *zErr, int nErr){
  VlogVfsFileInfo *a = 0;
  char *zBase = 0;
  VfsState st, wal;
  int n = 0, i, rc, bRead = vlogTxnState(pStore)==0;
  zErr[0] = 0;
  memset(&st, 0, sizeof(st));
  memset(&wal, 0, sizeof(wal));
  wal.bWal = 1;
  rc = bRead ? vlogBegin(pStore, 0) : VLOG_OK;   /* one snapshot throughout */
  if( rc==VLOG_OK ) rc = vlogVfsFiles(pStore, &a, &n);
  for(i=0; rc==VLOG_OK && i<n; i++){
    VfsState *pS = strcmp(a[i].zName, "wal")==0 ? &wal : &st;
    pS->bEntry = 1;
    pS->szChunk = a[i].szPage;
    pS->nSize = a[i].nLogical;
  }
  if( rc==VLOG_OK && !st.bEntry ){
    snprintf(zErr, nErr, "the store holds no database of the vlog VFS");
    rc = VLOG_NOTFOUND;
  }
  if( rc==VLOG_OK && st.szChunk==0 ){
    snprintf(zErr, nErr, "the store's database is empty");
    rc = VLOG_NOTFOUND;
  }
  if( rc==VLOG_OK ){
    /* an overlay: its entry says how much of the base shows, and the
    ** "base" entry where the base is */
    const void *pVal;
    int nVal;
    rc = vlogGet(pStore, VFS_TREE_CATALOG, "main", 4, &pVal, &nVal);
    if( rc==VLOG_OK ){
      char zWhy[128];
      zWhy[0] = 0;
      rc = entryDecode((const u8*)pVal, nVal, &st, zWhy, sizeof(zWhy));
      if( rc==VLOG_OK ) rc = chainLoad(pStore, &st, zWhy, sizeof(zWhy));
      if( rc && zWhy[0] ) snprintf(zErr, nErr, "%s", zWhy);
    }
    if( rc==VLOG_OK && baseShows(&st) ){
      zBase = (char*)sqlite3_malloc(VFS_PATH_MAX);
      int bBranch = 0;
      rc = zBase ? vlogVfsBasePath(pStore, zBase, VFS_PATH_MAX, &bBranch) : VLOG_NOMEM;
      if( rc==VLOG_OK && bBranch ){
        snprintf(zErr, nErr, "a branch of a snapshot of %s, which it still reads: "
                 "vlog_materialize() it first, or export it with VACUUM INTO", zBase);
        rc = VLOG_ERROR;
      }
      if( rc==VLOG_NOTFOUND || rc==VLOG_CORRUPT || (rc==VLOG_OK && zBase[0]==0) ){
        snprintf(zErr, nErr, "an overlay without a base entry that is one");
        rc = VLOG_CORRUPT;
      }
    }
  }
  if( rc==VLOG_OK ) rc = exportFile(pStore, &st, zBase, zOut, zErr, nErr);
  if( rc==VLOG_OK && wal.nSize>VFS_WAL_HDR ){
    char *zWal = sqlite3_mprintf("%s-wal", zOut);
    rc = zWal ? exportFile(pStore, &wal, 0, zWal, zErr, nErr) : VLOG_NOMEM;
    if( rc ) remove(zOut);
    sqlite3_free(zWal);
  }
  if( a ) vlogFree(vlogStoreEnv(pStore), a);
  stateFree(&st);
  sqlite3_free(zBase);
  if( bRead && vlogTxnState(pStore) ) (void)vlogCommit(pStore);
  return rc;
}

/* ---------------------------------------------------------------------
** Snapshots, as ext/ sees them (vlog_snapshot, vlog_snapshots,
** vlog_snapshot_drop).
*/
static int snapNameCheck(const char *zName){
  size_t n = zName ? strlen(zName) : 0;
  return n>=1 && n<=VFS_SNAP_NAME_MAX ? SQLITE_OK : SQLITE_RANGE;
}

int vlogVfsSnapshot(sqlite3_file *pFile, const char *zName){
  VfsDb *p = (VfsDb*)pFile;
  int rc = snapNameCheck(zName);
  if( rc ) return rc;
  if( !vlogVfsIsStore(pFile) ) return SQLITE_NOTFOUND;
  rc = dbReady(p);
  if( rc ) return rc;
  return snapshotTake(p, zName);
}

int vlogVfsSnapshotDrop(sqlite3_file *pFile, const char *zName,
                        sqlite3_int64 *pnCopied){
  VfsDb *p = (VfsDb*)pFile;
  int rc = snapNameCheck(zName);
  *pnCopied = 0;
  if( rc ) return rc;
  if( !vlogVfsIsStore(pFile) ) return SQLITE_NOTFOUND;
  rc = dbReady(p);
  if( rc ) return rc;
  return snapshotDrop(p, zName, pnCopied);
}

/*
** The pages of layer iTree that the layer above it in the chain of pMain
** hides (written over since, or cut off by a truncation): what dropping
** its snapshot frees.  *pnHidden counts them.
*/
static int layerHidden(VlogStore *pStore, const VfsState *pMain, unsigned int iTree,
                       int szChunk, uint64_t *pnHidden){
  unsigned int iUp = stateTree(pMain);
  sqlite3_int64 nUpBase = pMain->nBase;
  VlogCursor *pCsr = 0;
  int i, rc;
  *pnHidden = 0;
  for(i=0; i<pMain->nLow && pMain->aLow[i].iTree!=iTree; i++){
    iUp = pMain->aLow[i].iTree;
    nUpBase = pMain->aLow[i].nBase;
  }
  if( i==pMain->nLow ) return VLOG_CORRUPT;   /* not in the chain */
  rc = vlogCursorOpen(pStore, iTree, &pCsr);
  if( rc==VLOG_OK ) rc = vlogCursorFirst(pCsr);
  while( rc==VLOG_OK && vlogCursorValid(pCsr) ){
    const void *pKey;
    u8 aKey[4];
    int nKey;
    rc = vlogCursorKey(pCsr, &pKey, &nKey);
    if( rc==VLOG_OK && nKey!=4 ) rc = VLOG_CORRUPT;
    if( rc ) break;
    memcpy(aKey, pKey, 4);
    if( (sqlite3_int64)(get32(aKey)-1)*szChunk>=nUpBase ){
      (*pnHidden)++;
    }else{
      rc = vlogHas(pStore, iUp, aKey, 4);
      if( rc==VLOG_OK ) (*pnHidden)++;
      if( rc==VLOG_NOTFOUND ) rc = VLOG_OK;
    }
    if( rc==VLOG_OK ) rc = vlogCursorSeek(pCsr, aKey, 4, VLOG_SEEK_GT);
  }
  if( pCsr ) (void)vlogCursorClose(pCsr);
  return rc==VLOG_NOTFOUND ? VLOG_OK : rc;
}

int vlogVfsSnapshots(VlogStore *pStore, VlogVfsSnapshotInfo **paSnap, int *pnSnap){
  VlogEnv *pEnv = vlogStoreEnv(pStore);
  VlogVfsSnapshotInfo *a = 0;
  VlogCursor *pCsr = 0;
  VfsState main;
  int n = 0, bRead = vlogTxnState(pStore)==0;
  int rc = bRead ? vlogBegin(pStore, 0) : VLOG_OK;
  *paSnap = 0;
  *pnSnap = 0;
  if( rc ) return rc;
  memset(&main, 0, sizeof(main));
  {
    const void *pVal;
    int nVal;
    char zWhy[128];
    rc = vlogGet(pStore, VFS_TREE_CATALOG, "main", 4, &pVal, &nVal);
    if( rc==VLOG_OK ) rc = entryDecode((const u8*)pVal, nVal, &main, zWhy, sizeof(zWhy));
    if( rc==VLOG_OK ) rc = chainLoad(pStore, &main, zWhy, sizeof(zWhy));
  }
  if( rc==VLOG_OK ) rc = vlogCursorOpen(pStore, VFS_TREE_CATALOG, &pCsr);
  if( rc==VLOG_OK ) rc = vlogCursorSeek(pCsr, "snap:", 5, VLOG_SEEK_GE);
  while( rc==VLOG_OK && vlogCursorValid(pCsr) ){
    const void *pKey, *pVal;
    int nKey, nVal;
    VfsState st;
    VlogTreeSize sz;
    VlogVfsSnapshotInfo *aNew;
    char zWhy[128];
    rc = vlogCursorKey(pCsr, &pKey, &nKey);
    if( rc || nKey<=5 || memcmp(pKey, "snap:", 5)!=0 ) break;
    if( nKey-5>VFS_SNAP_NAME_MAX ){
      rc = VLOG_CORRUPT;
      break;
    }
    aNew = (VlogVfsSnapshotInfo*)vlogRealloc(pEnv, a, sizeof(*a)*(n+1));
    if( aNew==0 ){ rc = VLOG_NOMEM; break; }
    a = aNew;
    memset(&a[n], 0, sizeof(a[n]));
    memcpy(a[n].zName, &((const u8*)pKey)[5], nKey-5);
    memset(&st, 0, sizeof(st));
    rc = vlogCursorValue(pCsr, &pVal, &nVal);
    if( rc==VLOG_OK ) rc = snapDecode((const u8*)pVal, nVal, &st, &a[n].iTaken,
                                      zWhy, sizeof(zWhy));
    if( rc ) break;
    a[n].nSize = st.nSize;
    a[n].szPage = st.szChunk;
    a[n].iTree = st.iTop;
    rc = vlogTreeSize(pStore, st.iTop, &sz);
    if( rc==VLOG_NOTFOUND ){
      memset(&sz, 0, sizeof(sz));
      rc = VLOG_OK;
    }
    a[n].nPage = sz.nKey;
    a[n].nBytes = sz.nStored;
    if( rc==VLOG_OK ){
      rc = layerHidden(pStore, &main, st.iTop, st.szChunk, &a[n].nPinPage);
    }
    if( rc==VLOG_OK && sz.nKey>0 ){
      a[n].nPinBytes = (uint64_t)((double)sz.nStored*a[n].nPinPage/sz.nKey);
    }
    n++;
    /* the cursor's position: vlogTreeSize() ran on the same handle */
    if( rc==VLOG_OK ){
      u8 aKey[5+VFS_SNAP_NAME_MAX];
      memcpy(aKey, "snap:", 5);
      memcpy(&aKey[5], a[n-1].zName, strlen(a[n-1].zName));
      rc = vlogCursorSeek(pCsr, aKey, 5+(int)strlen(a[n-1].zName), VLOG_SEEK_GT);
    }
  }
  if( pCsr ) (void)vlogCursorClose(pCsr);
  stateFree(&main);
  if( rc==VLOG_NOTFOUND ) rc = VLOG_OK;   /* no catalog: no snapshot */
  if( bRead ) (void)vlogCommit(pStore);   /* a read transaction's end */
  if( rc ){
    vlogFree(pEnv, a);
    return rc;
  }
  *paSnap = a;
  *pnSnap = n;
  return VLOG_OK;
}
