/*
** cursor.c: iterators over one tree: seek (=, >=, <=, >, <), next, prev,
** bounded ranges.
**
** DESIGN NOTE
**
** A cursor holds the path from the root to its leaf (each node pinned, so
** that the cache does not evict it) and a position in the leaf's live
** view (btree.c: the merge of its bsets).  Its key is read in place.  Any
** change to the handle's trees (a write of this handle, a checkpoint, or a
** reload after another handle committed) first asks every cursor to copy
** its current key (vlogCursorsSave()), then bumps the handle's
** modification count; a cursor that sees the count moved re-seeks to its
** copied key before stepping, so it stays correct across commits and
** splits: next returns the smallest key greater than the last one
** returned, prev the largest smaller one.  Plain steps copy nothing.
**
** Bounds: keys outside [lo, hi] (each end open or closed, or absent) are
** never returned; a cursor stepping past a bound becomes invalid.
**
** Outside a transaction, each call runs in a read transaction of its own.
*/
#include "storeInt.h"

struct VlogCursor {
  VlogStore *pStore;
  u32 iTree;
  VlogCursor *pNext;
  Node *apPath[33];
  int aiIdx[33];
  int nPath;                   /* 0: not positioned */
  int iPos;                    /* position in the leaf's view */
  int bValid;
  u64 iModCount;
  int bSaved;                  /* key holds a copy of the current key */
  int rcSave;                  /* vlogCursorsSave() could not copy the key
                               ** (VLOG_NOMEM): the next call returns it */
  VlogBuf key;                 /* the current key, once saved */
  VlogBuf lo, hi;
  int bLo, bHi, bLoOpen, bHiOpen;
};

static void leafEntries(Node *pLeaf, Entry **paE, int *pn){
  /* a leaf of one bset, or one whose merged view is built */
  assert( pLeaf->iLevel==0 && (pLeaf->aView!=0 || pLeaf->nBset==1) );
  if( pLeaf->aView ){
    *paE = pLeaf->aView;
    *pn = pLeaf->nView;
  }else{
    *paE = pLeaf->aBset[0].a;
    *pn = pLeaf->aBset[0].n;
  }
}

static void pathRelease(VlogCursor *pCsr){
  int i;
  assert( pCsr->nPath>=0 && pCsr->nPath<=33 );
  for(i=0; i<pCsr->nPath; i++) vlogNodeUnref(pCsr->pStore, pCsr->apPath[i]);
  pCsr->nPath = 0;
}

/* The entry a positioned cursor is on. */
static Entry *cursorEntry(VlogCursor *pCsr){
  Entry *aE;
  int n;
  assert( pCsr->nPath>0 && pCsr->iModCount==pCsr->pStore->iModCount );
  leafEntries(pCsr->apPath[pCsr->nPath-1], &aE, &n);
  assert( pCsr->iPos>=0 && pCsr->iPos<n );
  return &aE[pCsr->iPos];
}

/*
** The trees are about to change: every positioned cursor copies its key,
** so that it can find its place again.  A cursor that cannot copy (out of
** memory) becomes invalid, and its next call (a step, its key or value)
** says VLOG_NOMEM: a scan never ends early in silence.
*/
void vlogCursorsSave(VlogStore *p){
  VlogCursor *pCsr;
  for(pCsr=p->pCursors; pCsr; pCsr=pCsr->pNext){
    assert( pCsr->pStore==p );
    if( pCsr->bValid && !pCsr->bSaved && pCsr->nPath>0 ){
      Entry *e = cursorEntry(pCsr);
      pCsr->key.n = 0;
      if( vlogBufAppend(p->pEnv, &pCsr->key, e->pKey, (int)e->nKey) ){
        pCsr->bValid = 0;
        pCsr->rcSave = VLOG_NOMEM;
      }else{
        pCsr->bSaved = 1;
      }
    }
  }
}

/* The error vlogCursorsSave() left for the cursor's next call, reported
** once. */
static int saveError(VlogCursor *pCsr){
  int rc = pCsr->rcSave;
  pCsr->rcSave = VLOG_OK;
  return vlogSetError(pCsr->pStore, rc, 0);
}

void vlogCursorsInvalidate(VlogStore *p){
  VlogCursor *pCsr;
  vlogCursorsSave(p);
  for(pCsr=p->pCursors; pCsr; pCsr=pCsr->pNext) pathRelease(pCsr);
}

int vlogCursorOpen(VlogStore *p, uint32_t iTree, VlogCursor **ppCsr){
  VlogCursor *pCsr;
  assert( iTree>0 );
  pCsr = (VlogCursor*)vlogMallocZero(p->pEnv, sizeof(VlogCursor));
  *ppCsr = 0;
  if( pCsr==0 ) return vlogSetError(p, VLOG_NOMEM, 0);
  pCsr->pStore = p;
  pCsr->iTree = iTree;
  pCsr->pNext = p->pCursors;
  p->pCursors = pCsr;
  *ppCsr = pCsr;
  return VLOG_OK;
}

int vlogCursorClose(VlogCursor *pCsr){
  VlogStore *p;
  VlogCursor **pp;
  if( pCsr==0 ) return VLOG_OK;
  p = pCsr->pStore;
  pathRelease(pCsr);
  for(pp=&p->pCursors; *pp; pp=&(*pp)->pNext){
    if( *pp==pCsr ){ *pp = pCsr->pNext; break; }
  }
  assert( *pp==pCsr->pNext );              /* it was on the handle's list */
  vlogBufFree(p->pEnv, &pCsr->key);
  vlogBufFree(p->pEnv, &pCsr->lo);
  vlogBufFree(p->pEnv, &pCsr->hi);
  vlogFree(p->pEnv, pCsr);
  return VLOG_OK;
}

int vlogCursorBounds(VlogCursor *pCsr, const void *pLo, int nLo, int bLoOpen,
                     const void *pHi, int nHi, int bHiOpen){
  VlogStore *p = pCsr->pStore;
  int rc = VLOG_OK;
  assert( (pLo==0 || nLo>=0) && (pHi==0 || nHi>=0) );
  pCsr->lo.n = pCsr->hi.n = 0;
  pCsr->bLo = pLo!=0;
  pCsr->bHi = pHi!=0;
  pCsr->bLoOpen = bLoOpen;
  pCsr->bHiOpen = bHiOpen;
  if( pLo ) rc = vlogBufAppend(p->pEnv, &pCsr->lo, pLo, nLo);
  if( rc==VLOG_OK && pHi ) rc = vlogBufAppend(p->pEnv, &pCsr->hi, pHi, nHi);
  pCsr->bValid = 0;
  return rc ? vlogSetError(p, rc, 0) : VLOG_OK;
}

/* 0 when pKey is within the bounds, <0 below the lower, >0 above the upper */
static int boundsCheck(VlogCursor *pCsr, const u8 *pKey, int nKey){
  if( pCsr->bLo ){
    int c = vlogKeyCmp(pKey, nKey, pCsr->lo.a, pCsr->lo.n);
    if( c<0 || (c==0 && pCsr->bLoOpen) ) return -1;
  }
  if( pCsr->bHi ){
    int c = vlogKeyCmp(pKey, nKey, pCsr->hi.a, pCsr->hi.n);
    if( c>0 || (c==0 && pCsr->bHiOpen) ) return 1;
  }
  return 0;
}

/* Pin and push pNode onto the path. */
static void pathPush(VlogCursor *pCsr, Node *pNode, int iIdx){
  /* a root, or the child one level below the node on top */
  assert( pCsr->nPath<33 && !pNode->bDead );
  assert( pCsr->nPath==0 || pNode->iLevel+1==pCsr->apPath[pCsr->nPath-1]->iLevel );
  assert( pCsr->nPath>0 || pNode->pParent==0 );
  vlogNodeRef(pCsr->pStore, pNode);
  pCsr->apPath[pCsr->nPath] = pNode;
  pCsr->aiIdx[pCsr->nPath] = iIdx;
  pCsr->nPath++;
}

/* Descend from apPath[nPath-1] (interior) along child iIdx, then always the
** first (bLast=0) or last (bLast=1) child, to a leaf. */
static int descendEdge(VlogCursor *pCsr, int iIdx, int bLast){
  VlogStore *p = pCsr->pStore;
  int rc = VLOG_OK;
  assert( pCsr->nPath>0 );
  while( rc==VLOG_OK && pCsr->apPath[pCsr->nPath-1]->iLevel>0 ){
    Node *pParent = pCsr->apPath[pCsr->nPath-1];
    Node *pChild;
    if( iIdx<0 ) iIdx = bLast ? pParent->aBset[0].n-1 : 0;
    assert( iIdx>=0 && iIdx<pParent->aBset[0].n );
    pCsr->aiIdx[pCsr->nPath-1] = iIdx;
    rc = vlogNodeChild(p, pParent, iIdx, &pChild);
    if( rc==VLOG_OK ){
      pathPush(pCsr, pChild, 0);
      iIdx = -1;
    }
  }
  if( rc==VLOG_OK ) rc = vlogNodeView(p, pCsr->apPath[pCsr->nPath-1]);
  return rc;
}

/* Position on the first (bLast=0) or last entry of the next (bBack=0) or
** previous leaf; bValid=0 at the end of the tree. */
static int stepLeaf(VlogCursor *pCsr, int bBack){
  int rc, i;
  assert( pCsr->bValid && pCsr->nPath>0 );
  assert( pCsr->apPath[pCsr->nPath-1]->iLevel==0 );
  for(i=pCsr->nPath-2; i>=0; i--){
    Node *pN = pCsr->apPath[i];
    int iNext = pCsr->aiIdx[i] + (bBack ? -1 : 1);
    if( iNext>=0 && iNext<pN->aBset[0].n ){
      int j;
      for(j=pCsr->nPath-1; j>i; j--) vlogNodeUnref(pCsr->pStore, pCsr->apPath[j]);
      pCsr->nPath = i+1;
      rc = descendEdge(pCsr, iNext, bBack);
      if( rc ) return rc;
      {
        Entry *aE;
        int n;
        leafEntries(pCsr->apPath[pCsr->nPath-1], &aE, &n);
        pCsr->iPos = bBack ? n-1 : 0;
      }
      return VLOG_OK;
    }
  }
  pCsr->bValid = 0;
  return VLOG_OK;
}

/* Settle on a valid entry: skip empty leaves in direction bBack, check the
** bounds, save the key. */
static int settle(VlogCursor *pCsr, int bBack){
  VlogStore *p = pCsr->pStore;
  int rc = VLOG_OK;
  while( pCsr->bValid ){
    Entry *aE;
    int n;
    assert( pCsr->nPath>0 );
    leafEntries(pCsr->apPath[pCsr->nPath-1], &aE, &n);
    if( pCsr->iPos>=0 && pCsr->iPos<n ){
      Entry *e = &aE[pCsr->iPos];
      int c = boundsCheck(pCsr, e->pKey, (int)e->nKey);
      if( (c<0 && bBack) || (c>0 && !bBack) ){
        pCsr->bValid = 0;
      }else if( c==0 ){
        pCsr->bSaved = 0;
        pCsr->iModCount = p->iModCount;
        assert( e->eType==ENTRY_PUT );          /* views hold live keys only */
        return VLOG_OK;
      }else{
        /* before the lower bound going forward / past the upper going
        ** back: cannot happen after a bounded seek, but step on */
        pCsr->iPos += bBack ? -1 : 1;
      }
      continue;
    }
    rc = stepLeaf(pCsr, bBack);
    if( rc ) return rc;
  }
  return VLOG_OK;
}

/* Position at the leaf entry for pKey according to eSeek. */
static int seekInternal(VlogCursor *pCsr, const u8 *pKey, int nKey, int eSeek){
  VlogStore *p = pCsr->pStore;
  Tree *pTree;
  Node *pNode;
  Entry *aE;
  int n, lo, rc, bEq, bBack;

  assert( eSeek>=VLOG_SEEK_EQ && eSeek<=VLOG_SEEK_LT );
  assert( pKey!=0 || eSeek==VLOG_SEEK_GE || eSeek==VLOG_SEEK_LE );
  assert( p->eTxn>0 );
  pathRelease(pCsr);
  pCsr->bValid = 0;
  pCsr->rcSave = VLOG_OK;          /* a new position: the old one's error goes */
  rc = vlogTreeGet(p, pCsr->iTree, 0, &pTree);
  if( rc==VLOG_NOTFOUND ) return VLOG_OK;
  if( rc ) return rc;
  rc = vlogTreeRoot(p, pTree, &pNode);
  if( rc || pNode==0 ) return rc;
  pathPush(pCsr, pNode, 0);
  while( rc==VLOG_OK && pCsr->apPath[pCsr->nPath-1]->iLevel>0 ){
    Node *pParent = pCsr->apPath[pCsr->nPath-1];
    Node *pChild;
    int iPos;
    Bset *pSet = &pParent->aBset[0];
    if( pSet->n==0 ) return vlogSetError(p, VLOG_CORRUPT_BKPT, "empty interior node");
    if( pKey==0 ){
      iPos = eSeek==VLOG_SEEK_LE ? pSet->n-1 : 0;
    }else if( !vlogBsetSearch(pSet, pKey, nKey, &iPos) ){
      iPos = iPos>0 ? iPos-1 : 0;
    }
    pCsr->aiIdx[pCsr->nPath-1] = iPos;
    rc = vlogNodeChild(p, pParent, iPos, &pChild);
    if( rc==VLOG_OK ) pathPush(pCsr, pChild, 0);
  }
  if( rc==VLOG_OK ) rc = vlogNodeView(p, pCsr->apPath[pCsr->nPath-1]);
  if( rc ) return rc;

  assert( pCsr->apPath[pCsr->nPath-1]->iLevel==0 );
  assert( pCsr->apPath[0]->iLevel==pCsr->nPath-1 );
  leafEntries(pCsr->apPath[pCsr->nPath-1], &aE, &n);
  if( pKey==0 ){
    /* first or last */
    pCsr->iPos = eSeek==VLOG_SEEK_LE ? n-1 : 0;
    pCsr->bValid = 1;
    return settle(pCsr, eSeek==VLOG_SEEK_LE);
  }
  {
    Bset view;
    view.a = aE;
    view.n = n;
    bEq = vlogBsetSearch(&view, pKey, nKey, &lo);
  }
  bBack = 0;
  switch( eSeek ){
    case VLOG_SEEK_EQ:
      if( !bEq ) return VLOG_OK;
      pCsr->iPos = lo;
      break;
    case VLOG_SEEK_GE:
      pCsr->iPos = lo;
      break;
    case VLOG_SEEK_GT:
      pCsr->iPos = bEq ? lo+1 : lo;
      break;
    case VLOG_SEEK_LE:
      pCsr->iPos = bEq ? lo : lo-1;
      bBack = 1;
      break;
    default:   /* LT */
      pCsr->iPos = lo-1;
      bBack = 1;
      break;
  }
  pCsr->bValid = 1;
  rc = settle(pCsr, bBack);
  if( rc==VLOG_OK && eSeek==VLOG_SEEK_EQ && pCsr->bValid ){
    Entry *e = cursorEntry(pCsr);
    if( vlogKeyCmp(e->pKey, (int)e->nKey, pKey, nKey)!=0 ) pCsr->bValid = 0;
  }
  return rc;
}

/* Begin a read transaction for a cursor call made outside one. */

/* The bounded seek: a seek for a key outside the bounds lands on the
** nearest bound. */
int vlogCursorSeek(VlogCursor *pCsr, const void *pKey, int nKey, int eSeek){
  int bAuto, rc = vlogAutoBegin(pCsr->pStore, 0, &bAuto);
  if( rc ) return rc;
  if( eSeek<VLOG_SEEK_EQ || eSeek>VLOG_SEEK_LT ){
    return vlogAutoEnd(pCsr->pStore, bAuto,
        vlogSetError(pCsr->pStore, VLOG_MISUSE, "bad seek operation %d", eSeek));
  }
  if( eSeek!=VLOG_SEEK_EQ ){
    int bBack = (eSeek==VLOG_SEEK_LE || eSeek==VLOG_SEEK_LT);
    int c = boundsCheck(pCsr, (const u8*)pKey, nKey);
    if( c<0 && !bBack ){
      pKey = pCsr->lo.a; nKey = pCsr->lo.n;
      eSeek = pCsr->bLoOpen ? VLOG_SEEK_GT : VLOG_SEEK_GE;
    }else if( c>0 && bBack ){
      pKey = pCsr->hi.a; nKey = pCsr->hi.n;
      eSeek = pCsr->bHiOpen ? VLOG_SEEK_LT : VLOG_SEEK_LE;
    }
  }
  rc = seekInternal(pCsr, (const u8*)pKey, nKey, eSeek);
  return vlogAutoEnd(pCsr->pStore, bAuto, rc);
}

static int seekEnd(VlogCursor *pCsr, int bLast){
  int bAuto, rc = vlogAutoBegin(pCsr->pStore, 0, &bAuto);
  if( rc ) return rc;
  if( !bLast && pCsr->bLo ){
    rc = seekInternal(pCsr, pCsr->lo.a, pCsr->lo.n,
                      pCsr->bLoOpen ? VLOG_SEEK_GT : VLOG_SEEK_GE);
  }else if( bLast && pCsr->bHi ){
    rc = seekInternal(pCsr, pCsr->hi.a, pCsr->hi.n,
                      pCsr->bHiOpen ? VLOG_SEEK_LT : VLOG_SEEK_LE);
  }else{
    rc = seekInternal(pCsr, 0, 0, bLast ? VLOG_SEEK_LE : VLOG_SEEK_GE);
  }
  return vlogAutoEnd(pCsr->pStore, bAuto, rc);
}

int vlogCursorFirst(VlogCursor *pCsr){ return seekEnd(pCsr, 0); }
int vlogCursorLast(VlogCursor *pCsr){ return seekEnd(pCsr, 1); }

static int step(VlogCursor *pCsr, int bBack){
  VlogStore *p = pCsr->pStore;
  int bAuto, rc;
  if( pCsr->rcSave ) return saveError(pCsr);
  if( !pCsr->bValid ) return VLOG_OK;
  rc = vlogAutoBegin(pCsr->pStore, 0, &bAuto);
  if( rc ) return rc;
  /* a reload as the transaction began saves the key, or fails to */
  if( pCsr->rcSave ) return vlogAutoEnd(pCsr->pStore, bAuto, saveError(pCsr));
  assert( pCsr->bValid );
  if( pCsr->nPath==0 || pCsr->iModCount!=p->iModCount ){
    /* The tree changed since: find our place again by key. */
    VlogBuf saved = pCsr->key;
    assert( pCsr->bSaved );
    memset(&pCsr->key, 0, sizeof(VlogBuf));
    rc = seekInternal(pCsr, saved.a, saved.n, bBack ? VLOG_SEEK_LT : VLOG_SEEK_GT);
    vlogBufFree(p->pEnv, &saved);
  }else{
    pCsr->iPos += bBack ? -1 : 1;
    rc = settle(pCsr, bBack);
  }
  return vlogAutoEnd(pCsr->pStore, bAuto, rc);
}

int vlogCursorNext(VlogCursor *pCsr){ return step(pCsr, 0); }
int vlogCursorPrev(VlogCursor *pCsr){ return step(pCsr, 1); }

int vlogCursorValid(VlogCursor *pCsr){
  assert( pCsr->bValid==0 || pCsr->bValid==1 );
  assert( !pCsr->bValid || pCsr->rcSave==VLOG_OK );
  return pCsr->bValid;
}

#ifdef VLOG_DEBUG
/*
** The structure checker's part (check.c): call xPin (if not 0) for every
** node a cursor's path pins; return 0 if every cursor is sound, else what
** is wrong.  A valid cursor whose trees changed since it was positioned
** holds a saved key (step() and cursorRawValue() re-seek to it); the path
** of one whose trees did not change runs from a root to a leaf a level at
** a time, through the child indexes it records, to its position.
*/
const char *vlogCursorsCheck(VlogStore *p,
                             void (*xPin)(void*, const Node*), void *pCtx){
  VlogCursor *pCsr;
  const char *zWhy = 0;
  for(pCsr=p->pCursors; pCsr; pCsr=pCsr->pNext){
    int i;
    if( pCsr->nPath<0 || pCsr->nPath>33 ) return "a path of impossible length";
    for(i=0; i<pCsr->nPath; i++){
      if( xPin ) xPin(pCtx, pCsr->apPath[i]);
    }
    if( zWhy ) continue;
    if( pCsr->pStore!=p ){
      zWhy = "a cursor of another handle on the list";
    }else if( pCsr->rcSave && pCsr->bValid ){
      zWhy = "a valid cursor with an error waiting";
    }else if( pCsr->bValid && !pCsr->bSaved
           && (pCsr->nPath==0 || pCsr->iModCount!=p->iModCount) ){
      zWhy = "a valid cursor whose trees changed has no saved key";
    }else if( pCsr->bValid && pCsr->nPath>0 && pCsr->iModCount==p->iModCount ){
      Entry *aE;
      int n;
      for(i=0; zWhy==0 && i<pCsr->nPath; i++){
        Node *pN = pCsr->apPath[i];
        if( pN->nRef<1 || pN->bDead ){
          zWhy = "a current path through a dead or unpinned node";
        }else if( i+1<pCsr->nPath ){
          NodePtr ptr;
          const Bset *pSet = &pN->aBset[0];
          int iIdx = pCsr->aiIdx[i];
          if( pN->iLevel!=pCsr->apPath[i+1]->iLevel+1 || iIdx<0 || iIdx>=pSet->n
           || vlogPtrDecode(pSet->a[iIdx].pVal, (int)pSet->a[iIdx].nVal, &ptr)
           || ptr.gen!=pCsr->apPath[i+1]->gen ){
            zWhy = "a path step that is not the child it names";
          }
        }else if( pN->iLevel!=0 ){
          zWhy = "a path that does not end at a leaf";
        }
      }
      if( zWhy==0 ){
        leafEntries(pCsr->apPath[pCsr->nPath-1], &aE, &n);
        if( pCsr->iPos<0 || pCsr->iPos>=n ) zWhy = "a position outside its leaf";
      }
    }
  }
  return zWhy;
}
#endif

int vlogCursorKey(VlogCursor *pCsr, const void **ppKey, int *pnKey){
  if( !pCsr->bValid ){
    *ppKey = 0;
    *pnKey = 0;
    return pCsr->rcSave ? saveError(pCsr) : VLOG_MISUSE;
  }
  if( pCsr->bSaved ){
    *ppKey = pCsr->key.a;
    *pnKey = pCsr->key.n;
  }else{
    Entry *e = cursorEntry(pCsr);
    *ppKey = e->pKey;
    *pnKey = (int)e->nKey;
  }
  assert( *pnKey>=1 && *pnKey<=VLOG_MAX_KEY && *ppKey!=0 );
  return VLOG_OK;
}

/* The leaf value of the cursor's entry, as stored (a user tree's is
** tagged: vlog.c). */
static int cursorRawValue(VlogCursor *pCsr, const u8 **ppVal, int *pnVal){
  VlogStore *p = pCsr->pStore;
  assert( pCsr->bValid && p->eTxn>0 );
  if( pCsr->nPath==0 || pCsr->iModCount!=p->iModCount ){
    /* Re-find the entry after a change (it may have been deleted). */
    assert( pCsr->bSaved );
    return vlogBtreeLookup(p, pCsr->iTree, pCsr->key.a, pCsr->key.n, ppVal, pnVal);
  }else{
    Entry *e = cursorEntry(pCsr);
    *ppVal = e->pVal;
    *pnVal = (int)e->nVal;
  }
  return VLOG_OK;
}

/*
** One walk of tree iTree's leaves, in a read transaction of its own unless
** one is open: xEntry(p, pCtx, key, leaf value) for each entry (the value
** as stored: a user tree's is tagged, its pointers not followed), until it
** returns an error.
*/
static int treeWalk(VlogStore *p, uint32_t iTree,
                    int (*xEntry)(VlogStore*, void*, const u8*, int, const u8*, int),
                    void *pCtx){
  VlogCursor *pCsr = 0;
  int bAuto, rc;
  rc = vlogAutoBegin(p, 0, &bAuto);
  if( rc ) return rc;
  rc = vlogCursorOpen(p, iTree, &pCsr);
  if( rc==VLOG_OK ) rc = vlogCursorFirst(pCsr);
  while( rc==VLOG_OK && pCsr->bValid ){
    const void *pKey;
    const u8 *pVal;
    int nKey, nVal;
    rc = vlogCursorKey(pCsr, &pKey, &nKey);
    if( rc==VLOG_OK ) rc = cursorRawValue(pCsr, &pVal, &nVal);
    if( rc==VLOG_OK ) rc = xEntry(p, pCtx, (const u8*)pKey, nKey, pVal, nVal);
    if( rc==VLOG_OK ) rc = vlogCursorNext(pCsr);
  }
  if( pCsr ) (void)vlogCursorClose(pCsr);       /* cannot fail */
  return vlogAutoEnd(p, bAuto, rc);
}

/* The size of tree iTree (engine.h): values not read (their pointers say
** their size). */
typedef struct SizeCtx SizeCtx;
struct SizeCtx { uint32_t iTree; VlogTreeSize *pSize; };
static int sizeEntry(VlogStore *p, void *pCtx, const u8 *pKey, int nKey,
                     const u8 *pVal, int nVal){
  SizeCtx *pC = (SizeCtx*)pCtx;
  pC->pSize->nKey++;
  if( pC->iTree>=VLOG_TREE_FIRST_USER ){
    return vlogValueSize(p, pC->iTree, pKey, nKey, pVal, nVal,
                         &pC->pSize->nValue, &pC->pSize->nStored);
  }
  pC->pSize->nValue += (u64)nVal;
  pC->pSize->nStored += (u64)nVal;
  return VLOG_OK;
}
int vlogTreeSize(VlogStore *p, uint32_t iTree, VlogTreeSize *pSize){
  SizeCtx c;
  memset(pSize, 0, sizeof(*pSize));
  c.iTree = iTree;
  c.pSize = pSize;
  return treeWalk(p, iTree, sizeEntry, &c);
}

/* The bytes of value-log records tree iTree's values have in each segment
** (engine.h). */
typedef struct SegCtx SegCtx;
struct SegCtx { uint32_t iTree; uint64_t *aBytes; int nSeg; };
static int segEntry(VlogStore *p, void *pCtx, const u8 *pKey, int nKey,
                    const u8 *pVal, int nVal){
  SegCtx *pC = (SegCtx*)pCtx;
  (void)pKey;
  return vlogValueSegBytes(p, pC->iTree, nKey, pVal, nVal, pC->aBytes, (u64)pC->nSeg);
}
int vlogTreeSegmentBytes(VlogStore *p, uint32_t iTree, uint64_t *aBytes, int nSeg){
  SegCtx c;
  if( iTree<VLOG_TREE_FIRST_USER ) return VLOG_OK;      /* all in leaves */
  c.iTree = iTree;
  c.aBytes = aBytes;
  c.nSeg = nSeg;
  return treeWalk(p, iTree, segEntry, &c);
}

int vlogCursorValue(VlogCursor *pCsr, const void **ppVal, int *pnVal){
  VlogStore *p = pCsr->pStore;
  const u8 *pVal = 0;
  int nVal = 0, bAuto, rc;
  *ppVal = 0;
  *pnVal = 0;
  if( !pCsr->bValid ) return pCsr->rcSave ? saveError(pCsr) : VLOG_MISUSE;
  rc = vlogAutoBegin(pCsr->pStore, 0, &bAuto);
  if( rc ) return rc;
  if( pCsr->rcSave ) return vlogAutoEnd(pCsr->pStore, bAuto, saveError(pCsr));  /* as step() */
  rc = cursorRawValue(pCsr, &pVal, &nVal);
  if( rc==VLOG_OK && pCsr->iTree>=VLOG_TREE_FIRST_USER ){
    const void *pKey;
    int nKey;
    (void)vlogCursorKey(pCsr, &pKey, &nKey);     /* valid: cannot fail */
    rc = vlogValueDecode(p, pCsr->iTree, (const u8*)pKey, nKey, pVal, nVal,
                         &pVal, &nVal);
  }
  if( rc==VLOG_OK ){
    *ppVal = pVal;
    *pnVal = nVal;
  }
  return vlogAutoEnd(pCsr->pStore, bAuto, rc);
}
