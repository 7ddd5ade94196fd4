/*
** io.h: the engine's only view of the outside world.
**
** Every file operation and every allocation the engine makes goes through a
** VlogEnv, a table of functions (in the manner of LSM's lsm_env and
** os_unix.c's aSyscall[]).  Two implementations exist:
**
**   vlogEnvPosix()      pread/pwrite/fdatasync/ftruncate/fallocate, fcntl
**                       locks, malloc.  What vlogtool uses.
**   vlogEnvVfs(pVfs)    forwards file operations to a parent sqlite3_vfs and
**                       allocations to sqlite3_malloc(), so that SQLite's
**                       fault injection (ioerr, oom) and its power-loss
**                       simulation (the "crash" VFS) reach the engine.  What
**                       the extension and the tests use.
**
** Tests make the Nth I/O call or allocation fail with SQLite's own
** machinery (sqlite3_io_error_pending, sqlite3_memdebug_fail: the faults of
** do_faultsim_test), which reaches the engine through vlogEnvVfs().
**
** LOCKS
** The store file is locked the way SQLite locks a database file, with the
** same five levels (NONE, SHARED, RESERVED, PENDING, EXCLUSIVE), never
** blocking: a lock that cannot be had at once is VLOG_BUSY.  Through
** vlogEnvVfs() the levels are the parent VFS's own xLock/xUnlock, so the
** unix VFS arbitrates between handles of one process and between processes.
** vlogEnvPosix() takes the same fcntl() byte ranges as SQLite's unix VFS
** (pending byte at 1 GiB); it is meant for one handle per file per process
** (vlogtool), since fcntl() locks belong to a process, not to a handle.
**
** SHARED MEMORY
** xShmMap maps VLOG_SHM_SIZE bytes of memory shared by every handle of
** every process that has the store open: the reader table (shm.c).  It
** lives in "<store>-shm", the file SQLite's unix VFS uses for a database's
** WAL index, with the same dead-man switch: the first process to map it
** finds no other process holding it and zeroes it, so its content never
** outlives the processes that use it and needs no recovery.  Through
** vlogEnvVfs() it is the parent VFS's xShmMap; vlogEnvPosix() maps the same
** file and takes the same lock byte, so the two interoperate.  xShmUnmap
** releases the mapping (never deleting the file), and the slot lock the
** handle still holds.  xPid gives the process id that the reader table
** writes beside a slot, for messages only.
**
** READER-SLOT LOCKS
** Whether a reader slot's owner still runs is decided by a lock, not by
** its process id: a process id means nothing in another PID namespace and
** may belong to a new process once the old one is gone.  Slot i has one
** lock byte in the -shm file (past the shared memory, never one of
** SQLite's); its owner holds a write lock on it for as long as it owns
** the slot, and the kernel drops the lock when the owner dies, however it
** dies.  xShmLock(pFile, i, eOp), once xShmMap succeeded:
**   VLOG_SHMLOCK_CLAIM    take slot i's byte for this handle: VLOG_OK, or
**                         VLOG_BUSY if a handle of this or another process
**                         holds it.  A handle holds one slot at most.
**   VLOG_SHMLOCK_RELEASE  let it go (nothing if the handle does not hold it)
**   VLOG_SHMLOCK_TEST     VLOG_BUSY if a handle of any process holds it
**                         (the owner lives), VLOG_OK if none (it is dead
**                         or there is none), takes nothing
** Any other result is an I/O error, which the caller takes as "held".
** The bytes are fcntl() locks on one descriptor of the -shm per process,
** shared by every handle of either env (io_posix.c), so that a handle
** closing never drops the locks of another handle of its process, and two
** handles of one process never both hold a byte.
**
** MEMORY-MAPPED READS
** xMmap (may be 0) asks that xReadMapped reads of the file's first nLimit
** bytes come from a memory map instead of a system call each (0: no map;
** negative: no change), and sets *pnMapped to the bytes mapped now.  It is
** a hint: an implementation without maps ignores it.  xReadMapped (may be
** 0: xRead) is xRead for bytes the caller knows no one truncates while it
** reads them, and that were written: value-log frames of a transaction's
** snapshot, whose buckets stay allocated while a reader may reach them.
** A hole of the file read through a map is SIGBUS when the file system
** cannot give it a page (a full tmpfs).  A read of a map past the
** end of a file that another process has truncated is SIGBUS, not a short
** read, so every optimistic read (superblocks, the journal scanned before
** a snapshot is pinned) stays xRead.  vlogEnvVfs() maps through the parent
** (SQLITE_FCNTL_MMAP_SIZE on a second, read-only handle) when the parent
** can (io_methods version 3 with xFetch: the unix VFS can; the test VFSes
** that simulate crashes cannot, so crash tests read as before).
**
** RESULT CODES
** The engine's result codes have the values of SQLite's (engine.h), so
** ext/ and vfs/ pass them up unchanged.
*/
#ifndef VLOG_IO_H
#define VLOG_IO_H

#include <stddef.h>
#include <stdint.h>

/*
** VLOG_MUST_CHECK marks a function whose result code must not be dropped
** (issue 13, item 6): the compiler warns at a call that ignores it.  A call
** whose result is rightly ignored (an unlock on an error path, a cleanup
** that cannot fail) says so with a (void) cast and a comment.  Clang only:
** GCC warns even through a (void) cast (GCC bug 66425), so with GCC the
** macro is empty; clang builds (make fuzz, CC=clang) keep the check.
*/
#if defined(__clang__)
# define VLOG_MUST_CHECK __attribute__((warn_unused_result))
#else
# define VLOG_MUST_CHECK
#endif

typedef struct VlogEnv VlogEnv;
typedef struct VlogFile VlogFile;

/* Flags for xOpen.  xOpen refuses a path that exists and is not a regular
** file, before opening it: VLOG_CANTOPEN_ISDIR for a directory,
** VLOG_CANTOPEN_NOTREG for anything else (/dev/null, a FIFO).  Asked for
** read-write, it fails (VLOG_CANTOPEN) rather than open read-only. */
#define VLOG_OPEN_READONLY  0x01
#define VLOG_OPEN_CREATE    0x02

/* Lock levels for xLock/xUnlock: SQLite's five, with SQLite's meaning. */
#define VLOG_LOCK_NONE      0
#define VLOG_LOCK_SHARED    1     /* a reader */
#define VLOG_LOCK_RESERVED  2     /* the one writer; readers may come */
#define VLOG_LOCK_PENDING   3     /* the writer waits for readers to leave */
#define VLOG_LOCK_EXCLUSIVE 4     /* the writer commits; no reader */

/* Bytes of shared memory a store maps (one region of SQLite's WAL index
** size), and how many slot lock bytes there can be (xShmLock). */
#define VLOG_SHM_SIZE       32768
#define VLOG_SHM_NLOCK      2048

/* xShmLock operations. */
#define VLOG_SHMLOCK_CLAIM   1
#define VLOG_SHMLOCK_RELEASE 2
#define VLOG_SHMLOCK_TEST    3

struct VlogEnv {
  void *pCtx;                        /* Implementation's context */
  /* Files.  Offsets and sizes in bytes. */
  /* xOpen: on failure errno holds the system's reason (0: none known) */
  int (*xOpen)(VlogEnv*, const char *zPath, int flags,
               VlogFile **ppFile) VLOG_MUST_CHECK;
  int (*xClose)(VlogFile*) VLOG_MUST_CHECK;
  int (*xRead)(VlogFile*, int64_t iOff, void *pBuf, int nBuf) VLOG_MUST_CHECK;
  int (*xWrite)(VlogFile*, int64_t iOff, const void *pBuf, int nBuf) VLOG_MUST_CHECK;
  int (*xSync)(VlogFile*) VLOG_MUST_CHECK;
  int (*xTruncate)(VlogFile*, int64_t nSize) VLOG_MUST_CHECK;
  int (*xSize)(VlogFile*, int64_t *pnSize) VLOG_MUST_CHECK;
  /* xLock raises to eLevel or is BUSY; xUnlock lowers to NONE or SHARED */
  int (*xLock)(VlogFile*, int eLevel) VLOG_MUST_CHECK;
  int (*xUnlock)(VlogFile*, int eLevel) VLOG_MUST_CHECK;
  /* each may be 0 */
  int (*xAllocate)(VlogFile*, int64_t iOff, int64_t nByte) VLOG_MUST_CHECK;
  int (*xPunch)(VlogFile*, int64_t iOff, int64_t nByte) VLOG_MUST_CHECK;
  int (*xDelete)(VlogEnv*, const char *zPath) VLOG_MUST_CHECK;
  int (*xFullPath)(VlogEnv*, const char *zPath, char *zOut,
                   int nOut) VLOG_MUST_CHECK;
  /* Memory */
  void *(*xMalloc)(VlogEnv*, size_t);
  void *(*xRealloc)(VlogEnv*, void*, size_t);
  void (*xFree)(VlogEnv*, void*);
  /* Time in microseconds since the epoch; sleeping. */
  int64_t (*xNow)(VlogEnv*);
  void (*xSleep)(VlogEnv*, int nMicro);
  /* Shared memory (see above); xShmMap may be 0: no shared memory. */
  int (*xShmMap)(VlogFile*, void volatile **pp) VLOG_MUST_CHECK;
  void (*xShmUnmap)(VlogFile*);
  int (*xPid)(VlogEnv*);
  int (*xShmLock)(VlogFile*, int iSlot, int eOp) VLOG_MUST_CHECK;
  /* each may be 0 */
  int (*xMmap)(VlogFile*, int64_t nLimit, int64_t *pnMapped) VLOG_MUST_CHECK;
  int (*xReadMapped)(VlogFile*, int64_t iOff, void *pBuf, int nBuf) VLOG_MUST_CHECK;
  /* Start writing bytes [iOff, iOff+nByte) back to the device, without
  ** waiting (may be 0; a hint, errors ignored): the next xSync then waits
  ** for less (RocksDB's bytes_per_sync). */
  void (*xWriteback)(VlogFile*, int64_t iOff, int64_t nByte);
  /* Whether any handle (of any process) holds RESERVED or above on the
  ** file: SQLite's xCheckReservedLock, for a VFS (may be 0: never). */
  int (*xCheckReserved)(VlogFile*, int *pbReserved) VLOG_MUST_CHECK;
  /* Whether the file's name no longer leads to it (renamed, deleted):
  ** SQLite's SQLITE_FCNTL_HAS_MOVED, for a VFS (may be 0: never). */
  int (*xHasMoved)(VlogFile*, int *pbMoved) VLOG_MUST_CHECK;
};

/* A VlogFile is the implementation's; it starts with its env. */
struct VlogFile {
  VlogEnv *pEnv;
};

/* The POSIX implementation.  Static storage; never freed. */
VlogEnv *vlogEnvPosix(void);

/*
** The implementation over a parent sqlite3_vfs (passed as void* so that
** this header stays free of sqlite3.h).  Returns 0 when out of memory.
** Free it with vlogEnvVfsFree() once no store uses it.
*/
VlogEnv *vlogEnvVfs(void *pSqliteVfs);
void vlogEnvVfsFree(VlogEnv*);
/* The parent's sqlite3_file (as void*) of a file opened by such an env,
** for a VFS's file controls that the parent answers; 0 for any other. */
void *vlogEnvVfsFile(VlogFile*);

/*
** The process's node of a store's -shm (io_posix.c; see READER-SLOT
** LOCKS), for the envs: opened by a handle's xShmMap, closed by its
** xShmUnmap.  bDeadMan: a node made now also runs the dead-man switch on
** the -shm and holds it (the POSIX env; through a VFS, the VFS does).
** Keyed by the store file's device and inode.  vlogShmNodeLock is
** xShmLock for the handle whose held slot (-1: none) is *piHeld, which it
** updates; vlogShmNodeClose releases the handle's slot iHeld (if >= 0).
*/
typedef struct VlogShmNode VlogShmNode;
VLOG_MUST_CHECK int vlogShmNodeOpen(const char *zStore, int bDeadMan,
                                    VlogShmNode **ppNode);
void vlogShmNodeClose(VlogShmNode*, int iHeld);
VLOG_MUST_CHECK int vlogShmNodeLock(VlogShmNode*, int *piHeld, int iSlot, int eOp);

/*
** The WAL lock of the vlog VFS (vfs/vfs.c): one more byte of the -shm,
** past the slot bytes, with shared and exclusive levels across the
** handles of every process.  In WAL mode SQLite holds its database lock
** SHARED for as long as a connection is open; held on the store file's
** own lock bytes it would keep every engine commit (a checkpoint's) from
** taking EXCLUSIVE, so the VFS holds it here instead.  *peHeld is the
** handle's level (0 none, 1 shared, 2 exclusive), eLevel the one it
** wants: VLOG_OK, VLOG_BUSY (another handle holds a level that conflicts),
** or an I/O error.  vlogEnvVfsWalLock() is the same for a file of
** vlogEnvVfs() (VLOG_NOTFOUND when it has no shared memory).
*/
VLOG_MUST_CHECK int vlogShmNodeWalLock(VlogShmNode*, int *peHeld, int eLevel);
VLOG_MUST_CHECK int vlogEnvVfsWalLock(VlogFile*, int *peHeld, int eLevel);

/*
** The process's side descriptor of a store file that a VFS holds open
** (io_posix.c, "A side descriptor"), for what SQLite's VFS interface has
** no method for: punching holes, starting a writeback.  vlogSideFdOpen
** registers a handle of the file (keyed by device and inode); the others
** open the descriptor the first time; vlogSideFdClose unregisters, after
** the handle's own file is closed.
*/
typedef struct VlogSideFd VlogSideFd;
VLOG_MUST_CHECK int vlogSideFdOpen(const char *zPath, VlogSideFd **ppNode);
VLOG_MUST_CHECK int vlogSideFdPunch(VlogSideFd*, int64_t iOff, int64_t nByte);
void vlogSideFdWriteback(VlogSideFd*, int64_t iOff, int64_t nByte);
void vlogSideFdClose(VlogSideFd*);

/* Shorthands used across the engine. */
#define vlogMalloc(pEnv, n)      ((pEnv)->xMalloc((pEnv), (n)))
#define vlogRealloc(pEnv, p, n)  ((pEnv)->xRealloc((pEnv), (p), (n)))
#define vlogFree(pEnv, p)        ((pEnv)->xFree((pEnv), (p)))
void *vlogMallocZero(VlogEnv*, size_t);
char *vlogStrdup(VlogEnv*, const char*);

#endif /* VLOG_IO_H */
