/*
** record.c: the one codec of log records.
**
** DESIGN NOTE
**
** The engine keeps three logs; this file encodes and decodes the records
** of the second and third:
**   - the value log (vlog.c): segments of value records, its own format;
**   - the transaction log (txn.c): the open write transaction's redo
**     records (what it changed) and undo records (what was there before);
**   - the journal (journal.c): one entry per commit, whose payload is the
**     commit's redo records, then its write-buffer records (REC_WB) and the
**     value-log extents it wrote (REC_VEXT).
** A record is a type byte, then varints (format 3; format 2 had fixed u32
** fields, 9 bytes more per change):
**
**   REC_PUT     1, tree, key length, key, value length, value
**   REC_DELETE  2, tree, key length, key
**   REC_WB      3, tree, key (the u64 the write buffer keys by), u8 1 for a
**               delete, value length (at most WB_MAX_VAL), value
**   REC_VEXT    4, segment, generation, offset, length
**   REC_TREE    5, tree, operation (TOP_*), then for TOP_POLICY: flags
**               (TREEF_*, with TREEF_ZINLINE for the policy's
**               bCompressInline), inline max, zstd level; for TOP_UNDO (undo log
**               only, never journaled): the slot of the transaction's
**               TreeUndo array; nothing more for TOP_CLEAR and TOP_DROP
**
** vlogRecEncode() writes one; vlogRecDecode() reads one and checks every
** field against the buffer's end (and tree ids and the write buffer's
** value size against their limits), so that a journal entry whose
** checksum holds but whose lengths lie is VLOG_CORRUPT, never a read out
** of bounds.  What a whole record may name (which trees, keys of what
** size, which buckets) replay checks next (journal.c, applyChange;
** alloc.c, vlogAllocReplay), with a message that says what is wrong.  Every reader
** of these records (replay, undo, a savepoint's redo, commit accounting,
** the check of extents at replay, vlogtool dump) goes through it.
*/
#include "storeInt.h"

int vlogRecEncode(VlogEnv *pEnv, VlogBuf *pBuf, const LogRec *r){
  u8 op = (u8)r->eOp;
  int rc = vlogBufAppend(pEnv, pBuf, &op, 1);
  switch( r->eOp ){
    case REC_PUT:
    case REC_DELETE:
      assert( r->nKey>=0 && r->nKey<=VLOG_MAX_KEY && r->nVal>=0 );
      if( rc==VLOG_OK ) rc = vlogBufAppendVarint(pEnv, pBuf, r->iTree);
      if( rc==VLOG_OK ) rc = vlogBufAppendVarint(pEnv, pBuf, (u64)r->nKey);
      if( rc==VLOG_OK ) rc = vlogBufAppend(pEnv, pBuf, r->pKey, r->nKey);
      if( r->eOp==REC_PUT ){
        if( rc==VLOG_OK ) rc = vlogBufAppendVarint(pEnv, pBuf, (u64)r->nVal);
        if( rc==VLOG_OK ) rc = vlogBufAppend(pEnv, pBuf, r->pVal, r->nVal);
      }
      break;
    case REC_WB: {
      u8 bDel = (u8)(r->bDelete ? 1 : 0);
      assert( r->nVal>=0 && r->nVal<=WB_MAX_VAL );
      if( rc==VLOG_OK ) rc = vlogBufAppendVarint(pEnv, pBuf, r->iTree);
      if( rc==VLOG_OK ) rc = vlogBufAppendVarint(pEnv, pBuf, r->iKey);
      if( rc==VLOG_OK ) rc = vlogBufAppend(pEnv, pBuf, &bDel, 1);
      if( rc==VLOG_OK ) rc = vlogBufAppendVarint(pEnv, pBuf, (u64)r->nVal);
      if( rc==VLOG_OK ) rc = vlogBufAppend(pEnv, pBuf, r->pVal, r->nVal);
      break;
    }
    case REC_TREE:
      if( rc==VLOG_OK ) rc = vlogBufAppendVarint(pEnv, pBuf, r->iTree);
      if( rc==VLOG_OK ) rc = vlogBufAppendVarint(pEnv, pBuf, (u64)r->eTreeOp);
      if( r->eTreeOp==TOP_POLICY ){
        assert( r->pol.nInlineMax>=0 && r->pol.iZstdLevel>=0 );
        if( rc==VLOG_OK ){
          rc = vlogBufAppendVarint(pEnv, pBuf,
              r->mTreeFlags | (r->pol.bCompressInline ? TREEF_ZINLINE : 0));
        }
        if( rc==VLOG_OK ) rc = vlogBufAppendVarint(pEnv, pBuf, (u64)r->pol.nInlineMax);
        if( rc==VLOG_OK ) rc = vlogBufAppendVarint(pEnv, pBuf, (u64)r->pol.iZstdLevel);
      }else if( r->eTreeOp==TOP_UNDO ){
        if( rc==VLOG_OK ) rc = vlogBufAppendVarint(pEnv, pBuf, r->iSlot);
      }
      break;
    default:
      assert( r->eOp==REC_VEXT );
      if( rc==VLOG_OK ) rc = vlogBufAppendVarint(pEnv, pBuf, r->iSeg);
      if( rc==VLOG_OK ) rc = vlogBufAppendVarint(pEnv, pBuf, r->iGen);
      if( rc==VLOG_OK ) rc = vlogBufAppendVarint(pEnv, pBuf, r->iOff);
      if( rc==VLOG_OK ) rc = vlogBufAppendVarint(pEnv, pBuf, r->nLen);
      break;
  }
  return rc;
}

/* A varint at a[*pi] (before a[n]) no larger than mx into *pv; 0 if it
** is not there or too large. */
static int getNum(const u8 *a, int n, int *pi, u64 mx, u64 *pv){
  int k = vlogGetVarint(&a[*pi], &a[n], pv);
  if( k==0 || *pv>mx ) return 0;
  *pi += k;
  return 1;
}

/* Bytes a[*pi .. *pi+nLen) must be there: their start into *pp. */
static int getBytes(const u8 *a, int n, int *pi, u64 nLen, const u8 **pp){
  if( nLen>(u64)(n - *pi) ) return 0;
  *pp = &a[*pi];
  *pi += (int)nLen;
  return 1;
}

int vlogRecDecode(const u8 *a, int n, LogRec *r, int *pnUsed){
  int i = 1;
  u64 v = 0, w = 0;
  int ok = 0;
  memset(r, 0, sizeof(*r));
  if( n<1 ) return VLOG_CORRUPT;
  r->eOp = a[0];
  switch( a[0] ){
    case REC_PUT:
    case REC_DELETE:
      ok = getNum(a, n, &i, VLOG_MAX_TREE, &v)
        && getNum(a, n, &i, 0x7fffffff, &w)
        && getBytes(a, n, &i, w, &r->pKey);
      r->iTree = (u32)v;
      r->nKey = (int)w;
      if( ok && a[0]==REC_PUT ){
        ok = getNum(a, n, &i, 0x7fffffff, &w) && getBytes(a, n, &i, w, &r->pVal);
        r->nVal = (int)w;
      }
      break;
    case REC_WB:
      ok = getNum(a, n, &i, VLOG_MAX_TREE, &v) && getNum(a, n, &i, ~(u64)0, &r->iKey)
        && i<n && a[i]<=1;
      r->iTree = (u32)v;
      if( ok ){
        r->bDelete = a[i++];
        ok = getNum(a, n, &i, WB_MAX_VAL, &w) && getBytes(a, n, &i, w, &r->pVal);
        r->nVal = (int)w;
      }
      break;
    case REC_VEXT:
      ok = getNum(a, n, &i, ~(u64)0, &r->iSeg) && getNum(a, n, &i, ~(u64)0, &r->iGen)
        && getNum(a, n, &i, 0xffffffff, &v) && getNum(a, n, &i, 0xffffffff, &w);
      r->iOff = (u32)v;
      r->nLen = (u32)w;
      break;
    case REC_TREE:
      ok = getNum(a, n, &i, VLOG_MAX_TREE, &v) && getNum(a, n, &i, TOP_UNDO, &w)
        && w>=TOP_POLICY;
      r->iTree = (u32)v;
      r->eTreeOp = (int)w;
      if( ok && w==TOP_POLICY ){
        u64 x = 0;                 /* read below even when a field is not */
        ok = getNum(a, n, &i, 0xffffffff, &v) && getNum(a, n, &i, 0x7fffffff, &w)
          && getNum(a, n, &i, 0x7fffffff, &x);
        r->mTreeFlags = (u32)v & ~(u32)TREEF_ZINLINE;
        r->pol.nInlineMax = (int)w;
        r->pol.iZstdLevel = (int)x;
        r->pol.bCompressInline = (v & TREEF_ZINLINE)!=0;
      }else if( ok && w==TOP_UNDO ){
        ok = getNum(a, n, &i, 0x7fffffff, &v);
        r->iSlot = (u32)v;
      }
      break;
  }
  if( !ok ) return VLOG_CORRUPT;
  *pnUsed = i;
  return VLOG_OK;
}
