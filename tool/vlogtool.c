/*
** vlogtool: vlog's command-line tool.
**
**   vlogtool info FILE      superblock, geometry, buckets by state, trees,
**                           journal
**   vlogtool verify FILE    full consistency check; exit 0 when consistent
**   vlogtool --version      versions of vlog and the libraries it runs with
**   vlogtool --help         usage
**
** A store is opened read-only through the engine's POSIX I/O layer; the
** journal is replayed in memory, nothing is written, and no -shm is
** created or mapped (it reads under a SHARED lock, waiting up to 5 s for
** a commit), so read-only media do.  Whatever the file
** (not a store, empty, truncated, damaged), the tool says what is wrong
** and exits non-zero; it never crashes.
**
** Exit status: 0 success, 1 the command failed (unreadable or inconsistent
** store), 2 bad usage.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sqlite3.h"
#include "vlog.h"
#include "engine.h"
#include "util.h"

static void usage(FILE *out){
  fprintf(out,
    "Usage: vlogtool COMMAND [ARGS]\n"
    "\n"
    "Commands:\n"
    "  info FILE     superblock, geometry, buckets by state, trees, journal\n"
    "  verify FILE   full consistency check (exit 0 when consistent)\n"
    "  --version     print the versions of vlog, zstd, xxhash and SQLite\n"
    "  --help        print this text\n");
}

static void printVersion(void){
  char zXxh[24];
  printf("vlogtool %s (vlog %s, zstd %s, xxhash %s, sqlite %s)\n",
         VLOG_VERSION, VLOG_VERSION, vlogZstdVersion(),
         vlogXxhashVersion(zXxh, sizeof(zXxh)), sqlite3_libversion());
}

/* Open zFile read-only; on failure print why and return 0. */
static VlogStore *openStore(const char *zFile){
  VlogConfig cfg;
  VlogStore *p = 0;
  int rc;
  vlogConfigDefault(&cfg);
  cfg.bReadOnly = 1;
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

static int cmdInfo(const char *zFile){ return report(zFile, vlogStoreInfo); }
static int cmdVerify(const char *zFile){ return report(zFile, vlogVerify); }

int main(int argc, char **argv){
  static const struct {
    const char *zName;
    int (*xCmd)(const char*);
  } aCmd[] = {
    { "info",   cmdInfo },
    { "verify", cmdVerify },
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
