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
};
int vlogVfsFiles(VlogStore *pStore, VlogVfsFileInfo **paFile, int *pnFile);

/* Write the database that pStore holds for the VFS to the new plain file
** zOut (refused if it exists; removed again on failure), page by page in
** one read transaction (vlogtool export-db).  On error, an engine code and,
** unless the engine's message says it, a message in zErr[nErr]. */
int vlogVfsExport(VlogStore *pStore, const char *zOut, char *zErr, int nErr);

#endif /* VLOG_VFS_H */
