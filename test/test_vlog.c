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
** Tcl commands (and vlog_crashvfs, in test_crashvfs.c):
**   vlog_init DB      call sqlite3_vlog_init() on connection DB directly, as
**                     an application linking libvlog.a may; returns the
**                     result code's name and the message, if any
**
**   vlog_fix sb|journal|node|frame FILE OFFSET
**                     recompute the checksums of the structure at OFFSET
**                     of FILE after a test has rewritten its bytes
**                     (test/fixsum.c): a superblock; a journal entry (over
**                     the payload length its header claims, cut at the end
**                     of the file); the bsets of a node region (node size
**                     bytes, cut at the end of the file); a value-log frame
**                     (over the stored length its header claims, cut at
**                     the end of the file).  For crafted
**                     stores whose checksums hold while their lengths lie
**                     (engine_hostile.test).  Use it on a store no handle
**                     has open: the file is opened and closed with stdio
**
**   vlog_txn_limit DB N
**                     the most bytes a transaction may log (engine/txn.c),
**                     in every store connection DB has open (found in the
**                     registry, ext/registry.c): N, or the engine's limit
**                     for 0.  Returns the number of stores.  A test's knob,
**                     to reach the limit without a gigabyte of changes
**
**   vlog_store open NAME PATH ?OPTIONS?
**                     open the engine store in file PATH (engine/engine.h)
**                     and create the Tcl command NAME bound to it.  The
**                     store's I/O goes through vlogEnvVfs() over the SQLite
**                     VFS named by -vfs (default: the default VFS), so that
**                     SQLite's fault injection and its crash VFS reach the
**                     engine.  OPTIONS (the VlogConfig fields; an option not
**                     given keeps vlogConfigDefault()'s value):
**                       -vfs VFSNAME        parent VFS
**                       -create 0|1         bCreate (default here: 1)
**                       -readonly 0|1       bReadOnly
**                       -bucketsize N       nBucketSize (new stores)
**                       -nodesize N         nNodeSize (new stores)
**                       -cachesize N        nCacheSize, bytes
**                       -autocheckpoint N   nAutoCheckpoint, bytes
**                       -sync off|normal|full   eSync
**                       -busytimeout MS     nBusyTimeout
**                       -mmapsize N         nMmapSize, bytes (0: no map)
**                     Returns NAME.  On failure no command is created and
**                     the error is "CODENAME message".
**
** Store commands (NAME SUBCOMMAND ...).  Every engine error is a Tcl error
** whose message is "CODENAME message": vlogErrName(rc), a space and
** vlogStoreErrMsg(), e.g. "VLOG_BUSY database is locked".  TREE is a tree
** id (0 to 4294967295; users' trees start at 16).  KEY and VALUE are byte
** arrays (Tcl_GetByteArrayFromObj): binary data round-trips, and ordinary
** strings of characters up to \xff convert byte for byte.
**   NAME close                  close the cursors, then the store; frees
**                               the VlogEnv.  An error from vlogStoreClose()
**                               is reported as "CODENAME" (the handle is
**                               gone either way)
**   NAME begin ?read|write?     vlogBegin(); the default is write
**   NAME commit                 vlogCommit()
**   NAME rollback               vlogRollback()
**   NAME prepare                vlogCommitPrepare(): phase one of a commit
**   NAME savepoint N            vlogSavepoint(N)
**   NAME rollback_to N          vlogRollbackTo(N)
**   NAME release N              vlogRelease(N)
**   NAME txnstate               vlogTxnState(): 0 none, 1 read, 2 write
**   NAME put TREE KEY VALUE     vlogPut()
**   NAME delete TREE KEY        vlogDelete()
**   NAME get TREE KEY           vlogGet(): {} when the key is absent, else
**                               a one-element list {VALUE}, so that an
**                               empty value ({{}}) differs from no value
**   NAME treedrop TREE          vlogTreeDrop()
**   NAME treeclear TREE         vlogTreeClear()
**   NAME treecreate ?INLINEMAX ZSTDLEVEL ?ZINLINE??
**                               vlogTreeCreate() (the default policy
**                               without them; ZINLINE: bCompressInline, 0
**                               when not given): returns the new id
**   NAME treepolicy TREE        vlogTreeGetPolicy(): {INLINEMAX ZSTDLEVEL},
**                               and a third element 1 when values in the
**                               leaf are compressed; {} when there is no
**                               such tree
**   NAME treepolicy TREE INLINEMAX ZSTDLEVEL ?ZINLINE?
**                               vlogTreeSetPolicy()
**   NAME insert TREE KEY VALUE  vlogInsert(): VLOG_CONSTRAINT if KEY exists
**   NAME txnlimit N             the most bytes the redo or undo log of a
**                               transaction may take (VlogStore.nTxnLogMax),
**                               so that a test reaches the limit without
**                               writing a gigabyte; 0: TXN_LOG_MAX
**   NAME checkpoint             vlogCheckpoint()
**   NAME verify                 vlogVerify(): the report.  When the store
**                               fails verification the error is "CODENAME
**                               message" followed by a newline and the
**                               report, if there is one
**   NAME info                   vlogStoreInfo(): the text
**   NAME maxvalue               vlogStoreMaxValue(): largest value, bytes
**   NAME setsync off|normal|full      vlogStoreSetSync()
**   NAME setcachesize N               vlogStoreSetCacheSize()
**   NAME setautocheckpoint N          vlogStoreSetAutoCheckpoint()
**   NAME setmmapsize N                vlogStoreSetMmapSize()
**   NAME putx TREE KEY VALUE INLINEMAX ZSTDLEVEL
**                               vlogPutEx(): a value longer than INLINEMAX
**                               goes to the value log
**   NAME segments               vlogSegments(): a list of {id state total
**                               live records} per value-log segment
**   NAME stats                  vlogStats(): a flat list NAME VALUE ...
**   NAME slot                   the reader-table slot this handle owns (-1:
**                               none; engine/shm.c)
**   NAME slot I                 slot I: {owner ckpt jseq live mine}, owner
**                               the process id written in it, ckpt and
**                               jseq its pins, live 1 if a handle of some
**                               process holds its lock byte, mine 1 if it
**                               is this handle's (vlogShmSlotInfo())
**   NAME slotowner I PID        write PID as slot I's owner, as a process
**                               that reused a dead owner's id, or one in
**                               another PID namespace, would appear
**   NAME slotcount              the number of reader slots
**   NAME oldestpin              vlogShmOldestPin(): {ckpt jseq}, {0 0}
**                               when nothing is pinned
**   NAME shmwrite OFFSET BYTES  write BYTES (a byte array) into the store's
**                               reader table in shared memory at OFFSET
**                               (shm.c), as a hostile process could: the
**                               -shm is never opened with a file descriptor
**                               of the test's (closing it would drop the
**                               process's locks on it)
**   NAME cursor NAME2 TREE      vlogCursorOpen(): creates the cursor
**                               command NAME2; returns NAME2.  Closing the
**                               store closes (and deletes) its cursors.
**   NAME check                  vlogStoreCheck() (engine/check.c): "" when
**                               the handle's memory is sound, else the
**                               error "VLOG_CORRUPT" and what is wrong
**   NAME testbreak WHAT TREE    break the handle's memory for the checker
**                               to find; the same call again mends it.
**                               WHAT: order (swap the first two keys of
**                               the newest bset of TREE's root, which must
**                               be in memory), nref (one more reference
**                               to that root), region (its region's live
**                               bit; the root must be written), wbuf (the
**                               order of arrival of the last two entries
**                               of the write buffer; TREE is ignored)
**
** Cursor commands (NAME2 SUBCOMMAND ...):
**   NAME2 bounds LO LOOPEN HI HIOPEN
**                               vlogCursorBounds().  LO and HI are lists:
**                               the empty list {} means no bound, a list
**                               of one element {KEY} a bound at KEY (so
**                               [list $k] for a key held in a variable).
**                               LOOPEN/HIOPEN: 1 excludes the bound key
**   NAME2 seek KEY eq|ge|le|gt|lt     vlogCursorSeek(); returns valid
**   NAME2 first | last | next | prev  move; each returns valid (0 or 1)
**   NAME2 valid                 vlogCursorValid(): 0 or 1
**   NAME2 key                   vlogCursorKey(): the key (byte array)
**   NAME2 value                 vlogCursorValue(): the value (byte array)
**   NAME2 valueheld SCRIPT      vlogCursorValue(), then SCRIPT, then the
**                               bytes it returned (engine.h: valid until
**                               the next call on the handle)
**   NAME2 close                 vlogCursorClose(); deletes NAME2
** A move that finds nothing (VLOG_NOTFOUND from the engine, or an invalid
** cursor) is not an error: it returns 0.
*/
#include <tcl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "vlogInt.h"          /* sqlite3.h, vlog.h, the registry of stores */
#include "storeInt.h"        /* the reader table's layout; vlogChecksum */
#include "fixsum.h"

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

/*************************************************************************
** vlog_store and the store and cursor commands it creates.
*/
typedef struct TclStore TclStore;
typedef struct TclCursor TclCursor;

/* One store command.  Allocated with ckalloc(), never with sqlite3_malloc(),
** so that OOM injection aimed at the engine does not hit the test glue. */
struct TclStore {
  Tcl_Interp *interp;
  Tcl_Command token;           /* The store's Tcl command */
  VlogStore *pStore;           /* 0 once closed */
  VlogEnv *pEnv;               /* From vlogEnvVfs(); freed after close */
  TclCursor *pCsr;             /* Open cursors of this store */
};

/* One cursor command; linked into its store's list. */
struct TclCursor {
  Tcl_Command token;
  VlogCursor *pCsr;            /* 0 once closed */
  TclStore *pStore;
  TclCursor *pNext;
};

/* An empty key or bound still needs a non-null pointer. */
static const unsigned char aEmpty[1] = {0};

/*
** Leave "CODENAME message" in the interpreter and return TCL_ERROR.  pStore
** may be 0 (no message then beyond the code's name).
*/
static int vlogTclError(Tcl_Interp *interp, VlogStore *pStore, int rc){
  const char *zMsg = pStore ? vlogStoreErrMsg(pStore) : 0;
  Tcl_Obj *pRes = Tcl_NewStringObj(vlogErrName(rc), -1);
  if( zMsg && zMsg[0] ){
    Tcl_AppendStringsToObj(pRes, " ", zMsg, (char*)0);
  }
  Tcl_SetObjResult(interp, pRes);
  return TCL_ERROR;
}

/* The bytes of a Tcl object as a key or value. */
static const unsigned char *vlogTclBytes(Tcl_Obj *pObj, int *pn){
  const unsigned char *a = Tcl_GetByteArrayFromObj(pObj, pn);
  return a ? a : aEmpty;
}

/* Parse a tree id (0 to 2^32-1). */
static int vlogTclTree(Tcl_Interp *interp, Tcl_Obj *pObj, uint32_t *piTree){
  Tcl_WideInt w;
  if( Tcl_GetWideIntFromObj(interp, pObj, &w) ) return TCL_ERROR;
  if( w<0 || w>(Tcl_WideInt)0xffffffff ){
    Tcl_AppendResult(interp, "tree id out of range: ", Tcl_GetString(pObj), (char*)0);
    return TCL_ERROR;
  }
  *piTree = (uint32_t)w;
  return TCL_OK;
}

/* Parse off|normal|full. */
static int vlogTclSync(Tcl_Interp *interp, Tcl_Obj *pObj, int *peSync){
  static const char *azSync[] = { "off", "normal", "full", 0 };
  static const int aeSync[] = { VLOG_SYNC_OFF, VLOG_SYNC_NORMAL, VLOG_SYNC_FULL };
  int i;
  if( Tcl_GetIndexFromObj(interp, pObj, azSync, "sync level", 0, &i) ){
    return TCL_ERROR;
  }
  *peSync = aeSync[i];
  return TCL_OK;
}

/* Close cursor p (if still open) and unlink it from its store. */
static void csrUnlink(TclCursor *p){
  TclCursor **pp;
  if( p->pCsr ){
    vlogCursorClose(p->pCsr);
    p->pCsr = 0;
  }
  if( p->pStore ){
    for(pp=&p->pStore->pCsr; *pp; pp=&(*pp)->pNext){
      if( *pp==p ){ *pp = p->pNext; break; }
    }
    p->pStore = 0;
  }
}

/* Tcl_CmdDeleteProc of a cursor command. */
static void csrDel(ClientData cd){
  TclCursor *p = (TclCursor*)cd;
  csrUnlink(p);
  ckfree((char*)p);
}

/*
** Result of a move: VLOG_OK and VLOG_NOTFOUND answer with the cursor's
** validity; anything else is an error.
*/
static int csrMoved(Tcl_Interp *interp, TclCursor *p, int rc){
  if( rc!=VLOG_OK && rc!=VLOG_NOTFOUND ){
    return vlogTclError(interp, p->pStore->pStore, rc);
  }
  Tcl_SetObjResult(interp, Tcl_NewIntObj(vlogCursorValid(p->pCsr) ? 1 : 0));
  return TCL_OK;
}

/* A bound argument: {} no bound, {KEY} a bound. */
static int csrBound(
  Tcl_Interp *interp,
  Tcl_Obj *pObj,
  const unsigned char **pa,
  int *pn
){
  int nElem = 0;
  Tcl_Obj *pKey = 0;
  if( Tcl_ListObjLength(interp, pObj, &nElem) ) return TCL_ERROR;
  if( nElem>1 ){
    Tcl_AppendResult(interp, "a bound is {} (none) or a list of one key, not: ",
        Tcl_GetString(pObj), (char*)0);
    return TCL_ERROR;
  }
  *pa = 0;
  *pn = 0;
  if( nElem==1 ){
    Tcl_ListObjIndex(interp, pObj, 0, &pKey);
    *pa = vlogTclBytes(pKey, pn);
  }
  return TCL_OK;
}

/* The cursor command: NAME2 SUBCOMMAND ... */
static int csrCmd(
  ClientData cd,
  Tcl_Interp *interp,
  int objc,
  Tcl_Obj *const objv[]
){
  TclCursor *p = (TclCursor*)cd;
  static const struct CsrSub {
    const char *zName;
    int nArg;
    const char *zUsage;
  } aSub[] = {
    { "bounds", 4, "LO LOOPEN HI HIOPEN" },   /* 0 */
    { "seek",   2, "KEY eq|ge|le|gt|lt" },    /* 1 */
    { "first",  0, "" },                      /* 2 */
    { "last",   0, "" },                      /* 3 */
    { "next",   0, "" },                      /* 4 */
    { "prev",   0, "" },                      /* 5 */
    { "valid",  0, "" },                      /* 6 */
    { "key",    0, "" },                      /* 7 */
    { "value",  0, "" },                      /* 8 */
    { "close",  0, "" },                      /* 9 */
    { "valueheld", 1, "SCRIPT" },             /* 10 */
    { 0, 0, 0 }
  };
  int iSub;
  int rc;

  if( objc<2 ){
    Tcl_WrongNumArgs(interp, 1, objv, "SUBCOMMAND ...");
    return TCL_ERROR;
  }
  if( Tcl_GetIndexFromObjStruct(interp, objv[1], aSub, sizeof(aSub[0]),
                                "subcommand", 0, &iSub) ){
    return TCL_ERROR;
  }
  if( objc!=aSub[iSub].nArg+2 ){
    Tcl_WrongNumArgs(interp, 2, objv, aSub[iSub].zUsage);
    return TCL_ERROR;
  }
  if( p->pCsr==0 ){
    Tcl_AppendResult(interp, "cursor is closed", (char*)0);
    return TCL_ERROR;
  }

  switch( iSub ){
    case 0: {                                        /* bounds */
      const unsigned char *aLo, *aHi;
      int nLo, nHi, bLoOpen, bHiOpen;
      if( csrBound(interp, objv[2], &aLo, &nLo)
       || Tcl_GetBooleanFromObj(interp, objv[3], &bLoOpen)
       || csrBound(interp, objv[4], &aHi, &nHi)
       || Tcl_GetBooleanFromObj(interp, objv[5], &bHiOpen)
      ){
        return TCL_ERROR;
      }
      rc = vlogCursorBounds(p->pCsr, aLo, nLo, bLoOpen, aHi, nHi, bHiOpen);
      if( rc!=VLOG_OK ) return vlogTclError(interp, p->pStore->pStore, rc);
      return TCL_OK;
    }
    case 1: {                                        /* seek */
      static const char *azOp[] = { "eq", "ge", "le", "gt", "lt", 0 };
      static const int aeOp[] = {
        VLOG_SEEK_EQ, VLOG_SEEK_GE, VLOG_SEEK_LE, VLOG_SEEK_GT, VLOG_SEEK_LT
      };
      int iOp, nKey;
      const unsigned char *aKey;
      if( Tcl_GetIndexFromObj(interp, objv[3], azOp, "seek op", 0, &iOp) ){
        return TCL_ERROR;
      }
      aKey = vlogTclBytes(objv[2], &nKey);
      rc = vlogCursorSeek(p->pCsr, aKey, nKey, aeOp[iOp]);
      return csrMoved(interp, p, rc);
    }
    case 2: return csrMoved(interp, p, vlogCursorFirst(p->pCsr));
    case 3: return csrMoved(interp, p, vlogCursorLast(p->pCsr));
    case 4: return csrMoved(interp, p, vlogCursorNext(p->pCsr));
    case 5: return csrMoved(interp, p, vlogCursorPrev(p->pCsr));
    case 6:                                          /* valid */
      Tcl_SetObjResult(interp, Tcl_NewIntObj(vlogCursorValid(p->pCsr) ? 1 : 0));
      return TCL_OK;
    case 7:                                          /* key */
    case 8: {                                        /* value */
      const void *a = 0;
      int n = 0;
      rc = iSub==7 ? vlogCursorKey(p->pCsr, &a, &n)
                   : vlogCursorValue(p->pCsr, &a, &n);
      if( rc!=VLOG_OK ) return vlogTclError(interp, p->pStore->pStore, rc);
      Tcl_SetObjResult(interp, Tcl_NewByteArrayObj(a ? a : aEmpty, n));
      return TCL_OK;
    }
    case 10: {                                       /* valueheld */
      /* The value, read after SCRIPT ran (engine.h: valid until the next
      ** call on this handle, whatever other handles do meanwhile). */
      const void *a = 0;
      int n = 0;
      rc = vlogCursorValue(p->pCsr, &a, &n);
      if( rc!=VLOG_OK ) return vlogTclError(interp, p->pStore->pStore, rc);
      if( Tcl_EvalObjEx(interp, objv[2], 0)!=TCL_OK ) return TCL_ERROR;
      Tcl_SetObjResult(interp, Tcl_NewByteArrayObj(a ? a : aEmpty, n));
      return TCL_OK;
    }
    default: {                                       /* close */
      VlogCursor *pCsr = p->pCsr;
      p->pCsr = 0;
      rc = vlogCursorClose(pCsr);
      Tcl_DeleteCommandFromToken(interp, p->token);
      if( rc!=VLOG_OK ){
        Tcl_SetObjResult(interp, Tcl_NewStringObj(vlogErrName(rc), -1));
        return TCL_ERROR;
      }
      return TCL_OK;
    }
  }
}

/* Close the store's cursors, then the store, then its env. */
static int storeCloseAll(TclStore *p){
  int rc = VLOG_OK;
  while( p->pCsr ){
    TclCursor *pCsr = p->pCsr;
    csrUnlink(pCsr);           /* closes it and takes it off the list */
    Tcl_DeleteCommandFromToken(p->interp, pCsr->token);
  }
  if( p->pStore ){
    rc = vlogStoreClose(p->pStore);
    p->pStore = 0;
  }
  if( p->pEnv ){
    vlogEnvVfsFree(p->pEnv);
    p->pEnv = 0;
  }
  return rc;
}

/* Tcl_CmdDeleteProc of a store command. */
static void storeDel(ClientData cd){
  TclStore *p = (TclStore*)cd;
  storeCloseAll(p);
  ckfree((char*)p);
}

/* NAME check: the structure checker of debug builds (engine/check.c). */
static int storeCheck(Tcl_Interp *interp, VlogStore *pStore){
#ifdef VLOG_DEBUG
  VlogBuf b = {0, 0, 0};
  int rc = vlogStoreCheck(pStore, &b);
  if( rc ){
    Tcl_Obj *pRes = Tcl_NewStringObj(vlogErrName(rc), -1);
    Tcl_AppendStringsToObj(pRes, " ", (char*)0);
    Tcl_AppendToObj(pRes, b.a ? (const char*)b.a : "", b.n);
    Tcl_SetObjResult(interp, pRes);
  }
  vlogBufFree(vlogStoreEnv(pStore), &b);
  return rc ? TCL_ERROR : TCL_OK;
#else
  (void)pStore;
  Tcl_AppendResult(interp, "not a VLOG_DEBUG build: no structure checker", (char*)0);
  return TCL_ERROR;
#endif
}

/* NAME testbreak WHAT TREE: damage that the checker must find, undone by
** the same call. */
static int storeTestBreak(Tcl_Interp *interp, VlogStore *p, Tcl_Obj *pWhat,
                          Tcl_Obj *pTree){
  static const char *azWhat[] = { "order", "nref", "region", "wbuf", 0 };
  int eWhat;
  uint32_t iTree;
  Tree *pT;
  Node *pRoot = 0;
  if( Tcl_GetIndexFromObj(interp, pWhat, azWhat, "damage", 0, &eWhat)
   || vlogTclTree(interp, pTree, &iTree) ){
    return TCL_ERROR;
  }
  if( eWhat==3 ){
    WbEntry *a = p->wb.a;
    u64 iSeq;
    if( p->wb.n<2 ){
      Tcl_AppendResult(interp, "fewer than two write-buffer entries", (char*)0);
      return TCL_ERROR;
    }
    iSeq = a[p->wb.n-1].iSeq;
    a[p->wb.n-1].iSeq = a[p->wb.n-2].iSeq;
    a[p->wb.n-2].iSeq = iSeq;
    return TCL_OK;
  }
  for(pT=p->pTrees; pT && pT->iTree!=iTree; pT=pT->pNext){}
  if( iTree==TREE_ROOTS ) pT = &p->rootsTree;
  if( pT ) pRoot = pT->pRoot;
  if( pRoot==0 ){
    Tcl_AppendResult(interp, "the tree's root is not in memory", (char*)0);
    return TCL_ERROR;
  }
  switch( eWhat ){
    case 0: {                                   /* order */
      Bset *pSet = &pRoot->aBset[pRoot->nBset-1];
      Entry e;
      if( pSet->n<2 ){
        Tcl_AppendResult(interp, "the root's newest bset has fewer than two keys",
                         (char*)0);
        return TCL_ERROR;
      }
      e = pSet->a[0];
      pSet->a[0] = pSet->a[1];
      pSet->a[1] = e;
      break;
    }
    case 1: {                                   /* nref */
      static Node *pBroken = 0;
      if( pBroken==pRoot ){
        pRoot->nRef--;
        pBroken = 0;
      }else{
        pRoot->nRef++;
        pBroken = pRoot;
      }
      break;
    }
    default: {                                  /* region */
      u64 iBucket = pRoot->iOff / p->sb.nBucketSize;
      int iSlot = (int)((pRoot->iOff % p->sb.nBucketSize) / p->sb.nNodeSize);
      if( pRoot->iOff==0 ){
        Tcl_AppendResult(interp, "the root has no region", (char*)0);
        return TCL_ERROR;
      }
      p->aBucket[iBucket].mLive ^= (u64)1<<iSlot;
      break;
    }
  }
  return TCL_OK;
}

/* Turn a result code into TCL_OK or a "CODENAME message" error. */
static int storeRc(Tcl_Interp *interp, TclStore *p, int rc){
  if( rc!=VLOG_OK ) return vlogTclError(interp, p->pStore, rc);
  return TCL_OK;
}

/* The store command: NAME SUBCOMMAND ... */
static int storeCmd(
  ClientData cd,
  Tcl_Interp *interp,
  int objc,
  Tcl_Obj *const objv[]
){
  TclStore *p = (TclStore*)cd;
  enum {
    S_CLOSE, S_BEGIN, S_COMMIT, S_ROLLBACK, S_SAVEPOINT, S_ROLLBACK_TO,
    S_RELEASE, S_TXNSTATE, S_PUT, S_DELETE, S_GET, S_TREEDROP, S_CHECKPOINT,
    S_VERIFY, S_INFO, S_MAXVALUE, S_SETSYNC, S_SETCACHESIZE,
    S_SETAUTOCHECKPOINT, S_SETMMAPSIZE, S_CURSOR, S_PUTX, S_SEGMENTS, S_STATS,
    S_SLOT, S_SLOTOWNER, S_SLOTCOUNT, S_OLDESTPIN,
    S_SHMWRITE, S_PREPARE, S_CHECK, S_TESTBREAK, S_TREECREATE, S_TREEPOLICY,
    S_TREECLEAR, S_INSERT, S_TXNLIMIT, S_MAINTAIN, S_CONFIG, S_EXEMPT
  };
  static const struct StoreSub {
    const char *zName;
    int nMinArg, nMaxArg;
    const char *zUsage;
  } aSub[] = {
    { "close",             0, 0, "" },
    { "begin",             0, 1, "?read|write?" },
    { "commit",            0, 0, "" },
    { "rollback",          0, 0, "" },
    { "savepoint",         1, 1, "N" },
    { "rollback_to",       1, 1, "N" },
    { "release",           1, 1, "N" },
    { "txnstate",          0, 0, "" },
    { "put",               3, 3, "TREE KEY VALUE" },
    { "delete",            2, 2, "TREE KEY" },
    { "get",               2, 2, "TREE KEY" },
    { "treedrop",          1, 1, "TREE" },
    { "checkpoint",        0, 0, "" },
    { "verify",            0, 0, "" },
    { "info",              0, 0, "" },
    { "maxvalue",          0, 0, "" },
    { "setsync",           1, 1, "off|normal|full" },
    { "setcachesize",      1, 1, "N" },
    { "setautocheckpoint", 1, 1, "N" },
    { "setmmapsize",       1, 1, "N" },
    { "cursor",            2, 2, "NAME TREE" },
    { "putx",              5, 5, "TREE KEY VALUE INLINEMAX ZSTDLEVEL" },
    { "segments",          0, 0, "" },
    { "stats",             0, 0, "" },
    { "slot",              0, 1, "?I?" },
    { "slotowner",         2, 2, "I PID" },
    { "slotcount",         0, 0, "" },
    { "oldestpin",         0, 0, "" },
    { "shmwrite",          2, 2, "OFFSET BYTES" },
    { "prepare",           0, 0, "" },
    { "check",             0, 0, "" },
    { "testbreak",         2, 2, "order|nref|region|wbuf TREE" },
    { "treecreate",        0, 3, "?INLINEMAX ZSTDLEVEL ?ZINLINE??" },
    { "treepolicy",        1, 4, "TREE ?INLINEMAX ZSTDLEVEL ?ZINLINE??" },
    { "treeclear",         1, 1, "TREE" },
    { "insert",            3, 3, "TREE KEY VALUE" },
    { "txnlimit",          1, 1, "N" },
    { "maintain",          0, 2, "?MODE? ?TRIGGER?" },
    { "config",            1, 2, "NAME ?VALUE?" },
    { "exempt",            2, 2, "FIRST LAST" },
    { 0, 0, 0, 0 }
  };
  int iSub;
  int rc = VLOG_OK;
  uint32_t iTree = 0;
  int iArg = 0;
  Tcl_WideInt wArg = 0;
  const unsigned char *aKey = 0;
  int nKey = 0;

  if( objc<2 ){
    Tcl_WrongNumArgs(interp, 1, objv, "SUBCOMMAND ...");
    return TCL_ERROR;
  }
  if( Tcl_GetIndexFromObjStruct(interp, objv[1], aSub, sizeof(aSub[0]),
                                "subcommand", 0, &iSub) ){
    return TCL_ERROR;
  }
  if( objc<aSub[iSub].nMinArg+2 || objc>aSub[iSub].nMaxArg+2 ){
    Tcl_WrongNumArgs(interp, 2, objv, aSub[iSub].zUsage);
    return TCL_ERROR;
  }
  if( p->pStore==0 ){
    Tcl_AppendResult(interp, "store is closed", (char*)0);
    return TCL_ERROR;
  }

  /* Arguments shared by several subcommands. */
  switch( iSub ){
    case S_PUT: case S_DELETE: case S_GET: case S_TREEDROP: case S_PUTX:
    case S_TREEPOLICY: case S_TREECLEAR: case S_INSERT:
      if( vlogTclTree(interp, objv[2], &iTree) ) return TCL_ERROR;
      if( iSub!=S_TREEDROP && iSub!=S_TREEPOLICY && iSub!=S_TREECLEAR ){
        aKey = vlogTclBytes(objv[3], &nKey);
      }
      break;
    case S_CURSOR:
      if( vlogTclTree(interp, objv[3], &iTree) ) return TCL_ERROR;
      break;
    case S_SAVEPOINT: case S_ROLLBACK_TO: case S_RELEASE: case S_SLOTOWNER:
      if( Tcl_GetIntFromObj(interp, objv[2], &iArg) ) return TCL_ERROR;
      break;
    case S_SLOT:
      iArg = -1;
      if( objc==3 && Tcl_GetIntFromObj(interp, objv[2], &iArg) ) return TCL_ERROR;
      break;
    case S_SETCACHESIZE: case S_SETAUTOCHECKPOINT: case S_SETMMAPSIZE:
    case S_TXNLIMIT:
      if( Tcl_GetWideIntFromObj(interp, objv[2], &wArg) ) return TCL_ERROR;
      break;
  }

  switch( iSub ){
    case S_CLOSE: {
      rc = storeCloseAll(p);
      Tcl_DeleteCommandFromToken(interp, p->token);
      if( rc!=VLOG_OK ){
        Tcl_SetObjResult(interp, Tcl_NewStringObj(vlogErrName(rc), -1));
        return TCL_ERROR;
      }
      return TCL_OK;
    }
    case S_BEGIN: {
      static const char *azMode[] = { "read", "write", 0 };
      int bWrite = 1;
      if( objc==3 ){
        if( Tcl_GetIndexFromObj(interp, objv[2], azMode, "mode", 0, &bWrite) ){
          return TCL_ERROR;
        }
      }
      return storeRc(interp, p, vlogBegin(p->pStore, bWrite));
    }
    case S_PREPARE:
      return storeRc(interp, p, vlogCommitPrepare(p->pStore));
    case S_CHECK:
      return storeCheck(interp, p->pStore);
    case S_TESTBREAK:
      return storeTestBreak(interp, p->pStore, objv[2], objv[3]);
    case S_COMMIT:
      return storeRc(interp, p, vlogCommit(p->pStore));
    case S_ROLLBACK:
      return storeRc(interp, p, vlogRollback(p->pStore));
    case S_SAVEPOINT:
      return storeRc(interp, p, vlogSavepoint(p->pStore, iArg));
    case S_ROLLBACK_TO:
      return storeRc(interp, p, vlogRollbackTo(p->pStore, iArg));
    case S_RELEASE:
      return storeRc(interp, p, vlogRelease(p->pStore, iArg));
    case S_TXNSTATE:
      Tcl_SetObjResult(interp, Tcl_NewIntObj(vlogTxnState(p->pStore)));
      return TCL_OK;
    case S_PUT: {
      int nVal = 0;
      const unsigned char *aVal = vlogTclBytes(objv[4], &nVal);
      return storeRc(interp, p,
          vlogPut(p->pStore, iTree, aKey, nKey, aVal, nVal));
    }
    case S_PUTX: {
      int nVal = 0, nInline = 0, iLevel = 0;
      const unsigned char *aVal = vlogTclBytes(objv[4], &nVal);
      if( Tcl_GetIntFromObj(interp, objv[5], &nInline)
       || Tcl_GetIntFromObj(interp, objv[6], &iLevel) ){
        return TCL_ERROR;
      }
      return storeRc(interp, p,
          vlogPutEx(p->pStore, iTree, aKey, nKey, aVal, nVal, nInline, iLevel));
    }
    case S_SEGMENTS: {
      VlogSegmentInfo *a = 0;
      int n = 0, i;
      Tcl_Obj *pRes;
      rc = vlogSegments(p->pStore, &a, &n);
      if( rc ) return vlogTclError(interp, p->pStore, rc);
      pRes = Tcl_NewListObj(0, 0);
      for(i=0; i<n; i++){
        Tcl_Obj *pSeg = Tcl_NewListObj(0, 0);
        Tcl_ListObjAppendElement(interp, pSeg, Tcl_NewWideIntObj((Tcl_WideInt)a[i].iSeg));
        Tcl_ListObjAppendElement(interp, pSeg, Tcl_NewStringObj(a[i].zState, -1));
        Tcl_ListObjAppendElement(interp, pSeg, Tcl_NewWideIntObj((Tcl_WideInt)a[i].nTotal));
        Tcl_ListObjAppendElement(interp, pSeg, Tcl_NewWideIntObj((Tcl_WideInt)a[i].nLive));
        Tcl_ListObjAppendElement(interp, pSeg, Tcl_NewWideIntObj((Tcl_WideInt)a[i].nRec));
        Tcl_ListObjAppendElement(interp, pRes, pSeg);
      }
      vlogFree(vlogStoreEnv(p->pStore), a);
      Tcl_SetObjResult(interp, pRes);
      return TCL_OK;
    }
    case S_STATS: {
      VlogStat *a = 0;
      int n = 0, i;
      Tcl_Obj *pRes;
      rc = vlogStats(p->pStore, &a, &n);
      if( rc ) return vlogTclError(interp, p->pStore, rc);
      pRes = Tcl_NewListObj(0, 0);
      for(i=0; i<n; i++){
        Tcl_ListObjAppendElement(interp, pRes, Tcl_NewStringObj(a[i].zName, -1));
        Tcl_ListObjAppendElement(interp, pRes, Tcl_NewDoubleObj(a[i].rValue));
      }
      vlogFree(vlogStoreEnv(p->pStore), a);
      Tcl_SetObjResult(interp, pRes);
      return TCL_OK;
    }
    case S_SLOT: {
      VlogShmSlot slot;
      Tcl_Obj *pRes;
      if( objc==2 ){
        Tcl_SetObjResult(interp, Tcl_NewIntObj(p->pStore->iSlot));
        return TCL_OK;
      }
      if( vlogShmSlotInfo(p->pStore, iArg, &slot)!=VLOG_OK ){
        Tcl_AppendResult(interp, "no such slot (or no reader table)", (char*)0);
        return TCL_ERROR;
      }
      pRes = Tcl_NewListObj(0, 0);
      Tcl_ListObjAppendElement(interp, pRes, Tcl_NewWideIntObj(slot.iOwner));
      Tcl_ListObjAppendElement(interp, pRes, Tcl_NewWideIntObj((Tcl_WideInt)slot.iCkpt));
      Tcl_ListObjAppendElement(interp, pRes, Tcl_NewWideIntObj((Tcl_WideInt)slot.iJrnlSeq));
      Tcl_ListObjAppendElement(interp, pRes, Tcl_NewIntObj(slot.bLive));
      Tcl_ListObjAppendElement(interp, pRes, Tcl_NewIntObj(slot.bMine));
      Tcl_SetObjResult(interp, pRes);
      return TCL_OK;
    }
    case S_SLOTOWNER: {
      Tcl_WideInt iPid;
      if( Tcl_GetWideIntFromObj(interp, objv[3], &iPid) ) return TCL_ERROR;
      vlogShmTestSetOwner(p->pStore, iArg, (u32)iPid);
      return TCL_OK;
    }
    case S_SLOTCOUNT:
      Tcl_SetObjResult(interp, Tcl_NewIntObj(vlogShmSlotCount()));
      return TCL_OK;
    case S_OLDESTPIN: {
      u64 iCkpt = 0, iJrnlSeq = 0;
      Tcl_Obj *pRes = Tcl_NewListObj(0, 0);
      (void)vlogShmOldestPin(p->pStore, &iCkpt, &iJrnlSeq);   /* none: 0 0 */
      Tcl_ListObjAppendElement(interp, pRes, Tcl_NewWideIntObj((Tcl_WideInt)iCkpt));
      Tcl_ListObjAppendElement(interp, pRes, Tcl_NewWideIntObj((Tcl_WideInt)iJrnlSeq));
      Tcl_SetObjResult(interp, pRes);
      return TCL_OK;
    }
    case S_DELETE:
      return storeRc(interp, p, vlogDelete(p->pStore, iTree, aKey, nKey));
    case S_GET: {
      const void *aVal = 0;
      int nVal = 0;
      Tcl_Obj *pRes = Tcl_NewListObj(0, 0);
      rc = vlogGet(p->pStore, iTree, aKey, nKey, &aVal, &nVal);
      if( rc==VLOG_NOTFOUND ){
        Tcl_SetObjResult(interp, pRes);
        return TCL_OK;
      }
      if( rc!=VLOG_OK ){
        Tcl_DecrRefCount(pRes);
        return vlogTclError(interp, p->pStore, rc);
      }
      Tcl_ListObjAppendElement(interp, pRes,
          Tcl_NewByteArrayObj(aVal ? aVal : aEmpty, nVal));
      Tcl_SetObjResult(interp, pRes);
      return TCL_OK;
    }
    case S_TREEDROP:
      return storeRc(interp, p, vlogTreeDrop(p->pStore, iTree));
    case S_TREECLEAR:
      return storeRc(interp, p, vlogTreeClear(p->pStore, iTree));
    case S_INSERT: {
      int nVal = 0;
      const unsigned char *aVal = vlogTclBytes(objv[4], &nVal);
      return storeRc(interp, p,
          vlogInsert(p->pStore, iTree, aKey, nKey, aVal, nVal));
    }
    case S_TREECREATE:
    case S_TREEPOLICY: {
      VlogTreePolicy pol;
      int iFirst = iSub==S_TREECREATE ? 2 : 3;
      if( objc==iFirst+1 ){
        Tcl_WrongNumArgs(interp, 2, objv, aSub[iSub].zUsage);
        return TCL_ERROR;
      }
      vlogTreePolicyDefault(&pol);
      if( objc>=iFirst+2 ){
        if( Tcl_GetIntFromObj(interp, objv[iFirst], &pol.nInlineMax)
         || Tcl_GetIntFromObj(interp, objv[iFirst+1], &pol.iZstdLevel)
         || (objc==iFirst+3
             && Tcl_GetIntFromObj(interp, objv[iFirst+2], &pol.bCompressInline)) ){
          return TCL_ERROR;
        }
      }
      if( iSub==S_TREECREATE ){
        rc = vlogTreeCreate(p->pStore, objc==iFirst ? 0 : &pol, &iTree);
        if( rc ) return vlogTclError(interp, p->pStore, rc);
        Tcl_SetObjResult(interp, Tcl_NewWideIntObj((Tcl_WideInt)iTree));
        return TCL_OK;
      }
      if( objc>=iFirst+2 ){
        return storeRc(interp, p, vlogTreeSetPolicy(p->pStore, iTree, &pol));
      }
      rc = vlogTreeGetPolicy(p->pStore, iTree, &pol);
      if( rc==VLOG_NOTFOUND ) return TCL_OK;
      if( rc ) return vlogTclError(interp, p->pStore, rc);
      {
        Tcl_Obj *pRes = Tcl_NewListObj(0, 0);
        Tcl_ListObjAppendElement(interp, pRes, Tcl_NewIntObj(pol.nInlineMax));
        Tcl_ListObjAppendElement(interp, pRes, Tcl_NewIntObj(pol.iZstdLevel));
        if( pol.bCompressInline ){
          Tcl_ListObjAppendElement(interp, pRes, Tcl_NewIntObj(pol.bCompressInline));
        }
        Tcl_SetObjResult(interp, pRes);
      }
      return TCL_OK;
    }
    case S_EXEMPT: {
      /* vlogStoreSavepointExempt(): trees FIRST..LAST (0 0: none) */
      Tcl_WideInt a, b;
      if( Tcl_GetWideIntFromObj(interp, objv[2], &a)
       || Tcl_GetWideIntFromObj(interp, objv[3], &b) ){
        return TCL_ERROR;
      }
      if( a<0 || b<0 || a>0xffffffff || b>0xffffffff ){
        Tcl_AppendResult(interp, "tree out of range", (char*)0);
        return TCL_ERROR;
      }
      return storeRc(interp, p, vlogStoreSavepointExempt(p->pStore, (u32)a, (u32)b));
    }
    case S_TXNLIMIT:
      /* a test's knob: the most bytes a transaction's log may reach */
      p->pStore->nTxnLogMax = wArg>0 && wArg<TXN_LOG_MAX ? (i64)wArg : TXN_LOG_MAX;
      return TCL_OK;
    case S_CHECKPOINT:
      return storeRc(interp, p, vlogCheckpoint(p->pStore));
    case S_VERIFY:
    case S_INFO: {
      char *z = 0;
      VlogEnv *pEnv = vlogStoreEnv(p->pStore);
      rc = iSub==S_VERIFY ? vlogVerify(p->pStore, &z)
                          : vlogStoreInfo(p->pStore, &z);
      if( rc!=VLOG_OK ){
        vlogTclError(interp, p->pStore, rc);
        if( z && z[0] ){
          Tcl_AppendResult(interp, "\n", z, (char*)0);
        }
      }else{
        Tcl_SetObjResult(interp, Tcl_NewStringObj(z ? z : "", -1));
      }
      if( z ) vlogFree(pEnv, z);
      return rc==VLOG_OK ? TCL_OK : TCL_ERROR;
    }
    case S_MAXVALUE:
      Tcl_SetObjResult(interp, Tcl_NewIntObj(vlogStoreMaxValue(p->pStore)));
      return TCL_OK;
    case S_CONFIG: {
      /* a maintenance setting, set first when VALUE is given */
      double rNew = 0.0, rVal = 0.0;
      if( objc>3 && Tcl_GetDoubleFromObj(interp, objv[3], &rNew) ) return TCL_ERROR;
      rc = vlogMaintSetting(p->pStore, Tcl_GetString(objv[2]), objc>3 ? &rNew : 0, &rVal);
      if( rc!=VLOG_OK ) return vlogTclError(interp, p->pStore, rc);
      Tcl_SetObjResult(interp, Tcl_NewDoubleObj(rVal));
      return TCL_OK;
    }
    case S_MAINTAIN: {
      /* one maintenance pass: its JSON report */
      char *z = 0;
      rc = vlogMaintain(p->pStore, objc>2 ? Tcl_GetString(objv[2]) : 0,
                        objc>3 ? Tcl_GetString(objv[3]) : 0, &z);
      if( rc!=VLOG_OK ){
        vlogFree(vlogStoreEnv(p->pStore), z);
        return vlogTclError(interp, p->pStore, rc);
      }
      Tcl_SetObjResult(interp, Tcl_NewStringObj(z ? z : "", -1));
      vlogFree(vlogStoreEnv(p->pStore), z);
      return TCL_OK;
    }
    case S_SETSYNC: {
      int eSync;
      if( vlogTclSync(interp, objv[2], &eSync) ) return TCL_ERROR;
      return storeRc(interp, p, vlogStoreSetSync(p->pStore, eSync));
    }
    case S_SETCACHESIZE:
      return storeRc(interp, p, vlogStoreSetCacheSize(p->pStore, (int64_t)wArg));
    case S_SETAUTOCHECKPOINT:
      return storeRc(interp, p,
          vlogStoreSetAutoCheckpoint(p->pStore, (int64_t)wArg));
    case S_SETMMAPSIZE:
      return storeRc(interp, p, vlogStoreSetMmapSize(p->pStore, (int64_t)wArg));
    case S_SHMWRITE: {
      int iOff = 0, n = 0;
      const unsigned char *a;
      if( Tcl_GetIntFromObj(interp, objv[2], &iOff) ) return TCL_ERROR;
      a = vlogTclBytes(objv[3], &n);
      if( p->pStore->pShm==0 || iOff<0 || n>VLOG_SHM_SIZE-iOff ){
        Tcl_AppendResult(interp, "no shared memory, or outside it", (char*)0);
        return TCL_ERROR;
      }
      memcpy((u8*)p->pStore->pShm + iOff, a, n);
      return TCL_OK;
    }
    default: {                                       /* cursor */
      const char *zName = Tcl_GetString(objv[2]);
      VlogCursor *pCsr = 0;
      TclCursor *pNew;
      rc = vlogCursorOpen(p->pStore, iTree, &pCsr);
      if( rc!=VLOG_OK ){
        if( pCsr ) vlogCursorClose(pCsr);
        return vlogTclError(interp, p->pStore, rc);
      }
      pNew = (TclCursor*)ckalloc(sizeof(TclCursor));
      memset(pNew, 0, sizeof(TclCursor));
      pNew->pCsr = pCsr;
      pNew->pStore = p;
      pNew->pNext = p->pCsr;
      p->pCsr = pNew;
      pNew->token = Tcl_CreateObjCommand(interp, zName, csrCmd, pNew, csrDel);
      Tcl_SetObjResult(interp, objv[2]);
      return TCL_OK;
    }
  }
}

/*
** vlog_store open NAME PATH ?OPTIONS?
*/
static int vlogStoreCmd(
  ClientData cd,
  Tcl_Interp *interp,
  int objc,
  Tcl_Obj *const objv[]
){
  static const char *azOpt[] = {
    "-vfs", "-create", "-readonly", "-bucketsize", "-nodesize",
    "-cachesize", "-autocheckpoint", "-sync", "-busytimeout", "-mmapsize", 0
  };
  enum { O_VFS, O_CREATE, O_READONLY, O_BUCKETSIZE, O_NODESIZE,
         O_CACHESIZE, O_AUTOCHECKPOINT, O_SYNC, O_BUSYTIMEOUT, O_MMAPSIZE };
  VlogConfig cfg;
  const char *zVfs = 0;
  sqlite3_vfs *pVfs;
  VlogEnv *pEnv;
  VlogStore *pStore = 0;
  TclStore *p;
  int i, rc;
  (void)cd;

  if( objc<4 || (objc%2)!=0 ){
    Tcl_WrongNumArgs(interp, 1, objv, "open NAME PATH ?-option value ...?");
    return TCL_ERROR;
  }
  if( strcmp(Tcl_GetString(objv[1]), "open")!=0 ){
    Tcl_AppendResult(interp, "bad subcommand \"", Tcl_GetString(objv[1]),
        "\": must be open", (char*)0);
    return TCL_ERROR;
  }
  vlogConfigDefault(&cfg);
  cfg.bCreate = 1;
  for(i=4; i<objc; i+=2){
    int iOpt, iVal;
    Tcl_WideInt w;
    if( Tcl_GetIndexFromObj(interp, objv[i], azOpt, "option", 0, &iOpt) ){
      return TCL_ERROR;
    }
    switch( iOpt ){
      case O_VFS:
        zVfs = Tcl_GetString(objv[i+1]);
        if( zVfs[0]==0 ) zVfs = 0;
        break;
      case O_CREATE:
      case O_READONLY:
        if( Tcl_GetBooleanFromObj(interp, objv[i+1], &iVal) ) return TCL_ERROR;
        if( iOpt==O_CREATE ) cfg.bCreate = iVal; else cfg.bReadOnly = iVal;
        break;
      case O_BUCKETSIZE:
      case O_NODESIZE:
      case O_BUSYTIMEOUT:
        if( Tcl_GetIntFromObj(interp, objv[i+1], &iVal) ) return TCL_ERROR;
        if( iOpt==O_BUCKETSIZE ) cfg.nBucketSize = iVal;
        else if( iOpt==O_NODESIZE ) cfg.nNodeSize = iVal;
        else cfg.nBusyTimeout = iVal;
        break;
      case O_CACHESIZE:
      case O_AUTOCHECKPOINT:
      case O_MMAPSIZE:
        if( Tcl_GetWideIntFromObj(interp, objv[i+1], &w) ) return TCL_ERROR;
        if( iOpt==O_CACHESIZE ) cfg.nCacheSize = w;
        else if( iOpt==O_AUTOCHECKPOINT ) cfg.nAutoCheckpoint = w;
        else cfg.nMmapSize = w;
        break;
      case O_SYNC:
        if( vlogTclSync(interp, objv[i+1], &cfg.eSync) ) return TCL_ERROR;
        break;
    }
  }

  pVfs = sqlite3_vfs_find(zVfs);
  if( pVfs==0 ){
    Tcl_AppendResult(interp, "no such vfs: ", zVfs ? zVfs : "(default)", (char*)0);
    return TCL_ERROR;
  }
  pEnv = vlogEnvVfs((void*)pVfs);
  if( pEnv==0 ){
    Tcl_SetObjResult(interp, Tcl_NewStringObj("VLOG_NOMEM out of memory", -1));
    return TCL_ERROR;
  }
  rc = vlogStoreOpen(pEnv, Tcl_GetString(objv[3]), &cfg, &pStore);
  if( rc!=VLOG_OK ){
    if( pStore ){
      vlogTclError(interp, pStore, rc);
      vlogStoreClose(pStore);
    }else{
      vlogTclError(interp, 0, rc);
    }
    vlogEnvVfsFree(pEnv);
    return TCL_ERROR;
  }

  p = (TclStore*)ckalloc(sizeof(TclStore));
  memset(p, 0, sizeof(TclStore));
  p->interp = interp;
  p->pStore = pStore;
  p->pEnv = pEnv;
  p->token = Tcl_CreateObjCommand(interp, Tcl_GetString(objv[2]),
                                  storeCmd, p, storeDel);
  Tcl_SetObjResult(interp, objv[2]);
  return TCL_OK;
}

/*
** vlog_checksum BYTES SEED: the engine's checksum (xxh3, 64 bits) of BYTES
** with SEED, as an integer: for tests that craft a structure whose
** checksum holds while its contents lie.
*/
static int vlogChecksumCmd(ClientData cd, Tcl_Interp *interp, int objc,
                           Tcl_Obj *const objv[]){
  Tcl_WideInt iSeed;
  const unsigned char *a;
  int n;
  (void)cd;
  if( objc!=3 ){
    Tcl_WrongNumArgs(interp, 1, objv, "BYTES SEED");
    return TCL_ERROR;
  }
  if( Tcl_GetWideIntFromObj(interp, objv[2], &iSeed) ) return TCL_ERROR;
  a = Tcl_GetByteArrayFromObj(objv[1], &n);
  Tcl_SetObjResult(interp, Tcl_NewWideIntObj(
      (Tcl_WideInt)vlogChecksum(a, (size_t)n, (u64)iSeed)));
  return TCL_OK;
}

/*
** vlog_corrupt_where: "FILE:LINE" of the engine check that last found
** corruption (VLOG_CORRUPT_BKPT; FILE without its folder), "" if none.
*/
static int vlogCorruptWhereCmd(ClientData cd, Tcl_Interp *interp, int objc,
                               Tcl_Obj *const objv[]){
  int iLine = 0;
  const char *zFile = vlogCorruptWhere(&iLine);
  (void)cd;
  (void)objc;
  (void)objv;
  if( zFile ){
    const char *z = strrchr(zFile, '/');
    Tcl_SetObjResult(interp, Tcl_ObjPrintf("%s:%d", z ? z+1 : zFile, iLine));
  }
  return TCL_OK;
}

/*
** vlog_fix sb|journal|node|frame FILE OFFSET
*/
static int vlogFixCmd(
  ClientData cd,
  Tcl_Interp *interp,
  int objc,
  Tcl_Obj *const objv[]
){
  static const char *azKind[] = { "sb", "journal", "node", "frame", 0 };
  enum { K_SB, K_JOURNAL, K_NODE, K_FRAME };
  Tcl_WideInt iOff = 0;
  int eKind, n, nRead;
  u8 *a;
  FILE *f;
  (void)cd;
  if( objc!=4 ){
    Tcl_WrongNumArgs(interp, 1, objv, "sb|journal|node|frame FILE OFFSET");
    return TCL_ERROR;
  }
  if( Tcl_GetIndexFromObj(interp, objv[1], azKind, "structure", 0, &eKind)
   || Tcl_GetWideIntFromObj(interp, objv[3], &iOff) ){
    return TCL_ERROR;
  }
  f = fopen(Tcl_GetString(objv[2]), "r+b");
  if( f==0 || fseek(f, (long)iOff, SEEK_SET) ){
    if( f ) fclose(f);
    Tcl_AppendResult(interp, "cannot open ", Tcl_GetString(objv[2]), (char*)0);
    return TCL_ERROR;
  }
  n = eKind==K_SB ? SB_USED : eKind==K_NODE ? MAX_NODE_SIZE : MAX_BUCKET_SIZE;
  a = (u8*)ckalloc(n);
  memset(a, 0, n);
  nRead = (int)fread(a, 1, n, f);
  switch( eKind ){
    case K_SB:
      vlogFixSuperblock(a);
      break;
    case K_JOURNAL: {
      u32 nPayload = vlogGet32(&a[24]);
      if( nPayload>(u32)(nRead-JE_HDR) ) nPayload = (u32)(nRead-JE_HDR);
      vlogFixJournalEntry(a, &a[JE_HDR], (int)nPayload);
      nRead = JE_HDR;
      break;
    }
    case K_FRAME: {
      u32 nStored = vlogGet32(&a[12]);
      int nAvail = nRead>FRAME_HDR ? nRead-FRAME_HDR : 0;
      if( nStored>(u32)nAvail ) nStored = (u32)nAvail;
      vlogFixFrame(a, &a[FRAME_HDR], (int)nStored);
      nRead = FRAME_HDR;
      break;
    }
    default:
      vlogFixNode(a, nRead);
      break;
  }
  if( eKind==K_SB ) nRead = SB_USED;
  if( fseek(f, (long)iOff, SEEK_SET) || (int)fwrite(a, 1, nRead, f)!=nRead ){
    nRead = -1;
  }
  ckfree((char*)a);
  if( fclose(f) || nRead<0 ){
    Tcl_AppendResult(interp, "cannot write ", Tcl_GetString(objv[2]), (char*)0);
    return TCL_ERROR;
  }
  return TCL_OK;
}

/*
** vlog_txn_limit DB N: set the most bytes of the transaction logs of every
** store that connection DB has open (ext/registry.c) to N (0: the engine's
** TXN_LOG_MAX), as the store command txnlimit does for its handle.
*/
static int vlogTxnLimitCmd(
  ClientData cd,
  Tcl_Interp *interp,
  int objc,
  Tcl_Obj *const objv[]
){
  sqlite3 *db = 0;
  VStore **apVS = 0;
  int nVS = 0, i;
  Tcl_WideInt n;
  (void)cd;
  if( objc!=3 ){
    Tcl_WrongNumArgs(interp, 1, objv, "DB N");
    return TCL_ERROR;
  }
  if( getDbPointer(interp, Tcl_GetString(objv[1]), &db) || db==0
   || Tcl_GetWideIntFromObj(interp, objv[2], &n) ){
    return TCL_ERROR;
  }
  if( vlogVStoreList(db, &apVS, &nVS) ){
    Tcl_AppendResult(interp, "out of memory", (char*)0);
    return TCL_ERROR;
  }
  for(i=0; i<nVS; i++){
    apVS[i]->pStore->nTxnLogMax = n>0 && n<TXN_LOG_MAX ? (i64)n : TXN_LOG_MAX;
    vlogVStoreRelease(apVS[i]);
  }
  sqlite3_free(apVS);
  Tcl_SetObjResult(interp, Tcl_NewIntObj(nVS));
  return TCL_OK;
}

/*
** vlog_vfs_register NAME PARENT ?DEFAULT?: a vlog VFS over PARENT (SQLite's
** crash VFS, say).  Returns the SQLite code's name.
*/
static int vlogVfsRegisterCmd(void *pUnused, Tcl_Interp *interp, int objc,
                              Tcl_Obj *const objv[]){
  int bDefault = 0, rc;
  (void)pUnused;
  if( objc!=3 && objc!=4 ){
    Tcl_WrongNumArgs(interp, 1, objv, "NAME PARENT ?DEFAULT?");
    return TCL_ERROR;
  }
  if( objc==4 && Tcl_GetBooleanFromObj(interp, objv[3], &bDefault) ) return TCL_ERROR;
  rc = sqlite3_vlog_vfs_register(Tcl_GetString(objv[1]), Tcl_GetString(objv[2]), bDefault);
  Tcl_SetObjResult(interp, Tcl_NewStringObj(rc ? sqlite3_errstr(rc) : "SQLITE_OK", -1));
  return TCL_OK;
}

/*
** vlog_vfs_map DB: the layer map of DB's main database file, a list: its
** frozen layers as last loaded, how many the map has, whether it gave up.
** vlog_vfs_map -limits PROBES MAXPAGES: the lookups before a map is made,
** the largest page one has (0 0: the defaults).
*/
static int vlogVfsMapCmd(void *pUnused, Tcl_Interp *interp, int objc,
                         Tcl_Obj *const objv[]){
#ifdef VLOG_DEBUG
  (void)pUnused;
  if( objc==4 && strcmp(Tcl_GetString(objv[1]), "-limits")==0 ){
    Tcl_WideInt nProbes;
    int nMax;
    if( Tcl_GetWideIntFromObj(interp, objv[2], &nProbes)
     || Tcl_GetIntFromObj(interp, objv[3], &nMax) ){
      return TCL_ERROR;
    }
    vlogVfsMapLimits((sqlite3_int64)nProbes, (unsigned int)nMax);
    return TCL_OK;
  }
  if( objc==2 ){
    sqlite3 *db;
    sqlite3_file *pFile = 0;
    int nLow = 0, nMapped = 0, bNoMap = 0;
    Tcl_Obj *pRes;
    if( getDbPointer(interp, Tcl_GetString(objv[1]), &db) ) return TCL_ERROR;
    sqlite3_file_control(db, "main", SQLITE_FCNTL_FILE_POINTER, &pFile);
    if( !vlogVfsMapState(pFile, &nLow, &nMapped, &bNoMap) ){
      Tcl_AppendResult(interp, "not a vlog database", (char*)0);
      return TCL_ERROR;
    }
    pRes = Tcl_NewListObj(0, 0);
    Tcl_ListObjAppendElement(interp, pRes, Tcl_NewIntObj(nLow));
    Tcl_ListObjAppendElement(interp, pRes, Tcl_NewIntObj(nMapped));
    Tcl_ListObjAppendElement(interp, pRes, Tcl_NewIntObj(bNoMap));
    Tcl_SetObjResult(interp, pRes);
    return TCL_OK;
  }
  Tcl_WrongNumArgs(interp, 1, objv, "DB | -limits PROBES MAXPAGES");
  return TCL_ERROR;
#else
  (void)pUnused; (void)objc; (void)objv;
  Tcl_AppendResult(interp, "not a VLOG_DEBUG build", (char*)0);
  return TCL_ERROR;
#endif
}

int vlogCrashvfsInit(Tcl_Interp*);   /* test_crashvfs.c */

static int Vlogtest_Init(Tcl_Interp *interp){
  static const struct {
    const char *zName;
    Tcl_ObjCmdProc *xProc;
  } aCmd[] = {
    { "vlog_init",  vlogInitCmd },
    { "vlog_store", vlogStoreCmd },
    { "vlog_checksum", vlogChecksumCmd },
    { "vlog_corrupt_where", vlogCorruptWhereCmd },
    { "vlog_fix",   vlogFixCmd },
    { "vlog_txn_limit", vlogTxnLimitCmd },
    { "vlog_vfs_register", vlogVfsRegisterCmd },
    { "vlog_vfs_map", vlogVfsMapCmd },
  };
  int i;
  for(i=0; i<(int)(sizeof(aCmd)/sizeof(aCmd[0])); i++){
    Tcl_CreateObjCommand(interp, aCmd[i].zName, aCmd[i].xProc, 0, 0);
  }
  return vlogCrashvfsInit(interp);
}

int vlog_testfixture_init(const char *zUnused){
  static int bTclDone = 0;
  (void)zUnused;
  if( !bTclDone ){
    Tcl_StaticPackage(0, "Vlogtest", Vlogtest_Init, 0);
    bTclDone = 1;
  }
  /* the VFS before the first connection, as a static application would;
  ** the default VFS when VLOG_DEFAULT_VFS is set (SQLite's own test files
  ** run on the vlog VFS: make test-vfs) */
  if( sqlite3_vlog_vfs_register(0, 0, getenv("VLOG_DEFAULT_VFS")!=0)!=SQLITE_OK ){
    return SQLITE_ERROR;
  }
  return sqlite3_auto_extension((void(*)(void))sqlite3_vlog_init);
}
