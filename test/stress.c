/*
** stress.c: many processes on one store, and processes killed at random
** moments (LMDB's mtest in spirit: what no Tcl test reaches).
**
** USAGE
**
**   stress [options] DIR
**     --seconds N      length of the mixed run (default 20; 0: none)
**     --readers N      reader processes of each of the three kinds (1)
**     --rounds N       kill-everything rounds after the mixed run (0)
**     --lone N         lone-writer kill rounds after those (0)
**     --kill-ms A B    a round lasts A to B milliseconds (300 1500)
**     --keys N         rows rewritten by each batch (200)
**     --ckpt-every N   the writer checkpoints every N batches (3)
**     --checkpointer   one more process calls vlog_checkpoint() every 50 to
**                      300 ms (a checkpoint must never fail a commit)
**     --inline         values in the B-tree leaves (inline_max=8192): big
**                      journal entries, which SIGKILL can cut short
**     --rollback-journal  the database in rollback-journal mode, not WAL:
**                      a COMMIT can then fail after the store's commit
**                      was written (SQLite cannot lock the database file),
**                      and the store takes it back
**     --dead-slots N   reader slots left to dead owners first (0)
**     --seed S         random seed (default: the time)
**
** One store, DIR/s.vlog, holds the table kv(key integer, value blob) of
** database DIR/s.db (WAL mode).  The writer rewrites every key in each
** batch, as one transaction: value(b, k) is the batch b and key k, then
** filler derived from them, 100 to 1600 bytes long, so that most values go
** to the value log.  Every few batches it calls vlog_checkpoint().
**
** Readers, of three kinds (they differ in how they open connections, and
** so in their close-time checkpoints and reader slots):
**   fresh      a new connection for every scan
**   twice      an idle connection kept open, a second one for every scan
**   steady     one connection, scanning again and again
** Every scan must be one whole batch: every key once, in order, each value
** intact and of the same batch; not older than the last batch whose COMMIT
** had returned before the scan began, nor than the reader's previous scan.
** While its statement is open, the reader's slot in the reader table
** (DIR/s.vlog-shm) must keep the checkpoint it pinned.
**
** A monitor walks the journal on disk, again and again: from the superblock
** of the published checkpoint to the published end, every entry must be
** there, whole; from the other superblock, up to where the newer chain
** starts.  (A sample during which a checkpoint was published is dropped.)
**
** Kill rounds: the writer (and, but for --lone rounds, the readers) run
** for a random time and are killed with SIGKILL; then the store must open,
** scan as one whole batch no older than the last returned COMMIT, and pass
** vlog_verify().
**
** Dead slots (--dead-slots N): before the run, a process opens N
** connections (a reader slot each) and kills itself, leaving N slots whose
** owner is dead; everyone after must reap them to get one.
**
** Anomalies are printed as they happen; the last line gives the counts.
** Exit status: 0 none, 1 anomalies, 2 bad usage.  SQLITE_BUSY from
** vlog_checkpoint() (a reader of an older checkpoint, or a writer that
** kept the lock for the whole busy timeout) is counted, not an anomaly;
** every other error is one, SQLITE_BUSY of a COMMIT or a scan included
** (every connection waits up to 10 s).
*/
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "sqlite3.h"
#include "vlog.h"
#include "storeInt.h"

/* The reader table's header (engine/shm.c); its slots: storeInt.h. */
#define SHM_HDR_CKPT   8
#define SHM_HDR_JSEQ   24

/* State shared by every process of the run (an anonymous shared map). */
typedef struct Shared Shared;
struct Shared {
  int64_t iCommitted;          /* last batch whose COMMIT returned */
  int64_t nCommit, nScan, nCkpt, nCkptBusy, nBusy, nWalk, nKill, nRound;
  int64_t nAnomaly;
  int bStop;
};
static Shared *g;

static const char *zDir;
static int nKeys = 200, nCkptEvery = 3, bInline = 0, bCheckpointer = 0;
static int bRollbackJournal = 0, nDeadSlots = 0;

static void anomaly(const char *zFmt, ...){
  va_list ap;
  char z[1000];
  va_start(ap, zFmt);
  vsnprintf(z, sizeof(z), zFmt, ap);
  va_end(ap);
  __atomic_add_fetch(&g->nAnomaly, 1, __ATOMIC_SEQ_CST);
  fprintf(stderr, "stress: ANOMALY (pid %d): %s\n", (int)getpid(), z);
  fflush(stderr);
}

static uint64_t rngState;
static uint64_t rnd(void){
  rngState ^= rngState << 13;
  rngState ^= rngState >> 7;
  rngState ^= rngState << 17;
  return rngState;
}

/* ------------------------------------------------------------------ */
/* Values */

static int valueLen(int64_t b, int k){ return 12 + 100 + (int)((b*31 + k*17) % 1500); }

static void valueMake(int64_t b, int k, unsigned char *a){
  int n = valueLen(b, k), i;
  uint64_t x = (uint64_t)b*0x9E3779B97F4A7C15ULL ^ (uint64_t)(k+1)*0xC2B2AE3D27D4EB4FULL;
  for(i=0; i<8; i++) a[i] = (unsigned char)(b >> (56-8*i));
  for(i=0; i<4; i++) a[8+i] = (unsigned char)(k >> (24-8*i));
  for(i=12; i<n; i++){
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    a[i] = (unsigned char)x;
  }
}

/* The batch of value a[n] of key k, or -1 if it is not intact. */
static int64_t valueBatch(const unsigned char *a, int n, int k){
  unsigned char buf[2000];
  int64_t b = 0;
  int i;
  if( n<12 ) return -1;
  for(i=0; i<8; i++) b = (b<<8) | a[i];
  if( b<0 || valueLen(b, k)!=n || n>(int)sizeof(buf) ) return -1;
  valueMake(b, k, buf);
  return memcmp(buf, a, n)==0 ? b : -1;
}

/* ------------------------------------------------------------------ */
/* Connections */

static sqlite3 *dbOpen(void){
  sqlite3 *db = 0;
  char *zPath = sqlite3_mprintf("%s/s.db", zDir);
  if( sqlite3_open(zPath, &db)!=SQLITE_OK ){
    anomaly("cannot open %s: %s", zPath, sqlite3_errmsg(db));
    sqlite3_close(db);
    db = 0;
  }else{
    sqlite3_busy_timeout(db, 10000);
  }
  sqlite3_free(zPath);
  return db;
}

static int isBusy(int rc){ return (rc & 0xff)==SQLITE_BUSY || (rc & 0xff)==SQLITE_LOCKED; }

/* ------------------------------------------------------------------ */
/* The reader table: this process's pinned slot, read through a map of
** the -shm kept for the life of the process (closing a descriptor of the
** file would drop this process's locks on it). */
static volatile unsigned char *aShm = 0;

static void shmAttach(void){
  char *zPath;
  int fd;
  void *p;
  if( aShm ) return;
  zPath = sqlite3_mprintf("%s/s.vlog-shm", zDir);
  fd = open(zPath, O_RDONLY);
  sqlite3_free(zPath);
  if( fd<0 ) return;
  p = mmap(0, VLOG_SHM_SIZE, PROT_READ, MAP_SHARED, fd, 0);
  if( p!=MAP_FAILED ) aShm = (volatile unsigned char*)p;
  /* fd stays open on purpose: see above */
}

static uint32_t slotPid(int i){
  return *(volatile uint32_t*)(aShm + VLOG_SHM_SLOT0 + i*VLOG_SHM_SLOT_SIZE
                               + VLOG_SHM_SLOT_PID);
}
static uint64_t slotCkpt(int i){
  return *(volatile uint64_t*)(aShm + VLOG_SHM_SLOT0 + i*VLOG_SHM_SLOT_SIZE
                               + VLOG_SHM_SLOT_CKPT);
}

/* The slot this process pins a checkpoint in: its index, or -1 (none, or
** more than one). */
static int pinnedSlot(uint64_t *piCkpt){
  int i, iFound = -1, nSlot = vlogShmSlotCount();
  if( aShm==0 ) return -1;
  for(i=0; i<nSlot; i++){
    if( slotPid(i)==(uint32_t)getpid() && slotCkpt(i)!=0 ){
      if( iFound>=0 ) return -1;
      iFound = i;
      *piCkpt = slotCkpt(i);
    }
  }
  return iFound;
}

/* ------------------------------------------------------------------ */
/* Scans */

/*
** Scan kv in db: one whole batch, not older than iMin.  Returns the batch,
** -1 after an anomaly, -2 on SQLITE_BUSY.  bPin: check the reader slot.
*/
static int64_t scanOnce(sqlite3 *db, int64_t iMin, int bPin, const char *zWho){
  sqlite3_stmt *pStmt = 0;
  int64_t b = -3;
  int k = 0, rc, iSlot = -1;
  uint64_t iPin = 0;
  rc = sqlite3_prepare_v2(db, "SELECT key, value FROM kv", -1, &pStmt, 0);
  if( rc ){
    if( isBusy(rc) ) return -2;
    anomaly("%s: prepare: %s", zWho, sqlite3_errmsg(db));
    return -1;
  }
  while( (rc = sqlite3_step(pStmt))==SQLITE_ROW ){
    const unsigned char *a = sqlite3_column_blob(pStmt, 1);
    int n = sqlite3_column_bytes(pStmt, 1);
    int64_t bk;
    if( k==0 && bPin ){
      shmAttach();
      iSlot = pinnedSlot(&iPin);
    }
    if( sqlite3_column_int64(pStmt, 0)!=k ){
      anomaly("%s: key %lld where %d was due", zWho,
              (long long)sqlite3_column_int64(pStmt, 0), k);
      b = -1;
      break;
    }
    bk = valueBatch(a, n, k);
    if( bk<0 ){
      anomaly("%s: value of key %d damaged (%d bytes)", zWho, k, n);
      b = -1;
      break;
    }
    if( k==0 ) b = bk;
    else if( bk!=b ){
      anomaly("%s: key %d of batch %lld in a scan of batch %lld", zWho, k,
              (long long)bk, (long long)b);
      b = -1;
      break;
    }
    if( iSlot>=0 && (k % 50)==49 ){
      if( slotPid(iSlot)!=(uint32_t)getpid() || slotCkpt(iSlot)!=iPin ){
        anomaly("%s: reader slot %d changed under an open statement: pid %u "
                "checkpoint %llu (was %llu)", zWho, iSlot, slotPid(iSlot),
                (unsigned long long)slotCkpt(iSlot), (unsigned long long)iPin);
        b = -1;
        break;
      }
    }
    k++;
  }
  if( b!=-1 && rc!=SQLITE_ROW && rc!=SQLITE_DONE ){
    if( isBusy(rc) ) b = -2;
    else{
      anomaly("%s: scan: %s (%d)", zWho, sqlite3_errmsg(db), rc);
      b = -1;
    }
  }
  if( rc==SQLITE_DONE && b>=0 && k!=nKeys ){
    anomaly("%s: %d rows, not %d", zWho, k, nKeys);
    b = -1;
  }
  if( rc==SQLITE_DONE && b==-3 ){
    anomaly("%s: the table is empty", zWho);
    b = -1;
  }
  if( b>=0 && b<iMin ){
    anomaly("%s: batch %lld, but %lld had been committed", zWho,
            (long long)b, (long long)iMin);
    b = -1;
  }
  sqlite3_finalize(pStmt);
  return b;
}

/* ------------------------------------------------------------------ */
/* Processes */

static void writerMain(void){
  sqlite3 *db = dbOpen();
  int64_t b = g->iCommitted;
  unsigned char *a = malloc(2000);
  sqlite3_stmt *pIns = 0;
  if( db==0 || a==0 ) exit(1);
  if( sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO kv VALUES(?1, ?2)", -1,
                         &pIns, 0) ){
    anomaly("writer: prepare: %s", sqlite3_errmsg(db));
    exit(1);
  }
  while( !g->bStop ){
    int k, rc;
    b++;
    rc = sqlite3_exec(db, "BEGIN", 0, 0, 0);
    for(k=0; rc==SQLITE_OK && k<nKeys; k++){
      valueMake(b, k, a);
      sqlite3_bind_int(pIns, 1, k);
      sqlite3_bind_blob(pIns, 2, a, valueLen(b, k), SQLITE_STATIC);
      rc = sqlite3_step(pIns);
      rc = rc==SQLITE_DONE ? SQLITE_OK : sqlite3_reset(pIns);
      sqlite3_reset(pIns);
    }
    if( rc==SQLITE_OK ) rc = sqlite3_exec(db, "COMMIT", 0, 0, 0);
    if( rc ){
      if( isBusy(rc) ) __atomic_add_fetch(&g->nBusy, 1, __ATOMIC_SEQ_CST);
      anomaly("writer: batch %lld: %s (%d)", (long long)b, sqlite3_errmsg(db), rc);
      sqlite3_exec(db, "ROLLBACK", 0, 0, 0);
      b--;
      continue;
    }
    __atomic_store_n(&g->iCommitted, b, __ATOMIC_SEQ_CST);
    __atomic_add_fetch(&g->nCommit, 1, __ATOMIC_SEQ_CST);
    if( (b % nCkptEvery)==0 ){
      rc = sqlite3_exec(db, "SELECT vlog_checkpoint('kv')", 0, 0, 0);
      if( rc==SQLITE_OK ) __atomic_add_fetch(&g->nCkpt, 1, __ATOMIC_SEQ_CST);
      else if( isBusy(rc) ) __atomic_add_fetch(&g->nCkptBusy, 1, __ATOMIC_SEQ_CST);
      else anomaly("writer: vlog_checkpoint: %s (%d)", sqlite3_errmsg(db), rc);
    }
  }
  sqlite3_finalize(pIns);
  sqlite3_close(db);
  exit(0);
}

/* eKind 0 fresh, 1 twice, 2 steady */
static void readerMain(int eKind){
  static const char *azKind[] = { "fresh reader", "twice reader", "steady reader" };
  sqlite3 *dbKeep = 0;
  int64_t iLast = 0;
  if( eKind>0 ) dbKeep = dbOpen();
  while( !g->bStop ){
    sqlite3 *db = eKind==2 ? dbKeep : dbOpen();
    int64_t iMin = __atomic_load_n(&g->iCommitted, __ATOMIC_SEQ_CST), b;
    if( db==0 ) exit(1);
    if( iMin<iLast ) iMin = iLast;
    b = scanOnce(db, iMin, 1, azKind[eKind]);
    if( b>=0 ){
      iLast = b;
      __atomic_add_fetch(&g->nScan, 1, __ATOMIC_SEQ_CST);
    }else if( b==-2 ){
      __atomic_add_fetch(&g->nBusy, 1, __ATOMIC_SEQ_CST);
      anomaly("%s: SQLITE_BUSY: %s", azKind[eKind], sqlite3_errmsg(db));
    }
    if( eKind!=2 ) sqlite3_close(db);
  }
  sqlite3_close(dbKeep);
  exit(0);
}

/* ------------------------------------------------------------------ */
/* The monitor: the journal chains on disk */

static int readAt(int fd, uint64_t iOff, void *a, int n){
  return pread(fd, a, n, (off_t)iOff)==n ? 0 : 1;
}

typedef struct Sb Sb;
struct Sb { int bOk; uint64_t iSeq, iJrnlOff, iJrnlSeq; uint32_t nBucket; };

static void sbRead(int fd, int iSlot, Sb *p){
  unsigned char a[SB_USED];
  memset(p, 0, sizeof(*p));
  if( readAt(fd, (uint64_t)iSlot*SB_SIZE, a, SB_USED) ) return;
  if( memcmp(a, SB_MAGIC, 16)!=0 ) return;
  if( vlogGet64(&a[SB_USED-8])!=vlogChecksum(a, SB_USED-8, SEED_SB) ) return;
  p->bOk = 1;
  p->iSeq = vlogGet64(&a[24]);
  p->nBucket = vlogGet32(&a[32]);
  p->iJrnlOff = vlogGet64(&a[72]);
  p->iJrnlSeq = vlogGet64(&a[80]);
}

/*
** Walk the journal from (iOff, iSeq) up to sequence iEnd (exclusive).
** Returns 0 if every entry is whole, else writes what broke into zErr.
*/
static int chainWalk(int fd, uint32_t nBucket, uint64_t iOff, uint64_t iSeq,
                     uint64_t iEnd, char *zErr, int nErr){
  unsigned char h[JE_HDR];
  unsigned char *aBody = 0;
  int rc = 0;
  while( iSeq<iEnd ){
    uint32_t nPayload;
    uint64_t iBucketEnd = (iOff/nBucket + 1)*(uint64_t)nBucket;
    if( readAt(fd, iOff, h, JE_HDR) || vlogGet32(&h[0])!=JE_MAGIC
     || vlogGet64(&h[40])!=vlogChecksum(h, 40, SEED_JHDR)
     || vlogGet64(&h[8])!=iSeq ){
      snprintf(zErr, nErr, "entry %llu at offset %llu: bad header (sequence %llu "
               "there)", (unsigned long long)iSeq, (unsigned long long)iOff,
               (unsigned long long)vlogGet64(&h[8]));
      rc = 1;
      break;
    }
    nPayload = vlogGet32(&h[24]);
    if( iOff + JE_HDR + nPayload > iBucketEnd ){
      snprintf(zErr, nErr, "entry %llu at offset %llu: payload past its bucket",
               (unsigned long long)iSeq, (unsigned long long)iOff);
      rc = 1;
      break;
    }
    aBody = realloc(aBody, nPayload ? nPayload : 1);
    if( readAt(fd, iOff+JE_HDR, aBody, nPayload)
     || vlogGet64(&h[32])!=vlogChecksum(aBody, nPayload, SEED_JPAYLOAD) ){
      snprintf(zErr, nErr, "entry %llu at offset %llu: payload damaged",
               (unsigned long long)iSeq, (unsigned long long)iOff);
      rc = 1;
      break;
    }
    if( vlogGet32(&h[4])==JE_LINK ){
      if( nPayload<8 ){
        snprintf(zErr, nErr, "link entry %llu too short", (unsigned long long)iSeq);
        rc = 1;
        break;
      }
      iOff = vlogGet64(aBody) * (uint64_t)nBucket;
    }else{
      iOff += (JE_HDR + nPayload + JE_ALIGN-1) & ~(uint64_t)(JE_ALIGN-1);
    }
    iSeq++;
  }
  free(aBody);
  return rc;
}

static void monitorMain(void){
  char *zPath = sqlite3_mprintf("%s/s.vlog", zDir);
  int fd = open(zPath, O_RDONLY);
  sqlite3_free(zPath);
  if( fd<0 ){
    anomaly("monitor: cannot open the store");
    exit(1);
  }
  while( !g->bStop ){
    uint64_t iCkpt, iJSeq, iCkpt2;
    Sb sb[2], *pNew = 0, *pOld = 0;
    char zErr[300];
    int i;
    shmAttach();
    if( aShm==0 ){ usleep(10000); continue; }
    iCkpt = *(volatile uint64_t*)(aShm + SHM_HDR_CKPT);
    iJSeq = *(volatile uint64_t*)(aShm + SHM_HDR_JSEQ);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if( iCkpt==0 ){ usleep(1000); continue; }
    for(i=0; i<2; i++){
      sbRead(fd, i, &sb[i]);
      if( sb[i].bOk && sb[i].iSeq==iCkpt ) pNew = &sb[i];
      if( sb[i].bOk && sb[i].iSeq+1==iCkpt ) pOld = &sb[i];
    }
    if( pNew ){
      int bBad = chainWalk(fd, pNew->nBucket, pNew->iJrnlOff, pNew->iJrnlSeq,
                           iJSeq, zErr, sizeof(zErr));
      int bBadOld = 0;
      char zErrOld[300];
      if( pOld && pOld->iJrnlSeq<=pNew->iJrnlSeq ){
        bBadOld = chainWalk(fd, pOld->nBucket, pOld->iJrnlOff, pOld->iJrnlSeq,
                            pNew->iJrnlSeq, zErrOld, sizeof(zErrOld));
      }
      __atomic_thread_fence(__ATOMIC_SEQ_CST);
      iCkpt2 = *(volatile uint64_t*)(aShm + SHM_HDR_CKPT);
      if( pOld ){
        /* a checkpoint may have written its superblock over the older
        ** one during the walk before it published: then the older chain
        ** may be reused, and the sample does not count */
        Sb again;
        int j, bStill = 0;
        for(j=0; j<2; j++){
          sbRead(fd, j, &again);
          if( again.bOk && again.iSeq==pOld->iSeq ) bStill = 1;
        }
        if( !bStill ) iCkpt2 = 0;
      }
      if( iCkpt2==iCkpt ){
        /* no checkpoint published during the walk: the sample counts */
        if( bBad ){
          anomaly("monitor: the published chain of checkpoint %llu (ending at "
                  "entry %llu) is broken: %s", (unsigned long long)iCkpt,
                  (unsigned long long)iJSeq, zErr);
        }
        if( bBadOld ){
          anomaly("monitor: the chain of the older superblock (checkpoint %llu) "
                  "is broken: %s", (unsigned long long)pOld->iSeq, zErrOld);
        }
        __atomic_add_fetch(&g->nWalk, 1, __ATOMIC_SEQ_CST);
      }
    }
    usleep(2000);
  }
  exit(0);
}

static void checkpointerMain(void){
  sqlite3 *db = dbOpen();
  if( db==0 ) exit(1);
  while( !g->bStop ){
    int rc;
    usleep((useconds_t)(50 + rnd() % 251)*1000);
    rc = sqlite3_exec(db, "SELECT vlog_checkpoint('kv')", 0, 0, 0);
    if( rc==SQLITE_OK ) __atomic_add_fetch(&g->nCkpt, 1, __ATOMIC_SEQ_CST);
    else if( isBusy(rc) ){
      static int nNote = 0;
      __atomic_add_fetch(&g->nCkptBusy, 1, __ATOMIC_SEQ_CST);
      if( ++nNote<=3 ){
        printf("stress: note: checkpointer: %s\n", sqlite3_errmsg(db));
        fflush(stdout);
      }
    }
    else anomaly("checkpointer: vlog_checkpoint: %s (%d)", sqlite3_errmsg(db), rc);
  }
  sqlite3_close(db);
  exit(0);
}

static pid_t spawn(void (*xMain)(void), int eArg){
  pid_t pid = fork();
  if( pid==0 ){
    rngState ^= (uint64_t)getpid()*0x9E3779B97F4A7C15ULL;
    if( xMain ) xMain();
    readerMain(eArg);
  }
  if( pid<0 ){
    perror("fork");
    exit(2);
  }
  return pid;
}

/* ------------------------------------------------------------------ */
/* The checks between rounds, in a child so that the parent never holds
** SQLite state across fork(). */
static void checkStore(const char *zWhen){
  pid_t pid = fork();
  int st = 0;
  if( pid==0 ){
    sqlite3 *db = dbOpen();
    sqlite3_stmt *pStmt = 0;
    int64_t b;
    char zWho[100];
    if( db==0 ) exit(1);
    snprintf(zWho, sizeof(zWho), "check %s", zWhen);
    b = scanOnce(db, g->iCommitted, 0, zWho);
    if( b>=0 ){
      /* writers killed mid-commit may have got further than they said */
      __atomic_store_n(&g->iCommitted, b, __ATOMIC_SEQ_CST);
    }else if( b==-2 ){
      anomaly("%s: SQLITE_BUSY with no other process", zWho);
    }
    if( sqlite3_prepare_v2(db, "SELECT vlog_verify('kv')", -1, &pStmt, 0)
     || sqlite3_step(pStmt)!=SQLITE_ROW ){
      anomaly("%s: vlog_verify: %s", zWho, sqlite3_errmsg(db));
    }
    sqlite3_finalize(pStmt);
    sqlite3_close(db);
    exit(0);
  }
  waitpid(pid, &st, 0);
  if( !WIFEXITED(st) ) anomaly("check %s: the checking process died (status %d)", zWhen, st);
}

static void setup(void){
  pid_t pid = fork();
  int st = 0;
  if( pid==0 ){
    sqlite3 *db = dbOpen();
    unsigned char a[2000];
    sqlite3_stmt *pIns = 0;
    int k;
    if( db==0 ) exit(1);
    char *zSql = sqlite3_mprintf("PRAGMA journal_mode=%s;"
          "CREATE VIRTUAL TABLE kv USING vlog(file='s.vlog', key='integer'%s);"
          "BEGIN", bRollbackJournal ? "DELETE" : "WAL",
          bInline ? ", inline_max=8192" : "");
    if( zSql==0 || sqlite3_exec(db, zSql, 0, 0, 0)
     || sqlite3_prepare_v2(db, "INSERT INTO kv VALUES(?1, ?2)", -1, &pIns, 0) ){
      anomaly("setup: %s", sqlite3_errmsg(db));
      exit(1);
    }
    sqlite3_free(zSql);
    for(k=0; k<nKeys; k++){
      valueMake(1, k, a);
      sqlite3_bind_int(pIns, 1, k);
      sqlite3_bind_blob(pIns, 2, a, valueLen(1, k), SQLITE_STATIC);
      sqlite3_step(pIns);
      sqlite3_reset(pIns);
    }
    sqlite3_finalize(pIns);
    if( sqlite3_exec(db, "COMMIT", 0, 0, 0) ){
      anomaly("setup: %s", sqlite3_errmsg(db));
      exit(1);
    }
    sqlite3_close(db);
    exit(0);
  }
  waitpid(pid, &st, 0);
  if( !WIFEXITED(st) || WEXITSTATUS(st) ) exit(1);
  g->iCommitted = 1;
}

/* Run the writer, readers (nReaders of each kind) and the monitor for
** nMs milliseconds; stop them (bKill: SIGKILL at that moment). */
static void runPhase(int nReaders, int bMonitor, int nMs, int bKill){
  pid_t aPid[64];
  int nPid = 0, i, j;
  g->bStop = 0;
  aPid[nPid++] = spawn(writerMain, 0);
  for(i=0; i<3; i++){
    for(j=0; j<nReaders && nPid<60; j++) aPid[nPid++] = spawn(0, i);
  }
  if( bMonitor ) aPid[nPid++] = spawn(monitorMain, 0);
  if( bCheckpointer ) aPid[nPid++] = spawn(checkpointerMain, 0);
  usleep((useconds_t)nMs*1000);
  if( bKill ){
    for(i=0; i<nPid; i++) kill(aPid[i], SIGKILL);
    __atomic_add_fetch(&g->nKill, nPid, __ATOMIC_SEQ_CST);
  }
  g->bStop = 1;
  for(i=0; i<nPid; i++){
    int st = 0;
    waitpid(aPid[i], &st, 0);
    if( !bKill && (!WIFEXITED(st) || WEXITSTATUS(st)) ){
      anomaly("process %d ended with status %d", (int)aPid[i], st);
    }
  }
}

/* Fill nDeadSlots reader slots with a dead owner: open that many
** connections, each reading (so each claims a slot), then die. */
static void fillDeadSlots(void){
  pid_t pid;
  int st = 0;
  if( nDeadSlots<=0 ) return;
  pid = fork();
  if( pid==0 ){
    int i;
    for(i=0; i<nDeadSlots; i++){
      sqlite3 *db = dbOpen();          /* never closed: the process dies */
      if( db==0 || scanOnce(db, 0, 0, "dead-slot filler")<0 ) exit(1);
    }
    kill(getpid(), SIGKILL);
  }
  waitpid(pid, &st, 0);
  if( !WIFSIGNALED(st) ) anomaly("the dead-slot filler failed (status %d)", st);
}

static void usage(void){
  fprintf(stderr, "usage: stress [--seconds N] [--readers N] [--rounds N] [--lone N]\n"
                  "              [--kill-ms A B] [--keys N] [--ckpt-every N] "
                  "[--checkpointer]\n              [--inline] [--rollback-journal] [--dead-slots N] "
                  "[--seed S] DIR\n");
  exit(2);
}

int main(int argc, char **argv){
  int nSeconds = 20, nReaders = 1, nRounds = 0, nLone = 0;
  int nKillMin = 300, nKillMax = 1500;
  uint64_t iSeed = (uint64_t)time(0);
  int i;
  for(i=1; i<argc-1; i++){
    const char *z = argv[i];
    if( strcmp(z, "--seconds")==0 ) nSeconds = atoi(argv[++i]);
    else if( strcmp(z, "--readers")==0 ) nReaders = atoi(argv[++i]);
    else if( strcmp(z, "--rounds")==0 ) nRounds = atoi(argv[++i]);
    else if( strcmp(z, "--lone")==0 ) nLone = atoi(argv[++i]);
    else if( strcmp(z, "--keys")==0 ) nKeys = atoi(argv[++i]);
    else if( strcmp(z, "--ckpt-every")==0 ) nCkptEvery = atoi(argv[++i]);
    else if( strcmp(z, "--seed")==0 ) iSeed = strtoull(argv[++i], 0, 10);
    else if( strcmp(z, "--inline")==0 ) bInline = 1;
    else if( strcmp(z, "--checkpointer")==0 ) bCheckpointer = 1;
    else if( strcmp(z, "--rollback-journal")==0 ) bRollbackJournal = 1;
    else if( strcmp(z, "--dead-slots")==0 ) nDeadSlots = atoi(argv[++i]);
    else if( strcmp(z, "--kill-ms")==0 && i+2<argc-1 ){
      nKillMin = atoi(argv[++i]);
      nKillMax = atoi(argv[++i]);
    }else usage();
  }
  if( i!=argc-1 || nKeys<1 || nCkptEvery<1 || nKillMax<nKillMin ) usage();
  zDir = argv[argc-1];
  rngState = iSeed ? iSeed : 1;
  printf("stress: seed %llu, %s\n", (unsigned long long)iSeed, zDir);
  fflush(stdout);

  g = mmap(0, sizeof(Shared), PROT_READ|PROT_WRITE, MAP_SHARED|MAP_ANONYMOUS, -1, 0);
  if( g==MAP_FAILED ){
    perror("mmap");
    return 2;
  }
  memset(g, 0, sizeof(*g));
  sqlite3_auto_extension((void(*)(void))sqlite3_vlog_init);
  mkdir(zDir, 0755);
  setup();
  fillDeadSlots();

  if( nSeconds>0 ){
    runPhase(nReaders, 1, nSeconds*1000, 0);
    checkStore("after the mixed run");
    if( g->nWalk==0 && g->nCommit>0 ){
      /* a monitor that never sampled checked nothing (a superblock or
      ** reader-table layout it does not read, say) */
      anomaly("monitor: not one walk of the published journal chain in %d s",
              nSeconds);
    }
  }
  for(i=0; i<nRounds+nLone && g->nAnomaly==0; i++){
    int bLone = i>=nRounds;
    int nMs = nKillMin + (int)(rnd() % (uint64_t)(nKillMax-nKillMin+1));
    char zWhen[100];
    runPhase(bLone ? 0 : nReaders, 0, nMs, 1);
    g->nRound++;
    snprintf(zWhen, sizeof(zWhen), "after %s round %d (%d ms)",
             bLone ? "lone-writer" : "kill-everything", i+1, nMs);
    checkStore(zWhen);
  }
  printf("stress: %lld commits, %lld scans, %lld checkpoints (%lld busy), "
         "%lld other busy, %lld journal walks, %lld kill rounds, %lld processes "
         "killed; anomalies: %lld\n",
         (long long)g->nCommit, (long long)g->nScan, (long long)g->nCkpt,
         (long long)g->nCkptBusy, (long long)g->nBusy, (long long)g->nWalk,
         (long long)g->nRound, (long long)g->nKill, (long long)g->nAnomaly);
  return g->nAnomaly ? 1 : 0;
}
