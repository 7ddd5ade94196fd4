/*
** vlogtool: vlog's command-line tool.
**
**   vlogtool --version     versions of vlog and the libraries it runs with
**   vlogtool --help        usage
**
** Commands that work on a store (info, verify, ...) arrive with the engine.
** Exit status: 0 success, 1 the command failed, 2 bad usage.
*/
#include <stdio.h>
#include <string.h>
#include "sqlite3.h"
#include "vlog.h"
#include "util.h"

static void usage(FILE *out){
  fprintf(out,
    "Usage: vlogtool [--version | --help]\n"
    "\n"
    "  --version   print the versions of vlog, zstd, xxhash and SQLite\n"
    "  --help      print this text\n");
}

static void printVersion(void){
  char zXxh[24];
  printf("vlogtool %s (vlog %s, zstd %s, xxhash %s, sqlite %s)\n",
         VLOG_VERSION, VLOG_VERSION, vlogZstdVersion(),
         vlogXxhashVersion(zXxh, sizeof(zXxh)), sqlite3_libversion());
}

int main(int argc, char **argv){
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
  fprintf(stderr, "vlogtool: unknown command '%s'\n\n", argv[1]);
  usage(stderr);
  return 2;
}
