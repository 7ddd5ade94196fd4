/*
** func.c: vlog's scalar SQL functions.
**
**   vlog_version()            'vlog 0.1.0 zstd 1.5.4 xxhash 0.8.1 sqlite 3.40.1'
**   vlog_version(COMPONENT)   one of those versions: COMPONENT is 'vlog',
**                             'zstd', 'xxhash' or 'sqlite'
**
** The versions are those of the libraries the process runs with, not the
** headers vlog was compiled against.
*/
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "vlogInt.h"
#include "util.h"

/*
** The connections vlog is registered with.  Its last registration, the
** marker function vlog_version() with no argument, carries a node of this
** list whose destructor (SQLite calls it when the connection closes, or
** when the function is replaced) takes the connection out again.  Asking
** SQLite instead (preparing a call of the marker) logged "no such
** function" through sqlite3_log() at every open of every connection.
*/
typedef struct Registered Registered;
struct Registered {
  sqlite3 *db;
  Registered *pNext;
};
static Registered *pAllRegistered = 0;
static pthread_mutex_t registeredMu = PTHREAD_MUTEX_INITIALIZER;

static void registeredDrop(void *pArg){
  Registered **pp;
  (void)pthread_mutex_lock(&registeredMu);
  for(pp=&pAllRegistered; *pp; pp=&(*pp)->pNext){
    if( *pp==(Registered*)pArg ){ *pp = (*pp)->pNext; break; }
  }
  (void)pthread_mutex_unlock(&registeredMu);
  free(pArg);
}

static void versionFunc(
  sqlite3_context *ctx,
  int argc,
  sqlite3_value **argv
){
  char zXxh[24];
  const char *zZstd = vlogZstdVersion();
  const char *zSqlite = sqlite3_libversion();
  vlogXxhashVersion(zXxh, sizeof(zXxh));

  if( argc==0 ){
    char *z = sqlite3_mprintf("vlog %s zstd %s xxhash %s sqlite %s",
                              VLOG_VERSION, zZstd, zXxh, zSqlite);
    if( z==0 ){
      sqlite3_result_error_nomem(ctx);
    }else{
      sqlite3_result_text(ctx, z, -1, sqlite3_free);
    }
  }else{
    const char *zWhat = 0;
    const char *zRes = 0;
    if( sqlite3_value_type(argv[0])==SQLITE_TEXT ){
      zWhat = (const char*)sqlite3_value_text(argv[0]);
      if( zWhat==0 ){
        sqlite3_result_error_nomem(ctx);
        return;
      }
    }
    if( zWhat==0 ){
      /* not text */
    }else if( sqlite3_stricmp(zWhat, "vlog")==0 ){
      zRes = VLOG_VERSION;
    }else if( sqlite3_stricmp(zWhat, "zstd")==0 ){
      zRes = zZstd;
    }else if( sqlite3_stricmp(zWhat, "xxhash")==0 ){
      zRes = zXxh;
    }else if( sqlite3_stricmp(zWhat, "sqlite")==0 ){
      zRes = zSqlite;
    }
    if( zRes==0 ){
      char *zErr = zWhat ?
        sqlite3_mprintf("vlog_version(): unknown component %Q; "
                        "expected 'vlog', 'zstd', 'xxhash' or 'sqlite'", zWhat) :
        sqlite3_mprintf("vlog_version(): the component must be text: "
                        "'vlog', 'zstd', 'xxhash' or 'sqlite'");
      sqlite3_result_error(ctx, zErr ? zErr : "vlog_version(): bad argument", -1);
      sqlite3_free(zErr);
      return;
    }
    sqlite3_result_text(ctx, zRes, -1, SQLITE_TRANSIENT);
  }
}

/*
** vlog_vfs_default(ON): ON true makes the vlog VFS the process's default
** VFS, for applications that cannot name one; false makes the VFS under
** it the default again.  Returns the default VFS's name.
*/
static void vfsDefaultFunc(
  sqlite3_context *ctx,
  int argc,
  sqlite3_value **argv
){
  sqlite3_vfs *pVlog = sqlite3_vfs_find("vlog");
  int rc;
  (void)argc;
  if( sqlite3_value_type(argv[0])!=SQLITE_INTEGER ){
    sqlite3_result_error(ctx, "vlog_vfs_default(ON): ON must be 1 (make vlog the "
                         "default VFS) or 0 (make its parent the default)", -1);
    return;
  }
  if( pVlog==0 || vlogVfsParent(pVlog)==pVlog ){
    sqlite3_result_error(ctx, "vlog_vfs_default(): no vlog VFS is registered", -1);
    return;
  }
  if( sqlite3_value_int(argv[0]) ){
    rc = sqlite3_vfs_register(pVlog, 1);
  }else{
    rc = sqlite3_vfs_register(vlogVfsParent(pVlog), 1);
  }
  if( rc!=SQLITE_OK ){
    sqlite3_result_error_code(ctx, rc);
    return;
  }
  sqlite3_result_text(ctx, sqlite3_vfs_find(0)->zName, -1, SQLITE_TRANSIENT);
}

/* True when vlog is already registered with db (the marker function, the
** last thing registered, carries it in the list). */
int vlogIsRegistered(sqlite3 *db){
  Registered *p;
  (void)pthread_mutex_lock(&registeredMu);
  for(p=pAllRegistered; p && p->db!=db; p=p->pNext){}
  (void)pthread_mutex_unlock(&registeredMu);
  return p!=0;
}

int vlogFuncRegister(sqlite3 *db){
  static const struct {
    const char *zName;
    int nArg;
    int flags;
    void (*xFunc)(sqlite3_context*, int, sqlite3_value**);
  } aFunc[] = {
    { "vlog_version", 1, SQLITE_DETERMINISTIC|SQLITE_INNOCUOUS, versionFunc },
    { "vlog_vfs_default", 1, SQLITE_DIRECTONLY, vfsDefaultFunc },
  };
  Registered *pNode;
  int i;
  int rc = SQLITE_OK;

  for(i=0; rc==SQLITE_OK && i<(int)(sizeof(aFunc)/sizeof(aFunc[0])); i++){
    rc = sqlite3_create_function_v2(db, aFunc[i].zName, aFunc[i].nArg,
        SQLITE_UTF8|aFunc[i].flags, 0,
        aFunc[i].xFunc, 0, 0, 0);
  }
  if( rc ) return rc;
  /* the marker, last: its node lists db until the connection closes */
  pNode = (Registered*)malloc(sizeof(*pNode));
  if( pNode==0 ) return SQLITE_NOMEM;
  pNode->db = db;
  (void)pthread_mutex_lock(&registeredMu);
  pNode->pNext = pAllRegistered;
  pAllRegistered = pNode;
  (void)pthread_mutex_unlock(&registeredMu);
  /* on failure SQLite calls the destructor, which unlists it */
  return sqlite3_create_function_v2(db, "vlog_version", 0,
      SQLITE_UTF8|SQLITE_DETERMINISTIC|SQLITE_INNOCUOUS, pNode,
      versionFunc, 0, 0, registeredDrop);
}
