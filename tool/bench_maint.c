/*
** bench_maint: value-log maintenance under an overwrite workload (issue
** 14's benchmark, make bench-maint).
**
**   bench_maint --vlog SO [--lsm SO] [--keys N] [--passes P] [--value-size B]
**               [--batch R] [--engines vlog,rowid,lsm1]
**               [--dists uniform,skewed] [--config NAME=VALUE,...]
**               [--dir DIR]
**
** Each engine loads N keys (16 random bytes) with B-byte random values,
** then overwrites P*N times, R rows per transaction: uniform (every key
** alike) or skewed (90% of the writes to 10% of the keys).  vlog runs with
** its automatic maintenance on (the defaults, or --config's settings,
** applied with vlog_config()).  Reported per engine:
**   - overwrite time, rows per second and the ratio to the rowid table's;
**   - write amplification of the overwrites: bytes the process handed to
**     write() (/proc/self/io wchar) over the bytes of keys and values the
**     user wrote (LSM1 writes its database through a memory map, which
**     wchar does not see: n/a);
**   - space: the peak of the engine's files (allocated blocks) sampled
**     after every transaction, at the end, and for vlog after
**     vlog_maintain('full'), each over the live bytes (keys and values);
**   - latency: the slowest commit over the median commit.
** Each engine runs in a child process of its own (its /proc/self/io starts
** at zero).  Durability as in bench_kv: WAL, synchronous=NORMAL.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <unistd.h>
#include <time.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/mman.h>
#include "sqlite3.h"

enum { E_VLOG, E_ROWID, E_LSM1, N_ENGINE };
static const struct {
  const char *zName, *zCreate, *zPut;
} aEngine[N_ENGINE] = {
  { "vlog", "CREATE VIRTUAL TABLE kv USING vlog(file='kv.vlog', key='blob')",
    "INSERT OR REPLACE INTO kv(key, value) VALUES(?1, ?2)" },
  { "rowid", "CREATE TABLE kv(key BLOB, value BLOB); CREATE UNIQUE INDEX kv_key ON kv(key)",
    "INSERT OR REPLACE INTO kv(key, value) VALUES(?1, ?2)" },
  { "lsm1", "CREATE VIRTUAL TABLE kv USING lsm1('kv.lsm', k, BLOB, v)",
    "INSERT OR REPLACE INTO kv(k, v) VALUES(?1, ?2)" },
};

typedef struct Result Result;
struct Result {
  int bOk;
  char zErr[256];
  double rLoad, rOver;          /* seconds */
  double rWa;                   /* -1: n/a */
  double rPeak, rEnd, rFull;    /* bytes; rFull -1: n/a */
  double rMaxCommit, rMedCommit;
  double rLive;
};

typedef struct Config Config;
struct Config {
  const char *zVlog, *zLsm, *zDir, *zSettings;
  int64_t nKey, nPass;
  int nVal, nBatch;
  int abEngine[N_ENGINE];
  int bUniform, bSkewed;
};

static double now(void){
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec*1e-9;
}
static uint64_t splitmix(uint64_t *p){
  uint64_t z = (*p += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
static void makeKey(uint64_t i, unsigned char *a){
  uint64_t s = i * 2654435761ULL + 17, x;
  x = splitmix(&s); memcpy(a, &x, 8);
  x = splitmix(&s); memcpy(&a[8], &x, 8);
}
static void makeVal(uint64_t *pState, unsigned char *a, int n){
  int i;
  for(i=0; i<n; i+=8){
    uint64_t x = splitmix(pState);
    memcpy(&a[i], &x, n-i<8 ? n-i : 8);
  }
}
static int64_t wchar(void){
  char z[256];
  int64_t v = -1;
  FILE *f = fopen("/proc/self/io", "r");
  if( f==0 ) return -1;
  while( fgets(z, sizeof(z), f) ){
    if( strncmp(z, "wchar:", 6)==0 ) v = atoll(&z[6]);
  }
  fclose(f);
  return v;
}
/* Allocated bytes of the files in zDir. */
static double dirBytes(const char *zDir){
  DIR *d = opendir(zDir);
  struct dirent *e;
  double r = 0.0;
  if( d==0 ) return 0.0;
  while( (e = readdir(d))!=0 ){
    char z[4096];
    struct stat st;
    if( e->d_name[0]=='.' ) continue;
    snprintf(z, sizeof(z), "%s/%s", zDir, e->d_name);
    if( stat(z, &st)==0 && S_ISREG(st.st_mode) ) r += (double)st.st_blocks*512.0;
  }
  closedir(d);
  return r;
}
static int cmpDouble(const void *a, const void *b){
  double x = *(const double*)a, y = *(const double*)b;
  return x<y ? -1 : x>y;
}

static void run(const Config *pCfg, int eEngine, int bSkewed, Result *pRes){
  char zDir[1024], zDb[2200];
  sqlite3 *db = 0;
  sqlite3_stmt *pPut = 0;
  unsigned char aKey[16], *aVal = malloc(pCfg->nVal + 8);
  uint64_t iState = 42 + (uint64_t)bSkewed, iPick = 7;
  int64_t i, nOver = pCfg->nKey * pCfg->nPass, nCommit = 0, w0;
  double *aCommit = 0, t0;
  int rc;
  memset(pRes, 0, sizeof(*pRes));
  pRes->rWa = -1;
  pRes->rFull = -1;
  snprintf(zDir, sizeof(zDir), "%.900s/%s-%s", pCfg->zDir, aEngine[eEngine].zName,
           bSkewed ? "skewed" : "uniform");
  snprintf(zDb, sizeof(zDb), "rm -rf '%s' && mkdir -p '%s'", zDir, zDir);
  if( system(zDb)!=0 || chdir(zDir)!=0 ){
    snprintf(pRes->zErr, sizeof(pRes->zErr), "cannot make %.200s", zDir);
    return;
  }
  rc = sqlite3_open("test.db", &db);
  if( rc==SQLITE_OK && eEngine!=E_ROWID ){
    char *zMsg = 0;
    sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 1, (int*)0);
    rc = sqlite3_load_extension(db, eEngine==E_VLOG ? pCfg->zVlog : pCfg->zLsm,
                                eEngine==E_VLOG ? "sqlite3_vlog_init" : "sqlite3_lsm_init",
                                &zMsg);
    if( rc ) snprintf(pRes->zErr, sizeof(pRes->zErr), "load: %s", zMsg ? zMsg : "?");
    sqlite3_free(zMsg);
  }
  if( rc==SQLITE_OK ) rc = sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL", 0, 0, 0);
  if( rc==SQLITE_OK ) rc = sqlite3_exec(db, aEngine[eEngine].zCreate, 0, 0, 0);
  if( rc==SQLITE_OK && eEngine==E_VLOG && pCfg->zSettings ){
    /* NAME=VALUE,... */
    char *z = strdup(pCfg->zSettings), *zTok, *zSave = 0;
    for(zTok=strtok_r(z, ",", &zSave); rc==SQLITE_OK && zTok; zTok=strtok_r(0, ",", &zSave)){
      char *zEq = strchr(zTok, '=');
      char *zSql;
      if( zEq==0 ){ rc = SQLITE_ERROR; break; }
      *zEq = 0;
      zSql = sqlite3_mprintf("SELECT vlog_config('kv', %Q, %s)", zTok, zEq+1);
      rc = sqlite3_exec(db, zSql, 0, 0, 0);
      sqlite3_free(zSql);
    }
    free(z);
  }
  if( rc==SQLITE_OK ) rc = sqlite3_prepare_v2(db, aEngine[eEngine].zPut, -1, &pPut, 0);
  aCommit = (double*)malloc(sizeof(double)*(size_t)(nOver/pCfg->nBatch + 2));
  /* load */
  t0 = now();
  for(i=0; rc==SQLITE_OK && i<pCfg->nKey; i++){
    if( i%pCfg->nBatch==0 ) rc = sqlite3_exec(db, "BEGIN", 0, 0, 0);
    makeKey((uint64_t)i, aKey);
    makeVal(&iState, aVal, pCfg->nVal);
    sqlite3_bind_blob(pPut, 1, aKey, 16, SQLITE_STATIC);
    sqlite3_bind_blob(pPut, 2, aVal, pCfg->nVal, SQLITE_STATIC);
    if( sqlite3_step(pPut)!=SQLITE_DONE ) rc = SQLITE_ERROR;
    if( sqlite3_reset(pPut)!=SQLITE_OK ) rc = SQLITE_ERROR;
    if( rc==SQLITE_OK && (i%pCfg->nBatch==pCfg->nBatch-1 || i==pCfg->nKey-1) ){
      rc = sqlite3_exec(db, "COMMIT", 0, 0, 0);
    }
  }
  pRes->rLoad = now() - t0;
  /* overwrite */
  w0 = wchar();
  t0 = now();
  for(i=0; rc==SQLITE_OK && i<nOver; i++){
    uint64_t k = splitmix(&iPick);
    double tc;
    if( bSkewed && (k % 10)!=0 ){
      k = (k>>8) % (uint64_t)(pCfg->nKey/10 > 0 ? pCfg->nKey/10 : 1);
    }else{
      k = (k>>8) % (uint64_t)pCfg->nKey;
    }
    if( i%pCfg->nBatch==0 ) rc = sqlite3_exec(db, "BEGIN", 0, 0, 0);
    makeKey(k, aKey);
    makeVal(&iState, aVal, pCfg->nVal);
    sqlite3_bind_blob(pPut, 1, aKey, 16, SQLITE_STATIC);
    sqlite3_bind_blob(pPut, 2, aVal, pCfg->nVal, SQLITE_STATIC);
    if( sqlite3_step(pPut)!=SQLITE_DONE ) rc = SQLITE_ERROR;
    if( sqlite3_reset(pPut)!=SQLITE_OK ) rc = SQLITE_ERROR;
    if( rc==SQLITE_OK && (i%pCfg->nBatch==pCfg->nBatch-1 || i==nOver-1) ){
      double s;
      tc = now();
      rc = sqlite3_exec(db, "COMMIT", 0, 0, 0);
      aCommit[nCommit++] = now() - tc;
      s = dirBytes(".");
      if( s>pRes->rPeak ) pRes->rPeak = s;
    }
  }
  pRes->rOver = now() - t0;
  if( w0>=0 && eEngine!=E_LSM1 ){
    pRes->rWa = (double)(wchar() - w0) / ((double)nOver * (16.0 + pCfg->nVal));
  }
  pRes->rLive = (double)pCfg->nKey * (16.0 + pCfg->nVal);
  sqlite3_finalize(pPut);
  if( rc==SQLITE_OK && eEngine!=E_LSM1 ) rc = sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", 0, 0, 0);
  pRes->rEnd = dirBytes(".");
  if( rc==SQLITE_OK && eEngine==E_VLOG ){
    rc = sqlite3_exec(db, "SELECT vlog_maintain('kv', 'full')", 0, 0, 0);
    pRes->rFull = dirBytes(".");
  }
  if( rc!=SQLITE_OK && pRes->zErr[0]==0 ){
    snprintf(pRes->zErr, sizeof(pRes->zErr), "%s", sqlite3_errmsg(db));
  }
  sqlite3_close(db);
  if( nCommit>0 ){
    qsort(aCommit, nCommit, sizeof(double), cmpDouble);
    pRes->rMaxCommit = aCommit[nCommit-1];
    pRes->rMedCommit = aCommit[nCommit/2];
  }
  free(aCommit);
  free(aVal);
  pRes->bOk = rc==SQLITE_OK;
}

static void runInChild(const Config *pCfg, int eEngine, int bSkewed, Result *pRes){
  Result *pShared = mmap(0, sizeof(Result), PROT_READ|PROT_WRITE,
                         MAP_SHARED|MAP_ANONYMOUS, -1, 0);
  pid_t pid;
  memset(pRes, 0, sizeof(*pRes));
  if( pShared==MAP_FAILED ){ snprintf(pRes->zErr, sizeof(pRes->zErr), "mmap"); return; }
  memset(pShared, 0, sizeof(*pShared));
  fflush(0);
  pid = fork();
  if( pid==0 ){
    run(pCfg, eEngine, bSkewed, pShared);
    _exit(0);
  }
  if( pid>0 ) waitpid(pid, 0, 0);
  *pRes = *pShared;
  if( pid<0 || (!pRes->bOk && pRes->zErr[0]==0) ){
    snprintf(pRes->zErr, sizeof(pRes->zErr), "the child died");
  }
  munmap(pShared, sizeof(Result));
}

static void usage(void){
  fprintf(stderr, "usage: bench_maint --vlog SO [--lsm SO] [--keys N] [--passes P] "
          "[--value-size B] [--batch R] [--engines vlog,rowid,lsm1] "
          "[--dists uniform,skewed] [--config NAME=VALUE,...] [--dir DIR]\n");
  exit(2);
}

int main(int argc, char **argv){
  Config cfg;
  int i, d;
  char zCwd[4096];
  memset(&cfg, 0, sizeof(cfg));
  cfg.nKey = 200000;
  cfg.nPass = 5;
  cfg.nVal = 1000;
  cfg.nBatch = 1000;
  cfg.zDir = "/tmp/bench_maint";
  cfg.abEngine[E_VLOG] = cfg.abEngine[E_ROWID] = cfg.abEngine[E_LSM1] = 1;
  cfg.bUniform = cfg.bSkewed = 1;
  for(i=1; i<argc; i++){
    const char *z = argv[i];
    if( i+1>=argc ) usage();
    if( strcmp(z, "--vlog")==0 ) cfg.zVlog = argv[++i];
    else if( strcmp(z, "--lsm")==0 ) cfg.zLsm = argv[++i];
    else if( strcmp(z, "--dir")==0 ) cfg.zDir = argv[++i];
    else if( strcmp(z, "--config")==0 ) cfg.zSettings = argv[++i];
    else if( strcmp(z, "--keys")==0 ) cfg.nKey = atoll(argv[++i]);
    else if( strcmp(z, "--passes")==0 ) cfg.nPass = atoll(argv[++i]);
    else if( strcmp(z, "--value-size")==0 ) cfg.nVal = atoi(argv[++i]);
    else if( strcmp(z, "--batch")==0 ) cfg.nBatch = atoi(argv[++i]);
    else if( strcmp(z, "--engines")==0 ){
      const char *zL = argv[++i];
      for(d=0; d<N_ENGINE; d++) cfg.abEngine[d] = strstr(zL, aEngine[d].zName)!=0;
    }else if( strcmp(z, "--dists")==0 ){
      cfg.bUniform = strstr(argv[i+1], "uniform")!=0;
      cfg.bSkewed = strstr(argv[++i], "skewed")!=0;
    }else usage();
  }
  if( cfg.zVlog==0 || cfg.nKey<10 || cfg.nPass<1 || cfg.nVal<1 || cfg.nBatch<1 ) usage();
  if( cfg.zLsm==0 ) cfg.abEngine[E_LSM1] = 0;
  if( getcwd(zCwd, sizeof(zCwd))==0 ) return 1;
  printf("bench_maint: %lld keys of 16 bytes, %d-byte random values, overwritten "
         "%lld times each on average, %d rows per transaction (WAL, synchronous=NORMAL)\n",
         (long long)cfg.nKey, cfg.nVal, (long long)cfg.nPass, cfg.nBatch);
  printf("vlog: automatic maintenance with %s\n", cfg.zSettings ? cfg.zSettings : "the default settings");
  for(d=0; d<2; d++){
    Result aRes[N_ENGINE];
    double rRowid = 0.0;
    if( (d==0 && !cfg.bUniform) || (d==1 && !cfg.bSkewed) ) continue;
    printf("\n== %s overwrites%s ==\n", d ? "skewed" : "uniform",
           d ? " (90% of the writes to 10% of the keys)" : "");
    printf("%-6s %10s %10s %8s %8s %10s %9s %10s %12s\n", "engine", "overwrite s",
           "rows/s", "x rowid", "w-amp", "peak/live", "end/live", "full/live",
           "max/med commit");
    for(i=0; i<N_ENGINE; i++){
      if( !cfg.abEngine[i] ) continue;
      runInChild(&cfg, i, d, &aRes[i]);
      if( chdir(zCwd)!=0 ) return 1;
      if( i==E_ROWID && aRes[i].bOk ) rRowid = aRes[i].rOver;
    }
    for(i=0; i<N_ENGINE; i++){
      Result *r = &aRes[i];
      char zWa[16], zFull[16], zX[16];
      if( !cfg.abEngine[i] ) continue;
      if( !r->bOk ){
        printf("%-6s failed: %s\n", aEngine[i].zName, r->zErr);
        continue;
      }
      snprintf(zWa, sizeof(zWa), r->rWa<0 ? "n/a" : "%.2f", r->rWa);
      snprintf(zFull, sizeof(zFull), r->rFull<0 ? "n/a" : "%.2f", r->rFull/r->rLive);
      snprintf(zX, sizeof(zX), rRowid>0 ? "%.2f" : "n/a", rRowid>0 ? rRowid/r->rOver : 0.0);
      printf("%-6s %10.2f %10.0f %8s %8s %10.2f %9.2f %10s %12.1f\n", aEngine[i].zName,
             r->rOver, (double)(cfg.nKey*cfg.nPass)/r->rOver, zX, zWa,
             r->rPeak/r->rLive, r->rEnd/r->rLive, zFull,
             r->rMedCommit>0 ? r->rMaxCommit/r->rMedCommit : 0.0);
    }
  }
  printf("\ngoals (issue 14, vlog at the defaults): peak <= 1.5x live, end <= 1.3x, "
         "after full <= 1.1x; w-amp <= 2.5 uniform, <= 1.8 skewed; overwrites >= 3x "
         "rowid; slowest commit <= 5x the median\n");
  return 0;
}
