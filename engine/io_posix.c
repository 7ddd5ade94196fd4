/*
** io_posix.c: the POSIX implementation of VlogEnv (see io.h).
**
** pread/pwrite/fdatasync/ftruncate/fallocate and fcntl() byte-range locks.
** A short read past the end of the file fills the rest with zeros and is
** VLOG_IOERR_SHORT_READ, as in SQLite's unix VFS; a short write is
** VLOG_FULL when the disk is full, VLOG_IOERR_WRITE otherwise.  EINTR is
** retried.
*/
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
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
};

static int posixOpen(VlogEnv *pEnv, const char *zPath, int flags, VlogFile **pp){
  int oflags = (flags & VLOG_OPEN_READONLY) ? O_RDONLY : O_RDWR;
  PosixFile *p;
  int fd;
  if( flags & VLOG_OPEN_CREATE ) oflags |= O_CREAT;
  *pp = 0;
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
  *pp = &p->base;
  return VLOG_OK;
}

static int posixClose(VlogFile *pFile){
  PosixFile *p = (PosixFile*)pFile;
  if( p ){
    /* close() drops every fcntl() lock the process holds on the file. */
    close(p->fd);
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
  };
  return &env;
}
