/*
** io_posix.c: the POSIX implementation of VlogEnv (see io.h).
**
** pread/pwrite/fdatasync/ftruncate/fallocate and fcntl() byte-range locks.
** A short read past the end of the file fills the rest with zeros and is
** VLOG_IOERR_SHORT_READ, as in SQLite's unix VFS; a short write is
** VLOG_FULL when the disk is full, VLOG_IOERR_WRITE otherwise.  EINTR is
** retried.  xOpen refuses what is not a regular file (io.h).
**
** Shared memory: "<store>-shm", mapped with mmap(), with the dead-man
** switch of SQLite's unix VFS (a read lock on byte 128 of that file while
** mapped; the first process, which can take a write lock there, zeroes the
** file first).  So a vlogtool process and SQLite processes that use the
** store through the unix VFS share the same memory.
**
** One -shm descriptor per process (ShmNode).  fcntl() locks belong to a
** process and an inode, not to a descriptor: closing any descriptor of
** the -shm drops every lock the process holds on it, the dead-man switch
** and every reader slot's lock byte of every handle.  So, as SQLite's
** unixInodeInfo and unixShmNode do, the process opens the -shm once, in a
** ShmNode found by the store file's device and inode (a second path to
** the same store finds the same node), counts the handles that use it and
** closes the descriptor when the last one lets go.  The node also knows
** which slot bytes the process holds, since fcntl() cannot tell a process
** about its own locks (F_GETLK reports only other processes' locks) and
** does not keep two handles of one process from both "taking" a byte.
** vlogEnvVfs() uses the same nodes for its slot locks (io_vfs.c); the
** nodes are kept with malloc(), not the env's allocator, because handles
** of different envs may share one.
**
** Reader-slot locks (io.h): byte VLOG_SHM_SIZE+i of the -shm for slot i,
** past the memory and far from SQLite's WAL locks (bytes 120 to 128), a
** write lock held by the slot's owner for as long as it owns the slot.
**
** The WAL lock (io.h, vlogShmNodeWalLock): byte VLOG_SHM_SIZE+
** VLOG_SHM_NLOCK, past the slot bytes, read-locked by every handle of the
** process that holds it shared (the node counts them) and write-locked by
** a handle that holds it exclusive, as unixShmLock does for SQLite's.
**
** Two limits, both SQLite's too.  A process should use one env per store:
** the unix VFS keeps its own descriptor of the -shm and runs the dead-man
** switch knowing nothing of a node's (each would take the other's read
** lock, invisible to F_GETLK, for "nobody"), so a process that maps a
** store through both may zero the memory its other handles use.  And a
** child of fork() inherits the nodes but none of the locks: it must not
** use handles its parent opened.
*/
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"

typedef struct PosixFile PosixFile;
struct PosixFile {
  VlogFile base;                  /* Must be first */
  int fd;
  int eLock;                      /* VLOG_LOCK_* held */
  char *zPath;                    /* the store's path */
  VlogShmNode *pNode;             /* the process's -shm, from xShmMap on */
  void *pShm;                     /* the mapping, or 0 */
  int iSlotLock;                  /* the slot byte this handle holds, or -1 */
};

static int posixOpen(VlogEnv *pEnv, const char *zPath, int flags, VlogFile **pp){
  int oflags = (flags & VLOG_OPEN_READONLY) ? O_RDONLY : O_RDWR;
  PosixFile *p;
  int fd;
  struct stat st;
  if( flags & VLOG_OPEN_CREATE ) oflags |= O_CREAT;
  *pp = 0;
  if( stat(zPath, &st)==0 && !S_ISREG(st.st_mode) ){
    return S_ISDIR(st.st_mode) ? VLOG_CANTOPEN_ISDIR : VLOG_CANTOPEN_NOTREG;
  }
  do{
    fd = open(zPath, oflags|O_CLOEXEC, 0644);
  }while( fd<0 && errno==EINTR );
  if( fd<0 ) return VLOG_CANTOPEN;
  p = (PosixFile*)vlogMallocZero(pEnv, sizeof(*p));
  if( p==0 ){
    close(fd);
    return VLOG_NOMEM;
  }
  p->base.pEnv = pEnv;
  p->fd = fd;
  p->iSlotLock = -1;
  p->zPath = vlogStrdup(pEnv, zPath);
  if( p->zPath==0 ){
    close(fd);
    vlogFree(pEnv, p);
    return VLOG_NOMEM;
  }
  *pp = &p->base;
  return VLOG_OK;
}

static void posixShmUnmap(VlogFile *pFile){
  PosixFile *p = (PosixFile*)pFile;
  if( p->pShm ) munmap(p->pShm, VLOG_SHM_SIZE);
  if( p->pNode ) vlogShmNodeClose(p->pNode, p->iSlotLock);
  p->pShm = 0;
  p->pNode = 0;
  p->iSlotLock = -1;
}

static int posixClose(VlogFile *pFile){
  PosixFile *p = (PosixFile*)pFile;
  int rc = VLOG_OK;
  if( p ){
    posixShmUnmap(pFile);
    /* close() drops every fcntl() lock the process holds on the file.  It
    ** fails only with EIO (a write-back error) or EINTR: the descriptor is
    ** gone either way (Linux), but an EIO is reported. */
    if( close(p->fd) && errno==EIO ) rc = VLOG_IOERR;
    vlogFree(pFile->pEnv, p->zPath);
    vlogFree(pFile->pEnv, p);
  }
  return rc;
}

static int posixRead(VlogFile *pFile, int64_t iOff, void *pBuf, int nBuf){
  PosixFile *p = (PosixFile*)pFile;
  int nDone = 0;
  assert( iOff>=0 && nBuf>=0 && (pBuf!=0 || nBuf==0) && p->fd>=0 );
  while( nDone<nBuf ){
    ssize_t n = pread(p->fd, (char*)pBuf+nDone, nBuf-nDone, iOff+nDone);
    if( n<0 ){
      if( errno==EINTR ) continue;
      return VLOG_IOERR_READ;
    }
    if( n==0 ){
      memset((char*)pBuf+nDone, 0, nBuf-nDone);
      return VLOG_IOERR_SHORT_READ;
    }
    nDone += (int)n;
  }
  return VLOG_OK;
}

static int posixWrite(VlogFile *pFile, int64_t iOff, const void *pBuf, int nBuf){
  PosixFile *p = (PosixFile*)pFile;
  int nDone = 0;
  assert( iOff>=0 && nBuf>=0 && (pBuf!=0 || nBuf==0) && p->fd>=0 );
  while( nDone<nBuf ){
    ssize_t n = pwrite(p->fd, (const char*)pBuf+nDone, nBuf-nDone, iOff+nDone);
    if( n<0 ){
      if( errno==EINTR ) continue;
      return (errno==ENOSPC || errno==EDQUOT) ? VLOG_FULL : VLOG_IOERR_WRITE;
    }
    if( n==0 ) return VLOG_FULL;
    nDone += (int)n;
  }
  return VLOG_OK;
}

static int posixSync(VlogFile *pFile){
  PosixFile *p = (PosixFile*)pFile;
  if( fdatasync(p->fd) ) return VLOG_IOERR_FSYNC;
  return VLOG_OK;
}

static int posixTruncate(VlogFile *pFile, int64_t nSize){
  PosixFile *p = (PosixFile*)pFile;
  int rc;
  assert( nSize>=0 );
  do{ rc = ftruncate(p->fd, (off_t)nSize); }while( rc<0 && errno==EINTR );
  return rc ? VLOG_IOERR_TRUNCATE : VLOG_OK;
}

static int posixSize(VlogFile *pFile, int64_t *pnSize){
  PosixFile *p = (PosixFile*)pFile;
  struct stat st;
  if( fstat(p->fd, &st) ) return VLOG_IOERR_FSTAT;
  *pnSize = (int64_t)st.st_size;
  return VLOG_OK;
}

/* The byte ranges of SQLite's unix VFS (os_unix.c), so that the levels
** mean the same to every program that locks a store. */
#define POSIX_PENDING_BYTE  0x40000000
#define POSIX_RESERVED_BYTE (POSIX_PENDING_BYTE+1)
#define POSIX_SHARED_FIRST  (POSIX_PENDING_BYTE+2)
#define POSIX_SHARED_SIZE   510

/* One fcntl() lock request: F_RDLCK, F_WRLCK or F_UNLCK on [iOff, iOff+n). */
static int posixRange(PosixFile *p, int eType, int64_t iOff, int64_t n){
  struct flock fl;
  memset(&fl, 0, sizeof(fl));
  fl.l_type = (short)eType;
  fl.l_whence = SEEK_SET;
  fl.l_start = (off_t)iOff;
  fl.l_len = (off_t)n;
  if( fcntl(p->fd, F_SETLK, &fl) ){
    if( errno==EAGAIN || errno==EACCES ) return VLOG_BUSY;
    return VLOG_IOERR_LOCK;
  }
  return VLOG_OK;
}

/* Byte 128 of the -shm file: the dead-man switch of os_unix.c.  Slot i's
** lock byte: POSIX_SHM_SLOT0+i. */
#define POSIX_SHM_DMS   128
#define POSIX_SHM_SLOT0 VLOG_SHM_SIZE

/* One fcntl() request on byte iByte of descriptor fd: F_SETLK, or F_GETLK
** (then returns the type of a conflicting lock, F_UNLCK if none).  -1 with
** errno on failure. */
static int byteLock(int fd, int iCmd, int eType, int iByte){
  struct flock fl;
  memset(&fl, 0, sizeof(fl));
  fl.l_type = (short)eType;
  fl.l_whence = SEEK_SET;
  fl.l_start = iByte;
  fl.l_len = 1;
  if( fcntl(fd, iCmd, &fl) ) return -1;
  return iCmd==F_GETLK ? fl.l_type : 0;
}

struct VlogShmNode {
  dev_t iDev;                     /* the store file's device and inode */
  ino_t iIno;
  int fd;                         /* the process's descriptor of the -shm */
  int nRef;                       /* handles using the node */
  unsigned char aHeld[VLOG_SHM_NLOCK];   /* slot bytes the process holds */
  int nWalShared;                 /* handles holding the WAL lock shared */
  int bWalExcl;                   /* a handle holds it exclusive */
  VlogShmNode *pNext;
};

/* Every node of the process, and the mutex that guards them and their
** aHeld[] (the engine's handles may live in different threads). */
static VlogShmNode *pShmNodes = 0;
static pthread_mutex_t shmNodeMutex = PTHREAD_MUTEX_INITIALIZER;

/* The dead-man switch, on a new node's descriptor: nobody else holds it,
** so this process is the first and zeroes the file; somebody holds it for
** writing: that process is zeroing it, busy.  Then hold it for reading. */
static int shmDeadMan(int fd){
  int eHeld = byteLock(fd, F_GETLK, F_WRLCK, POSIX_SHM_DMS);
  if( eHeld<0 ) return VLOG_IOERR_LOCK;
  if( eHeld==F_WRLCK ) return VLOG_BUSY;
  if( eHeld==F_UNLCK ){
    if( byteLock(fd, F_SETLK, F_WRLCK, POSIX_SHM_DMS) ) return VLOG_BUSY;
    if( ftruncate(fd, 3) ) return VLOG_IOERR_SHMOPEN;
  }
  if( byteLock(fd, F_SETLK, F_RDLCK, POSIX_SHM_DMS) ) return VLOG_BUSY;
  return VLOG_OK;
}

int vlogShmNodeOpen(const char *zStore, int bDeadMan, VlogShmNode **pp){
  struct stat st;
  VlogShmNode *pNode;
  int rc = VLOG_OK;
  *pp = 0;
  if( stat(zStore, &st) ) return VLOG_IOERR_SHMOPEN;
  pthread_mutex_lock(&shmNodeMutex);
  for(pNode=pShmNodes; pNode; pNode=pNode->pNext){
    if( pNode->iDev==st.st_dev && pNode->iIno==st.st_ino ) break;
  }
  if( pNode==0 ){
    size_t n = strlen(zStore);
    char *zShm = (char*)malloc(n + 5);
    pNode = (VlogShmNode*)calloc(1, sizeof(*pNode));
    if( zShm==0 || pNode==0 ){
      rc = VLOG_NOMEM;
    }else{
      memcpy(zShm, zStore, n);
      memcpy(&zShm[n], "-shm", 5);
      do{
        pNode->fd = open(zShm, O_RDWR|O_CREAT|O_CLOEXEC|O_NOFOLLOW, 0644);
      }while( pNode->fd<0 && errno==EINTR );
      if( pNode->fd<0 ) rc = VLOG_IOERR_SHMOPEN;
      else if( bDeadMan ) rc = shmDeadMan(pNode->fd);
      if( rc && pNode->fd>=0 ) close(pNode->fd);
    }
    free(zShm);
    if( rc ){
      free(pNode);
      pNode = 0;
    }else{
      pNode->iDev = st.st_dev;
      pNode->iIno = st.st_ino;
      pNode->pNext = pShmNodes;
      pShmNodes = pNode;
    }
  }
  if( pNode ) pNode->nRef++;
  pthread_mutex_unlock(&shmNodeMutex);
  *pp = pNode;
  return rc;
}

void vlogShmNodeClose(VlogShmNode *pNode, int iHeld){
  VlogShmNode **pp;
  assert( pNode->nRef>0 && iHeld<VLOG_SHM_NLOCK );
  /* aHeld[] forgets the byte whatever happens; should the unlock fail, it
  ** stays held until the node's descriptor closes (below, or with the
  ** process): its slot looks taken till then, which is harmless */
  if( iHeld>=0 ) (void)vlogShmNodeLock(pNode, &iHeld, iHeld, VLOG_SHMLOCK_RELEASE);
  pthread_mutex_lock(&shmNodeMutex);
  if( --pNode->nRef==0 ){
    for(pp=&pShmNodes; *pp!=pNode; pp=&(*pp)->pNext){}
    *pp = pNode->pNext;
    close(pNode->fd);          /* drops the process's locks on the -shm */
    free(pNode);
  }
  pthread_mutex_unlock(&shmNodeMutex);
}

/*
** A side descriptor (holes and writeback through a VFS).  A store opened
** through SQLite's unix VFS has its descriptor inside the VFS, which offers
** no way to punch a hole or to start a writeback.  A second
** descriptor of the file can, but closing any descriptor of a file drops
** every fcntl() lock the process holds on it, the VFS's among them.  So,
** as for the -shm, the process keeps one such descriptor per file (device
** and inode), counts the handles registered on it, and closes it when the
** last one unregisters, which it does after its own file is closed: no
** handle of this process then holds a lock there.
*/
struct VlogSideFd {
  dev_t iDev;
  ino_t iIno;
  char *zPath;
  int fd;                         /* -1 until the first hole */
  int nRef;
  VlogSideFd *pNext;
};
static VlogSideFd *pSideFds = 0;    /* guarded by shmNodeMutex */

int vlogSideFdOpen(const char *zPath, VlogSideFd **pp){
  struct stat st;
  VlogSideFd *pNode;
  int rc = VLOG_OK;
  *pp = 0;
  if( stat(zPath, &st) ) return VLOG_IOERR_FSTAT;
  pthread_mutex_lock(&shmNodeMutex);
  for(pNode=pSideFds; pNode; pNode=pNode->pNext){
    if( pNode->iDev==st.st_dev && pNode->iIno==st.st_ino ) break;
  }
  if( pNode==0 ){
    pNode = (VlogSideFd*)calloc(1, sizeof(*pNode));
    if( pNode ) pNode->zPath = strdup(zPath);
    if( pNode==0 || pNode->zPath==0 ){
      if( pNode ) free(pNode);
      pNode = 0;
      rc = VLOG_NOMEM;
    }else{
      pNode->iDev = st.st_dev;
      pNode->iIno = st.st_ino;
      pNode->fd = -1;
      pNode->pNext = pSideFds;
      pSideFds = pNode;
    }
  }
  if( pNode ) pNode->nRef++;
  pthread_mutex_unlock(&shmNodeMutex);
  *pp = pNode;
  return rc;
}

/* The node's descriptor, opened the first time (under the mutex); -1 if
** the name no longer opens the file registered. */
static int sideFd(VlogSideFd *pNode){
  if( pNode->fd<0 ){
    struct stat st;
    int fd;
    do{
      fd = open(pNode->zPath, O_RDWR|O_CLOEXEC|O_NOFOLLOW);
    }while( fd<0 && errno==EINTR );
    /* the name must still be the file registered (not renamed over) */
    if( fd>=0 && (fstat(fd, &st) || st.st_dev!=pNode->iDev || st.st_ino!=pNode->iIno) ){
      close(fd);            /* no lock of this process on that other file */
      fd = -1;
    }
    pNode->fd = fd;
  }
  return pNode->fd;
}

int vlogSideFdPunch(VlogSideFd *pNode, int64_t iOff, int64_t nByte){
  int rc = VLOG_OK;
  int fd;
  pthread_mutex_lock(&shmNodeMutex);
  fd = sideFd(pNode);
  pthread_mutex_unlock(&shmNodeMutex);
  if( fd<0 ){
    rc = VLOG_NOTFOUND;
  }else{
#if defined(FALLOC_FL_PUNCH_HOLE) && defined(FALLOC_FL_KEEP_SIZE)
    if( fallocate(fd, FALLOC_FL_PUNCH_HOLE|FALLOC_FL_KEEP_SIZE, (off_t)iOff, (off_t)nByte) ){
      rc = (errno==EOPNOTSUPP || errno==ENOSYS) ? VLOG_NOTFOUND : VLOG_IOERR_WRITE;
    }
#else
    (void)iOff; (void)nByte;
    rc = VLOG_NOTFOUND;
#endif
  }
  return rc;
}

void vlogSideFdWriteback(VlogSideFd *pNode, int64_t iOff, int64_t nByte){
#ifdef SYNC_FILE_RANGE_WRITE
  int fd;
  pthread_mutex_lock(&shmNodeMutex);
  fd = sideFd(pNode);
  pthread_mutex_unlock(&shmNodeMutex);
  if( fd>=0 ) (void)sync_file_range(fd, (off_t)iOff, (off_t)nByte, SYNC_FILE_RANGE_WRITE);
#else
  (void)pNode; (void)iOff; (void)nByte;
#endif
}

void vlogSideFdClose(VlogSideFd *pNode){
  VlogSideFd **pp;
  assert( pNode->nRef>0 );
  pthread_mutex_lock(&shmNodeMutex);
  if( --pNode->nRef==0 ){
    for(pp=&pSideFds; *pp!=pNode; pp=&(*pp)->pNext){}
    *pp = pNode->pNext;
    if( pNode->fd>=0 ) close(pNode->fd);
    free(pNode->zPath);
    free(pNode);
  }
  pthread_mutex_unlock(&shmNodeMutex);
}

int vlogShmNodeLock(VlogShmNode *pNode, int *piHeld, int iSlot, int eOp){
  int rc = VLOG_OK;
  int iByte = POSIX_SHM_SLOT0 + iSlot;
  if( pNode==0 || iSlot<0 || iSlot>=VLOG_SHM_NLOCK ) return VLOG_MISUSE;
  pthread_mutex_lock(&shmNodeMutex);
  switch( eOp ){
    case VLOG_SHMLOCK_CLAIM:
      assert( *piHeld<0 );
      if( pNode->aHeld[iSlot] ){
        rc = VLOG_BUSY;
      }else if( byteLock(pNode->fd, F_SETLK, F_WRLCK, iByte) ){
        rc = (errno==EAGAIN || errno==EACCES) ? VLOG_BUSY : VLOG_IOERR_LOCK;
      }else{
        pNode->aHeld[iSlot] = 1;
        *piHeld = iSlot;
      }
      break;
    case VLOG_SHMLOCK_RELEASE:
      if( *piHeld==iSlot ){
        assert( pNode->aHeld[iSlot] );
        pNode->aHeld[iSlot] = 0;
        *piHeld = -1;
        if( byteLock(pNode->fd, F_SETLK, F_UNLCK, iByte) ) rc = VLOG_IOERR_LOCK;
      }
      break;
    default: {
      int eHeld;
      assert( eOp==VLOG_SHMLOCK_TEST );
      if( pNode->aHeld[iSlot] ){
        rc = VLOG_BUSY;
      }else if( (eHeld = byteLock(pNode->fd, F_GETLK, F_WRLCK, iByte))<0 ){
        rc = VLOG_IOERR_LOCK;
      }else if( eHeld!=F_UNLCK ){
        rc = VLOG_BUSY;
      }
      break;
    }
  }
  pthread_mutex_unlock(&shmNodeMutex);
  return rc;
}

/*
** The WAL lock (io.h): the handle holds level *peHeld (0 none, 1 shared,
** 2 exclusive) and wants eLevel.  The process holds the byte for reading
** while any of its handles holds it shared, for writing while one holds it
** exclusive; fcntl() cannot tell one process's handles apart, the counts
** do.
*/
#define POSIX_SHM_WAL (POSIX_SHM_SLOT0 + VLOG_SHM_NLOCK)
int vlogShmNodeWalLock(VlogShmNode *pNode, int *peHeld, int eLevel){
  int rc = VLOG_OK;
  int eOld = *peHeld;
  if( pNode==0 || eLevel<0 || eLevel>2 ) return VLOG_MISUSE;
  if( eLevel==eOld ) return VLOG_OK;
  pthread_mutex_lock(&shmNodeMutex);
  assert( eOld!=2 || pNode->bWalExcl );
  assert( eOld!=1 || pNode->nWalShared>0 );
  if( eLevel==2 ){
    /* no other handle of the process may hold it, then the byte */
    if( pNode->bWalExcl || pNode->nWalShared>(eOld==1) ){
      rc = VLOG_BUSY;
    }else if( byteLock(pNode->fd, F_SETLK, F_WRLCK, POSIX_SHM_WAL) ){
      rc = (errno==EAGAIN || errno==EACCES) ? VLOG_BUSY : VLOG_IOERR_LOCK;
    }else{
      if( eOld==1 ) pNode->nWalShared--;
      pNode->bWalExcl = 1;
    }
  }else if( eLevel==1 ){
    if( eOld==2 ){
      /* down from exclusive: the write lock becomes a read lock */
      if( byteLock(pNode->fd, F_SETLK, F_RDLCK, POSIX_SHM_WAL) ) rc = VLOG_IOERR_LOCK;
      pNode->bWalExcl = 0;
      pNode->nWalShared++;
    }else if( pNode->bWalExcl ){
      rc = VLOG_BUSY;
    }else if( pNode->nWalShared==0
           && byteLock(pNode->fd, F_SETLK, F_RDLCK, POSIX_SHM_WAL) ){
      rc = (errno==EAGAIN || errno==EACCES) ? VLOG_BUSY : VLOG_IOERR_LOCK;
    }else{
      pNode->nWalShared++;
    }
  }else{
    if( eOld==2 ) pNode->bWalExcl = 0;
    if( eOld==1 ) pNode->nWalShared--;
    if( pNode->nWalShared==0 && !pNode->bWalExcl
     && byteLock(pNode->fd, F_SETLK, F_UNLCK, POSIX_SHM_WAL) ){
      rc = VLOG_IOERR_LOCK;
    }
  }
  /* the handle's level follows: an unlock that failed leaves the byte
  ** held until the descriptor closes, harmless (another closer sees busy) */
  if( rc==VLOG_OK || eLevel==0 || eOld==2 ) *peHeld = eLevel;
  pthread_mutex_unlock(&shmNodeMutex);
  return rc;
}

static int posixShmMap(VlogFile *pFile, void volatile **pp){
  PosixFile *p = (PosixFile*)pFile;
  struct stat st;
  int rc;
  void *pMap = 0;
  if( p->pShm ){
    *pp = p->pShm;
    return VLOG_OK;
  }
  *pp = 0;
  rc = vlogShmNodeOpen(p->zPath, 1, &p->pNode);
  if( rc==VLOG_OK && fstat(p->pNode->fd, &st) ) rc = VLOG_IOERR_SHMOPEN;
  if( rc==VLOG_OK && st.st_size<VLOG_SHM_SIZE && ftruncate(p->pNode->fd, VLOG_SHM_SIZE) ){
    rc = VLOG_IOERR_SHMOPEN;
  }
  if( rc==VLOG_OK ){
    pMap = mmap(0, VLOG_SHM_SIZE, PROT_READ|PROT_WRITE, MAP_SHARED, p->pNode->fd, 0);
    if( pMap==MAP_FAILED ) rc = VLOG_IOERR_SHMMAP;
  }
  if( rc ){
    if( p->pNode ) vlogShmNodeClose(p->pNode, -1);
    p->pNode = 0;
    return rc;
  }
  p->pShm = pMap;
  *pp = pMap;
  return VLOG_OK;
}

static int posixShmLock(VlogFile *pFile, int iSlot, int eOp){
  PosixFile *p = (PosixFile*)pFile;
  return vlogShmNodeLock(p->pNode, &p->iSlotLock, iSlot, eOp);
}

static int posixPid(VlogEnv *pEnv){
  (void)pEnv;
  return (int)getpid();
}

static int posixLock(VlogFile *pFile, int eLevel){
  PosixFile *p = (PosixFile*)pFile;
  int rc = VLOG_OK;
  /* SQLite's rules: SHARED from none, the others from SHARED up */
  assert( eLevel>=VLOG_LOCK_SHARED && eLevel<=VLOG_LOCK_EXCLUSIVE );
  assert( eLevel==VLOG_LOCK_SHARED || p->eLock>=VLOG_LOCK_SHARED );
  if( p->eLock>=eLevel ) return VLOG_OK;
  if( eLevel==VLOG_LOCK_SHARED ){
    /* A reader may not start while a writer waits (PENDING). */
    rc = posixRange(p, F_RDLCK, POSIX_PENDING_BYTE, 1);
    if( rc==VLOG_OK ){
      int rc2;
      rc = posixRange(p, F_RDLCK, POSIX_SHARED_FIRST, POSIX_SHARED_SIZE);
      rc2 = posixRange(p, F_UNLCK, POSIX_PENDING_BYTE, 1);
      if( rc==VLOG_OK && rc2 ){
        /* holding the pending byte would keep writers out: give SHARED
        ** back too (best effort) and report the error */
        (void)posixRange(p, F_UNLCK, POSIX_SHARED_FIRST, POSIX_SHARED_SIZE);
        rc = VLOG_IOERR_LOCK;
      }
    }
  }else{
    if( eLevel>=VLOG_LOCK_RESERVED && p->eLock<VLOG_LOCK_RESERVED ){
      rc = posixRange(p, F_WRLCK, POSIX_RESERVED_BYTE, 1);
    }
    if( rc==VLOG_OK && p->eLock<VLOG_LOCK_RESERVED ) p->eLock = VLOG_LOCK_RESERVED;
    if( rc==VLOG_OK && eLevel>=VLOG_LOCK_PENDING && p->eLock<VLOG_LOCK_PENDING ){
      rc = posixRange(p, F_WRLCK, POSIX_PENDING_BYTE, 1);
      if( rc==VLOG_OK ) p->eLock = VLOG_LOCK_PENDING;
    }
    if( rc==VLOG_OK && eLevel==VLOG_LOCK_EXCLUSIVE ){
      rc = posixRange(p, F_WRLCK, POSIX_SHARED_FIRST, POSIX_SHARED_SIZE);
    }
  }
  /* On failure p->eLock tells what is held: PENDING when only the last
  ** step (the readers' range) failed, the old level otherwise. */
  if( rc==VLOG_OK ) p->eLock = eLevel;
  return rc;
}

static int posixUnlock(VlogFile *pFile, int eLevel){
  PosixFile *p = (PosixFile*)pFile;
  int rc = VLOG_OK;
  assert( eLevel==VLOG_LOCK_NONE || eLevel==VLOG_LOCK_SHARED );
  if( p->eLock<=eLevel ) return VLOG_OK;
  if( eLevel==VLOG_LOCK_SHARED ){
    if( p->eLock==VLOG_LOCK_EXCLUSIVE ){
      rc = posixRange(p, F_RDLCK, POSIX_SHARED_FIRST, POSIX_SHARED_SIZE);
    }
    {
      int rc2 = posixRange(p, F_UNLCK, POSIX_PENDING_BYTE, 2);  /* pending + reserved */
      if( rc==VLOG_OK ) rc = rc2;
    }
  }else{
    rc = posixRange(p, F_UNLCK, POSIX_PENDING_BYTE, 2+POSIX_SHARED_SIZE);
  }
  p->eLock = eLevel;
  return rc==VLOG_BUSY ? VLOG_IOERR_LOCK : rc;
}

static int posixAllocate(VlogFile *pFile, int64_t iOff, int64_t nByte){
  PosixFile *p = (PosixFile*)pFile;
  int rc = posix_fallocate(p->fd, (off_t)iOff, (off_t)nByte);
  if( rc==0 || rc==EINVAL || rc==EOPNOTSUPP ) return VLOG_OK;
  return rc==ENOSPC ? VLOG_FULL : VLOG_IOERR_WRITE;
}

static int posixPunch(VlogFile *pFile, int64_t iOff, int64_t nByte){
#if defined(FALLOC_FL_PUNCH_HOLE) && defined(FALLOC_FL_KEEP_SIZE)
  PosixFile *p = (PosixFile*)pFile;
  if( fallocate(p->fd, FALLOC_FL_PUNCH_HOLE|FALLOC_FL_KEEP_SIZE,
                (off_t)iOff, (off_t)nByte) ){
    /* Not every file system can punch holes: not an error. */
    if( errno!=EOPNOTSUPP && errno!=ENOSYS ) return VLOG_IOERR_WRITE;
  }
#else
  (void)pFile; (void)iOff; (void)nByte;
#endif
  return VLOG_OK;
}

static void posixWriteback(VlogFile *pFile, int64_t iOff, int64_t nByte){
#ifdef SYNC_FILE_RANGE_WRITE
  PosixFile *p = (PosixFile*)pFile;
  (void)sync_file_range(p->fd, (off_t)iOff, (off_t)nByte, SYNC_FILE_RANGE_WRITE);
#else
  (void)pFile; (void)iOff; (void)nByte;
#endif
}

static int posixDelete(VlogEnv *pEnv, const char *zPath){
  (void)pEnv;
  if( unlink(zPath) && errno!=ENOENT ) return VLOG_IOERR_DELETE;
  return VLOG_OK;
}

static int posixFullPath(VlogEnv *pEnv, const char *zPath, char *zOut, int nOut){
  (void)pEnv;
  if( zPath[0]=='/' ){
    if( (int)strlen(zPath)>=nOut ) return VLOG_CANTOPEN;
    memcpy(zOut, zPath, strlen(zPath)+1);
  }else{
    size_t n;
    if( getcwd(zOut, nOut)==0 ) return VLOG_CANTOPEN;
    n = strlen(zOut);
    if( (int)(n + 1 + strlen(zPath))>=nOut ) return VLOG_CANTOPEN;
    zOut[n] = '/';
    memcpy(&zOut[n+1], zPath, strlen(zPath)+1);
  }
  return VLOG_OK;
}

static void *posixMalloc(VlogEnv *pEnv, size_t n){ (void)pEnv; return malloc(n); }
static void *posixRealloc(VlogEnv *pEnv, void *p, size_t n){
  (void)pEnv;
  return realloc(p, n);
}
static void posixFree(VlogEnv *pEnv, void *p){ (void)pEnv; free(p); }

static int64_t posixNow(VlogEnv *pEnv){
  struct timeval tv;
  (void)pEnv;
  gettimeofday(&tv, 0);
  return (int64_t)tv.tv_sec*1000000 + tv.tv_usec;
}

static void posixSleep(VlogEnv *pEnv, int nMicro){
  (void)pEnv;
  usleep(nMicro);
}

VlogEnv *vlogEnvPosix(void){
  static VlogEnv env = {
    0,                 /* pCtx */
    posixOpen,         /* xOpen */
    posixClose,        /* xClose */
    posixRead,         /* xRead */
    posixWrite,        /* xWrite */
    posixSync,         /* xSync */
    posixTruncate,     /* xTruncate */
    posixSize,         /* xSize */
    posixLock,         /* xLock */
    posixUnlock,       /* xUnlock */
    posixAllocate,     /* xAllocate */
    posixPunch,        /* xPunch */
    posixDelete,       /* xDelete */
    posixFullPath,     /* xFullPath */
    posixMalloc,       /* xMalloc */
    posixRealloc,      /* xRealloc */
    posixFree,         /* xFree */
    posixNow,          /* xNow */
    posixSleep,        /* xSleep */
    posixShmMap,       /* xShmMap */
    posixShmUnmap,     /* xShmUnmap */
    posixPid,          /* xPid */
    posixShmLock,      /* xShmLock */
    0,                 /* xMmap: vlogtool reads with pread */
    0,                 /* xReadMapped */
    posixWriteback,    /* xWriteback */
    0,                 /* xCheckReserved: no VFS runs over this env */
    0,                 /* xHasMoved */
  };
  return &env;
}
