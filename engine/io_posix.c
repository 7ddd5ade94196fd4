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
** store through the unix VFS share the same memory.  The -shm file is
** opened once per handle; fcntl() locks belong to the process, so a second
** handle of the same store in one process would drop the first one's lock
** when it closes: as io.h says, one handle per file per process.
*/
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
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
  char *zShm;                     /* "<path>-shm" */
  int fdShm;                      /* -1 until xShmMap */
  void *pShm;                     /* the mapping, or 0 */
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
  p->fdShm = -1;
  p->zShm = (char*)vlogMallocZero(pEnv, strlen(zPath) + 5);
  if( p->zShm==0 ){
    close(fd);
    vlogFree(pEnv, p);
    return VLOG_NOMEM;
  }
  memcpy(p->zShm, zPath, strlen(zPath));
  memcpy(&p->zShm[strlen(zPath)], "-shm", 4);
  *pp = &p->base;
  return VLOG_OK;
}

static void posixShmUnmap(VlogFile *pFile){
  PosixFile *p = (PosixFile*)pFile;
  if( p->pShm ) munmap(p->pShm, VLOG_SHM_SIZE);
  if( p->fdShm>=0 ) close(p->fdShm);
  p->pShm = 0;
  p->fdShm = -1;
}

static int posixClose(VlogFile *pFile){
  PosixFile *p = (PosixFile*)pFile;
  if( p ){
    posixShmUnmap(pFile);
    /* close() drops every fcntl() lock the process holds on the file. */
    close(p->fd);
    vlogFree(pFile->pEnv, p->zShm);
    vlogFree(pFile->pEnv, p);
  }
  return VLOG_OK;
}

static int posixRead(VlogFile *pFile, int64_t iOff, void *pBuf, int nBuf){
  PosixFile *p = (PosixFile*)pFile;
  int nDone = 0;
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

/* Byte 128 of the -shm file: the dead-man switch of os_unix.c. */
#define POSIX_SHM_DMS 128

static int shmRange(int fd, int eType, int iCmd){
  struct flock fl;
  memset(&fl, 0, sizeof(fl));
  fl.l_type = (short)eType;
  fl.l_whence = SEEK_SET;
  fl.l_start = POSIX_SHM_DMS;
  fl.l_len = 1;
  if( fcntl(fd, iCmd, &fl) ) return -1;
  return iCmd==F_GETLK ? fl.l_type : 0;
}

static int posixShmMap(VlogFile *pFile, void volatile **pp){
  PosixFile *p = (PosixFile*)pFile;
  struct stat st;
  int fd, eHeld, rc = VLOG_OK;
  void *pMap;
  if( p->pShm ){
    *pp = p->pShm;
    return VLOG_OK;
  }
  *pp = 0;
  do{
    fd = open(p->zShm, O_RDWR|O_CREAT|O_CLOEXEC|O_NOFOLLOW, 0644);
  }while( fd<0 && errno==EINTR );
  if( fd<0 ) return VLOG_IOERR_SHMOPEN;
  /* Nobody holds the switch: this process is the first; zero the file.
  ** Somebody holds it for writing: that process is zeroing it; busy. */
  eHeld = shmRange(fd, F_WRLCK, F_GETLK);
  if( eHeld<0 ){
    rc = VLOG_IOERR_LOCK;
  }else if( eHeld==F_UNLCK ){
    if( shmRange(fd, F_WRLCK, F_SETLK) ) rc = VLOG_BUSY;
    else if( ftruncate(fd, 3) ) rc = VLOG_IOERR_SHMOPEN;
  }else if( eHeld==F_WRLCK ){
    rc = VLOG_BUSY;
  }
  if( rc==VLOG_OK && shmRange(fd, F_RDLCK, F_SETLK) ) rc = VLOG_BUSY;
  if( rc==VLOG_OK && fstat(fd, &st) ) rc = VLOG_IOERR_SHMOPEN;
  if( rc==VLOG_OK && st.st_size<VLOG_SHM_SIZE && ftruncate(fd, VLOG_SHM_SIZE) ){
    rc = VLOG_IOERR_SHMOPEN;
  }
  if( rc==VLOG_OK ){
    pMap = mmap(0, VLOG_SHM_SIZE, PROT_READ|PROT_WRITE, MAP_SHARED, fd, 0);
    if( pMap==MAP_FAILED ) rc = VLOG_IOERR_SHMMAP;
  }
  if( rc ){
    close(fd);
    return rc;
  }
  p->fdShm = fd;
  p->pShm = pMap;
  *pp = pMap;
  return VLOG_OK;
}

static int posixPid(VlogEnv *pEnv){
  (void)pEnv;
  return (int)getpid();
}

static int posixPidAlive(VlogEnv *pEnv, int iPid){
  (void)pEnv;
  /* 0 and negative ids name process groups to kill() (-1: every process
  ** this one may signal): never a process that owns a reader slot (a
  ** -shm may hold anything). */
  if( iPid<=0 ) return 0;
  return kill((pid_t)iPid, 0)==0 || errno!=ESRCH;
}

static int posixLock(VlogFile *pFile, int eLevel){
  PosixFile *p = (PosixFile*)pFile;
  int rc = VLOG_OK;
  if( p->eLock>=eLevel ) return VLOG_OK;
  if( eLevel==VLOG_LOCK_SHARED ){
    /* A reader may not start while a writer waits (PENDING). */
    rc = posixRange(p, F_RDLCK, POSIX_PENDING_BYTE, 1);
    if( rc==VLOG_OK ){
      rc = posixRange(p, F_RDLCK, POSIX_SHARED_FIRST, POSIX_SHARED_SIZE);
      posixRange(p, F_UNLCK, POSIX_PENDING_BYTE, 1);
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
  if( p->eLock<=eLevel ) return VLOG_OK;
  if( eLevel==VLOG_LOCK_SHARED ){
    if( p->eLock==VLOG_LOCK_EXCLUSIVE ){
      rc = posixRange(p, F_RDLCK, POSIX_SHARED_FIRST, POSIX_SHARED_SIZE);
    }
    posixRange(p, F_UNLCK, POSIX_PENDING_BYTE, 2);   /* pending + reserved */
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
    posixPidAlive,     /* xPidAlive */
    0,                 /* xMmap: vlogtool reads with pread */
    0,                 /* xReadMapped */
  };
  return &env;
}
