/*
** io_vfs.c: VlogEnv over a parent sqlite3_vfs (see io.h).
**
** The engine's I/O adapter to SQLite, and the one engine file that includes
** SQLite's header.  Files are opened with the parent VFS as main database
** files; locks are the parent's own levels; memory comes from
** sqlite3_malloc64(), so SQLite's OOM injection (sqlite3_memdebug_fail)
** reaches the engine.  Placing SQLite's test VFSes underneath (the "crash"
** VFS of test6.c, testvfs, the unix VFS with sqlite3_io_error_pending) is
** how the tests simulate power loss and I/O errors.
**
** Shared memory is the parent's xShmMap (region 0, VLOG_SHM_SIZE bytes),
** so SQLite's test VFSes see it too; a parent without it (iVersion<2)
** gives none.  The reader slots' lock bytes cannot be the parent's
** xShmLock: SQLite gives eight locks (SQLITE_SHM_NLOCK), and a store has
** a thousand slots.  They are fcntl() locks on the -shm file taken through
** the process's ShmNode of io_posix.c, the one the POSIX env uses (io.h,
** READER-SLOT LOCKS).  Its descriptor and the unix VFS's own descriptor of
** the -shm share the process's locks, so neither may be closed while the
** other's locks matter: each handle opens the node after the parent's
** xShmMap and closes it after the parent's xShmUnmap, so the unix VFS
** closes its descriptor (when its last handle unmaps) only once no handle
** of ours holds a slot byte, and the node closes its own after that.  A
** parent whose shared memory is not that file (testvfs keeps it in the
** heap) still gets the lock bytes on "<store>-shm", which the node
** creates if needed.
**
** Memory-mapped reads (io.h).  xMmap opens the file a second time,
** read-only (pMap), and sets SQLITE_FCNTL_MMAP_SIZE on that handle alone,
** so that the parent serves its xRead from a map.  Only xReadMapped uses
** it: reads of bytes the caller's snapshot pins.  Every other read (the
** superblocks, the journal, read optimistically before a snapshot is
** pinned, where another process may just have truncated the file) stays on
** the main handle and its system calls: a short read there is an answer,
** a read of a truncated page of a map is SIGBUS.  The unix VFS maps the
** file at the size it has on the first xFetch and never grows the map by
** itself, so a read that ends past the mapped size, in a file that has
** grown since, drops the map (xUnfetch with no pointer: nothing of it is
** fetched) and maps again with one xFetch.  A truncation through this
** handle drops the map too.  Writes stay on the main handle: the map is
** read-only and shares the page cache with them.  The second handle takes
** no lock; the unix VFS keeps the process's locks on the file (which
** belong to the inode) when it closes.
**
** xOpen refuses a directory or anything but a regular file before the
** parent opens it (io.h), and a read-write open that the parent could only
** make read-only (the unix VFS falls back by itself) fails: the store then
** opens read-only, knowing it.
**
** Holes and writeback.  SQLite's VFS interface can do neither.  A
** read-write file of the unix VFS (a parent whose name begins "unix")
** registers with the process's side descriptor of the file (io_posix.c,
** "A side descriptor"), which does both; other parents (the test VFSes
** among them) get VLOG_NOTFOUND for holes, and the free buckets stay
** allocated, and no early writeback.
**
** The file name handed to the parent's xOpen() stays allocated until
** xClose(), ends in extra NULs (VFSes look for URI parameters after it) and
** is the parent's full path name.
*/
#ifdef VLOG_STATIC
# include "sqlite3.h"
#else
# include "sqlite3ext.h"
  SQLITE_EXTENSION_INIT3
#endif
#include <assert.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include "engine.h"

typedef struct VfsFile VfsFile;
struct VfsFile {
  VlogFile base;               /* Must be first */
  char *zPath;                 /* Name given to the parent's xOpen() */
  sqlite3_file *pReal;         /* Parent's file object, allocated after us */
  int bShm;                    /* xShmMap succeeded */
  VlogShmNode *pNode;          /* slot locks (io_posix.c), with bShm */
  int iSlotLock;               /* the slot byte this handle holds, or -1 */
  sqlite3_file *pMap;          /* Second, read-only handle with a map, or 0 */
  sqlite3_int64 nMapMax;       /* xMmap's limit (0: no map) */
  sqlite3_int64 nMapped;       /* file size when pMap was last mapped */
  VlogSideFd *pSide;           /* holes, writeback (read-write, unix VFS) */
};

#define ENV_VFS(pEnv) ((sqlite3_vfs*)(pEnv)->pCtx)

static int vfsOpen(VlogEnv *pEnv, const char *zPath, int flags, VlogFile **pp){
  sqlite3_vfs *pVfs = ENV_VFS(pEnv);
  int nPath = pVfs->mxPathname + 1;
  VfsFile *p;
  int rc;
  int oflags = SQLITE_OPEN_MAIN_DB;
  int outFlags = 0;
  struct stat st;

  *pp = 0;
  p = (VfsFile*)vlogMallocZero(pEnv, sizeof(VfsFile) + 2*pVfs->szOsFile + nPath + 4);
  if( p==0 ) return VLOG_NOMEM;
  p->base.pEnv = pEnv;
  p->pReal = (sqlite3_file*)&p[1];
  p->zPath = (char*)p->pReal + 2*pVfs->szOsFile;
  rc = pVfs->xFullPathname(pVfs, zPath, nPath, p->zPath);
  if( rc!=SQLITE_OK && rc!=SQLITE_OK_SYMLINK ){
    vlogFree(pEnv, p);
    return VLOG_CANTOPEN;
  }
  memset(&p->zPath[strlen(p->zPath)], 0, 4);
  if( stat(p->zPath, &st)==0 && !S_ISREG(st.st_mode) ){
    vlogFree(pEnv, p);
    return S_ISDIR(st.st_mode) ? VLOG_CANTOPEN_ISDIR : VLOG_CANTOPEN_NOTREG;
  }
  if( flags & VLOG_OPEN_READONLY ){
    oflags |= SQLITE_OPEN_READONLY;
  }else{
    oflags |= SQLITE_OPEN_READWRITE;
    if( flags & VLOG_OPEN_CREATE ) oflags |= SQLITE_OPEN_CREATE;
  }
  rc = pVfs->xOpen(pVfs, p->zPath, p->pReal, oflags, &outFlags);
  if( rc==SQLITE_OK && (oflags & SQLITE_OPEN_READWRITE)
   && (outFlags & SQLITE_OPEN_READONLY) ){
    rc = SQLITE_CANTOPEN;       /* the parent fell back to read-only: so will
                                ** the store, knowingly (VLOG_OPEN_READONLY) */
  }
  if( rc!=SQLITE_OK ){
    int iErrno = errno;          /* the reason, for the caller's message */
    if( p->pReal->pMethods ) (void)p->pReal->pMethods->xClose(p->pReal);  /* rc says */
    vlogFree(pEnv, p);
    errno = iErrno;
    return (rc & 0xff)==SQLITE_NOMEM ? VLOG_NOMEM : VLOG_CANTOPEN;
  }
  /* Holes can be punched in a file of the unix VFS (by path: its own
  ** descriptor is out of reach) when read-write; without, none are. */
  if( (oflags & SQLITE_OPEN_READWRITE) && strncmp(pVfs->zName, "unix", 4)==0 ){
    if( vlogSideFdOpen(p->zPath, &p->pSide) ) p->pSide = 0;
  }
  *pp = &p->base;
  return VLOG_OK;
}

static void vfsShmUnmap(VlogFile *pFile){
  VfsFile *p = (VfsFile*)pFile;
  const sqlite3_io_methods *pM = p->pReal->pMethods;
  if( p->bShm ){
    (void)pM->xShmUnmap(p->pReal, 0);     /* void in io.h; the unix VFS's
                                          ** cannot fail */
    vlogShmNodeClose(p->pNode, p->iSlotLock);
    p->bShm = 0;
    p->pNode = 0;
    p->iSlotLock = -1;
  }
}

static int vfsShmMap(VlogFile *pFile, void volatile **pp){
  VfsFile *p = (VfsFile*)pFile;
  const sqlite3_io_methods *pM = p->pReal->pMethods;
  int rc;
  *pp = 0;
  if( pM->iVersion<2 || pM->xShmMap==0 ) return VLOG_NOTFOUND;
  rc = pM->xShmMap(p->pReal, 0, VLOG_SHM_SIZE, 1, pp);
  if( rc==SQLITE_OK && *pp==0 ) rc = SQLITE_IOERR_SHMMAP;
  if( rc==SQLITE_OK ) rc = vlogShmNodeOpen(p->zPath, 0, &p->pNode);
  if( rc==SQLITE_OK ){
    p->bShm = 1;
    p->iSlotLock = -1;
  }else{
    (void)pM->xShmUnmap(p->pReal, 0);     /* rc says what failed */
    *pp = 0;
  }
  return rc;
}

static int vfsShmLock(VlogFile *pFile, int iSlot, int eOp){
  VfsFile *p = (VfsFile*)pFile;
  return vlogShmNodeLock(p->pNode, &p->iSlotLock, iSlot, eOp);
}

int vlogEnvVfsWalLock(VlogFile *pFile, int *peHeld, int eLevel){
  VfsFile *p = (VfsFile*)pFile;
  if( p==0 || p->base.pEnv==0 || p->base.pEnv->xOpen!=vfsOpen || !p->bShm ){
    return eLevel ? VLOG_NOTFOUND : VLOG_OK;
  }
  return vlogShmNodeWalLock(p->pNode, peHeld, eLevel);
}

static int vfsClose(VlogFile *pFile){
  VfsFile *p = (VfsFile*)pFile;
  int rc = VLOG_OK;
  if( p ){
    if( p->pMap ) rc = p->pMap->pMethods->xClose(p->pMap);
    if( p->pReal->pMethods ) vfsShmUnmap(pFile);
    if( p->pReal->pMethods ){
      int rc2 = p->pReal->pMethods->xClose(p->pReal);
      if( rc==SQLITE_OK ) rc = rc2;
    }
    if( p->pSide ) vlogSideFdClose(p->pSide);   /* after the file's close */
    vlogFree(pFile->pEnv, p);
  }
  return rc;
}

/* SQLite's VFSes are made for pages: the unix VFS, for one, takes at most
** 128 KiB per call.  Larger requests go in chunks of VFS_CHUNK. */
#define VFS_CHUNK 65536

static int vfsReadFrom(sqlite3_file *pReal, int64_t iOff, void *pBuf, int nBuf){
  int rc = SQLITE_OK;
  int i;
  assert( iOff>=0 && nBuf>=0 && (pBuf!=0 || nBuf==0) && pReal->pMethods!=0 );
  for(i=0; rc==SQLITE_OK && i<nBuf; i+=VFS_CHUNK){
    int n = nBuf-i < VFS_CHUNK ? nBuf-i : VFS_CHUNK;
    rc = pReal->pMethods->xRead(pReal, (char*)pBuf+i, n, iOff+i);
    if( rc==SQLITE_IOERR_SHORT_READ && i+n<nBuf ){
      memset((char*)pBuf+i+n, 0, nBuf-i-n);
    }
  }
  return rc;
}

/* Map the file again if it has grown past the part mapped (see above). */
static void vfsRemap(VfsFile *p){
  const sqlite3_io_methods *pM = p->pMap->pMethods;
  sqlite3_int64 nSize = 0;
  void *pData = 0;
  /* A hint, as the map is: on any error the reads go on through the
  ** second handle's xRead, which reads past its map with pread(). */
  if( pM->xFileSize(p->pMap, &nSize)!=SQLITE_OK || nSize<=p->nMapped ) return;
  (void)pM->xUnfetch(p->pMap, 0, 0);             /* unmaps: cannot fail */
  if( pM->xFetch(p->pMap, 0, 1, &pData)==SQLITE_OK && pData ){
    (void)pM->xUnfetch(p->pMap, 0, pData);       /* a release: cannot fail */
  }
  p->nMapped = nSize;
}

/* Open pMap, the handle with the map, if the parent can map. */
static int vfsMapOpen(VfsFile *p){
  sqlite3_vfs *pVfs = ENV_VFS(p->base.pEnv);
  const sqlite3_io_methods *pM = p->pReal->pMethods;
  sqlite3_file *pMap = (sqlite3_file*)((char*)p->pReal + pVfs->szOsFile);
  int outFlags = 0;
  int rc;
  if( pM->iVersion<3 || pM->xFetch==0 ) return SQLITE_OK;   /* reads stay reads */
  memset(pMap, 0, pVfs->szOsFile);
  rc = pVfs->xOpen(pVfs, p->zPath, pMap, SQLITE_OPEN_MAIN_DB|SQLITE_OPEN_READONLY,
                   &outFlags);
  if( rc==SQLITE_OK && (pMap->pMethods->iVersion<3 || pMap->pMethods->xFetch==0) ){
    rc = SQLITE_NOTFOUND;
  }
  if( rc!=SQLITE_OK ){
    if( pMap->pMethods ) (void)pMap->pMethods->xClose(pMap);   /* rc says */
    return (rc & 0xff)==SQLITE_NOMEM ? SQLITE_NOMEM : SQLITE_OK;
  }
  p->pMap = pMap;
  return SQLITE_OK;
}

static int vfsMmap(VlogFile *pFile, int64_t nLimit, int64_t *pnMapped){
  VfsFile *p = (VfsFile*)pFile;
  sqlite3_int64 n = nLimit;
  int rc = SQLITE_OK;
  if( nLimit>0 && p->pMap==0 ) rc = vfsMapOpen(p);
  if( nLimit>=0 && p->pMap && rc==SQLITE_OK ){
    rc = p->pMap->pMethods->xFileControl(p->pMap, SQLITE_FCNTL_MMAP_SIZE, &n);
    if( rc==SQLITE_NOTFOUND ) rc = SQLITE_OK;   /* no maps after all */
    p->nMapMax = rc==SQLITE_OK && n>=0 ? nLimit : 0;
    p->nMapped = 0;
  }
  /* The parent maps lazily: what it maps is the file as of the last remap,
  ** up to the limit (which it may lower to its own ceiling). */
  n = -1;
  if( p->nMapMax>0
   && p->pMap->pMethods->xFileControl(p->pMap, SQLITE_FCNTL_MMAP_SIZE, &n)==SQLITE_OK ){
    *pnMapped = p->nMapped<n ? p->nMapped : n;
  }else{
    *pnMapped = 0;
  }
  return rc;
}

static int vfsRead(VlogFile *pFile, int64_t iOff, void *pBuf, int nBuf){
  VfsFile *p = (VfsFile*)pFile;
  return vfsReadFrom(p->pReal, iOff, pBuf, nBuf);
}

static int vfsReadMapped(VlogFile *pFile, int64_t iOff, void *pBuf, int nBuf){
  VfsFile *p = (VfsFile*)pFile;
  assert( p->nMapMax<=0 || p->pMap!=0 );
  if( p->nMapMax<=0 ) return vfsReadFrom(p->pReal, iOff, pBuf, nBuf);
  if( iOff+nBuf>p->nMapped && iOff<p->nMapMax ) vfsRemap(p);
  return vfsReadFrom(p->pMap, iOff, pBuf, nBuf);
}

static int vfsWrite(VlogFile *pFile, int64_t iOff, const void *pBuf, int nBuf){
  VfsFile *p = (VfsFile*)pFile;
  int rc = SQLITE_OK;
  int i;
  assert( iOff>=0 && nBuf>=0 && (pBuf!=0 || nBuf==0) );
  for(i=0; rc==SQLITE_OK && i<nBuf; i+=VFS_CHUNK){
    int n = nBuf-i < VFS_CHUNK ? nBuf-i : VFS_CHUNK;
    rc = p->pReal->pMethods->xWrite(p->pReal, (const char*)pBuf+i, n, iOff+i);
  }
  return rc;
}

static int vfsSync(VlogFile *pFile){
  VfsFile *p = (VfsFile*)pFile;
  return p->pReal->pMethods->xSync(p->pReal, SQLITE_SYNC_NORMAL);
}

static int vfsTruncate(VlogFile *pFile, int64_t nSize){
  VfsFile *p = (VfsFile*)pFile;
  if( p->pMap && p->nMapped>nSize ){
    (void)p->pMap->pMethods->xUnfetch(p->pMap, 0, 0);   /* no map past the
                                                        ** end; cannot fail */
    p->nMapped = 0;
  }
  return p->pReal->pMethods->xTruncate(p->pReal, nSize);
}

static int vfsSize(VlogFile *pFile, int64_t *pnSize){
  VfsFile *p = (VfsFile*)pFile;
  sqlite3_int64 n = 0;
  int rc = p->pReal->pMethods->xFileSize(p->pReal, &n);
  *pnSize = n;
  return rc;
}

static int vfsLock(VlogFile *pFile, int eLevel){
  VfsFile *p = (VfsFile*)pFile;
  assert( eLevel>=VLOG_LOCK_SHARED && eLevel<=VLOG_LOCK_EXCLUSIVE );
  return p->pReal->pMethods->xLock(p->pReal, eLevel);
}

static int vfsUnlock(VlogFile *pFile, int eLevel){
  VfsFile *p = (VfsFile*)pFile;
  assert( eLevel==VLOG_LOCK_NONE || eLevel==VLOG_LOCK_SHARED );
  return p->pReal->pMethods->xUnlock(p->pReal, eLevel);
}

static int vfsAllocate(VlogFile *pFile, int64_t iOff, int64_t nByte){
  VfsFile *p = (VfsFile*)pFile;
  sqlite3_int64 nHint = iOff + nByte;
  /* A hint only: a VFS without SIZE_HINT says NOTFOUND, which is fine. */
  int rc = p->pReal->pMethods->xFileControl(p->pReal, SQLITE_FCNTL_SIZE_HINT, &nHint);
  return (rc==SQLITE_NOTFOUND) ? VLOG_OK : rc;
}

static int vfsPunch(VlogFile *pFile, int64_t iOff, int64_t nByte){
  VfsFile *p = (VfsFile*)pFile;
  if( p->pSide==0 ) return VLOG_NOTFOUND;
  return vlogSideFdPunch(p->pSide, iOff, nByte);
}

static void vfsWriteback(VlogFile *pFile, int64_t iOff, int64_t nByte){
  VfsFile *p = (VfsFile*)pFile;
  if( p->pSide ) vlogSideFdWriteback(p->pSide, iOff, nByte);
}

static int vfsDelete(VlogEnv *pEnv, const char *zPath){
  sqlite3_vfs *pVfs = ENV_VFS(pEnv);
  int rc = pVfs->xDelete(pVfs, zPath, 0);
  return (rc==SQLITE_IOERR_DELETE_NOENT) ? VLOG_OK : rc;
}

static int vfsFullPath(VlogEnv *pEnv, const char *zPath, char *zOut, int nOut){
  sqlite3_vfs *pVfs = ENV_VFS(pEnv);
  int rc = pVfs->xFullPathname(pVfs, zPath, nOut, zOut);
  return (rc==SQLITE_OK || rc==SQLITE_OK_SYMLINK) ? VLOG_OK : VLOG_CANTOPEN;
}

static void *vfsMalloc(VlogEnv *pEnv, size_t n){
  (void)pEnv;
  return sqlite3_malloc64(n);
}
static void *vfsRealloc(VlogEnv *pEnv, void *p, size_t n){
  (void)pEnv;
  return sqlite3_realloc64(p, n);
}
static void vfsFree(VlogEnv *pEnv, void *p){
  (void)pEnv;
  sqlite3_free(p);
}

static int64_t vfsNow(VlogEnv *pEnv){
  sqlite3_vfs *pVfs = ENV_VFS(pEnv);
  sqlite3_int64 jdMs = 0;
  /* The clock: a VFS that cannot read it (SQLITE_ERROR) leaves jdMs 0, a
  ** time long past; the times are for reports only (segments, checkpoints). */
  if( pVfs->iVersion>=2 && pVfs->xCurrentTimeInt64 ){
    (void)pVfs->xCurrentTimeInt64(pVfs, &jdMs);
  }else{
    double r = 0.0;
    (void)pVfs->xCurrentTime(pVfs, &r);
    jdMs = (sqlite3_int64)(r*86400000.0);
  }
  /* Julian day number of the Unix epoch, in milliseconds. */
  return (jdMs - (sqlite3_int64)210866760000000) * 1000;
}

static void vfsSleep(VlogEnv *pEnv, int nMicro){
  sqlite3_vfs *pVfs = ENV_VFS(pEnv);
  (void)pVfs->xSleep(pVfs, nMicro);            /* the time slept: unused */
}

static int vfsCheckReserved(VlogFile *pFile, int *pbReserved){
  VfsFile *p = (VfsFile*)pFile;
  return p->pReal->pMethods->xCheckReservedLock(p->pReal, pbReserved);
}

static int vfsHasMoved(VlogFile *pFile, int *pbMoved){
  VfsFile *p = (VfsFile*)pFile;
  int rc = p->pReal->pMethods->xFileControl(p->pReal, SQLITE_FCNTL_HAS_MOVED, pbMoved);
  if( rc==SQLITE_NOTFOUND ){
    *pbMoved = 0;
    rc = SQLITE_OK;
  }
  return rc;
}

VlogEnv *vlogEnvVfs(void *pSqliteVfs){
  static const VlogEnv tmpl = {
    0,                 /* pCtx: the parent sqlite3_vfs */
    vfsOpen,           /* xOpen */
    vfsClose,          /* xClose */
    vfsRead,           /* xRead */
    vfsWrite,          /* xWrite */
    vfsSync,           /* xSync */
    vfsTruncate,       /* xTruncate */
    vfsSize,           /* xSize */
    vfsLock,           /* xLock */
    vfsUnlock,         /* xUnlock */
    vfsAllocate,       /* xAllocate */
    vfsPunch,          /* xPunch: the unix VFS's files only (io_posix.c) */
    vfsDelete,         /* xDelete */
    vfsFullPath,       /* xFullPath */
    vfsMalloc,         /* xMalloc */
    vfsRealloc,        /* xRealloc */
    vfsFree,           /* xFree */
    vfsNow,            /* xNow */
    vfsSleep,          /* xSleep */
    vfsShmMap,         /* xShmMap */
    vfsShmUnmap,       /* xShmUnmap */
    0,                 /* xPid: the POSIX env's, below */
    vfsShmLock,        /* xShmLock */
    vfsMmap,           /* xMmap */
    vfsReadMapped,     /* xReadMapped */
    vfsWriteback,      /* xWriteback: the unix VFS's files only */
    vfsCheckReserved,  /* xCheckReserved */
    vfsHasMoved,       /* xHasMoved */
  };
  VlogEnv *p = (VlogEnv*)sqlite3_malloc(sizeof(VlogEnv));
  if( p ){
    *p = tmpl;
    p->pCtx = pSqliteVfs;
    p->xPid = vlogEnvPosix()->xPid;           /* processes are the OS's */
  }
  return p;
}

void *vlogEnvVfsFile(VlogFile *pFile){
  if( pFile==0 || pFile->pEnv==0 || pFile->pEnv->xOpen!=vfsOpen ) return 0;
  return ((VfsFile*)pFile)->pReal;
}

void vlogEnvVfsFree(VlogEnv *p){
  sqlite3_free(p);
}
