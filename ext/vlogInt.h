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

/* The oldest SQLite vlog runs with: sqlite3_vtab_in() and
** sqlite3_vtab_rhs_value() arrived in 3.38.0.  Overridable so that a test
** can build a copy of the extension that refuses the running SQLite. */
#ifndef VLOG_MIN_SQLITE_VERSION
# define VLOG_MIN_SQLITE_VERSION 3038000
#endif

/* Register vlog's SQL functions with db.  Idempotent. */
int vlogFuncRegister(sqlite3 *db);

#endif /* VLOG_INT_H */
