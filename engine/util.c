/*
** util.c: small services every engine module uses.  See util.h.
*/
#include <stdio.h>
#include <zstd.h>
#include <xxhash.h>

#include "util.h"

const char *vlogZstdVersion(void){
  return ZSTD_versionString();
}

char *vlogXxhashVersion(char *zBuf, int nBuf){
  unsigned v = XXH_versionNumber();          /* X*10000 + Y*100 + Z */
  snprintf(zBuf, nBuf, "%u.%u.%u", v/10000, (v/100)%100, v%100);
  return zBuf;
}
