/*
** util.c: small services every engine module uses.  See util.h.
*/
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
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

u64 vlogChecksum(const void *p, size_t n, u64 seed){
  assert( p!=0 || n==0 );
  return (u64)XXH3_64bits_withSeed(p, n, (XXH64_hash_t)seed);
}

void vlogPut16(u8 *a, u16 v){ a[0] = (u8)v; a[1] = (u8)(v>>8); }
void vlogPut32(u8 *a, u32 v){
  a[0] = (u8)v; a[1] = (u8)(v>>8); a[2] = (u8)(v>>16); a[3] = (u8)(v>>24);
}
void vlogPut64(u8 *a, u64 v){ vlogPut32(a, (u32)v); vlogPut32(a+4, (u32)(v>>32)); }
u16 vlogGet16(const u8 *a){ return (u16)(a[0] | (a[1]<<8)); }
u32 vlogGet32(const u8 *a){
  return (u32)a[0] | ((u32)a[1]<<8) | ((u32)a[2]<<16) | ((u32)a[3]<<24);
}
u64 vlogGet64(const u8 *a){ return (u64)vlogGet32(a) | ((u64)vlogGet32(a+4)<<32); }

int vlogPutVarint(u8 *a, u64 v){
  int i = 0;
  while( v>=0x80 ){
    a[i++] = (u8)(v | 0x80);
    v >>= 7;
  }
  a[i++] = (u8)v;
  assert( i>=1 && i<=10 );
  return i;
}

int vlogGetVarint(const u8 *a, const u8 *pEnd, u64 *pv){
  u64 v = 0;
  int i;
  assert( a<=pEnd || a==0 );
  for(i=0; i<10 && a+i<pEnd; i++){
    v |= (u64)(a[i] & 0x7f) << (7*i);
    if( (a[i] & 0x80)==0 ){
      *pv = v;
      return i+1;
    }
  }
  *pv = 0;
  return 0;
}

int vlogVarintLen(u64 v){
  int n = 1;
  while( v>=0x80 ){ v >>= 7; n++; }
  return n;
}

int vlogBufReserve(VlogEnv *pEnv, VlogBuf *p, int nExtra){
  assert( nExtra>=0 );
  assert( p->n>=0 && p->n<=p->nAlloc && (p->a!=0 || p->nAlloc==0) );
  /* in 64 bits: n + nExtra past 2^31 must not wrap to a small number */
  if( (i64)p->n + nExtra > p->nAlloc ){
    i64 nNew = p->nAlloc ? (i64)p->nAlloc*2 : 256;
    u8 *aNew;
    if( (i64)p->n + nExtra > 0x7fffffff ) return VLOG_TOOBIG;
    while( nNew < (i64)p->n + nExtra ) nNew *= 2;
    if( nNew>0x7fffffff ) nNew = 0x7fffffff;
    aNew = (u8*)vlogRealloc(pEnv, p->a, (size_t)nNew);
    if( aNew==0 ) return VLOG_NOMEM;
    p->a = aNew;
    p->nAlloc = (int)nNew;
  }
  assert( (i64)p->n + nExtra <= (i64)p->nAlloc );
  return VLOG_OK;
}

int vlogBufAppend(VlogEnv *pEnv, VlogBuf *p, const void *pData, int nData){
  int rc;
  assert( nData>=0 && (pData!=0 || nData==0) );
  rc = vlogBufReserve(pEnv, p, nData);
  if( rc==VLOG_OK && nData>0 ){
    memcpy(&p->a[p->n], pData, nData);
    p->n += nData;
  }
  assert( p->n<=p->nAlloc );
  return rc;
}

int vlogBufAppendVarint(VlogEnv *pEnv, VlogBuf *p, u64 v){
  int rc = vlogBufReserve(pEnv, p, 10);
  if( rc==VLOG_OK ) p->n += vlogPutVarint(&p->a[p->n], v);
  return rc;
}

int vlogBufVprintf(VlogEnv *pEnv, VlogBuf *p, const char *zFmt, va_list ap){
  va_list ap2;
  int n, rc;
  va_copy(ap2, ap);
  n = vsnprintf(0, 0, zFmt, ap2);
  va_end(ap2);
  if( n<0 ) return VLOG_ERROR;
  rc = vlogBufReserve(pEnv, p, n+1);
  if( rc==VLOG_OK ){
    vsnprintf((char*)&p->a[p->n], n+1, zFmt, ap);
    p->n += n;
    assert( p->n<p->nAlloc && p->a[p->n]==0 );   /* text ends in a zero */
  }
  return rc;
}

int vlogBufPrintf(VlogEnv *pEnv, VlogBuf *p, const char *zFmt, ...){
  va_list ap;
  int rc;
  va_start(ap, zFmt);
  rc = vlogBufVprintf(pEnv, p, zFmt, ap);
  va_end(ap);
  return rc;
}

void vlogBufFree(VlogEnv *pEnv, VlogBuf *p){
  vlogFree(pEnv, p->a);
  memset(p, 0, sizeof(*p));
}

void *vlogMallocZero(VlogEnv *pEnv, size_t n){
  void *p = vlogMalloc(pEnv, n);
  if( p ) memset(p, 0, n);
  return p;
}

char *vlogStrdup(VlogEnv *pEnv, const char *z){
  size_t n = strlen(z) + 1;
  char *zNew = (char*)vlogMalloc(pEnv, n);
  if( zNew ) memcpy(zNew, z, n);
  return zNew;
}

char *vlogMprintf(VlogEnv *pEnv, const char *zFmt, ...){
  VlogBuf b = {0, 0, 0};
  va_list ap;
  int rc;
  va_start(ap, zFmt);
  rc = vlogBufVprintf(pEnv, &b, zFmt, ap);
  va_end(ap);
  if( rc!=VLOG_OK ){
    vlogBufFree(pEnv, &b);
    return 0;
  }
  return (char*)b.a;
}

#ifndef NDEBUG
static __thread const char *zCorruptFile = 0;
static __thread int iCorruptLine = 0;
#endif

int vlogCorruptError(const char *zFile, int iLine){
#ifndef NDEBUG
  zCorruptFile = zFile;
  iCorruptLine = iLine;
#else
  (void)zFile;
  (void)iLine;
#endif
  return VLOG_CORRUPT;
}

const char *vlogCorruptWhere(int *piLine){
#ifndef NDEBUG
  *piLine = iCorruptLine;
  return zCorruptFile;
#else
  *piLine = 0;
  return 0;
#endif
}
