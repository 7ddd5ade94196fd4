/*
** test_vlog.c: glue that links vlog into SQLite's testfixture, and the Tcl
** commands through which the project's tests reach vlog's internals (in the
** way SQLite's src/test*.c reach its own).
**
** testfixture-vlog is SQLite's testfixture built with
** -DSQLITE_EXTRA_INIT=vlog_testfixture_init and this file plus libvlog.a
** linked in.  sqlite3_initialize() calls vlog_testfixture_init() each time
** it runs (tester.tcl calls sqlite3_shutdown()/sqlite3_initialize() at the
** start of every file).  It
**   - puts sqlite3_vlog_init() on the auto-extension list again, so every
**     connection a test opens, those of SQLite's own test files included,
**     has vlog registered;
**   - offers the Tcl commands below as the static Tcl package "Vlogtest":
**     test/vlog_common.tcl runs `load {} Vlogtest`.
**
** Tcl commands:
**   vlog_init DB      call sqlite3_vlog_init() on connection DB directly, as
**                     an application linking libvlog.a may; returns the
**                     result code's name and the message, if any
*/
#include <tcl.h>
#include "sqlite3.h"
#include "vlog.h"

/* From SQLite's src/test1.c: the sqlite3* behind a Tcl database command. */
extern int getDbPointer(Tcl_Interp *interp, const char *zA, sqlite3 **ppDb);
extern const char *sqlite3ErrName(int);

static int vlogInitCmd(
  ClientData cd,
  Tcl_Interp *interp,
  int objc,
  Tcl_Obj *const objv[]
){
  sqlite3 *db = 0;
  char *zErr = 0;
  int rc;
  Tcl_Obj *pRes;
  (void)cd;
  if( objc!=2 ){
    Tcl_WrongNumArgs(interp, 1, objv, "DB");
    return TCL_ERROR;
  }
  if( getDbPointer(interp, Tcl_GetString(objv[1]), &db) || db==0 ){
    return TCL_ERROR;
  }
  rc = sqlite3_vlog_init(db, &zErr, 0);
  pRes = Tcl_NewListObj(0, 0);
  Tcl_ListObjAppendElement(interp, pRes, Tcl_NewStringObj(sqlite3ErrName(rc), -1));
  if( zErr ){
    Tcl_ListObjAppendElement(interp, pRes, Tcl_NewStringObj(zErr, -1));
    sqlite3_free(zErr);
  }
  Tcl_SetObjResult(interp, pRes);
  return TCL_OK;
}

static int Vlogtest_Init(Tcl_Interp *interp){
  static const struct {
    const char *zName;
    Tcl_ObjCmdProc *xProc;
  } aCmd[] = {
    { "vlog_init", vlogInitCmd },
  };
  int i;
  for(i=0; i<(int)(sizeof(aCmd)/sizeof(aCmd[0])); i++){
    Tcl_CreateObjCommand(interp, aCmd[i].zName, aCmd[i].xProc, 0, 0);
  }
  return TCL_OK;
}

int vlog_testfixture_init(const char *zUnused){
  static int bTclDone = 0;
  (void)zUnused;
  if( !bTclDone ){
    Tcl_StaticPackage(0, "Vlogtest", Vlogtest_Init, 0);
    bTclDone = 1;
  }
  return sqlite3_auto_extension((void(*)(void))sqlite3_vlog_init);
}
