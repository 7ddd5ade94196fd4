/*
** vlog.c: the extension's entry point.
**
** COMPILING
**   make builds vlog.so (loadable) and libvlog.a (static, -DVLOG_STATIC).
**
** LOADING
**   sqlite3 shell:   .load ./vlog
**   SQL:             SELECT load_extension('./vlog');
**   static C:        sqlite3_auto_extension((void(*)(void))sqlite3_vlog_init);
**
** DESIGN NOTE
**   sqlite3_vlog_init() is called once per connection (load_extension() or
**   the auto-extension list).  Everything it does must be idempotent:
**   loading the library twice into one connection, or into many connections,
**   registers nothing twice and never fails because of earlier loads.  Two
**   hazards make that non-trivial:
**     - re-registering an SQL function while a statement of the connection
**       runs fails with SQLITE_BUSY, and `SELECT load_extension(...)` is such
**       a statement; so per-connection registration first asks whether vlog
**       is already there (ext/func.c);
**     - process-wide objects (the VFS) are registered once and never
**       unregistered, which is why the loadable build returns
**       SQLITE_OK_LOAD_PERMANENTLY: SQLite must not dlclose() a library
**       whose VFS other connections still use.  The first load also lists
**       the entry point with sqlite3_auto_extension(), so that every
**       connection opened later in the process (the shell's .open, a
**       database opened on the VFS) has vlog's functions and tables, as
**       the VFS is there for all of them.
**   The SQLite version is checked before anything else touches the API
**   table: an older SQLite's table is shorter, and calling past its end
**   would crash.
*/
#include <string.h>
#include "vlogInt.h"

#ifndef VLOG_STATIC
SQLITE_EXTENSION_INIT1
#endif

/* "3038000" as "3.38.0", written into zBuf (at least 24 bytes). */
static const char *versionText(char *zBuf, int n, int iVersion){
  sqlite3_snprintf(n, zBuf, "%d.%d.%d",
      iVersion/1000000, (iVersion/1000)%1000, iVersion%1000);
  return zBuf;
}

/* The loadable build compiles with -fvisibility=hidden: the entry point is
** the only symbol vlog.so exports, so that its internals (sqlite3_api among
** them) never clash with another extension's. */
__attribute__((visibility("default")))
int sqlite3_vlog_init(
  sqlite3 *db,
  char **pzErrMsg,
  const sqlite3_api_routines *pApi
){
  int rc;
#ifdef VLOG_STATIC
  (void)pApi;
#else
  SQLITE_EXTENSION_INIT2(pApi);
#endif

  if( sqlite3_libversion_number()<VLOG_MIN_SQLITE_VERSION ){
    char zNeed[24];
    if( pzErrMsg ){
      *pzErrMsg = sqlite3_mprintf(
          "vlog %s needs SQLite %s or later, but this process runs SQLite %s",
          VLOG_VERSION, versionText(zNeed, sizeof(zNeed), VLOG_MIN_SQLITE_VERSION),
          sqlite3_libversion());
    }
    return SQLITE_ERROR;
  }

  /* The VFS: process-wide, registered by the first load, kept */
  rc = vlogVfsRegister("vlog", 0, 0);
#ifndef VLOG_STATIC
  /* ... and every connection opened afterwards gets vlog too (the shell's
  ** .open after .load, a database opened on the VFS): the library stays
  ** loaded (SQLITE_OK_LOAD_PERMANENTLY), so its entry point stays valid.
  ** A no-op when already listed. */
  if( rc==SQLITE_OK ) rc = sqlite3_auto_extension((void(*)(void))sqlite3_vlog_init);
#endif
  if( rc!=SQLITE_OK ){
    if( pzErrMsg ){
      *pzErrMsg = sqlite3_mprintf("vlog: cannot register the vlog VFS (%s)",
                                  sqlite3_errstr(rc));
    }
    return rc;
  }

  if( !vlogIsRegistered(db) ){
    rc = vlogVtabRegister(db);
    if( rc==SQLITE_OK ) rc = vlogIntrospectRegister(db);
    if( rc==SQLITE_OK ) rc = vlogFuncRegister(db);
    if( rc!=SQLITE_OK ){
      if( pzErrMsg ){
        *pzErrMsg = sqlite3_mprintf("vlog: cannot register: %s", sqlite3_errmsg(db));
      }
      return rc;
    }
  }

#ifdef VLOG_STATIC
  return SQLITE_OK;
#else
  return SQLITE_OK_LOAD_PERMANENTLY;
#endif
}

/* Not exported by vlog.so (-fvisibility=hidden): static builds only. */
int sqlite3_vlog_vfs_register(const char *zName, const char *zParent, int bDefault){
  return vlogVfsRegister(zName, zParent, bDefault);
}
