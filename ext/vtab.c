/*
** vtab.c: the `vlog` virtual table module, and the registry of stores open
** in each connection.
**
** USING
**
**   CREATE VIRTUAL TABLE kv USING vlog(
**     file='kv.vlog',     -- the store file (default: the database's name
**                         -- plus ".vlog"; required for :memory:).  A
**                         -- relative path is taken from the database's
**                         -- folder.
**     key='blob',         -- integer, text or blob: keys sort as SQLite
**                         -- sorts that type (default blob)
**     inline_max=256,     -- values longer than this many bytes go to the
**                         -- value log (0 to 8192; default 256)
**     zstd_level=3        -- compression of the value log (0: none, frames
**                         -- raw and records read alone; 1-19; default 3,
**                         -- zstd's own: with a trained dictionary, small
**                         -- records compress as fast at 3 as at 1)
**     mmap_size=N         -- bytes of the store file read through a memory
**                         -- map (0: none, every read a system call;
**                         -- default: as much as SQLite maps, just under
**                         -- 2 GiB).  A setting of the store in this
**                         -- connection: the last table opened that names
**                         -- it sets it for every table of the store
**   );
**   -- columns: key (the primary key; NULL is refused), value (any type)
**
** Several tables may share one store file, each in a B-tree of its own;
** the store's catalog (tree 16) maps table names to trees.  A database
** opened read-only opens its stores read-only.
**
** DESIGN NOTE
**
** Keys are encoded so that the engine's memcmp order is SQLite's order for
** the key type: integers as 8 bytes big-endian with the sign bit flipped;
** text (BINARY collation) and blobs as a 0x01 byte then their bytes (the
** byte makes the empty string a valid, smallest key).  Values keep their
** SQLite type: one byte (0 NULL, 1 integer, 2 real, 3 text, 4 blob), then
** the bytes.
**
** Constraints.  xBestIndex takes =, IN (SQLite repeats xFilter for each
** value), <, <=, >, >= on key and ORDER BY key in either direction
** (orderByConsumed).  It never sets omit: SQLite checks every row again,
** so xFilter only has to return a superset of the matching rows.  That
** makes the key column's affinity and SQLite's cross-type ordering
** (NULL < numbers < text < blob) easy to honour: a bound that cannot
** narrow the range soundly is dropped, one that can match nothing ends the
** scan.
**
** Transactions.  xBegin starts the engine's write transaction (taking the
** connection's PRAGMA synchronous as the store's durability), xSavepoint/
** xRelease/xRollbackTo map to the engine's savepoints (SQLite's index i is
** the engine's savepoint i+1; statement savepoints included, so a failed
** statement's writes are undone), xSync writes the store's commit (phase
** one of SQLite's commit: if it fails, SQLite rolls everything back), and
** xCommit makes it visible; if SQLite fails between the two (a database
** file it cannot lock, say), xRollback takes the written commit back
** (vlogCommitPrepare).  Reads outside a write transaction hold one read transaction
** from the first xFilter to the last cursor's xClose.  Not longer: SQLite
** calls no method of a virtual table when a read-only BEGIN...COMMIT ends,
** so a read transaction kept past the statement would keep its snapshot
** (and hold back checkpoints) for as long as the connection stays idle.
** So each read-only statement has its own view, as in LSM1's virtual
** table; the engine makes that cheap: a read transaction registers in the
** reader table in shared memory (engine/shm.c), with no lock and no
** system call, and reads nothing when nothing changed.  A database on the
** vlog VFS, whose locks the engine sees, can later tie the two together.
** Readers and writers do not wait for each other: a commit goes on while
** statements of other connections read their snapshots.
**
** A commit in rollback-journal mode: SQLite takes an EXCLUSIVE lock on the
** database file after xSync even when only vlog tables changed, and fails
** with SQLITE_BUSY if another connection is reading it.  The store's
** commit is taken back then; an explicit COMMIT can be retried (xSync
** again finds it prepared).  In WAL mode that lock is not taken.
**
** ACROSS A CRASH.  The store's commit is durable after xSync, before
** SQLite commits the database file.  A transaction that writes both vlog tables and ordinary
** tables is atomic on each side but not across them: a crash between the
** two commits leaves the vlog tables committed and the ordinary tables
** not.  (A database on the vlog VFS, a later issue, will commit both in
** the same engine transaction.)
**
** WAITING FOR LOCKS.  One writer at a time per store, across connections
** and processes.  A write that finds the store locked waits as long as
** the connection's PRAGMA busy_timeout says (0: fails at once with
** SQLITE_BUSY), polling with growing sleeps (engine/store.c), and never
** while holding a lock the other writer needs to commit.  Decision: a
** virtual table cannot call the connection's busy handler (no API), so
** the timeout is what it follows; a handler of the application's own
** sets the timeout to 0 and the store then fails at once, leaving the
** retry to the application (connectionBusyTimeout()).
*/
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "vlogInt.h"

#define CATALOG_TREE       VLOG_TREE_FIRST_USER
#define KEY_INTEGER        1
#define KEY_TEXT           2
#define KEY_BLOB           3
#define DEFAULT_INLINE_MAX 256
#define MAX_INLINE_MAX     8192
#define DEFAULT_ZSTD_LEVEL 3
/* The largest value a user may store, in bytes: the engine's limit less
** the type byte each value gets (vtabErr says it) */
#define VTAB_MAX_VALUE     (VLOG_MAX_VALUE-1)

/* ---------------------------------------------------------------------
** The registry of stores
*/
static VStore *pAllStores = 0;

static sqlite3_mutex *registryMutex(void){
  return sqlite3_mutex_alloc(SQLITE_MUTEX_STATIC_APP1);
}

char *vlogVStoreErr(VStore *pVS, int rc){
  const char *zMsg = vlogStoreErrMsg(pVS->pStore);
  (void)rc;
  if( strstr(zMsg, pVS->zPath) ) return sqlite3_mprintf("vlog: %s", zMsg);
  return sqlite3_mprintf("vlog: %s: %s", pVS->zPath, zMsg);
}

/*
** The connection's busy timeout, in ms, from PRAGMA busy_timeout.
**
** Waiting for a store's lock follows it, as SQLite's own locks do.  A
** virtual table cannot call the connection's busy handler (SQLite has no
** API for it), and PRAGMA busy_timeout is the one setting it can read:
** sqlite3_busy_timeout() sets it, and sqlite3_busy_handler() with a
** handler of the application's own sets it to 0, so with such a handler
** a busy store fails at once with SQLITE_BUSY and the application's
** retry decides (as it would after a busy COMMIT).  The engine polls with
** short sleeps that grow up to 100 ms, as SQLite's default handler does
** on unix (engine/store.c), and never waits while holding a lock that the
** other writer needs.  Read when a store is opened and at each xBegin.
*/
static int connectionBusyTimeout(sqlite3 *db){
  sqlite3_stmt *pStmt = 0;
  int nMs = 0;
  if( sqlite3_prepare_v2(db, "PRAGMA busy_timeout", -1, &pStmt, 0)==SQLITE_OK
   && sqlite3_step(pStmt)==SQLITE_ROW ){
    nMs = sqlite3_column_int(pStmt, 0);
  }
  sqlite3_finalize(pStmt);
  return nMs<0 ? 0 : nMs;
}

void vlogVStoreSetBusyTimeout(VStore *pVS){
  vlogStoreSetBusyTimeout(pVS->pStore, connectionBusyTimeout(pVS->db));
}

/* zPath made absolute by the default VFS, in memory from sqlite3_malloc(). */
static char *fullPath(const char *zPath){
  sqlite3_vfs *pVfs = sqlite3_vfs_find(0);
  char *zFull = (char*)sqlite3_malloc(pVfs->mxPathname+1);
  if( zFull==0 ) return 0;
  if( pVfs->xFullPathname(pVfs, zPath, pVfs->mxPathname+1, zFull)!=SQLITE_OK ){
    sqlite3_free(zFull);
    return sqlite3_mprintf("%s", zPath);
  }
  return zFull;
}

int vlogVStoreAcquire(sqlite3 *db, const char *zPath, int bCreate,
                      VStore **ppVS, char **pzErr){
  sqlite3_mutex *pMutex = registryMutex();
  VStore *p;
  VlogConfig cfg;
  int rc;
  sqlite3_vfs *pVfs = 0;

  *ppVS = 0;
  sqlite3_mutex_enter(pMutex);
  for(p=pAllStores; p; p=p->pNext){
    if( p->db==db && strcmp(p->zPath, zPath)==0 ) break;
  }
  if( p ){
    p->nRef++;
    sqlite3_mutex_leave(pMutex);
    *ppVS = p;
    return SQLITE_OK;
  }
  sqlite3_mutex_leave(pMutex);

  p = (VStore*)sqlite3_malloc(sizeof(VStore));
  if( p==0 ) return SQLITE_NOMEM;
  memset(p, 0, sizeof(*p));
  p->db = db;
  p->nRef = 1;
  p->zPath = sqlite3_mprintf("%s", zPath);
  sqlite3_file_control(db, "main", SQLITE_FCNTL_VFS_POINTER, &pVfs);
  if( pVfs==0 ) pVfs = sqlite3_vfs_find(0);
  p->pEnv = vlogEnvVfs(pVfs);
  if( p->zPath==0 || p->pEnv==0 ){
    sqlite3_free(p->zPath);
    if( p->pEnv ) vlogEnvVfsFree(p->pEnv);
    sqlite3_free(p);
    return SQLITE_NOMEM;
  }
  vlogConfigDefault(&cfg);
  cfg.bCreate = bCreate;
  /* a read-only database opens its stores read-only: nothing it does
  ** writes them (vlogtool export relies on it) */
  if( sqlite3_db_readonly(db, "main")==1 ){
    cfg.bReadOnly = 1;
    cfg.bCreate = 0;
  }
  cfg.nBusyTimeout = connectionBusyTimeout(db);
  rc = vlogStoreOpen(p->pEnv, zPath, &cfg, &p->pStore);
  if( rc ){
    const char *zMsg = vlogStoreErrMsg(p->pStore);
    if( strstr(zMsg, zPath) ){
      *pzErr = sqlite3_mprintf("vlog: %s", zMsg);
    }else{
      *pzErr = sqlite3_mprintf("vlog: cannot open store %s: %s", zPath, zMsg);
    }
    vlogStoreClose(p->pStore);
    vlogEnvVfsFree(p->pEnv);
    sqlite3_free(p->zPath);
    sqlite3_free(p);
    return rc & 0xff;
  }
  sqlite3_mutex_enter(pMutex);
  p->pNext = pAllStores;
  pAllStores = p;
  sqlite3_mutex_leave(pMutex);
  *ppVS = p;
  return SQLITE_OK;
}

void vlogVStoreRelease(VStore *p){
  sqlite3_mutex *pMutex = registryMutex();
  VStore **pp;
  if( p==0 ) return;
  sqlite3_mutex_enter(pMutex);
  if( --p->nRef>0 ){
    sqlite3_mutex_leave(pMutex);
    return;
  }
  for(pp=&pAllStores; *pp; pp=&(*pp)->pNext){
    if( *pp==p ){ *pp = p->pNext; break; }
  }
  sqlite3_mutex_leave(pMutex);
  vlogStoreClose(p->pStore);
  vlogEnvVfsFree(p->pEnv);
  sqlite3_free(p->zPath);
  sqlite3_free(p);
}

int vlogVStoreList(sqlite3 *db, VStore ***papVS, int *pnVS){
  sqlite3_mutex *pMutex = registryMutex();
  VStore *p, **a;
  int n = 0;
  sqlite3_mutex_enter(pMutex);
  for(p=pAllStores; p; p=p->pNext) if( p->db==db ) n++;
  a = (VStore**)sqlite3_malloc(sizeof(VStore*)*(n+1));
  if( a==0 ){
    sqlite3_mutex_leave(pMutex);
    return SQLITE_NOMEM;
  }
  n = 0;
  for(p=pAllStores; p; p=p->pNext){
    if( p->db==db ){
      p->nRef++;
      a[n++] = p;
    }
  }
  sqlite3_mutex_leave(pMutex);
  *papVS = a;
  *pnVS = n;
  return SQLITE_OK;
}

/* The full path of store file zFile, relative paths taken from the folder
** of database zSchema of db (or the working directory). */
static char *storePath(sqlite3 *db, const char *zSchema, const char *zFile){
  const char *zDb = sqlite3_db_filename(db, zSchema);
  char *zOut;
  if( zFile[0]=='/' || zDb==0 || zDb[0]==0 ){
    zOut = sqlite3_mprintf("%s", zFile);
  }else{
    const char *zSlash = strrchr(zDb, '/');
    if( zSlash ){
      zOut = sqlite3_mprintf("%.*s/%s", (int)(zSlash-zDb), zDb, zFile);
    }else{
      zOut = sqlite3_mprintf("%s", zFile);
    }
  }
  return zOut;
}

/* ---------------------------------------------------------------------
** Key and value encoding
*/
typedef struct VBuf VBuf;
struct VBuf {
  unsigned char *a;
  int n, nAlloc;
};
static int vbufReserve(VBuf *p, int n){
  if( p->nAlloc<n ){
    int nNew = n<64 ? 64 : n*2;
    unsigned char *aNew = (unsigned char*)sqlite3_realloc(p->a, nNew);
    if( aNew==0 ) return SQLITE_NOMEM;
    p->a = aNew;
    p->nAlloc = nNew;
  }
  return SQLITE_OK;
}

static void putBE64(unsigned char *a, sqlite3_uint64 v){
  int i;
  for(i=7; i>=0; i--){ a[i] = (unsigned char)v; v >>= 8; }
}
static sqlite3_uint64 getBE64(const unsigned char *a){
  sqlite3_uint64 v = 0;
  int i;
  for(i=0; i<8; i++) v = (v<<8) | a[i];
  return v;
}

static void encodeInt(VBuf *p, sqlite3_int64 i){
  putBE64(p->a, ((sqlite3_uint64)i) ^ ((sqlite3_uint64)1<<63));
  p->n = 8;
}

/*
** Encode key value pVal for a table of key type eKey into p.  Returns
** SQLITE_OK, SQLITE_MISMATCH (an integer table given a non-integer),
** SQLITE_CONSTRAINT (NULL), SQLITE_TOOBIG or SQLITE_NOMEM.
*/
static int encodeKey(int eKey, sqlite3_value *pVal, VBuf *p){
  int eType = sqlite3_value_type(pVal);
  int rc;
  if( eType==SQLITE_NULL ) return SQLITE_CONSTRAINT;
  if( (rc = vbufReserve(p, 8+1))!=SQLITE_OK ) return rc;
  if( eKey==KEY_INTEGER ){
    if( eType==SQLITE_INTEGER ){
      encodeInt(p, sqlite3_value_int64(pVal));
      return SQLITE_OK;
    }
    if( eType==SQLITE_FLOAT ){
      double r = sqlite3_value_double(pVal);
      if( r==(double)(sqlite3_int64)r && r>-9.2e18 && r<9.2e18 ){
        encodeInt(p, (sqlite3_int64)r);
        return SQLITE_OK;
      }
    }
    if( eType==SQLITE_TEXT ){
      /* INTEGER affinity: text that is an integer becomes one */
      const char *z = (const char*)sqlite3_value_text(pVal);
      char *zEnd = 0;
      long long v;
      if( z && z[0] ){
        v = strtoll(z, &zEnd, 10);
        if( zEnd && *zEnd==0 && sqlite3_value_bytes(pVal)<20 ){
          encodeInt(p, v);
          return SQLITE_OK;
        }
      }
    }
    return SQLITE_MISMATCH;
  }else{
    const unsigned char *z;
    int n;
    if( eKey==KEY_TEXT ){
      z = sqlite3_value_text(pVal);
    }else{
      z = (const unsigned char*)sqlite3_value_blob(pVal);
    }
    n = sqlite3_value_bytes(pVal);
    if( z==0 && n>0 ) return SQLITE_NOMEM;
    if( n+1>VLOG_MAX_KEY ) return SQLITE_TOOBIG;
    if( (rc = vbufReserve(p, n+1))!=SQLITE_OK ) return rc;
    p->a[0] = 0x01;
    if( n ) memcpy(&p->a[1], z, n);
    p->n = n+1;
    return SQLITE_OK;
  }
}

static void resultKey(sqlite3_context *ctx, int eKey, const unsigned char *a, int n){
  if( eKey==KEY_INTEGER ){
    if( n!=8 ){
      sqlite3_result_error(ctx, "vlog: corrupt integer key", -1);
      sqlite3_result_error_code(ctx, SQLITE_CORRUPT);
      return;
    }
    sqlite3_result_int64(ctx, (sqlite3_int64)(getBE64(a) ^ ((sqlite3_uint64)1<<63)));
  }else if( n<1 ){
    sqlite3_result_error(ctx, "vlog: corrupt key", -1);
    sqlite3_result_error_code(ctx, SQLITE_CORRUPT);
  }else if( eKey==KEY_TEXT ){
    sqlite3_result_text(ctx, (const char*)&a[1], n-1, SQLITE_TRANSIENT);
  }else{
    sqlite3_result_blob(ctx, &a[1], n-1, SQLITE_TRANSIENT);
  }
}

/* Encode a value with its type byte. */
static int encodeValue(sqlite3_value *pVal, VBuf *p){
  int eType = sqlite3_value_type(pVal);
  int rc, n;
  switch( eType ){
    case SQLITE_INTEGER:
      if( (rc = vbufReserve(p, 9)) ) return rc;
      p->a[0] = 1;
      putBE64(&p->a[1], (sqlite3_uint64)sqlite3_value_int64(pVal));
      p->n = 9;
      return SQLITE_OK;
    case SQLITE_FLOAT: {
      double r = sqlite3_value_double(pVal);
      sqlite3_uint64 u;
      if( (rc = vbufReserve(p, 9)) ) return rc;
      memcpy(&u, &r, 8);
      p->a[0] = 2;
      putBE64(&p->a[1], u);
      p->n = 9;
      return SQLITE_OK;
    }
    case SQLITE_TEXT: case SQLITE_BLOB: {
      const void *z = eType==SQLITE_TEXT ? (const void*)sqlite3_value_text(pVal)
                                         : sqlite3_value_blob(pVal);
      n = sqlite3_value_bytes(pVal);
      if( z==0 && n>0 ) return SQLITE_NOMEM;
      if( n>VTAB_MAX_VALUE ) return SQLITE_TOOBIG;
      if( (rc = vbufReserve(p, n+1)) ) return rc;
      p->a[0] = eType==SQLITE_TEXT ? 3 : 4;
      if( n ) memcpy(&p->a[1], z, n);
      p->n = n+1;
      return SQLITE_OK;
    }
    default:
      if( (rc = vbufReserve(p, 1)) ) return rc;
      p->a[0] = 0;
      p->n = 1;
      return SQLITE_OK;
  }
}

static void resultValue(sqlite3_context *ctx, const unsigned char *a, int n){
  if( n<1 ) goto corrupt;
  switch( a[0] ){
    case 0: sqlite3_result_null(ctx); return;
    case 1:
      if( n!=9 ) goto corrupt;
      sqlite3_result_int64(ctx, (sqlite3_int64)getBE64(&a[1]));
      return;
    case 2: {
      sqlite3_uint64 u;
      double r;
      if( n!=9 ) goto corrupt;
      u = getBE64(&a[1]);
      memcpy(&r, &u, 8);
      sqlite3_result_double(ctx, r);
      return;
    }
    case 3: sqlite3_result_text(ctx, (const char*)&a[1], n-1, SQLITE_TRANSIENT); return;
    case 4: sqlite3_result_blob(ctx, &a[1], n-1, SQLITE_TRANSIENT); return;
  }
 corrupt:
  sqlite3_result_error(ctx, "vlog: corrupt value", -1);
  sqlite3_result_error_code(ctx, SQLITE_CORRUPT);
}

/* ---------------------------------------------------------------------
** The virtual table
*/
typedef struct VTab VTab;
typedef struct VCsr VCsr;
struct VTab {
  sqlite3_vtab base;           /* Must be first */
  sqlite3 *db;
  VStore *pVS;
  char *zName;                 /* table name */
  char *zSchema;
  unsigned int iTree;
  int eKey;                    /* KEY_* */
  int nInlineMax;
  int iZstdLevel;
  VBuf key, val;               /* scratch */
};
struct VCsr {
  sqlite3_vtab_cursor base;    /* Must be first */
  VlogCursor *pCsr;
  int bDesc;
  int bEq;                     /* an = lookup: at most one row */
  int bEof;
  int bReadTxn;                /* this cursor holds the store's read txn */
  VBuf lo, hi;
};

/* Set the vtab's error message from an engine error; the SQLite code.
** SQLITE_TOOBIG here is always a value too long (keys that are too long
** are refused before they reach the engine, with their own message): it
** is said in the user's bytes, not the engine's. */
static int vtabErr(VTab *p, int rc){
  sqlite3_free(p->base.zErrMsg);
  if( (rc & 0xff)==SQLITE_TOOBIG ){
    p->base.zErrMsg = sqlite3_mprintf("vlog: %s: value longer than %d bytes",
                                      p->zName, VTAB_MAX_VALUE);
    return SQLITE_TOOBIG;
  }
  p->base.zErrMsg = vlogVStoreErr(p->pVS, rc);
  if( (rc & 0xff)==VLOG_NOTFOUND ) return SQLITE_ERROR;
  return rc & 0xff;
}

/* The module arguments of a vlog table. */
typedef struct VOptions VOptions;
struct VOptions {
  char *zFile;                 /* file=, or 0 (sqlite3_malloc) */
  int eKey;                    /* key= */
  int nInline;                 /* inline_max= */
  int iLevel;                  /* zstd_level= */
  sqlite3_int64 nMmap;         /* mmap_size=, or -1 when not given */
};

/* Parse "name=value" module arguments into *pO (defaults already set). */
static int parseOptions(int argc, const char *const *argv, VOptions *pO,
                        char **pzErr){
  int i;
  for(i=3; i<argc; i++){
    const char *z = argv[i];
    const char *zEq = strchr(z, '=');
    char *zName, *zVal;
    int n;
    if( zEq==0 ){
      *pzErr = sqlite3_mprintf("vlog: option %s has no value (write name=value)", z);
      return SQLITE_ERROR;
    }
    zName = sqlite3_mprintf("%.*s", (int)(zEq-z), z);
    while( zEq[1]==' ' ) zEq++;
    zVal = sqlite3_mprintf("%s", zEq+1);
    if( zName==0 || zVal==0 ){
      sqlite3_free(zName);
      sqlite3_free(zVal);
      return SQLITE_NOMEM;
    }
    /* trim blanks; strip one level of quotes */
    for(n=(int)strlen(zName); n>0 && zName[n-1]==' '; n--) zName[n-1] = 0;
    n = (int)strlen(zVal);
    while( n>0 && zVal[n-1]==' ' ) zVal[--n] = 0;
    if( n>=2 && (zVal[0]=='\'' || zVal[0]=='"') && zVal[n-1]==zVal[0] ){
      memmove(zVal, zVal+1, n-2);
      zVal[n-2] = 0;
    }
    if( sqlite3_stricmp(zName, "file")==0 ){
      if( zVal[0]==0 ){
        *pzErr = sqlite3_mprintf("vlog: file= needs a file name");
      }else{
        sqlite3_free(pO->zFile);
        pO->zFile = zVal;
        zVal = 0;
      }
    }else if( sqlite3_stricmp(zName, "key")==0 ){
      if( sqlite3_stricmp(zVal, "integer")==0 ) pO->eKey = KEY_INTEGER;
      else if( sqlite3_stricmp(zVal, "text")==0 ) pO->eKey = KEY_TEXT;
      else if( sqlite3_stricmp(zVal, "blob")==0 ) pO->eKey = KEY_BLOB;
      else *pzErr = sqlite3_mprintf("vlog: key=%s: the key type must be integer, "
                                    "text or blob", zVal);
    }else if( sqlite3_stricmp(zName, "inline_max")==0
           || sqlite3_stricmp(zName, "zstd_level")==0
           || sqlite3_stricmp(zName, "mmap_size")==0 ){
      char *zEnd = 0;
      long long v;
      int bInline = sqlite3_stricmp(zName, "inline_max")==0;
      int bMmap = sqlite3_stricmp(zName, "mmap_size")==0;
      long long lo = 0, hi = bInline ? MAX_INLINE_MAX : bMmap ? LLONG_MAX : 19;
      errno = 0;
      v = strtoll(zVal, &zEnd, 10);
      if( zVal[0]==0 || *zEnd!=0 || errno || v<lo || v>hi ){
        if( bMmap ){
          *pzErr = sqlite3_mprintf("vlog: mmap_size=%s: must be a number of "
                                   "bytes, 0 or more", zVal);
        }else{
          *pzErr = sqlite3_mprintf("vlog: %s=%s: must be an integer from %lld "
                                   "to %lld", zName, zVal, lo, hi);
        }
      }else if( bInline ){
        pO->nInline = (int)v;
      }else if( bMmap ){
        pO->nMmap = v;
      }else{
        pO->iLevel = (int)v;
      }
    }else{
      *pzErr = sqlite3_mprintf("vlog: unknown option %s (the options are file, key, "
                               "inline_max, zstd_level, mmap_size)", zName);
    }
    sqlite3_free(zName);
    sqlite3_free(zVal);
    if( *pzErr ) return SQLITE_ERROR;
  }
  return SQLITE_OK;
}

/* Catalog entry: u32 tree (BE), u8 key type. */
static int catalogGet(VStore *pVS, const char *zName, unsigned int *piTree, int *peKey){
  const void *pVal;
  int nVal;
  int rc = vlogGet(pVS->pStore, CATALOG_TREE, zName, (int)strlen(zName), &pVal, &nVal);
  if( rc==VLOG_OK ){
    const unsigned char *a = (const unsigned char*)pVal;
    if( nVal!=5 ) return VLOG_CORRUPT;
    *piTree = ((unsigned)a[0]<<24) | ((unsigned)a[1]<<16) | ((unsigned)a[2]<<8) | a[3];
    *peKey = a[4];
  }
  return rc;
}

static int catalogPut(VStore *pVS, const char *zName, unsigned int iTree, int eKey){
  unsigned char a[5];
  a[0] = (unsigned char)(iTree>>24); a[1] = (unsigned char)(iTree>>16);
  a[2] = (unsigned char)(iTree>>8);  a[3] = (unsigned char)iTree;
  a[4] = (unsigned char)eKey;
  return vlogPut(pVS->pStore, CATALOG_TREE, zName, (int)strlen(zName), a, 5);
}

static int connectionSync(sqlite3 *db, const char *zSchema);

/* A tree id not in use: one more than the largest in the catalog. */
static int catalogNewTree(VStore *pVS, unsigned int *piTree){
  VlogCursor *pCsr = 0;
  unsigned int iMax = CATALOG_TREE;
  int rc = vlogCursorOpen(pVS->pStore, CATALOG_TREE, &pCsr);
  if( rc==VLOG_OK ) rc = vlogCursorFirst(pCsr);
  while( rc==VLOG_OK && vlogCursorValid(pCsr) ){
    const void *pVal;
    int nVal;
    rc = vlogCursorValue(pCsr, &pVal, &nVal);
    if( rc==VLOG_OK && nVal==5 ){
      const unsigned char *a = (const unsigned char*)pVal;
      unsigned int i = ((unsigned)a[0]<<24) | ((unsigned)a[1]<<16)
                     | ((unsigned)a[2]<<8) | a[3];
      if( i>iMax ) iMax = i;
    }
    if( rc==VLOG_OK ) rc = vlogCursorNext(pCsr);
  }
  vlogCursorClose(pCsr);
  *piTree = iMax+1;
  return rc;
}

int vlogCatalogList(VlogStore *pStore, VlogCatalogEntry **paEntry, int *pnEntry){
  VlogCursor *pCsr = 0;
  VlogCatalogEntry *a = 0;
  int n = 0, nAlloc = 0;
  int bAuto = vlogTxnState(pStore)==0;
  int rc = bAuto ? vlogBegin(pStore, 0) : VLOG_OK;
  *paEntry = 0;
  *pnEntry = 0;
  if( rc==VLOG_OK ) rc = vlogCursorOpen(pStore, CATALOG_TREE, &pCsr);
  if( rc==VLOG_OK ) rc = vlogCursorFirst(pCsr);
  while( rc==VLOG_OK && vlogCursorValid(pCsr) ){
    const void *pKey, *pVal;
    int nKey, nVal;
    rc = vlogCursorKey(pCsr, &pKey, &nKey);
    if( rc==VLOG_OK ) rc = vlogCursorValue(pCsr, &pVal, &nVal);
    if( rc==VLOG_OK && nVal!=5 ) rc = VLOG_CORRUPT;
    if( rc==VLOG_OK && n>=nAlloc ){
      VlogCatalogEntry *aNew;
      nAlloc = nAlloc ? nAlloc*2 : 8;
      aNew = (VlogCatalogEntry*)sqlite3_realloc(a, nAlloc*(int)sizeof(*a));
      if( aNew==0 ) rc = VLOG_NOMEM;
      else a = aNew;
    }
    if( rc==VLOG_OK ){
      const unsigned char *v = (const unsigned char*)pVal;
      a[n].zName = sqlite3_mprintf("%.*s", nKey, (const char*)pKey);
      a[n].iTree = ((unsigned)v[0]<<24) | ((unsigned)v[1]<<16)
                 | ((unsigned)v[2]<<8) | v[3];
      a[n].eKey = v[4];
      if( a[n].zName==0 ) rc = VLOG_NOMEM;
      else n++;
    }
    if( rc==VLOG_OK ) rc = vlogCursorNext(pCsr);
  }
  vlogCursorClose(pCsr);
  if( bAuto ) vlogCommit(pStore);
  if( rc ){
    vlogCatalogFree(a, n);
    return rc;
  }
  *paEntry = a;
  *pnEntry = n;
  return VLOG_OK;
}

void vlogCatalogFree(VlogCatalogEntry *a, int n){
  int i;
  for(i=0; i<n; i++) sqlite3_free(a[i].zName);
  sqlite3_free(a);
}

static int vtabInit(sqlite3 *db, void *pAux, int argc, const char *const *argv,
                    sqlite3_vtab **ppVtab, char **pzErr, int bCreate){
  VTab *p = 0;
  char *zFile = 0, *zPath = 0;
  VOptions o;
  int eKey, rc;
  const char *zType;
  (void)pAux;

  memset(&o, 0, sizeof(o));
  o.eKey = KEY_BLOB;
  o.nInline = DEFAULT_INLINE_MAX;
  o.iLevel = DEFAULT_ZSTD_LEVEL;
  o.nMmap = -1;
  rc = parseOptions(argc, argv, &o, pzErr);
  zFile = o.zFile;
  eKey = o.eKey;
  if( rc ) goto out;
  if( zFile==0 ){
    const char *zDb = sqlite3_db_filename(db, argv[1]);
    if( zDb==0 || zDb[0]==0 ){
      *pzErr = sqlite3_mprintf("vlog: table %s is in an in-memory or temporary "
          "database: say where its store goes with file='...'", argv[2]);
      rc = SQLITE_ERROR;
      goto out;
    }
    zFile = sqlite3_mprintf("%s.vlog", zDb);
    if( zFile==0 ){ rc = SQLITE_NOMEM; goto out; }
  }
  {
    char *zRel = storePath(db, argv[1], zFile);
    zPath = zRel ? fullPath(zRel) : 0;
    sqlite3_free(zRel);
  }
  p = (VTab*)sqlite3_malloc(sizeof(VTab));
  if( zPath==0 || p==0 ){ rc = SQLITE_NOMEM; goto out; }
  memset(p, 0, sizeof(*p));
  p->db = db;
  p->eKey = eKey;
  p->nInlineMax = o.nInline;
  p->iZstdLevel = o.iLevel;
  p->zName = sqlite3_mprintf("%s", argv[2]);
  p->zSchema = sqlite3_mprintf("%s", argv[1]);
  if( p->zName==0 || p->zSchema==0 ){ rc = SQLITE_NOMEM; goto out; }
  rc = vlogVStoreAcquire(db, zPath, bCreate, &p->pVS, pzErr);
  if( rc ) goto out;
  if( o.nMmap>=0 ){
    rc = vlogStoreSetMmapSize(p->pVS->pStore, o.nMmap);
    if( rc ){
      *pzErr = vlogVStoreErr(p->pVS, rc);
      rc &= 0xff;
      goto out;
    }
  }

  if( bCreate ){
    unsigned int iTree;
    int eOld;
    int bAuto = vlogTxnState(p->pVS->pStore)!=2;
    /* Inside BEGIN ... COMMIT, SQLite lists the new table in the
    ** transaction without calling its xBegin: the engine's write
    ** transaction starts here and stays open, so that the catalog entry
    ** and the rows written next commit or roll back with SQLite's
    ** transaction (xSync/xCommit, xRollback), as xBegin's would. */
    int bKeep = bAuto && !sqlite3_get_autocommit(db);
    if( bKeep ) vlogStoreSetSync(p->pVS->pStore, connectionSync(db, argv[1]));
    rc = bAuto ? vlogBegin(p->pVS->pStore, 1) : VLOG_OK;
    if( rc==VLOG_OK ){
      rc = catalogGet(p->pVS, p->zName, &iTree, &eOld);
      if( rc==VLOG_OK ){
        *pzErr = sqlite3_mprintf("vlog: store %s already has a table named %s",
                                 zPath, p->zName);
        rc = SQLITE_ERROR;
      }else if( rc==VLOG_NOTFOUND ){
        rc = catalogNewTree(p->pVS, &p->iTree);
        if( rc==VLOG_OK ) rc = catalogPut(p->pVS, p->zName, p->iTree, eKey);
        if( rc && rc!=SQLITE_ERROR ){
          *pzErr = vlogVStoreErr(p->pVS, rc);
        }
      }else{
        *pzErr = vlogVStoreErr(p->pVS, rc);
      }
    }else{
      *pzErr = vlogVStoreErr(p->pVS, rc);
    }
    if( bAuto ){
      if( rc==VLOG_OK ){
        if( !bKeep ) rc = vlogCommit(p->pVS->pStore);
        if( rc ) *pzErr = vlogVStoreErr(p->pVS, rc);
      }else{
        vlogRollback(p->pVS->pStore);
      }
    }
    rc &= 0xff;
    if( rc ) goto out;
  }else{
    int eOld = 0;
    rc = catalogGet(p->pVS, p->zName, &p->iTree, &eOld);
    if( rc==VLOG_NOTFOUND ){
      *pzErr = sqlite3_mprintf("vlog: store %s has no table named %s (was the "
                               "store file replaced or removed?)", zPath, p->zName);
      rc = SQLITE_CORRUPT;
      goto out;
    }
    if( rc ){
      *pzErr = vlogVStoreErr(p->pVS, rc);
      rc &= 0xff;
      goto out;
    }
    if( eOld!=eKey ){
      *pzErr = sqlite3_mprintf("vlog: table %s in store %s was made with another "
                               "key type", p->zName, zPath);
      rc = SQLITE_CORRUPT;
      goto out;
    }
  }

  zType = eKey==KEY_INTEGER ? "INTEGER" : eKey==KEY_TEXT ? "TEXT" : "BLOB";
  {
    char *zSql = sqlite3_mprintf("CREATE TABLE x(key %s PRIMARY KEY NOT NULL, value)"
                                 " WITHOUT ROWID", zType);
    if( zSql==0 ){ rc = SQLITE_NOMEM; goto out; }
    rc = sqlite3_declare_vtab(db, zSql);
    sqlite3_free(zSql);
  }
  if( rc==SQLITE_OK ){
    sqlite3_vtab_config(db, SQLITE_VTAB_CONSTRAINT_SUPPORT, 1);
  }

 out:
  sqlite3_free(zFile);
  sqlite3_free(zPath);
  if( rc ){
    if( p ){
      vlogVStoreRelease(p->pVS);
      sqlite3_free(p->zName);
      sqlite3_free(p->zSchema);
      sqlite3_free(p);
    }
    return rc;
  }
  *ppVtab = &p->base;
  return SQLITE_OK;
}

static int vtabCreate(sqlite3 *db, void *pAux, int argc, const char *const *argv,
                      sqlite3_vtab **ppVtab, char **pzErr){
  return vtabInit(db, pAux, argc, argv, ppVtab, pzErr, 1);
}
static int vtabConnect(sqlite3 *db, void *pAux, int argc, const char *const *argv,
                       sqlite3_vtab **ppVtab, char **pzErr){
  return vtabInit(db, pAux, argc, argv, ppVtab, pzErr, 0);
}

static int vtabDisconnect(sqlite3_vtab *pVtab){
  VTab *p = (VTab*)pVtab;
  vlogVStoreRelease(p->pVS);
  sqlite3_free(p->zName);
  sqlite3_free(p->zSchema);
  sqlite3_free(p->key.a);
  sqlite3_free(p->val.a);
  sqlite3_free(p);
  return SQLITE_OK;
}

/* DROP TABLE: every key goes (its values become stale), then the catalog
** entry. */
static int vtabDestroy(sqlite3_vtab *pVtab){
  VTab *p = (VTab*)pVtab;
  VlogStore *pS = p->pVS->pStore;
  int bAuto = vlogTxnState(pS)!=2;
  int rc = bAuto ? vlogBegin(pS, 1) : VLOG_OK;
  if( rc==VLOG_OK ) rc = vlogTreeDrop(pS, p->iTree);
  if( rc==VLOG_OK ) rc = vlogDelete(pS, CATALOG_TREE, p->zName, (int)strlen(p->zName));
  if( bAuto ){
    if( rc==VLOG_OK ) rc = vlogCommit(pS);
    else vlogRollback(pS);
  }
  if( rc ) return vtabErr(p, rc);
  return vtabDisconnect(pVtab);
}

static int vtabRename(sqlite3_vtab *pVtab, const char *zNew){
  VTab *p = (VTab*)pVtab;
  VlogStore *pS = p->pVS->pStore;
  unsigned int iTree;
  int eKey;
  int bAuto = vlogTxnState(pS)!=2;
  char *zNewName = sqlite3_mprintf("%s", zNew);
  int rc;
  if( zNewName==0 ) return SQLITE_NOMEM;
  rc = bAuto ? vlogBegin(pS, 1) : VLOG_OK;
  if( rc==VLOG_OK ){
    rc = catalogGet(p->pVS, zNew, &iTree, &eKey);
    if( rc==VLOG_OK ){
      sqlite3_free(p->base.zErrMsg);
      p->base.zErrMsg = sqlite3_mprintf("vlog: store %s already has a table named %s",
                                        p->pVS->zPath, zNew);
      if( bAuto ) vlogRollback(pS);
      sqlite3_free(zNewName);
      return SQLITE_ERROR;
    }
    if( rc==VLOG_NOTFOUND ) rc = VLOG_OK;
  }
  if( rc==VLOG_OK ) rc = vlogDelete(pS, CATALOG_TREE, p->zName, (int)strlen(p->zName));
  if( rc==VLOG_OK ) rc = catalogPut(p->pVS, zNew, p->iTree, p->eKey);
  if( bAuto ){
    if( rc==VLOG_OK ) rc = vlogCommit(pS);
    else vlogRollback(pS);
  }
  if( rc ){
    sqlite3_free(zNewName);
    return vtabErr(p, rc);
  }
  sqlite3_free(p->zName);
  p->zName = zNewName;
  return SQLITE_OK;
}

/* idxNum bits */
#define IDX_EQ     0x01
#define IDX_GT     0x02
#define IDX_GE     0x04
#define IDX_LT     0x08
#define IDX_LE     0x10
#define IDX_DESC   0x20

static int vtabBestIndex(sqlite3_vtab *pVtab, sqlite3_index_info *pInfo){
  int i, iEq = -1, iLo = -1, iHi = -1;
  int idxNum = 0, nArg = 0;
  double rRows = 1000000.0;
  (void)pVtab;
  for(i=0; i<pInfo->nConstraint; i++){
    const struct sqlite3_index_constraint *c = &pInfo->aConstraint[i];
    if( !c->usable || c->iColumn!=0 ) continue;
    switch( c->op ){
      case SQLITE_INDEX_CONSTRAINT_EQ: if( iEq<0 ) iEq = i; break;
      case SQLITE_INDEX_CONSTRAINT_GT:
      case SQLITE_INDEX_CONSTRAINT_GE: if( iLo<0 ) iLo = i; break;
      case SQLITE_INDEX_CONSTRAINT_LT:
      case SQLITE_INDEX_CONSTRAINT_LE: if( iHi<0 ) iHi = i; break;
    }
  }
  if( iEq>=0 ){
    idxNum = IDX_EQ;
    pInfo->aConstraintUsage[iEq].argvIndex = ++nArg;
    rRows = 1.0;
    pInfo->idxFlags |= SQLITE_INDEX_SCAN_UNIQUE;
  }else{
    if( iLo>=0 ){
      idxNum |= pInfo->aConstraint[iLo].op==SQLITE_INDEX_CONSTRAINT_GT ? IDX_GT : IDX_GE;
      pInfo->aConstraintUsage[iLo].argvIndex = ++nArg;
      rRows /= 4;
    }
    if( iHi>=0 ){
      idxNum |= pInfo->aConstraint[iHi].op==SQLITE_INDEX_CONSTRAINT_LT ? IDX_LT : IDX_LE;
      pInfo->aConstraintUsage[iHi].argvIndex = ++nArg;
      rRows /= 4;
    }
  }
  if( pInfo->nOrderBy==1 && pInfo->aOrderBy[0].iColumn==0 ){
    if( pInfo->aOrderBy[0].desc ) idxNum |= IDX_DESC;
    pInfo->orderByConsumed = 1;
  }
  pInfo->idxNum = idxNum;
  pInfo->estimatedRows = (sqlite3_int64)rRows;
  /* a seek costs a descent (about 20); each row about 1 */
  pInfo->estimatedCost = 20.0 + rRows;
  return SQLITE_OK;
}

static int vtabOpen(sqlite3_vtab *pVtab, sqlite3_vtab_cursor **ppCsr){
  VTab *p = (VTab*)pVtab;
  VCsr *pC = (VCsr*)sqlite3_malloc(sizeof(VCsr));
  int rc;
  if( pC==0 ) return SQLITE_NOMEM;
  memset(pC, 0, sizeof(*pC));
  rc = vlogCursorOpen(p->pVS->pStore, p->iTree, &pC->pCsr);
  if( rc ){
    sqlite3_free(pC);
    return vtabErr(p, rc);
  }
  pC->bEof = 1;
  *ppCsr = &pC->base;
  return SQLITE_OK;
}

/* End the read transaction this cursor holds, if it is the last holder. */
static void csrEndRead(VTab *p, VCsr *pC){
  if( pC->bReadTxn ){
    pC->bReadTxn = 0;
    if( --p->pVS->nReadCsr==0 && vlogTxnState(p->pVS->pStore)==1 ){
      vlogCommit(p->pVS->pStore);
    }
  }
}

static int vtabClose(sqlite3_vtab_cursor *pCur){
  VCsr *pC = (VCsr*)pCur;
  VTab *p = (VTab*)pCur->pVtab;
  vlogCursorClose(pC->pCsr);
  csrEndRead(p, pC);
  sqlite3_free(pC->lo.a);
  sqlite3_free(pC->hi.a);
  sqlite3_free(pC);
  return SQLITE_OK;
}

/* Type order of SQLite: NULL < numbers < text < blob. */
static int typeRank(int eType){
  switch( eType ){
    case SQLITE_NULL: return 0;
    case SQLITE_INTEGER: case SQLITE_FLOAT: return 1;
    case SQLITE_TEXT: return 2;
  }
  return 3;
}
static int keyTypeRank(int eKey){
  return eKey==KEY_INTEGER ? 1 : eKey==KEY_TEXT ? 2 : 3;
}

/*
** A bound for a range scan from constraint value pVal: 0 no bound (the
** constraint cannot narrow the scan soundly), 1 a bound in pBuf (with *pbOpen
** meaning the key itself is excluded), -1 nothing can match.
*/
static int rangeBound(VTab *p, sqlite3_value *pVal, int bLower, int bStrict,
                      VBuf *pBuf, int *pbOpen){
  int eType = sqlite3_value_type(pVal);
  int rk = typeRank(eType), rt = keyTypeRank(p->eKey);
  int rc;
  *pbOpen = bStrict;
  if( eType==SQLITE_NULL ) return -1;          /* comparisons with NULL fail */
  if( p->eKey==KEY_INTEGER && eType==SQLITE_FLOAT ){
    double r = sqlite3_value_double(pVal);
    sqlite3_int64 i;
    if( r>=9.2e18 ) return bLower ? -1 : 0;
    if( r<=-9.2e18 ) return bLower ? 0 : -1;
    i = (sqlite3_int64)r;                      /* toward zero */
    if( (double)i!=r ){
      /* between two integers: the bound is the nearer integer, inclusive */
      if( bLower && r>0 ) i++;
      if( !bLower && r<0 ) i--;
      *pbOpen = 0;
    }
    if( vbufReserve(pBuf, 9) ) return 0;
    encodeInt(pBuf, i);
    return 1;
  }
  if( p->eKey==KEY_TEXT && rk==1 ){
    /* TEXT affinity makes numbers text */
    rc = encodeKey(KEY_TEXT, pVal, pBuf);
    return rc==SQLITE_OK ? 1 : 0;
  }
  if( p->eKey==KEY_INTEGER && eType==SQLITE_TEXT ){
    rc = encodeKey(KEY_INTEGER, pVal, pBuf);
    if( rc==SQLITE_OK ) return 1;
  }
  if( rk!=rt ){
    /* every key is of another type: all below it, or all above */
    if( rt<rk ) return bLower ? -1 : 0;
    return bLower ? 0 : -1;
  }
  rc = encodeKey(p->eKey, pVal, pBuf);
  return rc==SQLITE_OK ? 1 : 0;
}

static int csrSettle(VTab *p, VCsr *pC, int rc){
  if( rc ) return vtabErr(p, rc);
  pC->bEof = !vlogCursorValid(pC->pCsr);
  return SQLITE_OK;
}

static int vtabFilter(sqlite3_vtab_cursor *pCur, int idxNum, const char *idxStr,
                      int argc, sqlite3_value **argv){
  VCsr *pC = (VCsr*)pCur;
  VTab *p = (VTab*)pCur->pVtab;
  VlogStore *pS = p->pVS->pStore;
  int rc, iArg = 0;
  int bLo = 0, bHi = 0, bLoOpen = 0, bHiOpen = 0;
  (void)idxStr; (void)argc;

  pC->bEof = 1;
  pC->bDesc = (idxNum & IDX_DESC)!=0;
  pC->bEq = (idxNum & IDX_EQ)!=0;
  if( vlogTxnState(pS)==0 ){
    rc = vlogBegin(pS, 0);
    if( rc ) return vtabErr(p, rc);
  }
  if( !pC->bReadTxn && vlogTxnState(pS)==1 ){
    pC->bReadTxn = 1;
    p->pVS->nReadCsr++;
  }

  if( idxNum & IDX_EQ ){
    VBuf k = {0, 0, 0};
    int r = SQLITE_OK;
    sqlite3_value *v = argv[iArg++];
    int eType = sqlite3_value_type(v);
    /* = compares after the key's affinity: numbers for an integer key,
    ** text for a text key; a blob key compares bytes as they are */
    if( eType==SQLITE_NULL ) return SQLITE_OK;
    if( p->eKey==KEY_INTEGER && eType==SQLITE_BLOB ) return SQLITE_OK;
    if( p->eKey==KEY_TEXT && eType==SQLITE_BLOB ) return SQLITE_OK;
    if( p->eKey==KEY_BLOB && eType!=SQLITE_BLOB && eType!=SQLITE_TEXT ) return SQLITE_OK;
    r = encodeKey(p->eKey, v, &k);
    if( r==SQLITE_MISMATCH || r==SQLITE_TOOBIG ){
      sqlite3_free(k.a);
      return SQLITE_OK;                        /* matches nothing */
    }
    if( r ){ sqlite3_free(k.a); return r; }
    rc = vlogCursorBounds(pC->pCsr, 0, 0, 0, 0, 0, 0);
    if( rc==VLOG_OK ) rc = vlogCursorSeek(pC->pCsr, k.a, k.n, VLOG_SEEK_EQ);
    sqlite3_free(k.a);
    return csrSettle(p, pC, rc);
  }
  if( idxNum & (IDX_GT|IDX_GE) ){
    int r = rangeBound(p, argv[iArg++], 1, (idxNum & IDX_GT)!=0, &pC->lo, &bLoOpen);
    if( r<0 ) return SQLITE_OK;
    bLo = r;
  }
  if( idxNum & (IDX_LT|IDX_LE) ){
    int r = rangeBound(p, argv[iArg++], 0, (idxNum & IDX_LT)!=0, &pC->hi, &bHiOpen);
    if( r<0 ) return SQLITE_OK;
    bHi = r;
  }
  rc = vlogCursorBounds(pC->pCsr, bLo ? pC->lo.a : 0, pC->lo.n, bLoOpen,
                        bHi ? pC->hi.a : 0, pC->hi.n, bHiOpen);
  if( rc==VLOG_OK ){
    rc = pC->bDesc ? vlogCursorLast(pC->pCsr) : vlogCursorFirst(pC->pCsr);
  }
  return csrSettle(p, pC, rc);
}

static int vtabNext(sqlite3_vtab_cursor *pCur){
  VCsr *pC = (VCsr*)pCur;
  VTab *p = (VTab*)pCur->pVtab;
  int rc;
  if( pC->bEq ){
    pC->bEof = 1;              /* keys are unique */
    return SQLITE_OK;
  }
  rc = pC->bDesc ? vlogCursorPrev(pC->pCsr) : vlogCursorNext(pC->pCsr);
  return csrSettle(p, pC, rc);
}

static int vtabEof(sqlite3_vtab_cursor *pCur){
  return ((VCsr*)pCur)->bEof;
}

static int vtabColumn(sqlite3_vtab_cursor *pCur, sqlite3_context *ctx, int iCol){
  VCsr *pC = (VCsr*)pCur;
  VTab *p = (VTab*)pCur->pVtab;
  const void *a;
  int n, rc;
  if( iCol==0 ){
    rc = vlogCursorKey(pC->pCsr, &a, &n);
    if( rc==VLOG_OK ) resultKey(ctx, p->eKey, (const unsigned char*)a, n);
  }else{
    rc = vlogCursorValue(pC->pCsr, &a, &n);
    if( rc==VLOG_OK ) resultValue(ctx, (const unsigned char*)a, n);
  }
  if( rc ){
    char *z = vlogVStoreErr(p->pVS, rc);
    sqlite3_result_error(ctx, z ? z : "vlog: error", -1);
    sqlite3_free(z);
    sqlite3_result_error_code(ctx, rc & 0xff);
  }
  return SQLITE_OK;
}

static int vtabRowid(sqlite3_vtab_cursor *pCur, sqlite3_int64 *pRowid){
  (void)pCur;
  *pRowid = 0;
  return SQLITE_ERROR;           /* a WITHOUT ROWID table has no rowid */
}

/*
** INSERT, UPDATE, DELETE.  For a WITHOUT ROWID virtual table argv[0] is
** the old key (NULL for an INSERT) and argv[1] the new key.
*/
static int vtabUpdate(sqlite3_vtab *pVtab, int argc, sqlite3_value **argv,
                      sqlite3_int64 *pRowid){
  VTab *p = (VTab*)pVtab;
  VlogStore *pS = p->pVS->pStore;
  int rc = SQLITE_OK, bAuto = vlogTxnState(pS)!=2;
  (void)pRowid;

  if( bAuto ){
    rc = vlogBegin(pS, 1);
    if( rc ) return vtabErr(p, rc);
  }
  if( argc==1 ){
    /* DELETE */
    rc = encodeKey(p->eKey, argv[0], &p->key);
    if( rc==SQLITE_OK ) rc = vlogDelete(pS, p->iTree, p->key.a, p->key.n);
  }else{
    int bInsert = sqlite3_value_type(argv[0])==SQLITE_NULL;
    int bKeyChange = 0;
    VBuf old = {0, 0, 0};
    rc = encodeKey(p->eKey, argv[2], &p->key);
    if( rc==SQLITE_CONSTRAINT ){
      sqlite3_free(pVtab->zErrMsg);
      pVtab->zErrMsg = sqlite3_mprintf("vlog: %s.key may not be NULL", p->zName);
      rc = SQLITE_CONSTRAINT_NOTNULL;
    }else if( rc==SQLITE_MISMATCH ){
      sqlite3_free(pVtab->zErrMsg);
      pVtab->zErrMsg = sqlite3_mprintf("vlog: %s.key must be an integer", p->zName);
    }else if( rc==SQLITE_TOOBIG ){
      sqlite3_free(pVtab->zErrMsg);
      pVtab->zErrMsg = sqlite3_mprintf("vlog: %s: key longer than %d bytes",
                                       p->zName, VLOG_MAX_KEY-1);
    }
    if( rc==SQLITE_OK && !bInsert ){
      /* an UPDATE: is the key changing? */
      rc = encodeKey(p->eKey, argv[0], &old);
      if( rc==SQLITE_OK ){
        bKeyChange = old.n!=p->key.n || memcmp(old.a, p->key.a, old.n)!=0;
      }
    }
    if( rc==SQLITE_OK && bKeyChange
     && sqlite3_vtab_on_conflict(p->db)!=SQLITE_REPLACE ){
      /* the new key must be free before the old one goes */
      rc = vlogHas(pS, p->iTree, p->key.a, p->key.n);
      rc = rc==VLOG_OK ? VLOG_CONSTRAINT : rc==VLOG_NOTFOUND ? SQLITE_OK : rc;
    }
    if( rc==SQLITE_OK && bKeyChange ) rc = vlogDelete(pS, p->iTree, old.a, old.n);
    sqlite3_free(old.a);
    if( rc==SQLITE_OK ) rc = encodeValue(argv[3], &p->val);
    if( rc==SQLITE_OK ){
      if( (bInsert || bKeyChange) && sqlite3_vtab_on_conflict(p->db)!=SQLITE_REPLACE ){
        /* a duplicate key is a constraint error unless OR REPLACE */
        rc = vlogInsertEx(pS, p->iTree, p->key.a, p->key.n, p->val.a, p->val.n,
                          p->nInlineMax, p->iZstdLevel);
      }else{
        rc = vlogPutEx(pS, p->iTree, p->key.a, p->key.n, p->val.a, p->val.n,
                       p->nInlineMax, p->iZstdLevel);
      }
    }
    if( rc==VLOG_CONSTRAINT ){
      sqlite3_free(pVtab->zErrMsg);
      pVtab->zErrMsg = sqlite3_mprintf("UNIQUE constraint failed: %s.key", p->zName);
      rc = SQLITE_CONSTRAINT_PRIMARYKEY;
    }
  }
  if( bAuto ){
    if( rc==SQLITE_OK ) rc = vlogCommit(pS);
    else vlogRollback(pS);
  }
  if( rc && rc!=SQLITE_NOMEM && pVtab->zErrMsg==0 ) rc = vtabErr(p, rc);
  return rc;
}

/* The connection's PRAGMA synchronous for schema zSchema, as an engine
** level. */
static int connectionSync(sqlite3 *db, const char *zSchema){
  sqlite3_stmt *pStmt = 0;
  int eSync = VLOG_SYNC_FULL;
  char *zSql = sqlite3_mprintf("PRAGMA \"%w\".synchronous", zSchema);
  if( zSql && sqlite3_prepare_v2(db, zSql, -1, &pStmt, 0)==SQLITE_OK
   && sqlite3_step(pStmt)==SQLITE_ROW ){
    int v = sqlite3_column_int(pStmt, 0);
    eSync = v<=0 ? VLOG_SYNC_OFF : v==1 ? VLOG_SYNC_NORMAL : VLOG_SYNC_FULL;
  }
  sqlite3_finalize(pStmt);
  sqlite3_free(zSql);
  return eSync;
}

static int vtabBegin(sqlite3_vtab *pVtab){
  VTab *p = (VTab*)pVtab;
  VlogStore *pS = p->pVS->pStore;
  int rc;
  if( vlogTxnState(pS)==2 ) return SQLITE_OK;   /* another table of the store */
  vlogStoreSetSync(pS, connectionSync(p->db, p->zSchema));
  vlogVStoreSetBusyTimeout(p->pVS);
  rc = vlogBegin(pS, 1);
  return rc ? vtabErr(p, rc) : SQLITE_OK;
}

static int vtabSync(sqlite3_vtab *pVtab){
  VTab *p = (VTab*)pVtab;
  VlogStore *pS = p->pVS->pStore;
  int rc;
  if( vlogTxnState(pS)!=2 ) return SQLITE_OK;   /* another table's */
  rc = vlogCommitPrepare(pS);
  return rc ? vtabErr(p, rc) : SQLITE_OK;
}

static int vtabCommit(sqlite3_vtab *pVtab){
  VTab *p = (VTab*)pVtab;
  VlogStore *pS = p->pVS->pStore;
  if( vlogTxnState(pS)!=2 ) return SQLITE_OK;   /* another table's */
  /* Prepared in xSync: this publishes it and cannot fail (SQLite ignores
  ** xCommit's result anyway). */
  vlogCommit(pS);
  if( p->pVS->nReadCsr>0 ){
    /* cursors still open: keep them a read transaction */
    vlogBegin(pS, 0);
  }
  return SQLITE_OK;
}

static int vtabRollback(sqlite3_vtab *pVtab){
  VTab *p = (VTab*)pVtab;
  VlogStore *pS = p->pVS->pStore;
  if( vlogTxnState(pS)==2 ){
    vlogRollback(pS);
    if( p->pVS->nReadCsr>0 ) vlogBegin(pS, 0);
  }
  return SQLITE_OK;
}

static int vtabSavepoint(sqlite3_vtab *pVtab, int iSave){
  VTab *p = (VTab*)pVtab;
  int rc = vlogSavepoint(p->pVS->pStore, iSave+1);
  return rc ? vtabErr(p, rc) : SQLITE_OK;
}

static int vtabRelease(sqlite3_vtab *pVtab, int iSave){
  VTab *p = (VTab*)pVtab;
  int rc = vlogRelease(p->pVS->pStore, iSave+1);
  return rc ? vtabErr(p, rc) : SQLITE_OK;
}

static int vtabRollbackTo(sqlite3_vtab *pVtab, int iSave){
  VTab *p = (VTab*)pVtab;
  VlogStore *pS = p->pVS->pStore;
  int rc;
  if( vlogTxnState(pS)!=2 ) return SQLITE_OK;
  rc = vlogRollbackTo(pS, iSave+1);
  return rc ? vtabErr(p, rc) : SQLITE_OK;
}

static int vtabShadowName(const char *zName){
  (void)zName;
  return 0;
}

static sqlite3_module vlogModule = {
  3,                    /* iVersion */
  vtabCreate,           /* xCreate: CREATE VIRTUAL TABLE */
  vtabConnect,          /* xConnect: a connection opens the schema */
  vtabBestIndex,        /* xBestIndex */
  vtabDisconnect,       /* xDisconnect */
  vtabDestroy,          /* xDestroy: DROP TABLE */
  vtabOpen,             /* xOpen: a cursor */
  vtabClose,            /* xClose */
  vtabFilter,           /* xFilter: position for a plan */
  vtabNext,             /* xNext */
  vtabEof,              /* xEof */
  vtabColumn,           /* xColumn: key or value */
  vtabRowid,            /* xRowid: none (WITHOUT ROWID) */
  vtabUpdate,           /* xUpdate: INSERT, UPDATE, DELETE */
  vtabBegin,            /* xBegin */
  vtabSync,             /* xSync: the store commits */
  vtabCommit,           /* xCommit */
  vtabRollback,         /* xRollback */
  0,                    /* xFindFunction */
  vtabRename,           /* xRename: ALTER TABLE RENAME */
  vtabSavepoint,        /* xSavepoint */
  vtabRelease,          /* xRelease */
  vtabRollbackTo,       /* xRollbackTo */
  vtabShadowName        /* xShadowName */
};

int vlogVtabRegister(sqlite3 *db){
  return sqlite3_create_module_v2(db, "vlog", &vlogModule, 0, 0);
}

/*
** The store of vlog table zTab of the main schema, found among the stores
** db has open (connecting the table opens it).  *pzErr says why not: the
** error of connecting the table (the store's open failing, with the
** system's reason), when that is what went wrong.
*/
static int resolveTable(sqlite3 *db, const char *zTab, VStore **ppVS, char **pzErr){
  char *zSql = sqlite3_mprintf("SELECT 1 FROM main.\"%w\" LIMIT 0", zTab);
  char *zWhy = 0;
  sqlite3_stmt *pStmt = 0;
  VStore *pVS;
  sqlite3_mutex *pMutex = registryMutex();
  if( zSql==0 ) return SQLITE_NOMEM;
  if( sqlite3_prepare_v2(db, zSql, -1, &pStmt, 0)==SQLITE_OK ){
    sqlite3_step(pStmt);
  }else{
    zWhy = sqlite3_mprintf("%s", sqlite3_errmsg(db));
  }
  sqlite3_finalize(pStmt);
  sqlite3_free(zSql);
  /* the VTab is not reachable through the API: find the store by the
  ** table's catalog entry in the stores this connection opened */
  sqlite3_mutex_enter(pMutex);
  for(pVS=pAllStores; pVS; pVS=pVS->pNext){
    unsigned int iTree;
    int eKey;
    if( pVS->db!=db ) continue;
    if( catalogGet(pVS, zTab, &iTree, &eKey)==VLOG_OK ){
      pVS->nRef++;
      *ppVS = pVS;
      break;
    }
  }
  sqlite3_mutex_leave(pMutex);
  if( *ppVS==0 ){
    *pzErr = sqlite3_mprintf("vlog: cannot find the store of table %s: %s", zTab,
        zWhy ? zWhy : "no store open in this connection has it in its catalog");
  }
  sqlite3_free(zWhy);
  return *ppVS ? SQLITE_OK : SQLITE_ERROR;
}

int vlogVStoreResolve(sqlite3 *db, const char *zArg, VStore **ppVS, char **pzErr){
  sqlite3_stmt *pStmt = 0;
  char *zPath = 0;
  int rc;
  *ppVS = 0;
  if( zArg==0 ){
    *pzErr = sqlite3_mprintf("vlog: name a vlog table or a store file");
    return SQLITE_ERROR;
  }
  /* a table of the main schema? */
  rc = sqlite3_prepare_v2(db,
      "SELECT sql FROM main.sqlite_schema WHERE type='table' AND name=?1",
      -1, &pStmt, 0);
  if( rc==SQLITE_OK ){
    sqlite3_bind_text(pStmt, 1, zArg, -1, SQLITE_STATIC);
    if( sqlite3_step(pStmt)==SQLITE_ROW ){
      const char *zSql = (const char*)sqlite3_column_text(pStmt, 0);
      if( zSql && sqlite3_strlike("CREATE VIRTUAL TABLE%USING vlog%", zSql, 0)==0 ){
        sqlite3_finalize(pStmt);
        return resolveTable(db, zArg, ppVS, pzErr);
      }
      *pzErr = sqlite3_mprintf("vlog: %s is not a vlog table (it is %s)", zArg,
          zSql && sqlite3_strlike("CREATE VIRTUAL TABLE%", zSql, 0)==0 ?
          "a virtual table of another module" : "an ordinary table");
      sqlite3_finalize(pStmt);
      return SQLITE_ERROR;
    }
  }
  sqlite3_finalize(pStmt);
  /* a store file */
  zPath = fullPath(zArg);
  if( zPath==0 ) return SQLITE_NOMEM;
  rc = vlogVStoreAcquire(db, zPath, 0, ppVS, pzErr);
  if( rc && rc!=SQLITE_NOMEM ){
    const char *zWhy = *pzErr ? *pzErr : "";
    char *zMsg;
    if( strncmp(zWhy, "vlog: ", 6)==0 ) zWhy += 6;
    zMsg = sqlite3_mprintf("vlog: %s is neither a vlog table nor a store file "
                           "(%s)", zArg, zWhy);
    sqlite3_free(*pzErr);
    *pzErr = zMsg;
  }
  sqlite3_free(zPath);
  return rc;
}
