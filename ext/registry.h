/*
** registry.h: the stores open in each connection (ext/registry.c), shared
** by the virtual tables, the introspection tables and functions, and the
** VFS.  Reached through vlogInt.h, which every file of ext/ and vfs/
** includes (it brings SQLite's header in the build's way first).
*/
#ifndef VLOG_REGISTRY_H
#define VLOG_REGISTRY_H

#include "engine.h"

/*
** A VStore is one engine handle on one store file for one connection,
** shared by every user of that file in the connection.  Reference
** counted; the last release closes the handle.
*/
typedef struct VStore VStore;
struct VStore {
  sqlite3 *db;                 /* the connection */
  char *zPath;                 /* full path of the store file */
  VlogEnv *pEnv;               /* vlogEnvVfs() over the connection's VFS */
  VlogStore *pStore;           /* the engine handle */
  int nRef;
  int nReadCsr;                /* vtab.c: cursors holding the read transaction */
  int bBorrowed;               /* pStore is a vlog-VFS database's handle
                               ** (vfs/vfs.c), not the registry's: never
                               ** closed here; pEnv is 0 */
  VStore *pNext;               /* the registry's list */
};

/* Find or open the store at zPath (a full path) for connection db; one more
** reference.  The store is opened read-only when database zDb of db is
** (mode=ro, a read-only file), and immutable when zDb was opened with
** immutable=1.  On error, *pzErr is a message from sqlite3_mprintf(). */
int vlogVStoreAcquire(sqlite3 *db, const char *zDb, const char *zPath,
                      int bCreate, VStore **ppVS, char **pzErr);
void vlogVStoreRelease(VStore *pVS);

/* The store of schema zDb of connection db when that database is on the
** vlog VFS (its engine handle, borrowed: vfs/vfs.c owns it), one more
** reference; SQLITE_NOTFOUND when zDb is no such database. */
int vlogVStoreBorrow(sqlite3 *db, const char *zDb, VStore **ppVS);

/* The stores open in db, in an array from sqlite3_malloc() (each with one
** more reference: release each, then sqlite3_free() the array). */
int vlogVStoreList(sqlite3 *db, VStore ***papVS, int *pnVS);

/* An engine error as an SQLite error message for the user
** (sqlite3_malloc()): "vlog: PATH: message". */
char *vlogVStoreErr(VStore *pVS, int rc);

/* Make the store wait for busy locks as long as its connection's
** PRAGMA busy_timeout says (registry.c says why that setting). */
void vlogVStoreSetBusyTimeout(VStore *pVS);

/* zPath made absolute by the default VFS, in memory from sqlite3_malloc()
** (a copy of zPath if the VFS cannot; 0 when out of memory). */
char *vlogFullPath(const char *zPath);

#endif /* VLOG_REGISTRY_H */
