/*
** vlogtool: vlog's command-line tool.
**
**   vlogtool info FILE      superblock, geometry, buckets by state, trees,
**                           journal
**   vlogtool verify FILE    full consistency check; exit 0 when consistent
**   vlogtool dump FILE      every structure, a line each (engine/print.c):
**                           superblocks, buckets, tree roots, journal
**   vlogtool export FILE    SQL text that recreates the store's tables and
**                           their rows, on standard output
**   vlogtool export-db FILE OUT  the database a store of the vlog VFS holds,
**                           written to the new plain SQLite file OUT
**   vlogtool segments FILE  the value-log segments' stale ratios as a text
**                           histogram, with the bytes a rewrite reclaims
**   vlogtool maint-once [--mode M] [--json] FILE
**                           one maintenance pass (engine/maint.c) on the
**                           store, with the settings stored in it; its
**                           report (JSON with --json, else indented)
**   vlogtool --version      versions of vlog and the libraries it runs with
**   vlogtool --help         usage
**
** A store is opened read-only through the engine's POSIX I/O layer (but
** by maint-once, which writes: run it on a copy for forensics); the
** journal is replayed in memory, nothing is written, and no -shm is
** created or mapped (it reads under a SHARED lock, waiting up to 5 s for
** a commit), so read-only media do.  Whatever the file
** (not a store, empty, truncated, damaged), the tool says what is wrong
** and exits non-zero; it never crashes.
**
** Exit status: 0 success, 1 the command failed (unreadable or inconsistent
** store), 2 bad usage.
**
** EXPORT
**
** The table names and key types come from the store's catalog (tree 16,
** read with the engine).  The rows are read through SQL, as a query
** would, so that the text is right for however the vlog table encodes
** its keys and values: a database of the tool's own (a temporary file,
** deleted before the tool exits) gets one vlog table per catalog entry,
** its schema row written directly (PRAGMA writable_schema), so that no
** xCreate writes the store; that database is then opened read-only, and
** a read-only database opens its stores read-only (ext/vtab.c).  Each
** value is written with SQLite's quote(): integers, reals that read back
** bit-for-bit, text with '' doubled, blobs as X'..', NULL; infinities,
** which quote() writes as Inf, as 1e999 and -1e999 (as the sqlite3
** shell's .dump does).  Each table is read as of its own moment: a
** read-only statement of a vlog table sees the last commit.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "sqlite3.h"
#include "vlog.h"
#include "engine.h"
#include "util.h"
#include "vlogInt.h"

static void usage(FILE *out){
  fprintf(out,
    "Usage: vlogtool COMMAND [ARGS]\n"
    "\n"
    "Commands:\n"
    "  info FILE     superblock, geometry, buckets by state, trees, journal\n"
    "  verify FILE   full consistency check (exit 0 when consistent)\n"
    "  dump FILE     every structure, a line each: superblocks, buckets (with\n"
    "                segment figures), tree roots, journal entries\n"
    "  export FILE   SQL text that recreates the tables and rows of the store\n"
    "  export-db FILE OUT  the database a store of the vlog VFS holds, as the\n"
    "                new plain SQLite file OUT\n"
    "  segments FILE histogram of the value-log segments' stale ratios\n"
    "  maint-once [--mode M] [--json] FILE\n"
    "                one maintenance pass on the store (it writes: run it on a\n"
    "                copy for forensics); M is auto (default), plan, stage,\n"
    "                confirm, rewrite-one, gc or full; prints the pass's report\n"
    "  --version     print the versions of vlog, zstd, xxhash and SQLite\n"
    "  --help        print this text\n");
}

static void printVersion(void){
  char zXxh[24];
  printf("vlogtool %s (vlog %s, zstd %s, xxhash %s, sqlite %s)\n",
         VLOG_VERSION, VLOG_VERSION, vlogZstdVersion(),
         vlogXxhashVersion(zXxh, sizeof(zXxh)), sqlite3_libversion());
}

/* Open zFile read-only (bWrite: read-write); on failure print why and
** return 0. */
static VlogStore *openStoreRw(const char *zFile, int bWrite){
  VlogConfig cfg;
  VlogStore *p = 0;
  int rc;
  vlogConfigDefault(&cfg);
  cfg.bReadOnly = !bWrite;
  cfg.bCreate = 0;
  cfg.nBusyTimeout = 5000;     /* ms: a SHARED lock may wait for a commit */
  rc = vlogStoreOpen(vlogEnvPosix(), zFile, &cfg, &p);
  if( rc ){
    fprintf(stderr, "vlogtool: %s: %s (%s)\n", zFile, vlogStoreErrMsg(p),
            vlogErrName(rc));
    vlogStoreClose(p);
    return 0;
  }
  return p;
}
static VlogStore *openStore(const char *zFile){ return openStoreRw(zFile, 0); }

/* Open zFile, run xReport on it, print the text it makes (vlogFree()d)
** or say why it failed.  The exit status: 0 or 1. */
static int report(const char *zFile, int (*xReport)(VlogStore*, char**)){
  VlogStore *p = openStore(zFile);
  char *z = 0;
  int rc;
  if( p==0 ) return 1;
  rc = xReport(p, &z);
  if( rc ){
    fprintf(stderr, "vlogtool: %s: %s (%s)\n", zFile, vlogStoreErrMsg(p),
            vlogErrName(rc));
  }else{
    fputs(z, stdout);
  }
  vlogFree(vlogStoreEnv(p), z);
  vlogStoreClose(p);
  return rc ? 1 : 0;
}

/* info: the engine's text, then maintenance's settings, queue and ledger */
static int maintInfo(VlogStore *p, char **pz){
  VlogEnv *pEnv = vlogStoreEnv(p);
  VlogBuf b = {0, 0, 0};
  VlogMaintEntry *aE = 0;
  char *zInfo = 0;
  int rc = vlogStoreInfo(p, &zInfo);
  int i, k, nE = 0, bPending = 0;
  if( rc==VLOG_OK ) rc = vlogBufPrintf(pEnv, &b, "%smaintenance settings:", zInfo);
  for(i=0; rc==VLOG_OK && vlogMaintSettingName(i); i++){
    double r = 0.0;
    rc = vlogMaintSetting(p, vlogMaintSettingName(i), 0, &r);
    if( rc==VLOG_OK ) rc = vlogBufPrintf(pEnv, &b, " %s=%.10g", vlogMaintSettingName(i), r);
  }
  for(k=0; rc==VLOG_OK && k<2; k++){
    rc = vlogMaintQueue(p, k, &aE, &nE, &bPending);
    if( rc==VLOG_OK ){
      rc = vlogBufPrintf(pEnv, &b, "\nrewrite %s: %d segment%s%s", k ? "ledger" : "queue",
                         nE, nE==1 ? "" : "s", k && bPending ? " (stage pending)" : "");
    }
    for(i=0; rc==VLOG_OK && i<nE; i++){
      rc = vlogBufPrintf(pEnv, &b, "%s%llu (stale %.3f, %llu live bytes)", i ? ", " : ": ",
          (unsigned long long)aE[i].iSeg,
          aE[i].nTotal ? (double)(aE[i].nTotal-aE[i].nLive)/(double)aE[i].nTotal : 0.0,
          (unsigned long long)aE[i].nLive);
    }
    vlogFree(pEnv, aE);
    aE = 0;
  }
  if( rc==VLOG_OK ) rc = vlogBufPrintf(pEnv, &b, "\n");
  if( rc==VLOG_OK ){
    VlogVfsFileInfo *aF = 0;
    int nF = 0;
    rc = vlogVfsFiles(p, &aF, &nF);
    for(i=0; rc==VLOG_OK && i<nF; i++){
      rc = vlogBufPrintf(pEnv, &b, "vlog VFS file %s: %lld bytes, %llu pages of %d "
          "bytes stored in %llu bytes\n", aF[i].zName, (long long)aF[i].nLogical,
          (unsigned long long)aF[i].nPage, aF[i].szPage,
          (unsigned long long)aF[i].nStored);
      if( rc==VLOG_OK && aF[i].bOverlay ){
        char zBase[4096];
        rc = vlogVfsBasePath(p, zBase, sizeof(zBase), 0);
        if( rc==VLOG_OK && aF[i].nBase>0 ){
          rc = vlogBufPrintf(pEnv, &b, "  an overlay of %s: %lld bytes still "
              "read from it where the overlay has no page\n", zBase,
              (long long)aF[i].nBase);
        }else if( rc==VLOG_OK ){
          rc = vlogBufPrintf(pEnv, &b, "  an overlay made from %s, materialized: "
              "it stands alone\n", zBase);
        }
      }
    }
    vlogFree(pEnv, aF);
  }
  vlogFree(pEnv, zInfo);
  if( rc ){
    vlogBufFree(pEnv, &b);
    return rc;
  }
  *pz = (char*)b.a;
  return VLOG_OK;
}

/* segments: a histogram of stale ratios, 10 bins */
static int segHistogram(VlogStore *p, char **pz){
  VlogEnv *pEnv = vlogStoreEnv(p);
  VlogSegmentInfo *a = 0;
  VlogBuf b = {0, 0, 0};
  int n = 0, i, rc, nMax = 1;
  int anSeg[10];
  unsigned long long anStale[10], anLive[10], nStale = 0, nLive = 0;
  unsigned long long nToCompress = 0;
  int nOpen = 0, nZombie = 0;
  memset(anSeg, 0, sizeof(anSeg));
  memset(anStale, 0, sizeof(anStale));
  memset(anLive, 0, sizeof(anLive));
  rc = vlogSegments(p, &a, &n);
  for(i=0; rc==VLOG_OK && i<n; i++){
    unsigned long long st = a[i].nTotal - a[i].nLive;
    int iBin;
    if( strcmp(a[i].zState, "zombie")==0 ){ nZombie++; continue; }
    if( strcmp(a[i].zState, "open")==0 ) nOpen++;
    iBin = a[i].nTotal ? (int)(10.0*(double)st/(double)a[i].nTotal) : 0;
    if( iBin>9 ) iBin = 9;
    anSeg[iBin]++;
    anStale[iBin] += st;
    anLive[iBin] += a[i].nLive;
    nStale += st;
    nLive += a[i].nLive;
    nToCompress += a[i].nToCompress;
  }
  for(i=0; i<10; i++) if( anSeg[i]>nMax ) nMax = anSeg[i];
  if( rc==VLOG_OK ){
    rc = vlogBufPrintf(pEnv, &b, "stale ratio   segments  live bytes  stale bytes\n");
  }
  for(i=0; rc==VLOG_OK && i<10; i++){
    int nBar = (anSeg[i]*40 + nMax-1)/nMax;
    rc = vlogBufPrintf(pEnv, &b, "%3d%% - %3d%%  %8d  %10llu  %11llu  %.*s\n", i*10,
                       i*10+10, anSeg[i], anLive[i], anStale[i], nBar,
                       "########################################");
  }
  if( rc==VLOG_OK ){
    rc = vlogBufPrintf(pEnv, &b, "%d segments (%d open, %d zombies waiting to be freed); "
        "%llu live bytes, %llu stale bytes (%.1f%%)\n", n, nOpen, nZombie, nLive, nStale,
        nLive+nStale ? 100.0*(double)nStale/(double)(nLive+nStale) : 0.0);
  }
  if( rc==VLOG_OK && nToCompress ){
    rc = vlogBufPrintf(pEnv, &b, "%llu bytes written raw for background compression, "
        "still to compress (vlog_maintain full)\n", nToCompress);
  }
  vlogFree(pEnv, a);
  if( rc ){
    vlogBufFree(pEnv, &b);
    return rc;
  }
  *pz = (char*)b.a;
  return VLOG_OK;
}

static int cmdInfo(const char *zFile){ return report(zFile, maintInfo); }
static int cmdSegments(const char *zFile){ return report(zFile, segHistogram); }
static int cmdVerify(const char *zFile){ return report(zFile, vlogVerify); }
static int cmdDump(const char *zFile){ return report(zFile, vlogStoreDump); }

/* The key= option of catalog key type eKey, or 0 for one not known. */
static const char *keyTypeName(int eKey){
  switch( eKey ){
    case VLOG_KEY_INTEGER: return "integer";
    case VLOG_KEY_TEXT:    return "text";
    case VLOG_KEY_BLOB:    return "blob";
  }
  return 0;
}

/* The CREATE VIRTUAL TABLE statement of catalog entry p in store zFile
** (sqlite3_mprintf(): the caller frees it). */
static char *createSql(const VlogCatalogEntry *p, const char *zFile){
  return sqlite3_mprintf("CREATE VIRTUAL TABLE \"%w\" USING vlog(file=%Q, key=%s)",
                         p->zName, zFile, keyTypeName(p->eKey));
}

/*
** Write a temporary database zDb whose schema has one vlog table per
** entry of a[] (in store zFull), without creating them in the store.
*/
static int exportSchema(const char *zDb, const char *zFull,
                        const VlogCatalogEntry *a, int n){
  sqlite3 *db = 0;
  sqlite3_stmt *pStmt = 0;
  int rc, i;
  rc = sqlite3_open_v2(zDb, &db, SQLITE_OPEN_READWRITE, 0);
  if( rc==SQLITE_OK ){
    rc = sqlite3_exec(db, "PRAGMA writable_schema=ON; BEGIN", 0, 0, 0);
  }
  if( rc==SQLITE_OK ){
    rc = sqlite3_prepare_v2(db,
        "INSERT INTO sqlite_schema(type, name, tbl_name, rootpage, sql) "
        "VALUES('table', ?1, ?1, 0, ?2)", -1, &pStmt, 0);
  }
  for(i=0; rc==SQLITE_OK && i<n; i++){
    char *zSql = createSql(&a[i], zFull);
    if( zSql==0 ) rc = SQLITE_NOMEM;
    sqlite3_bind_text(pStmt, 1, a[i].zName, -1, SQLITE_STATIC);
    sqlite3_bind_text(pStmt, 2, zSql, -1, sqlite3_free);
    if( rc==SQLITE_OK && sqlite3_step(pStmt)!=SQLITE_DONE ) rc = SQLITE_ERROR;
    if( sqlite3_reset(pStmt)!=SQLITE_OK ) rc = SQLITE_ERROR;
  }
  sqlite3_finalize(pStmt);
  if( rc==SQLITE_OK ) rc = sqlite3_exec(db, "COMMIT", 0, 0, 0);
  if( rc ) fprintf(stderr, "vlogtool: %s: %s\n", zDb, sqlite3_errmsg(db));
  sqlite3_close(db);
  return rc ? 1 : 0;
}

/* A value as an SQL literal: quote(), but infinities as 1e999 (quote()
** writes Inf, which reads back as a name). */
#define QUOTE_EXPR(c) "CASE WHEN typeof(" c ")='real' AND abs(" c ")=9e999" \
  " THEN iif(" c ">0, '1e999', '-1e999') ELSE quote(" c ") END"

/* Print the CREATE and INSERT statements of table p (of db, in store
** zFile); 0 on success. */
static int exportTable(sqlite3 *db, const char *zFile, const VlogCatalogEntry *p){
  char *zSql = sqlite3_mprintf("SELECT " QUOTE_EXPR("key") ", "
                               QUOTE_EXPR("value") " FROM \"%w\"", p->zName);
  char *zCreate = createSql(p, zFile);
  char *zInsert = sqlite3_mprintf("INSERT INTO \"%w\"(key, value) VALUES(", p->zName);
  sqlite3_stmt *pStmt = 0;
  int rc = 1;
  if( zSql && zCreate && zInsert
   && sqlite3_prepare_v2(db, zSql, -1, &pStmt, 0)==SQLITE_OK ){
    printf("%s;\n", zCreate);
    while( sqlite3_step(pStmt)==SQLITE_ROW ){
      printf("%s%s,%s);\n", zInsert, (const char*)sqlite3_column_text(pStmt, 0),
             (const char*)sqlite3_column_text(pStmt, 1));
    }
    rc = sqlite3_finalize(pStmt)==SQLITE_OK ? 0 : 1;
    pStmt = 0;
  }
  if( rc ) fprintf(stderr, "vlogtool: table %s: %s\n", p->zName, sqlite3_errmsg(db));
  sqlite3_free(zSql);
  sqlite3_free(zCreate);
  sqlite3_free(zInsert);
  return rc;
}

static int cmdExport(const char *zFile){
  VlogStore *pStore = openStore(zFile);
  VlogCatalogEntry *a = 0;
  int n = 0, i, rc;
  char zDb[] = "/tmp/vlogtool-export-XXXXXX";
  char *zFull = 0;
  sqlite3 *db = 0;
  int fd;
  if( pStore==0 ) return 1;
  rc = vlogCatalogList(pStore, &a, &n);
  if( rc ){
    fprintf(stderr, "vlogtool: %s: cannot read the catalog: %s (%s)\n", zFile,
            vlogStoreErrMsg(pStore), vlogErrName(rc));
  }
  vlogStoreClose(pStore);
  if( rc ) return 1;
  for(i=0; i<n; i++){
    if( a[i].eKey==VLOG_KEY_BLOB_UNTYPED ){
      fprintf(stderr, "vlogtool: %s: table %s was made by vlog 0.1 (blob keys "
              "that did not keep their type), which this vlogtool cannot "
              "read\n", zFile, a[i].zName);
      vlogCatalogFree(a, n);
      return 1;
    }
    if( keyTypeName(a[i].eKey)==0 ){
      fprintf(stderr, "vlogtool: %s: table %s has key type %d, which this "
              "vlogtool does not know\n", zFile, a[i].zName, a[i].eKey);
      vlogCatalogFree(a, n);
      return 1;
    }
  }
  zFull = realpath(zFile, 0);
  fd = mkstemp(zDb);
  if( zFull==0 || fd<0 ){
    fprintf(stderr, "vlogtool: %s: cannot make a temporary database\n", zFile);
    free(zFull);
    vlogCatalogFree(a, n);
    return 1;
  }
  close(fd);
  sqlite3_auto_extension((void(*)(void))sqlite3_vlog_init);
  rc = exportSchema(zDb, zFull, a, n);
  if( rc==0 ){
    rc = sqlite3_open_v2(zDb, &db, SQLITE_OPEN_READONLY, 0) ? 1 : 0;
    if( rc ) fprintf(stderr, "vlogtool: %s: %s\n", zDb, sqlite3_errmsg(db));
  }
  if( rc==0 ){
    printf("-- vlogtool export %s: %d table%s\n", zFile, n, n==1 ? "" : "s");
    printf("BEGIN;\n");
    for(i=0; rc==0 && i<n; i++) rc = exportTable(db, zFile, &a[i]);
    printf(rc ? "ROLLBACK; -- the export failed\n" : "COMMIT;\n");
  }
  sqlite3_close(db);
  unlink(zDb);
  free(zFull);
  vlogCatalogFree(a, n);
  return rc;
}

/* JSON text z, indented two spaces a level (it is the engine's own
** report: no string holds a brace, bracket or comma it would not quote). */
static void printIndented(const char *z){
  int nIndent = 0, bStr = 0;
  for(; *z; z++){
    char c = *z;
    if( bStr ){
      putchar(c);
      if( c=='\\' && z[1] ){ putchar(*++z); }
      else if( c=='"' ) bStr = 0;
      continue;
    }
    switch( c ){
      case '"': bStr = 1; putchar(c); break;
      case '{': case '[':
        if( z[1]==(c=='{' ? '}' : ']') ){ putchar(c); putchar(*++z); break; }
        nIndent++;
        printf("%c\n%*s", c, nIndent*2, "");
        break;
      case '}': case ']':
        nIndent--;
        printf("\n%*s%c", nIndent*2, "", c);
        break;
      case ',': printf(",\n%*s", nIndent*2, ""); break;
      case ':': printf(": "); break;
      default: putchar(c);
    }
  }
  putchar('\n');
}

/* export-db FILE OUT */
static int cmdExportDb(int argc, char **argv){
  VlogStore *p;
  char zErr[256];
  int rc;
  if( argc!=4 ){
    fprintf(stderr, "vlogtool: export-db FILE OUT\n");
    return 2;
  }
  p = openStore(argv[2]);
  if( p==0 ) return 1;
  rc = vlogVfsExport(p, argv[3], zErr, sizeof(zErr));
  if( rc ){
    fprintf(stderr, "vlogtool: %s: %s (%s)\n", argv[2],
            zErr[0] ? zErr : vlogStoreErrMsg(p), vlogErrName(rc));
  }
  vlogStoreClose(p);
  return rc ? 1 : 0;
}

/* maint-once [--mode M] [--json] FILE */
static int cmdMaintOnce(int argc, char **argv){
  const char *zMode = 0, *zFile = 0;
  int bJson = 0, i, rc;
  VlogStore *p;
  char *zRep = 0;
  for(i=2; i<argc; i++){
    if( strcmp(argv[i], "--json")==0 ){
      bJson = 1;
    }else if( strcmp(argv[i], "--mode")==0 && i+1<argc ){
      zMode = argv[++i];
    }else if( argv[i][0]=='-' || zFile ){
      fprintf(stderr, "vlogtool: maint-once [--mode M] [--json] FILE\n");
      return 2;
    }else{
      zFile = argv[i];
    }
  }
  if( zFile==0 ){
    fprintf(stderr, "vlogtool: maint-once [--mode M] [--json] FILE\n");
    return 2;
  }
  p = openStoreRw(zFile, 1);
  if( p==0 ) return 1;
  rc = vlogMaintain(p, zMode, "explicit", &zRep);
  if( rc ){
    fprintf(stderr, "vlogtool: %s: %s (%s)\n", zFile, vlogStoreErrMsg(p), vlogErrName(rc));
  }else if( bJson ){
    printf("%s\n", zRep);
  }else{
    printIndented(zRep);
  }
  vlogFree(vlogStoreEnv(p), zRep);
  if( vlogStoreClose(p) && rc==VLOG_OK ){
    fprintf(stderr, "vlogtool: %s: cannot close the store\n", zFile);
    rc = VLOG_IOERR;
  }
  return rc ? 1 : 0;
}

int main(int argc, char **argv){
  static const struct {
    const char *zName;
    int (*xCmd)(const char*);
  } aCmd[] = {
    { "info",   cmdInfo },
    { "dump",   cmdDump },
    { "verify", cmdVerify },
    { "export", cmdExport },
    { "segments", cmdSegments },
  };
  int i;
  if( argc<2 ){
    usage(stderr);
    return 2;
  }
  if( strcmp(argv[1], "--version")==0 || strcmp(argv[1], "version")==0 ){
    printVersion();
    return 0;
  }
  if( strcmp(argv[1], "--help")==0 || strcmp(argv[1], "-h")==0
   || strcmp(argv[1], "help")==0 ){
    usage(stdout);
    return 0;
  }
  if( strcmp(argv[1], "maint-once")==0 ) return cmdMaintOnce(argc, argv);
  if( strcmp(argv[1], "export-db")==0 ) return cmdExportDb(argc, argv);
  for(i=0; i<(int)(sizeof(aCmd)/sizeof(aCmd[0])); i++){
    if( strcmp(argv[1], aCmd[i].zName)==0 ){
      if( argc!=3 ){
        fprintf(stderr, "vlogtool: %s takes one argument: FILE\n", argv[1]);
        return 2;
      }
      return aCmd[i].xCmd(argv[2]);
    }
  }
  fprintf(stderr, "vlogtool: unknown command '%s'\n\n", argv[1]);
  usage(stderr);
  return 2;
}
