/*
** test_crashvfs.c: power loss for several handles on one file.
**
** SQLite's crash VFS (src/test6.c) gives each handle a private copy of
** the file, so a second handle never sees what the first one wrote: no use
** for a store read by one handle while another commits and checkpoints.
** This VFS writes through to the real file at once, as the page cache does
** (every handle, and the -shm, see every write), and remembers what each
** write since the file's last sync replaced.  At the Nth xSync of the
** process (any file, any handle) it does not sync: it simulates the power
** loss and ends the process.  For each sector that an unsynced write
** touched, newest write first, it keeps the new bytes, puts the old ones
** back, or writes garbage, at random; a truncation not synced may be
** undone too.  Synced bytes are never touched.  A sync of a file makes all
** earlier writes to it durable, whichever handle made them (fsync()).
**
** Tcl:
**   vlog_crashvfs register ?PARENT?  register the VFS "vlogcrash" over
**                                    PARENT (default: the default VFS)
**   vlog_crashvfs arm N SEED ?SECTOR?   power loss at the Nth sync from
**                                    now (0: never), random choices from
**                                    SEED, per SECTOR bytes (default 512)
**   vlog_crashvfs syncs              syncs counted since arm
**
** Test code only: the power loss writes with pwrite(), ftruncate() and
** _exit() directly.
*/
#include <tcl.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "sqlite3.h"

typedef struct CvUndo CvUndo;
typedef struct CvNode CvNode;
typedef struct CvFile CvFile;

struct CvUndo {                 /* what one unsynced change replaced */
  sqlite3_int64 iOff;
  int n;
  unsigned char *a;             /* the old bytes (zeros past the old end) */
  CvUndo *pNext;                /* older */
};
struct CvNode {                 /* one file, shared by its handles */
  char *zPath;
  sqlite3_int64 nSynced;        /* its size at its last sync */
  int bDirty;                   /* changed since then */
  CvUndo *pUndo;                /* newest first */
  CvNode *pNext;
};
struct CvFile {
  sqlite3_file base;
  CvNode *pNode;                /* 0: not tracked (temporary files) */
  sqlite3_file *pReal;          /* the parent's file, after this struct */
};

static struct {
  sqlite3_vfs vfs;
  sqlite3_vfs *pParent;
  CvNode *pNodes;
  int nSync, nCrashAt;
  unsigned int iRand;
  int nSector;
} cv;

static unsigned int cvRand(void){
  cv.iRand = cv.iRand*1103515245 + 12345;
  return (cv.iRand >> 8) & 0xffffff;
}

static void cvFreeUndo(CvNode *p){
  while( p->pUndo ){
    CvUndo *pU = p->pUndo;
    p->pUndo = pU->pNext;
    sqlite3_free(pU->a);
    sqlite3_free(pU);
  }
  p->bDirty = 0;
}

/* Remember bytes [iOff, iOff+n) of the file before a change. */
static int cvSave(CvFile *p, sqlite3_int64 iOff, int n){
  CvUndo *pU;
  sqlite3_int64 nSize = 0;
  int rc;
  if( p->pNode==0 || n<=0 ) return SQLITE_OK;
  rc = p->pReal->pMethods->xFileSize(p->pReal, &nSize);
  if( rc ) return rc;
  if( !p->pNode->bDirty ){
    p->pNode->nSynced = nSize;
    p->pNode->bDirty = 1;
  }
  pU = (CvUndo*)sqlite3_malloc(sizeof(CvUndo));
  if( pU==0 ) return SQLITE_NOMEM;
  pU->a = (unsigned char*)sqlite3_malloc(n);
  if( pU->a==0 ){ sqlite3_free(pU); return SQLITE_NOMEM; }
  memset(pU->a, 0, n);
  if( iOff<nSize ){
    int nRead = (int)(nSize-iOff < n ? nSize-iOff : n);
    rc = p->pReal->pMethods->xRead(p->pReal, pU->a, nRead, iOff);
    if( rc!=SQLITE_OK && rc!=SQLITE_IOERR_SHORT_READ ){
      sqlite3_free(pU->a);
      sqlite3_free(pU);
      return rc;
    }
  }
  pU->iOff = iOff;
  pU->n = n;
  pU->pNext = p->pNode->pUndo;
  p->pNode->pUndo = pU;
  return SQLITE_OK;
}

/* The power loss: undo, garble or keep each unsynced sector; then die. */
static void cvPowerLoss(void){
  CvNode *p;
  for(p=cv.pNodes; p; p=p->pNext){
    CvUndo *pU;
    int fd;
    if( !p->bDirty ) continue;
    fd = open(p->zPath, O_WRONLY);
    if( fd<0 ) continue;
    for(pU=p->pUndo; pU; pU=pU->pNext){
      sqlite3_int64 i = pU->iOff;
      while( i<pU->iOff+pU->n ){
        sqlite3_int64 iEnd = (i/cv.nSector+1)*cv.nSector;
        int n, k;
        unsigned char aJunk[65536];
        if( iEnd>pU->iOff+pU->n ) iEnd = pU->iOff+pU->n;
        n = (int)(iEnd-i);
        switch( cvRand()%3 ){
          case 0: break;                                       /* kept */
          case 1:                                              /* lost */
            if( pwrite(fd, &pU->a[i-pU->iOff], n, i)!=n ){}
            break;
          default:                                             /* garbled */
            for(k=0; k<n; k++) aJunk[k] = (unsigned char)cvRand();
            if( pwrite(fd, aJunk, n, i)!=n ){}
            break;
        }
        i = iEnd;
      }
    }
    /* an extension of the file may be lost too */
    if( cvRand()%2 ){
      off_t nNow = lseek(fd, 0, SEEK_END);
      if( nNow>p->nSynced && ftruncate(fd, p->nSynced) ){}
    }
    close(fd);
  }
  _exit(3);
}

/* ------------------------------------------------------------------ */
/* File methods */

static int cvClose(sqlite3_file *pFile){
  CvFile *p = (CvFile*)pFile;
  return p->pReal->pMethods->xClose(p->pReal);
}
static int cvRead(sqlite3_file *pFile, void *z, int n, sqlite3_int64 iOff){
  CvFile *p = (CvFile*)pFile;
  return p->pReal->pMethods->xRead(p->pReal, z, n, iOff);
}
static int cvWrite(sqlite3_file *pFile, const void *z, int n, sqlite3_int64 iOff){
  CvFile *p = (CvFile*)pFile;
  int rc = cvSave(p, iOff, n);
  if( rc ) return rc;
  return p->pReal->pMethods->xWrite(p->pReal, z, n, iOff);
}
static int cvTruncate(sqlite3_file *pFile, sqlite3_int64 nSize){
  CvFile *p = (CvFile*)pFile;
  sqlite3_int64 nOld = 0;
  int rc = p->pReal->pMethods->xFileSize(p->pReal, &nOld);
  if( rc==SQLITE_OK && nOld>nSize ) rc = cvSave(p, nSize, (int)(nOld-nSize));
  if( rc ) return rc;
  return p->pReal->pMethods->xTruncate(p->pReal, nSize);
}
static int cvSync(sqlite3_file *pFile, int flags){
  CvFile *p = (CvFile*)pFile;
  cv.nSync++;
  if( cv.nCrashAt>0 && cv.nSync>=cv.nCrashAt ) cvPowerLoss();
  if( p->pNode ) cvFreeUndo(p->pNode);
  return p->pReal->pMethods->xSync(p->pReal, flags);
}
static int cvFileSize(sqlite3_file *pFile, sqlite3_int64 *pn){
  CvFile *p = (CvFile*)pFile;
  return p->pReal->pMethods->xFileSize(p->pReal, pn);
}
static int cvLock(sqlite3_file *pFile, int e){
  CvFile *p = (CvFile*)pFile;
  return p->pReal->pMethods->xLock(p->pReal, e);
}
static int cvUnlock(sqlite3_file *pFile, int e){
  CvFile *p = (CvFile*)pFile;
  return p->pReal->pMethods->xUnlock(p->pReal, e);
}
static int cvCheckReserved(sqlite3_file *pFile, int *pb){
  CvFile *p = (CvFile*)pFile;
  return p->pReal->pMethods->xCheckReservedLock(p->pReal, pb);
}
static int cvFileControl(sqlite3_file *pFile, int op, void *pArg){
  CvFile *p = (CvFile*)pFile;
  if( op==SQLITE_FCNTL_MMAP_SIZE ) return SQLITE_NOTFOUND;  /* reads stay xRead */
  return p->pReal->pMethods->xFileControl(p->pReal, op, pArg);
}
static int cvSectorSize(sqlite3_file *pFile){
  CvFile *p = (CvFile*)pFile;
  return p->pReal->pMethods->xSectorSize(p->pReal);
}
static int cvDeviceChar(sqlite3_file *pFile){
  CvFile *p = (CvFile*)pFile;
  return p->pReal->pMethods->xDeviceCharacteristics(p->pReal);
}
static int cvShmMap(sqlite3_file *pFile, int i, int n, int b, void volatile **pp){
  CvFile *p = (CvFile*)pFile;
  return p->pReal->pMethods->xShmMap(p->pReal, i, n, b, pp);
}
static int cvShmLock(sqlite3_file *pFile, int i, int n, int f){
  CvFile *p = (CvFile*)pFile;
  return p->pReal->pMethods->xShmLock(p->pReal, i, n, f);
}
static void cvShmBarrier(sqlite3_file *pFile){
  CvFile *p = (CvFile*)pFile;
  p->pReal->pMethods->xShmBarrier(p->pReal);
}
static int cvShmUnmap(sqlite3_file *pFile, int bDelete){
  CvFile *p = (CvFile*)pFile;
  return p->pReal->pMethods->xShmUnmap(p->pReal, bDelete);
}

static const sqlite3_io_methods cvMethods = {
  2,                            /* iVersion: shared memory, no xFetch */
  cvClose, cvRead, cvWrite, cvTruncate, cvSync, cvFileSize, cvLock,
  cvUnlock, cvCheckReserved, cvFileControl, cvSectorSize, cvDeviceChar,
  cvShmMap, cvShmLock, cvShmBarrier, cvShmUnmap, 0, 0
};

/* ------------------------------------------------------------------ */
/* VFS methods */

static int cvOpen(sqlite3_vfs *pVfs, const char *zName, sqlite3_file *pFile,
                  int flags, int *pOutFlags){
  CvFile *p = (CvFile*)pFile;
  int rc;
  (void)pVfs;
  memset(p, 0, sizeof(CvFile));
  p->pReal = (sqlite3_file*)&p[1];
  rc = cv.pParent->xOpen(cv.pParent, zName, p->pReal, flags, pOutFlags);
  if( rc ) return rc;
  if( zName ){
    CvNode *pN;
    for(pN=cv.pNodes; pN && strcmp(pN->zPath, zName); pN=pN->pNext){}
    if( pN==0 ){
      pN = (CvNode*)sqlite3_malloc(sizeof(CvNode));
      if( pN ) memset(pN, 0, sizeof(*pN));
      if( pN ) pN->zPath = sqlite3_mprintf("%s", zName);
      if( pN && pN->zPath ){
        pN->pNext = cv.pNodes;
        cv.pNodes = pN;
      }else{
        sqlite3_free(pN);
        pN = 0;
      }
    }
    p->pNode = pN;
  }
  p->base.pMethods = &cvMethods;
  return SQLITE_OK;
}
static int cvDelete(sqlite3_vfs *pVfs, const char *z, int bSync){
  (void)pVfs;
  return cv.pParent->xDelete(cv.pParent, z, bSync);
}
static int cvAccess(sqlite3_vfs *pVfs, const char *z, int f, int *pRes){
  (void)pVfs;
  return cv.pParent->xAccess(cv.pParent, z, f, pRes);
}
static int cvFullPathname(sqlite3_vfs *pVfs, const char *z, int n, char *zOut){
  (void)pVfs;
  return cv.pParent->xFullPathname(cv.pParent, z, n, zOut);
}
static int cvRandomness(sqlite3_vfs *pVfs, int n, char *z){
  (void)pVfs;
  return cv.pParent->xRandomness(cv.pParent, n, z);
}
static int cvSleep(sqlite3_vfs *pVfs, int n){
  (void)pVfs;
  return cv.pParent->xSleep(cv.pParent, n);
}
static int cvCurrentTime(sqlite3_vfs *pVfs, double *p){
  (void)pVfs;
  return cv.pParent->xCurrentTime(cv.pParent, p);
}

static int crashvfsCmd(ClientData cd, Tcl_Interp *interp, int objc,
                       Tcl_Obj *const objv[]){
  const char *zSub;
  (void)cd;
  if( objc<2 ){
    Tcl_WrongNumArgs(interp, 1, objv, "register ?PARENT? | arm N SEED ?SECTOR? | syncs");
    return TCL_ERROR;
  }
  zSub = Tcl_GetString(objv[1]);
  if( strcmp(zSub, "register")==0 ){
    sqlite3_vfs *pParent = sqlite3_vfs_find(objc>2 ? Tcl_GetString(objv[2]) : 0);
    if( pParent==0 ){
      Tcl_AppendResult(interp, "no such VFS", (char*)0);
      return TCL_ERROR;
    }
    if( cv.pParent==0 ){
      cv.pParent = pParent;
      cv.vfs.iVersion = 1;
      cv.vfs.szOsFile = (int)sizeof(CvFile) + pParent->szOsFile;
      cv.vfs.mxPathname = pParent->mxPathname;
      cv.vfs.zName = "vlogcrash";
      cv.vfs.xOpen = cvOpen;
      cv.vfs.xDelete = cvDelete;
      cv.vfs.xAccess = cvAccess;
      cv.vfs.xFullPathname = cvFullPathname;
      cv.vfs.xRandomness = cvRandomness;
      cv.vfs.xSleep = cvSleep;
      cv.vfs.xCurrentTime = cvCurrentTime;
      cv.nSector = 512;
      sqlite3_vfs_register(&cv.vfs, 0);
    }
    return TCL_OK;
  }
  if( strcmp(zSub, "arm")==0 && (objc==4 || objc==5) ){
    int n, iSeed, nSector = 512;
    if( Tcl_GetIntFromObj(interp, objv[2], &n)
     || Tcl_GetIntFromObj(interp, objv[3], &iSeed)
     || (objc==5 && Tcl_GetIntFromObj(interp, objv[4], &nSector)) ){
      return TCL_ERROR;
    }
    if( nSector<512 || nSector>65536 ){
      Tcl_AppendResult(interp, "SECTOR: 512 to 65536", (char*)0);
      return TCL_ERROR;
    }
    cv.nCrashAt = n;
    cv.nSync = 0;
    cv.iRand = (unsigned int)iSeed;
    cv.nSector = nSector;
    return TCL_OK;
  }
  if( strcmp(zSub, "syncs")==0 ){
    Tcl_SetObjResult(interp, Tcl_NewIntObj(cv.nSync));
    return TCL_OK;
  }
  Tcl_AppendResult(interp, "bad subcommand ", zSub, (char*)0);
  return TCL_ERROR;
}

int vlogCrashvfsInit(Tcl_Interp *interp){
  Tcl_CreateObjCommand(interp, "vlog_crashvfs", crashvfsCmd, 0, 0);
  return TCL_OK;
}
