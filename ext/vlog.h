/*
** vlog.h: public interface of the vlog SQLite extension.
**
** vlog is a SQLite extension with its own storage engine (a B-tree for keys
** and an append-only value log for values).  This header is what an
** application needs to link vlog statically (libvlog.a); a loadable build
** (vlog.so) needs no header at all:
**
**     sqlite3> .load ./vlog
**     SELECT load_extension('./vlog');
**
** STATIC USE
**
**     #include <vlog.h>
**     sqlite3_auto_extension((void(*)(void))sqlite3_vlog_init);
**
** registers vlog with every connection opened afterwards.  Build with
**
**     cc app.c $(pkg-config --cflags --libs vlog)
*/
#ifndef VLOG_H
#define VLOG_H

#include "sqlite3.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VLOG_VERSION        "0.1.0"
#define VLOG_VERSION_NUMBER 1000     /* X*1000000 + Y*1000 + Z */

/*
** The one registration function.  It registers vlog's SQL functions,
** modules and VFS with connection db (and the process-wide parts once).
** Registering twice, or with many connections, is harmless.
**
** Pass it to sqlite3_auto_extension() for static use, or call it directly on
** one connection with pApi set to 0.  On failure it returns an SQLite error
** code and, when pzErrMsg is not 0, a message from sqlite3_malloc() that the
** caller frees with sqlite3_free().  It returns SQLITE_OK_LOAD_PERMANENTLY
** on success when loaded as an extension, SQLITE_OK when linked statically.
*/
int sqlite3_vlog_init(
  sqlite3 *db,
  char **pzErrMsg,
  const struct sqlite3_api_routines *pApi
);

/*
** Register a vlog VFS named zName (0: "vlog") over the VFS named zParent
** (0: the default one), and make it the default VFS if bDefault.  The
** extension's first load registers "vlog" over the default VFS already;
** this is for another parent (a VFS of the application's) or for making
** vlog the default from C.  SQLITE_NOTFOUND: no VFS zParent; SQLITE_ERROR:
** zName is taken by another VFS; SQLITE_MISUSE: zParent is a vlog VFS.
** Statically linked builds only (the loadable one exports its entry point
** alone: use SELECT vlog_vfs_default(1) there).
*/
int sqlite3_vlog_vfs_register(const char *zName, const char *zParent, int bDefault);

#ifdef __cplusplus
}
#endif
#endif /* VLOG_H */
