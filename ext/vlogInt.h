/*
** vlogInt.h: what the files of ext/ share.
**
** The same sources build two ways:
**   - loadable (vlog.so): SQLite is reached through the sqlite3_api table
**     that sqlite3_vlog_init() receives (sqlite3ext.h);
**   - static (libvlog.a, -DVLOG_STATIC): SQLite is called directly.
** Every file of ext/ and vfs/ includes this header instead of sqlite3.h.
*/
#ifndef VLOG_INT_H
#define VLOG_INT_H

#ifdef VLOG_STATIC
# include "sqlite3.h"
#else
# include "sqlite3ext.h"
  SQLITE_EXTENSION_INIT3
#endif

#include "vlog.h"
#include "vfs.h"

/* The oldest SQLite vlog runs with: sqlite3_vtab_in() and
** sqlite3_vtab_rhs_value() arrived in 3.38.0.  Overridable so that a test
** can build a copy of the extension that refuses the running SQLite. */
#ifndef VLOG_MIN_SQLITE_VERSION
# define VLOG_MIN_SQLITE_VERSION 3038000
#endif

/* Register vlog's SQL functions with db; the marker function
** (vlog_version() with no argument) last, so that vlogIsRegistered() tells
** whether all of vlog is registered (ext/func.c keeps the list). */
int vlogFuncRegister(sqlite3 *db);
int vlogIsRegistered(sqlite3 *db);

/* The registry of stores open in each connection (VStore) */
#include "registry.h"

/*
** The store an introspection argument names: the name of a vlog table of
** db's main schema, else a path (relative to the working directory) of a
** store file.  zArg==0: not allowed here (the caller iterates
** vlogVStoreList()).  One more reference on success; release it.
*/
int vlogVStoreResolve(sqlite3 *db, const char *zArg, VStore **ppVS, char **pzErr);

/*
** The catalog of a store (tree 16): every vlog table, its tree and key
** type (1 integer, 2 text, 3 blob), in name order, in an array from
** sqlite3_malloc() that vlogCatalogFree() frees.  Reads under the
** store's read transaction, or its own.  An engine code on error.
*/
/* Key types of the catalog (VlogCatalogEntry.eKey; vtab.c) */
#define VLOG_KEY_INTEGER        1
#define VLOG_KEY_TEXT           2
#define VLOG_KEY_BLOB_UNTYPED   3   /* vlog 0.1's blob keys: refused */
#define VLOG_KEY_BLOB           4

typedef struct VlogCatalogEntry VlogCatalogEntry;
struct VlogCatalogEntry {
  char *zName;                 /* the table's name (sqlite3_malloc()) */
  unsigned int iTree;          /* its B-tree */
  int eKey;                    /* its key type */
};
int vlogCatalogList(VlogStore*, VlogCatalogEntry **paEntry, int *pnEntry);
void vlogCatalogFree(VlogCatalogEntry *aEntry, int nEntry);

/* Register the vlog module (vtab.c) and the introspection tables
** (introspect.c) with db.  Idempotent. */
int vlogVtabRegister(sqlite3 *db);
int vlogIntrospectRegister(sqlite3 *db);

#endif /* VLOG_INT_H */
