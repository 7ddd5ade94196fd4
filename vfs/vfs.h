/*
** vfs.h: the vlog VFS (vfs/vfs.c), as ext/ sees it.
*/
#ifndef VLOG_VFS_H
#define VLOG_VFS_H

#include "engine.h"

/* Register a vlog VFS named zName (0: "vlog") over the parent VFS zParent
** (0: the default, or its parent when that is a vlog VFS; then a name
** registered already is taken whatever its parent), the default VFS if bDefault.  Registering a name again
** over the same parent only applies bDefault.  SQLITE_NOTFOUND: no such
** parent; SQLITE_ERROR: zName is another VFS, or a vlog VFS over another
** parent; SQLITE_MISUSE: the parent is a vlog VFS. */
int vlogVfsRegister(const char *zName, const char *zParent, int bDefault);

/* The parent of a vlog VFS; any other VFS itself. */
sqlite3_vfs *vlogVfsParent(sqlite3_vfs*);

/* Is this database file a store of a vlog VFS, and its engine handle (0
** when it is not one). */
int vlogVfsIsStore(sqlite3_file*);
VlogStore *vlogVfsStore(sqlite3_file*);

#ifdef VLOG_DEBUG
/* Tests: the layer map (vfs.c "Snapshots: the layer map") made after
** nProbes lookups in frozen layers, and none past page nMaxPages (0: the
** defaults); and, for a database file, its frozen layers as last loaded,
** how many of them its map has, whether it has given up (0: not a store). */
void vlogVfsMapLimits(sqlite3_int64 nProbes, unsigned int nMaxPages);
int vlogVfsMapState(sqlite3_file*, int *pnLow, int *pnMapped, int *pbNoMap);
#endif

/* For a virtual table in its database's own store (ext/vtab.c), about the
** engine write transaction open on it: VLOG_VFS_PART if the VFS ends it
** (SQLite's pages are in it, or its journal started: the journal's end or
** the database's sync commits both halves at once); VLOG_VFS_JOURNAL if
** SQLite's rollback journal is open (then no page reaches the file after
** the table's xSync unless the journal has started).  0 for a file that is
** not a store. */
#define VLOG_VFS_PART     1
#define VLOG_VFS_JOURNAL  2
int vlogVfsTxnPart(sqlite3_file*);

/* The files a store holds for the VFS (vlog_files), in an array from
** vlogMalloc(vlogStoreEnv(pStore)) that the caller frees the same way.
** Run in a read transaction of its own unless one is open.  An engine
** code on error (VLOG_CORRUPT: an entry that is not one). */
typedef struct VlogVfsFileInfo VlogVfsFileInfo;
struct VlogVfsFileInfo {
  char zName[16];                 /* "main" */
  uint64_t nPage;                 /* pages stored (all-zero ones are not) */
  int szPage;                     /* page (chunk) size, 0 before the first */
  sqlite3_int64 nLogical;         /* the file's size as SQLite sees it */
  uint64_t nStored;               /* bytes its pages take in the store */
  int bOverlay;                   /* "main" of an overlay (URI base=) ... */
  sqlite3_int64 nBase;            /* ... whose first nBase bytes are read
                                  ** from its base where it has no page */
};

/* An overlay's base as its store records it: its path into zOut[nOut];
** *pbBranch (unless 0): it is a snapshot of the store there (a branch).
** VLOG_NOTFOUND: not an overlay; VLOG_CORRUPT: the entry is not one (or
** its path does not fit).  In a read transaction of its own unless one is open. */
int vlogVfsBasePath(VlogStore *pStore, char *zOut, int nOut, int *pbBranch);
int vlogVfsFiles(VlogStore *pStore, VlogVfsFileInfo **paFile, int *pnFile);

/* Write the database that pStore holds for the VFS to the new plain file
** zOut (refused if it exists; removed again on failure), page by page in
** one read transaction (vlogtool export-db).  On error, an engine code and,
** unless the engine's message says it, a message in zErr[nErr]. */
int vlogVfsExport(VlogStore *pStore, const char *zOut, char *zErr, int nErr);

/* An overlay (URI base=): its base and how far it still reads from it
** (vlog_overlay), in a read transaction of its own unless one is open.
** VLOG_NOTFOUND when pStore is not the store of an overlay this process
** has open through the VFS.  zBase is from sqlite3_malloc(). */
typedef struct VlogVfsOverlayInfo VlogVfsOverlayInfo;
struct VlogVfsOverlayInfo {
  char *zBase;                    /* the base's path */
  char zSnap[204];                /* a branch: the snapshot of it ("": a
                                  ** plain file) */
  sqlite3_int64 nBaseSize;        /* its identity: size, */
  int szBasePage;                 /* page size, */
  sqlite3_uint64 iBaseSum;        /* checksum of its first 64 KiB */
  sqlite3_int64 iMade;            /* the overlay made at (Unix ms) */
  sqlite3_int64 nBaseBytes;       /* bytes still read from the base (0:
                                  ** the overlay stands alone) */
  sqlite3_int64 nPagesBase;       /* pages still read from the base */
  sqlite3_int64 nPagesOwn;        /* pages the overlay holds */
  sqlite3_uint64 nOwnBytes;       /* ... and their bytes in the store */
  int bMatRead;                   /* materialize_on_read (this connection) */
  sqlite3_uint64 nReadOverlay;    /* this connection's pages read from the */
  sqlite3_uint64 nReadBase;       /* overlay, from the base, */
  sqlite3_uint64 nMaterialized;   /* copied into the overlay, */
  sqlite3_uint64 nOpen, nReuse;   /* base handle opens and reuses */
};
int vlogVfsOverlay(VlogStore *pStore, VlogVfsOverlayInfo *pInfo);

/* vlog_materialize(): copy the base's pages that the overlay pFile has not
** written into it, in commits of a few hundred pages, at most nMax (all
** when negative); with none left, the overlay stands alone.  *pnCopied,
** *pnLeft: pages copied, and pages not yet visited.  SQLITE_OK for a
** database that is not an overlay (nothing to do); SQLITE_LOCKED inside a
** transaction of the connection; SQLITE_BUSY when another connection
** writes (what was copied stays). */
int vlogVfsMaterialize(sqlite3_file *pFile, sqlite3_int64 nMax,
                       sqlite3_int64 *pnCopied, sqlite3_int64 *pnLeft);

/* vlog_snapshot(): take snapshot zName (1 to 200 bytes) of the database
** pFile, in one commit.  SQLITE_RANGE: a name of no or too many bytes;
** SQLITE_NOTFOUND: not a database of the VFS; SQLITE_LOCKED inside a
** transaction of the connection; SQLITE_CONSTRAINT: the name is taken;
** SQLITE_READONLY: a read-only or snapshot connection; SQLITE_BUSY: a
** writer kept the lock, or (logged) the -wal holds frames; others logged. */
int vlogVfsSnapshot(sqlite3_file *pFile, const char *zName);

/* vlog_snapshot_drop(): drop snapshot zName and merge its layer away
** (*pnCopied: pages the merge copied up).  Codes as vlogVfsSnapshot's;
** SQLITE_ERROR (logged): no such snapshot. */
int vlogVfsSnapshotDrop(sqlite3_file *pFile, const char *zName,
                        sqlite3_int64 *pnCopied);

/* The snapshots of the database pStore holds (vlog_snapshots), by name,
** in an array the caller frees with vlogFree(vlogStoreEnv(pStore), ...). */
typedef struct VlogVfsSnapshotInfo VlogVfsSnapshotInfo;
struct VlogVfsSnapshotInfo {
  char zName[204];                /* its name */
  sqlite3_int64 iTaken;           /* taken at (Unix ms) */
  sqlite3_int64 nSize;            /* the database file's size then */
  int szPage;                     /* ... and its page size */
  uint32_t iTree;                 /* its layer's tree */
  uint64_t nPage;                 /* pages its layer holds (those written
                                  ** since the snapshot before it) */
  uint64_t nBytes;                /* ... and their bytes in the store */
  uint64_t nPinPage;              /* ... of them, those the database (or a
                                  ** later snapshot) has written over since:
                                  ** kept for it alone */
  uint64_t nPinBytes;             /* ... and their bytes (at the layer's
                                  ** mean per page): what dropping it frees */
};
int vlogVfsSnapshots(VlogStore *pStore, VlogVfsSnapshotInfo **paSnap, int *pnSnap);

#endif /* VLOG_VFS_H */
