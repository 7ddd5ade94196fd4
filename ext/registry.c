/*
** registry.c: the stores open in each connection.
**
** A connection that uses vlog (its virtual tables, introspection tables
** and functions, and later the vlog VFS, issue 15) opens each store file
** once: one engine handle (VlogStore) per connection and file, shared by
** every user in that connection and reference counted, the last release
** closing it.  A VlogStore is used by one thread at a time, as a
** connection is (SQLite holds the connection's mutex around every call of
** a virtual table method); two connections have two handles on the same
** file, which coordinate through the file's locks and shared memory as
** two processes would (engine/engine.h).
**
** DESIGN NOTE
**
** The registry is one process-wide list of VStore, keyed by (connection,
** full path), under a mutex of vlog's own (a pthread mutex: SQLite's
** static APP mutexes belong to the application, which may hold one while
** it opens a connection, and vlog's auto-extension runs in every open):
** the list and the reference counts change only with it held.  A store is
** opened (vlogStoreOpen, which may read and write the file) with the
** mutex released, then linked; two threads cannot race to open the same
** (connection, path), since each connection is used by one thread at a
** time.  A handle's I/O goes through vlogEnvVfs() over the connection's
** own VFS (SQLITE_FCNTL_VFS_POINTER on "main"), so that a test's fault
** injection or crash simulation under the connection reaches the store.
** The connection's state decides how the store opens: read-only when its
** database is (mode=ro, a read-only file), with no locks when the
** database was opened with immutable=1, waiting for locks as long as
** PRAGMA busy_timeout says (connectionBusyTimeout).
**
** Nothing here knows of tables or catalogs: ext/vtab.c (tables, their
** catalog, vlogVStoreResolve) and ext/introspect.c are users of it, as the
** VFS will be.
*/
#include <pthread.h>
#include <string.h>
#include "vlogInt.h"

static VStore *pAllStores = 0;
static pthread_mutex_t registryMu = PTHREAD_MUTEX_INITIALIZER;

static void registryEnter(void){ (void)pthread_mutex_lock(&registryMu); }
static void registryLeave(void){ (void)pthread_mutex_unlock(&registryMu); }

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
  /* cannot fail: connectionBusyTimeout() is never negative */
  (void)vlogStoreSetBusyTimeout(pVS->pStore, connectionBusyTimeout(pVS->db));
}

/* The registry's VStore of connection db for store file zPath (its own
** handle) or, zPath 0, for the borrowed handle pStore: one more reference;
** 0 if there is none. */
static VStore *registryFind(sqlite3 *db, const char *zPath, VlogStore *pStore){
  VStore *p;
  registryEnter();
  for(p=pAllStores; p; p=p->pNext){
    if( p->db!=db ) continue;
    if( zPath ? (!p->bBorrowed && strcmp(p->zPath, zPath)==0) : p->pStore==pStore ) break;
  }
  if( p ) p->nRef++;
  registryLeave();
  return p;
}

/* A new VStore of connection db for zPath, one reference, not linked;
** 0 when out of memory. */
static VStore *registryNew(sqlite3 *db, const char *zPath){
  VStore *p = (VStore*)sqlite3_malloc(sizeof(VStore));
  if( p==0 ) return 0;
  memset(p, 0, sizeof(*p));
  p->db = db;
  p->nRef = 1;
  p->zPath = sqlite3_mprintf("%s", zPath);
  if( p->zPath==0 ){
    sqlite3_free(p);
    return 0;
  }
  return p;
}

char *vlogFullPath(const char *zPath){
  sqlite3_vfs *pVfs = sqlite3_vfs_find(0);
  char *zFull = (char*)sqlite3_malloc(pVfs->mxPathname+1);
  if( zFull==0 ) return 0;
  if( pVfs->xFullPathname(pVfs, zPath, pVfs->mxPathname+1, zFull)!=SQLITE_OK ){
    sqlite3_free(zFull);
    return sqlite3_mprintf("%s", zPath);
  }
  return zFull;
}

int vlogVStoreAcquire(sqlite3 *db, const char *zDb, const char *zPath,
                      int bCreate, VStore **ppVS, char **pzErr){
  VStore *p;
  VlogConfig cfg;
  int rc;
  sqlite3_vfs *pVfs = 0;

  *ppVS = registryFind(db, zPath, 0);
  if( *ppVS ) return SQLITE_OK;

  p = registryNew(db, zPath);
  if( p==0 ) return SQLITE_NOMEM;
  sqlite3_file_control(db, "main", SQLITE_FCNTL_VFS_POINTER, &pVfs);
  if( pVfs==0 ) pVfs = sqlite3_vfs_find(0);
  /* a database on the vlog VFS: its stores are files of the VFS below */
  pVfs = vlogVfsParent(pVfs);
  p->pEnv = vlogEnvVfs(pVfs);
  if( p->pEnv==0 ){
    sqlite3_free(p->zPath);
    sqlite3_free(p);
    return SQLITE_NOMEM;
  }
  vlogConfigDefault(&cfg);
  cfg.bCreate = bCreate;
  /* A read-only database reads its stores read-only: the engine then
  ** writes nothing, nor creates a -shm (SQLite in WAL mode reads such
  ** databases too; vlogtool export relies on it); an immutable one
  ** (immutable=1) takes no locks. */
  if( sqlite3_db_readonly(db, zDb)==1 ){
    cfg.bReadOnly = 1;
    cfg.bCreate = 0;
  }
  cfg.bImmutable = sqlite3_uri_boolean(sqlite3_db_filename(db, zDb), "immutable", 0);
  cfg.nBusyTimeout = connectionBusyTimeout(db);
  rc = vlogStoreOpen(p->pEnv, zPath, &cfg, &p->pStore);
  if( rc==VLOG_OK && !cfg.bImmutable ){
    /* the store's own map size (vlog_config(STORE, 'mmap_size', N)) */
    double rMmap = 0.0;
    rc = vlogMaintSetting(p->pStore, "mmap_size", 0, &rMmap);
    if( rc==VLOG_OK && (sqlite3_int64)rMmap!=cfg.nMmapSize ){
      rc = vlogStoreSetMmapSize(p->pStore, (sqlite3_int64)rMmap);
    }
  }
  if( rc ){
    const char *zMsg = vlogStoreErrMsg(p->pStore);
    if( strstr(zMsg, zPath) ){
      *pzErr = sqlite3_mprintf("vlog: %s", zMsg);
    }else{
      *pzErr = sqlite3_mprintf("vlog: cannot open store %s: %s", zPath, zMsg);
    }
    (void)vlogStoreClose(p->pStore);      /* the open's error is reported */
    vlogEnvVfsFree(p->pEnv);
    sqlite3_free(p->zPath);
    sqlite3_free(p);
    return rc & 0xff;
  }
  registryEnter();
  p->pNext = pAllStores;
  pAllStores = p;
  registryLeave();
  *ppVS = p;
  return SQLITE_OK;
}

int vlogVStoreBorrow(sqlite3 *db, const char *zDb, VStore **ppVS){
  sqlite3_file *pFile = 0;
  VlogStore *pStore;
  const char *zName;
  VStore *p;
  *ppVS = 0;
  zName = sqlite3_db_filename(db, zDb);
  if( zName==0 ) return SQLITE_NOTFOUND;
  if( sqlite3_file_control(db, zDb, SQLITE_FCNTL_FILE_POINTER, &pFile)!=SQLITE_OK ){
    return SQLITE_NOTFOUND;
  }
  pStore = vlogVfsStore(pFile);
  if( pStore==0 ) return SQLITE_NOTFOUND;
  *ppVS = registryFind(db, 0, pStore);
  if( *ppVS ) return SQLITE_OK;
  p = registryNew(db, zName);
  if( p==0 ) return SQLITE_NOMEM;
  p->bBorrowed = 1;
  p->pStore = pStore;
  registryEnter();
  p->pNext = pAllStores;
  pAllStores = p;
  registryLeave();
  *ppVS = p;
  return SQLITE_OK;
}

void vlogVStoreRelease(VStore *p){
  VStore **pp;
  if( p==0 ) return;
  registryEnter();
  if( --p->nRef>0 ){
    registryLeave();
    return;
  }
  for(pp=&pAllStores; *pp; pp=&(*pp)->pNext){
    if( *pp==p ){ *pp = p->pNext; break; }
  }
  registryLeave();
  /* The last connection let go of the store: nobody is left to tell of an
  ** error (a rollback of a transaction no connection holds, an unlock).
  ** A borrowed handle is its database file's. */
  if( !p->bBorrowed ){
    (void)vlogStoreClose(p->pStore);
    vlogEnvVfsFree(p->pEnv);
  }
  sqlite3_free(p->zPath);
  sqlite3_free(p);
}

int vlogVStoreList(sqlite3 *db, VStore ***papVS, int *pnVS){
  VStore *p, **a;
  int n = 0;
  registryEnter();
  for(p=pAllStores; p; p=p->pNext) if( p->db==db ) n++;
  a = (VStore**)sqlite3_malloc(sizeof(VStore*)*(n+1));
  if( a==0 ){
    registryLeave();
    return SQLITE_NOMEM;
  }
  n = 0;
  for(p=pAllStores; p; p=p->pNext){
    if( p->db==db ){
      p->nRef++;
      a[n++] = p;
    }
  }
  registryLeave();
  *papVS = a;
  *pnVS = n;
  return SQLITE_OK;
}

