/*
** vtab.c: the `vlog` virtual table module.  (The stores it opens are
** shared with the rest of the connection through ext/registry.c.)
**
** USING
**
**   CREATE VIRTUAL TABLE kv USING vlog(
**     file='kv.vlog',     -- the store file (default: a database on the
**                         -- vlog VFS is a store, and the table lives in
**                         -- it; any other database's name plus ".vlog";
**                         -- required for :memory:).  A relative path is
**                         -- taken from the database's folder.
**     key='blob',         -- integer, text or blob: keys sort as SQLite
**                         -- sorts that type (default blob)
**     inline_max=256,     -- values longer than this many bytes go to the
**                         -- value log (0 to 8192; default 256)
**     zstd_level=3,       -- compression of the value log (0: none, frames
**                         -- raw and records read alone; 1-19; default 3,
**                         -- zstd's own: with a trained dictionary, small
**                         -- records compress as fast at 3 as at 1)
**     compress_inline=0,  -- 1: values kept in the B-tree (inline_max
**                         -- bytes or less) are compressed too, each on
**                         -- its own at zstd_level, when that saves an
**                         -- eighth (values of 64 bytes or more; never
**                         -- with zstd_level=0)
**     mmap_size=N         -- bytes of the store file read through a memory
**                         -- map (0: none, every read a system call;
**                         -- default: as much as SQLite maps, just under
**                         -- 2 GiB).  A setting of the store in this
**                         -- connection: the last table opened that names
**                         -- it sets it for every table of the store
**   );
**   -- columns: key (the primary key; NULL is refused), value (any type)
**
** Several tables may share one store file, each in a B-tree of its own;
** the store's catalog (tree 16) maps table names to trees.  The engine
** gives each table's tree its id and keeps inline_max and zstd_level with
** it (vlogTreeCreate): the options of CREATE VIRTUAL TABLE set them, the
** stored ones govern every write.  A database opened read-only opens its
** stores read-only.
**
** DESIGN NOTE
**
** Keys.  A vlog table's key column behaves as the same column of an
** ordinary WITHOUT ROWID table: what an INSERT stores, what = and IN find,
** how ranges and ORDER BY sort.  Each key= type is a column type:
**
**   key='blob'     BLOB (no affinity): a key keeps its type, integer,
**                  real, text or blob; 1 and 1.0 are one key (SQLite calls
**                  them equal), and it reads back as the type written
**   key='text'     TEXT affinity: numbers become text, blobs stay blobs
**   key='integer'  as a STRICT table's INTEGER column: text and reals
**                  that are integers convert; anything else is an error
**
** Keys are encoded so that the engine's memcmp order is SQLite's order.
** An integer table's key is the 8-byte big-endian integer with the sign
** bit flipped.  A text or blob table's key starts with a tag that orders
** the types as SQLite does (0x00 number, 0x01 text, 0x02 blob); text
** (BINARY collation, UTF-8) and blobs follow as their bytes, a number as
** described at encodeNum().  Catalog key type 3 is vlog 0.1's blob table,
** whose text keys were stored as blob bytes: refused, never misread.
** Values keep their SQLite type: one byte (0 NULL, 1 integer, 2 real,
** 3 text, 4 blob), then the bytes.
**
** Constraints.  xBestIndex takes =, IS, IN, <, <=, >, >= on key and ORDER
** BY key in either direction (orderByConsumed).  An IN list comes to one
** xFilter whole (sqlite3_vtab_in()): its keys are sorted and deduplicated
** (5, 5.0 and '5' are one key of an integer table), so the rows come in
** key order and ORDER BY needs no sort.  xFilter converts each value as an
** INSERT would (SQLite applies the key column's affinity to the other
** operand of a comparison).  It never sets omit: SQLite checks every row
** again, so xFilter only has to return a superset of the matching rows: a
** bound that cannot narrow the range soundly is dropped, one that can
** match nothing ends the scan.  Constraints the key order cannot answer
** are left to SQLite: a collation other than BINARY on text (NOCASE,
** RTRIM, an application's), ranges on text in a UTF-16 database (BINARY
** compares UTF-16 bytes there, in another order), and ranges beside a LIKE
** or GLOB (SQLite 3.40 derives text ranges from the pattern, which leave
** out the numbers and blobs that it matches as text).
**
** One limit: a comparison of the key with a column of another table
** applies that column's affinity to the key (TEXT or NUMERIC), and a
** virtual table is not told which.  On a blob-key table, ON key = t.n
** with t.n an INTEGER column holding 5 matches the text key '5' in an
** ordinary table (SQLite sees the affinities differ and scans) but not
** here (the lookup is for the number 5).  With a TEXT column holding '5',
** both find only the text key (SQLite's own index lookup does the same).
** Joining on keys of the table's own type, or on values without affinity
** (literals, parameters, expressions), is exact.
**
** Transactions.  xBegin starts the engine's write transaction (taking the
** connection's PRAGMA synchronous as the store's durability), xSavepoint/
** xRelease/xRollbackTo map to the engine's savepoints (SQLite's index i is
** the engine's savepoint i+1; statement savepoints included, so a failed
** statement's writes are undone), xSync writes the store's commit (phase
** one of SQLite's commit: if it fails, SQLite rolls everything back), and
** xCommit makes it visible; if SQLite fails between the two (a database
** file it cannot lock, say), xRollback takes the written commit back
** (vlogCommitPrepare).  Reads outside a write transaction hold one read transaction
** from the first xFilter to the last cursor's xClose.  Not longer: SQLite
** calls no method of a virtual table when a read-only BEGIN...COMMIT ends,
** so a read transaction kept past the statement would keep its snapshot
** (and hold back checkpoints) for as long as the connection stays idle.
** So each read-only statement has its own view, as in LSM1's virtual
** table; the engine makes that cheap: a read transaction registers in the
** reader table in shared memory (engine/shm.c), with no lock and no
** system call, and reads nothing when nothing changed.  A database on the
** vlog VFS, whose locks the engine sees, can later tie the two together.
** Readers and writers do not wait for each other: a commit goes on while
** statements of other connections read their snapshots.
**
** DROP TABLE drops the table's tree whole (vlogTreeDrop): its undo is the
** tree's old root, not a record per row, and its commit walks the tree
** once to free the nodes and count the values stale.  Inside BEGIN ...
** COMMIT the drop joins the store's write transaction when one is open
** (the transaction wrote to a table of the store), and ROLLBACK, or
** ROLLBACK TO a savepoint before it, undoes it.  Otherwise, in a store of
** its own, it commits at once: SQLite calls no xBegin for the table it
** drops, nor any method of it afterwards, so nothing would end a store
** transaction left open (a ROLLBACK then keeps the table in the schema
** without its tree: the table cannot be opened).  DELETE FROM t without
** WHERE cannot do the same: SQLite gives a virtual table no
** truncate method, and xBestIndex cannot tell that statement from a
** DELETE whose WHERE only SQLite can evaluate (WHERE f(value), or a
** condition on no column), so it runs row by row, as SQLite sends it.
**
** A commit in rollback-journal mode: SQLite takes an EXCLUSIVE lock on the
** database file after xSync even when only vlog tables changed, and fails
** with SQLITE_BUSY if another connection is reading it.  The store's
** commit is taken back then; an explicit COMMIT can be retried (xSync
** again finds it prepared).  In WAL mode that lock is not taken.
**
** ACROSS A CRASH.  In a store of its own, the store's commit is durable
** after xSync, before SQLite commits the database file.  A transaction
** that writes both vlog tables and ordinary tables is atomic on each side
** but not across them: a crash between the two commits leaves the vlog
** tables committed and the ordinary tables not.
**
** ONE TRANSACTION IN A DATABASE ON THE VLOG VFS.  Without file=, a table
** of a database on the vlog VFS lives in the database's own store
** (bShared: the VFS's engine handle, borrowed through the registry), and
** its changes and SQLite's pages are one engine transaction, committed
** once: all or nothing across a crash (vfs_crash.test).  The VFS ends the
** transaction at SQLite's commit point when SQLite's pages are in it
** (the journal's end, or the database's sync with no journal), and at
** SQLITE_FCNTL_COMMIT_PHASETWO when they are not (only vlog tables
** changed: SQLite's commit reaches the file as that call); it rolls back
** both at a ROLLBACK.  So xSync prepares nothing, unless a rollback
** journal is open but not started (no page can come any more): then it
** prepares, so that an error is told there.  xCommit and xRollback end
** the transaction only when the VFS has no part in it (with
** locking_mode=EXCLUSIVE and journal_mode=PERSIST SQLite skips the call
** when no page changed; an error of that one commit can only be logged).
** Savepoints: SQLite opens a table's savepoint when the table joins the
** transaction, later than the pager's of the same number, so the
** engine's savepoint rollback leaves the VFS's trees alone (the pager
** restores its pages itself; vlogStoreSavepointExempt) and undoes only
** the tables'.  CREATE, DROP and RENAME join the transaction of SQLite's
** schema change instead of committing at once, so a ROLLBACK undoes them
** too (a dropped table comes back with its rows).  Read statements use
** the VFS's read transaction, which SQLite's SHARED lock bounds.
**
** WAITING FOR LOCKS.  One writer at a time per store, across connections
** and processes.  A write that finds the store locked waits as long as
** the connection's PRAGMA busy_timeout says (0: fails at once with
** SQLITE_BUSY), polling with growing sleeps (engine/store.c), and never
** while holding a lock the other writer needs to commit.  Decision: a
** virtual table cannot call the connection's busy handler (no API), so
** the timeout is what it follows; a handler of the application's own
** sets the timeout to 0 and the store then fails at once, leaving the
** retry to the application (ext/registry.c, connectionBusyTimeout()).
*/
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "vlogInt.h"

#define CATALOG_TREE       VLOG_TREE_FIRST_USER
#define KEY_INTEGER        VLOG_KEY_INTEGER
#define KEY_TEXT           VLOG_KEY_TEXT
#define KEY_BLOB_UNTYPED   VLOG_KEY_BLOB_UNTYPED
#define KEY_BLOB           VLOG_KEY_BLOB
#define DEFAULT_INLINE_MAX 256
#define MAX_INLINE_MAX     8192
#define DEFAULT_ZSTD_LEVEL 3
/* The largest value a user may store, in bytes: the engine's limit less
** the type byte each value gets (vtabErr says it) */
#define VTAB_MAX_VALUE     (VLOG_MAX_VALUE-1)

/* The full path of store file zFile, relative paths taken from the folder
** of database zSchema of db (or the working directory). */
static char *storePath(sqlite3 *db, const char *zSchema, const char *zFile){
  const char *zDb = sqlite3_db_filename(db, zSchema);
  char *zOut;
  if( zFile[0]=='/' || zDb==0 || zDb[0]==0 ){
    zOut = sqlite3_mprintf("%s", zFile);
  }else{
    const char *zSlash = strrchr(zDb, '/');
    if( zSlash ){
      zOut = sqlite3_mprintf("%.*s/%s", (int)(zSlash-zDb), zDb, zFile);
    }else{
      zOut = sqlite3_mprintf("%s", zFile);
    }
  }
  return zOut;
}

/* ---------------------------------------------------------------------
** Key and value encoding
*/
typedef struct VBuf VBuf;
struct VBuf {
  unsigned char *a;
  int n, nAlloc;
};
static int vbufReserve(VBuf *p, int n){
  if( p->nAlloc<n ){
    int nNew = n<64 ? 64 : n*2;
    unsigned char *aNew = (unsigned char*)sqlite3_realloc(p->a, nNew);
    if( aNew==0 ) return SQLITE_NOMEM;
    p->a = aNew;
    p->nAlloc = nNew;
  }
  return SQLITE_OK;
}

static void putBE64(unsigned char *a, sqlite3_uint64 v){
  int i;
  for(i=7; i>=0; i--){ a[i] = (unsigned char)v; v >>= 8; }
}
static sqlite3_uint64 getBE64(const unsigned char *a){
  sqlite3_uint64 v = 0;
  int i;
  for(i=0; i<8; i++) v = (v<<8) | a[i];
  return v;
}

static void encodeInt(VBuf *p, sqlite3_int64 i){
  putBE64(p->a, ((sqlite3_uint64)i) ^ ((sqlite3_uint64)1<<63));
  p->n = 8;
}

/*
** The integer that pVal is, or becomes under INTEGER affinity (text that
** reads as a number, a real with no fraction), in *piOut: 1 if there is
** one, 0 if not.  Never changes pVal.  The rules are SQLite's:
** applyNumericAffinity() through sqlite3_value_numeric_type() on a copy,
** then, to store it (bCmp 0), sqlite3VdbeIntegerAffinity()'s range for
** reals, which leaves out -2^63; to compare with it (bCmp 1), any real
** equal to an integer, -2^63 included.
*/
static int integerOf(sqlite3_value *pVal, int bCmp, sqlite3_int64 *piOut){
  int eType = sqlite3_value_type(pVal);
  double r;
  if( eType==SQLITE_INTEGER ){
    *piOut = sqlite3_value_int64(pVal);
    return 1;
  }
  if( eType==SQLITE_TEXT ){
    sqlite3_value *pCopy = sqlite3_value_dup(pVal);
    int bOk = 0;
    if( pCopy ){
      eType = sqlite3_value_numeric_type(pCopy);
      if( eType==SQLITE_INTEGER ){
        *piOut = sqlite3_value_int64(pCopy);
        bOk = 1;
      }else if( eType==SQLITE_FLOAT ){
        bOk = integerOf(pCopy, bCmp, piOut);
      }
      sqlite3_value_free(pCopy);
    }
    return bOk;
  }
  if( eType!=SQLITE_FLOAT ) return 0;
  r = sqlite3_value_double(pVal);
  if( (r>-9223372036854775808.0 || (bCmp && r==-9223372036854775808.0))
   && r<9223372036854775808.0 && r==(double)(sqlite3_int64)r ){
    *piOut = (sqlite3_int64)r;
    return 1;
  }
  return 0;
}

/*
** Keys of text and blob tables start with a tag byte that orders the
** types as SQLite does (numbers, then text, then blobs).  A number key
** (blob tables only) is 12 bytes:
**
**   0x00, the 8-byte order key of the double nearest the number, 2 bytes
**   of (number - that double) + 0x8000 (non-zero only for integers beyond
**   2^53, whose double is rounded: |difference| <= 512), then 0 for an
**   integer or 1 for a real.
**
** The first 11 bytes are the number's identity: 1 and 1.0 have the same
** one (SQLite calls them equal, so they are one key), and memcmp orders
** identities as SQLite orders the numbers, integers and reals mixed.  The
** last byte only remembers which type was stored, so that the key reads
** back as it was written.
*/
#define TAG_NUM   0x00
#define TAG_TEXT  0x01
#define TAG_BLOB  0x02
#define NUM_KEY   12          /* bytes of a number key */
#define NUM_ID    11          /* bytes of its identity */

/* An order-preserving 8-byte image of double r (no NaN: SQLite has none). */
static sqlite3_uint64 doubleOrder(double r){
  sqlite3_uint64 u;
  if( r==0.0 ) r = 0.0;                        /* -0.0 is 0.0 */
  memcpy(&u, &r, 8);
  return (u & ((sqlite3_uint64)1<<63)) ? ~u : u | ((sqlite3_uint64)1<<63);
}
static double doubleFromOrder(sqlite3_uint64 u){
  double r;
  u = (u & ((sqlite3_uint64)1<<63)) ? u & ~((sqlite3_uint64)1<<63) : ~u;
  memcpy(&r, &u, 8);
  return r;
}

static void encodeNum(VBuf *p, int bReal, sqlite3_int64 i, double r){
  int iDelta = 0;
  if( !bReal ){
    r = (double)i;
    if( r>=9223372036854775808.0 ){
      /* rounded up to 2^63, which no int64 is: i - 2^63, in unsigned */
      iDelta = (int)(sqlite3_int64)((sqlite3_uint64)i - ((sqlite3_uint64)1<<63));
    }else{
      iDelta = (int)(i - (sqlite3_int64)r);
    }
  }
  assert( iDelta>=-512 && iDelta<=512 );
  p->a[0] = TAG_NUM;
  putBE64(&p->a[1], doubleOrder(r));
  p->a[9] = (unsigned char)((iDelta+0x8000)>>8);
  p->a[10] = (unsigned char)(iDelta+0x8000);
  p->a[11] = (unsigned char)bReal;
  p->n = NUM_KEY;
}

static int isNumKey(const unsigned char *a, int n){
  return n==NUM_KEY && a[0]==TAG_NUM;
}

/*
** Encode key value pVal for a table of key type eKey into p, converted as
** an INSERT converts it (the column's affinity; see the design note).
** Returns SQLITE_OK, SQLITE_MISMATCH (an integer table given what is not
** an integer), SQLITE_CONSTRAINT (NULL), SQLITE_TOOBIG or SQLITE_NOMEM.
** A constraint's value is encoded the same way (bCmp 1): SQLite applies
** the column's affinity to a comparison's other operand, so = and IN find
** exactly the keys an INSERT of the same value would have written.
*/
static int encodeKey(int eKey, sqlite3_value *pVal, int bCmp, VBuf *p){
  int eType = sqlite3_value_type(pVal);
  const unsigned char *z;
  int rc, n;
  if( eType==SQLITE_NULL ) return SQLITE_CONSTRAINT;
  if( (rc = vbufReserve(p, NUM_KEY))!=SQLITE_OK ) return rc;
  if( eKey==KEY_INTEGER ){
    sqlite3_int64 i;
    if( !integerOf(pVal, bCmp, &i) ) return SQLITE_MISMATCH;
    encodeInt(p, i);
    return SQLITE_OK;
  }
  if( eKey==KEY_BLOB && (eType==SQLITE_INTEGER || eType==SQLITE_FLOAT) ){
    encodeNum(p, eType==SQLITE_FLOAT, sqlite3_value_int64(pVal),
              sqlite3_value_double(pVal));
    return SQLITE_OK;
  }
  if( eType==SQLITE_BLOB ){
    z = (const unsigned char*)sqlite3_value_blob(pVal);
  }else{
    /* text, or a number of a text table: TEXT affinity makes it text */
    z = sqlite3_value_text(pVal);
  }
  n = sqlite3_value_bytes(pVal);
  if( z==0 && n>0 ) return SQLITE_NOMEM;
  if( n+1>VLOG_MAX_KEY ) return SQLITE_TOOBIG;
  if( (rc = vbufReserve(p, n+1))!=SQLITE_OK ) return rc;
  p->a[0] = eType==SQLITE_BLOB ? TAG_BLOB : TAG_TEXT;
  if( n ) memcpy(&p->a[1], z, n);
  p->n = n+1;
  return SQLITE_OK;
}

static void resultCorrupt(sqlite3_context *ctx, const char *zWhat){
  sqlite3_result_error(ctx, zWhat, -1);
  sqlite3_result_error_code(ctx, SQLITE_CORRUPT);
}

static void resultKey(sqlite3_context *ctx, int eKey, const unsigned char *a, int n){
  if( eKey==KEY_INTEGER ){
    if( n!=8 ){
      resultCorrupt(ctx, "vlog: corrupt integer key");
      return;
    }
    sqlite3_result_int64(ctx, (sqlite3_int64)(getBE64(a) ^ ((sqlite3_uint64)1<<63)));
    return;
  }
  if( n<1 ){
    resultCorrupt(ctx, "vlog: corrupt key");
  }else if( a[0]==TAG_TEXT ){
    sqlite3_result_text(ctx, (const char*)&a[1], n-1, SQLITE_TRANSIENT);
  }else if( a[0]==TAG_BLOB ){
    sqlite3_result_blob(ctx, &a[1], n-1, SQLITE_TRANSIENT);
  }else if( isNumKey(a, n) && eKey==KEY_BLOB && a[11]<=1 ){
    double r = doubleFromOrder(getBE64(&a[1]));
    int iDelta = ((int)a[9]<<8 | a[10]) - 0x8000;
    if( a[11] ){
      sqlite3_result_double(ctx, r);
    }else if( r>=9223372036854775808.0 ){
      sqlite3_result_int64(ctx,
          (sqlite3_int64)(((sqlite3_uint64)1<<63) + (sqlite3_uint64)(sqlite3_int64)iDelta));
    }else if( r>=-9223372036854775808.0 ){
      sqlite3_result_int64(ctx, (sqlite3_int64)r + iDelta);
    }else{
      resultCorrupt(ctx, "vlog: corrupt number key");
    }
  }else{
    resultCorrupt(ctx, "vlog: corrupt key");
  }
}

/* Encode a value with its type byte. */
static int encodeValue(sqlite3_value *pVal, VBuf *p){
  int eType = sqlite3_value_type(pVal);
  int rc, n;
  switch( eType ){
    case SQLITE_INTEGER:
      if( (rc = vbufReserve(p, 9)) ) return rc;
      p->a[0] = 1;
      putBE64(&p->a[1], (sqlite3_uint64)sqlite3_value_int64(pVal));
      p->n = 9;
      return SQLITE_OK;
    case SQLITE_FLOAT: {
      double r = sqlite3_value_double(pVal);
      sqlite3_uint64 u;
      if( (rc = vbufReserve(p, 9)) ) return rc;
      memcpy(&u, &r, 8);
      p->a[0] = 2;
      putBE64(&p->a[1], u);
      p->n = 9;
      return SQLITE_OK;
    }
    case SQLITE_TEXT: case SQLITE_BLOB: {
      const void *z = eType==SQLITE_TEXT ? (const void*)sqlite3_value_text(pVal)
                                         : sqlite3_value_blob(pVal);
      n = sqlite3_value_bytes(pVal);
      if( z==0 && n>0 ) return SQLITE_NOMEM;
      if( n>VTAB_MAX_VALUE ) return SQLITE_TOOBIG;
      if( (rc = vbufReserve(p, n+1)) ) return rc;
      p->a[0] = eType==SQLITE_TEXT ? 3 : 4;
      if( n ) memcpy(&p->a[1], z, n);
      p->n = n+1;
      return SQLITE_OK;
    }
    default:
      if( (rc = vbufReserve(p, 1)) ) return rc;
      p->a[0] = 0;
      p->n = 1;
      return SQLITE_OK;
  }
}

static void resultValue(sqlite3_context *ctx, const unsigned char *a, int n){
  if( n<1 ) goto corrupt;
  switch( a[0] ){
    case 0: sqlite3_result_null(ctx); return;
    case 1:
      if( n!=9 ) goto corrupt;
      sqlite3_result_int64(ctx, (sqlite3_int64)getBE64(&a[1]));
      return;
    case 2: {
      sqlite3_uint64 u;
      double r;
      if( n!=9 ) goto corrupt;
      u = getBE64(&a[1]);
      memcpy(&r, &u, 8);
      sqlite3_result_double(ctx, r);
      return;
    }
    case 3: sqlite3_result_text(ctx, (const char*)&a[1], n-1, SQLITE_TRANSIENT); return;
    case 4: sqlite3_result_blob(ctx, &a[1], n-1, SQLITE_TRANSIENT); return;
  }
 corrupt:
  sqlite3_result_error(ctx, "vlog: corrupt value", -1);
  sqlite3_result_error_code(ctx, SQLITE_CORRUPT);
}

/* ---------------------------------------------------------------------
** The virtual table
*/
typedef struct VTab VTab;
typedef struct VCsr VCsr;
struct VTab {
  sqlite3_vtab base;           /* Must be first */
  sqlite3 *db;
  VStore *pVS;
  char *zName;                 /* table name */
  char *zSchema;
  unsigned int iTree;
  int eKey;                    /* KEY_* */
  int bUtf8;                   /* the database's text encoding is UTF-8 */
  int bShared;                 /* in the store of its database file (on the
                               ** vlog VFS): one transaction with its pages */
  VBuf key, val;               /* scratch */
};
struct VCsr {
  sqlite3_vtab_cursor base;    /* Must be first */
  VlogCursor *pCsr;
  int bDesc;
  int bEq;                     /* an = lookup: at most one row */
  int bEof;
  int bReadTxn;                /* this cursor holds the store's read txn */
  VBuf lo, hi;                 /* bounds of the scan, or of the point */
  VBuf *aPoint;                /* = and IN: the keys, in scan order */
  int nPoint, nPointAlloc;     /* points found; slots allocated */
  int iPoint;                  /* the point the cursor is at */
};

/* Set the vtab's error message from an engine error; the SQLite code.
** SQLITE_TOOBIG here is always a value too long (keys that are too long
** are refused before they reach the engine, with their own message): it
** is said in the user's bytes, not the engine's. */
static int vtabErr(VTab *p, int rc){
  sqlite3_free(p->base.zErrMsg);
  if( (rc & 0xff)==SQLITE_TOOBIG ){
    p->base.zErrMsg = sqlite3_mprintf("vlog: %s: value longer than %d bytes",
                                      p->zName, VTAB_MAX_VALUE);
    return SQLITE_TOOBIG;
  }
  p->base.zErrMsg = vlogVStoreErr(p->pVS, rc);
  if( (rc & 0xff)==VLOG_NOTFOUND ) return SQLITE_ERROR;
  return rc & 0xff;
}

/*
** A table in its database's own store (bShared) shares the engine
** transaction with the VFS (vfs/vfs.c), which ends it when SQLite's pages
** are in it (VLOG_VFS_PART) or SQLite's commit reaches the file.  What
** the VFS says of the transaction now:
*/
static int vtabPart(VTab *p){
  sqlite3_file *pFile = 0;
  if( !p->bShared ) return 0;
  if( sqlite3_file_control(p->db, p->zSchema, SQLITE_FCNTL_FILE_POINTER,
                           &pFile)!=SQLITE_OK ){
    return 0;
  }
  return vlogVfsTxnPart(pFile);
}

/*
** End the engine transaction that a change of the schema (xCreate,
** xDestroy, xRename) began for itself (bAuto), rc the change's result.
** In a store of its own it commits now (SQLite calls no method of a
** dropped table afterwards).  In the database's own store SQLite's schema
** change is in the same transaction, and the VFS commits or rolls back
** both at SQLite's commit or rollback; only a change that failed, in a
** transaction nobody else has a part in, is rolled back here.
*/
static int schemaTxnEnd(VTab *p, int bAuto, int bKeep, int rc){
  VlogStore *pS = p->pVS->pStore;
  if( !bAuto ) return rc;
  if( rc==VLOG_OK ){
    if( !bKeep && !p->bShared ) rc = vlogCommit(pS);
  }else if( !(vtabPart(p) & VLOG_VFS_PART) ){
    (void)vlogRollback(pS);                       /* rc says what failed */
  }
  return rc;
}

/* The module arguments of a vlog table. */
typedef struct VOptions VOptions;
struct VOptions {
  char *zFile;                 /* file=, or 0 (sqlite3_malloc) */
  int eKey;                    /* key= */
  int nInline;                 /* inline_max= */
  int iLevel;                  /* zstd_level= */
  int bZInline;                /* compress_inline= */
  sqlite3_int64 nMmap;         /* mmap_size=, or -1 when not given */
};

static int isIdChar(char c){
  return (c>='a' && c<='z') || (c>='A' && c<='Z') || (c>='0' && c<='9') || c=='_';
}
static int isBlank(char c){
  return c==' ' || c=='\t' || c=='\n' || c=='\r' || c=='\f';
}

/*
** One module argument "name = value", where value is an SQL literal: a
** string in '' or "" (a doubled quote inside stands for one), an integer,
** or a bare word (key=text).  *pzName and *pzVal get copies
** (sqlite3_malloc) on success; otherwise *pzErr says what is wrong.
*/
static int parseOption(const char *z, char **pzName, char **pzVal, char **pzErr){
  const char *zName, *zVal;
  int nName, nVal = 0, i;
  char *zOut;
  *pzName = *pzVal = 0;
  while( isBlank(*z) ) z++;
  for(zName=z; isIdChar(*z); z++){}
  nName = (int)(z-zName);
  while( isBlank(*z) ) z++;
  if( nName==0 || *z!='=' ){
    if( nName>0 && *z==0 ){
      *pzErr = sqlite3_mprintf("vlog: option %.*s has no value (write name=value)",
                               nName, zName);
    }else{
      *pzErr = sqlite3_mprintf("vlog: cannot read option \"%s\" (write name=value, "
                               "the value an SQL literal)", zName);
    }
    return SQLITE_ERROR;
  }
  z++;
  while( isBlank(*z) ) z++;
  zVal = z;
  zOut = (char*)sqlite3_malloc64(strlen(z)+1);
  if( zOut==0 ) return SQLITE_NOMEM;
  if( *z=='\'' || *z=='"' ){
    char q = *z++;
    for(;;){
      if( *z==0 ){
        *pzErr = sqlite3_mprintf("vlog: option %.*s: unterminated string %s",
                                 nName, zName, zVal);
        sqlite3_free(zOut);
        return SQLITE_ERROR;
      }
      if( *z==q ){
        if( z[1]!=q ) break;
        z++;
      }
      zOut[nVal++] = *z++;
    }
    z++;
  }else{
    if( *z=='-' || *z=='+' ) zOut[nVal++] = *z++;
    while( isIdChar(*z) ) zOut[nVal++] = *z++;
  }
  zOut[nVal] = 0;
  for(i=0; isBlank(z[i]); i++){}
  if( z[i]!=0 || nVal==0 ){
    if( nVal==0 && z[i]==0 ){
      *pzErr = sqlite3_mprintf("vlog: option %.*s has no value", nName, zName);
    }else{
      *pzErr = sqlite3_mprintf("vlog: option %.*s: %s is not one SQL literal "
                               "(quote a value that has spaces or dots: "
                               "%.*s='...')", nName, zName, zVal, nName, zName);
    }
    sqlite3_free(zOut);
    return SQLITE_ERROR;
  }
  *pzName = sqlite3_mprintf("%.*s", nName, zName);
  if( *pzName==0 ){
    sqlite3_free(zOut);
    return SQLITE_NOMEM;
  }
  *pzVal = zOut;
  return SQLITE_OK;
}

/* An integer option's value: decimal digits with an optional sign, or
** 0x and hex digits.  1 if it is one and in [lo, hi]. */
static int optionInt(const char *z, long long lo, long long hi, long long *pv){
  char *zEnd = 0;
  long long v;
  const char *zDigits = (z[0]=='-' || z[0]=='+') ? z+1 : z;
  int bHex = zDigits[0]=='0' && (zDigits[1]=='x' || zDigits[1]=='X');
  if( (zDigits[0]<'0' || zDigits[0]>'9') || (bHex && zDigits!=z) ) return 0;
  errno = 0;
  v = strtoll(z, &zEnd, bHex ? 16 : 10);
  if( *zEnd!=0 || errno || v<lo || v>hi ) return 0;
  *pv = v;
  return 1;
}

/* Parse the module arguments into *pO (defaults already set). */
static int parseOptions(int argc, const char *const *argv, VOptions *pO,
                        char **pzErr){
  static const char *azOpt[] = { "file", "key", "inline_max", "zstd_level",
                                 "mmap_size", "compress_inline" };
  unsigned int mSeen = 0;
  int i;
  for(i=3; i<argc; i++){
    char *zName, *zVal;
    int rc = parseOption(argv[i], &zName, &zVal, pzErr);
    int iOpt;
    long long v = 0;
    if( rc ) return rc;
    for(iOpt=0; iOpt<6 && sqlite3_stricmp(zName, azOpt[iOpt]); iOpt++){}
    if( iOpt==6 ){
      *pzErr = sqlite3_mprintf("vlog: unknown option %s (the options are file, key, "
                               "inline_max, zstd_level, mmap_size, compress_inline)",
                               zName);
    }else if( mSeen & (1u<<iOpt) ){
      *pzErr = sqlite3_mprintf("vlog: option %s is given twice", azOpt[iOpt]);
    }else if( iOpt==0 ){
      pO->zFile = zVal;
      zVal = 0;
    }else if( iOpt==1 ){
      if( sqlite3_stricmp(zVal, "integer")==0 ) pO->eKey = KEY_INTEGER;
      else if( sqlite3_stricmp(zVal, "text")==0 ) pO->eKey = KEY_TEXT;
      else if( sqlite3_stricmp(zVal, "blob")==0 ) pO->eKey = KEY_BLOB;
      else *pzErr = sqlite3_mprintf("vlog: key=%s: the key type must be integer, "
                                    "text or blob", zVal);
    }else if( iOpt==4 ){
      if( !optionInt(zVal, 0, LLONG_MAX, &v) ){
        *pzErr = sqlite3_mprintf("vlog: mmap_size=%s: must be a number of "
                                 "bytes, 0 or more", zVal);
      }
      pO->nMmap = v;
    }else{
      long long hi = iOpt==2 ? MAX_INLINE_MAX : iOpt==3 ? 19 : 1;
      if( !optionInt(zVal, 0, hi, &v) ){
        *pzErr = sqlite3_mprintf("vlog: %s=%s: must be an integer from 0 to %lld",
                                 azOpt[iOpt], zVal, hi);
      }else if( iOpt==2 ){
        pO->nInline = (int)v;
      }else if( iOpt==3 ){
        pO->iLevel = (int)v;
      }else{
        pO->bZInline = (int)v;
      }
    }
    if( iOpt<6 ) mSeen |= 1u<<iOpt;
    sqlite3_free(zName);
    sqlite3_free(zVal);
    if( *pzErr ) return SQLITE_ERROR;
  }
  return SQLITE_OK;
}

/* Catalog entry: u32 tree (BE), u8 key type. */
static int catalogGet(VStore *pVS, const char *zName, unsigned int *piTree, int *peKey){
  const void *pVal;
  int nVal;
  int rc = vlogGet(pVS->pStore, CATALOG_TREE, zName, (int)strlen(zName), &pVal, &nVal);
  if( rc==VLOG_OK ){
    const unsigned char *a = (const unsigned char*)pVal;
    if( nVal!=5 ) return VLOG_CORRUPT;
    *piTree = ((unsigned)a[0]<<24) | ((unsigned)a[1]<<16) | ((unsigned)a[2]<<8) | a[3];
    *peKey = a[4];
  }
  return rc;
}

static int catalogPut(VStore *pVS, const char *zName, unsigned int iTree, int eKey){
  unsigned char a[5];
  a[0] = (unsigned char)(iTree>>24); a[1] = (unsigned char)(iTree>>16);
  a[2] = (unsigned char)(iTree>>8);  a[3] = (unsigned char)iTree;
  a[4] = (unsigned char)eKey;
  return vlogPut(pVS->pStore, CATALOG_TREE, zName, (int)strlen(zName), a, 5);
}

static int connectionSync(sqlite3 *db, const char *zSchema);

/* Whether database zSchema of db stores text as UTF-8 (if it cannot
** tell: no, which only costs the planner its ranges on text). */
static int databaseIsUtf8(sqlite3 *db, const char *zSchema){
  sqlite3_stmt *pStmt = 0;
  int bUtf8 = 0;
  char *zSql = sqlite3_mprintf("PRAGMA \"%w\".encoding", zSchema);
  if( zSql && sqlite3_prepare_v2(db, zSql, -1, &pStmt, 0)==SQLITE_OK
   && sqlite3_step(pStmt)==SQLITE_ROW ){
    const char *z = (const char*)sqlite3_column_text(pStmt, 0);
    bUtf8 = z && sqlite3_stricmp(z, "UTF-8")==0;
  }
  sqlite3_finalize(pStmt);
  sqlite3_free(zSql);
  return bUtf8;
}

int vlogCatalogList(VlogStore *pStore, VlogCatalogEntry **paEntry, int *pnEntry){
  VlogCursor *pCsr = 0;
  VlogCatalogEntry *a = 0;
  int n = 0, nAlloc = 0;
  int bAuto = vlogTxnState(pStore)==0;
  int rc = bAuto ? vlogBegin(pStore, 0) : VLOG_OK;
  *paEntry = 0;
  *pnEntry = 0;
  if( rc==VLOG_OK ) rc = vlogCursorOpen(pStore, CATALOG_TREE, &pCsr);
  if( rc==VLOG_OK ) rc = vlogCursorFirst(pCsr);
  while( rc==VLOG_OK && vlogCursorValid(pCsr) ){
    const void *pKey, *pVal;
    int nKey, nVal;
    rc = vlogCursorKey(pCsr, &pKey, &nKey);
    if( rc==VLOG_OK ) rc = vlogCursorValue(pCsr, &pVal, &nVal);
    if( rc==VLOG_OK && nVal!=5 ) rc = VLOG_CORRUPT;
    if( rc==VLOG_OK && n>=nAlloc ){
      VlogCatalogEntry *aNew;
      nAlloc = nAlloc ? nAlloc*2 : 8;
      aNew = (VlogCatalogEntry*)sqlite3_realloc(a, nAlloc*(int)sizeof(*a));
      if( aNew==0 ) rc = VLOG_NOMEM;
      else a = aNew;
    }
    if( rc==VLOG_OK ){
      const unsigned char *v = (const unsigned char*)pVal;
      a[n].zName = sqlite3_mprintf("%.*s", nKey, (const char*)pKey);
      a[n].iTree = ((unsigned)v[0]<<24) | ((unsigned)v[1]<<16)
                 | ((unsigned)v[2]<<8) | v[3];
      a[n].eKey = v[4];
      if( a[n].zName==0 ) rc = VLOG_NOMEM;
      else n++;
    }
    if( rc==VLOG_OK ) rc = vlogCursorNext(pCsr);
  }
  vlogCursorClose(pCsr);
  if( bAuto ){
    int rc2 = vlogCommit(pStore);   /* a read transaction: an unlock */
    if( rc==VLOG_OK ) rc = rc2;
  }
  if( rc ){
    vlogCatalogFree(a, n);
    return rc;
  }
  *paEntry = a;
  *pnEntry = n;
  return VLOG_OK;
}

void vlogCatalogFree(VlogCatalogEntry *a, int n){
  int i;
  for(i=0; i<n; i++) sqlite3_free(a[i].zName);
  sqlite3_free(a);
}

static int vtabInit(sqlite3 *db, void *pAux, int argc, const char *const *argv,
                    sqlite3_vtab **ppVtab, char **pzErr, int bCreate){
  VTab *p = 0;
  VStore *pVS = 0;
  char *zFile = 0, *zPath = 0;
  VOptions o;
  int eKey, rc;
  const char *zType;
  (void)pAux;

  memset(&o, 0, sizeof(o));
  o.eKey = KEY_BLOB;
  o.nInline = DEFAULT_INLINE_MAX;
  o.iLevel = DEFAULT_ZSTD_LEVEL;
  o.nMmap = -1;
  rc = parseOptions(argc, argv, &o, pzErr);
  zFile = o.zFile;
  eKey = o.eKey;
  if( rc ) goto out;
  if( zFile==0 && vlogVStoreBorrow(db, argv[1], &pVS)==SQLITE_OK ){
    /* the database is on the vlog VFS: the table lives in its store */
  }else if( zFile==0 ){
    const char *zDb = sqlite3_db_filename(db, argv[1]);
    if( zDb==0 || zDb[0]==0 ){
      *pzErr = sqlite3_mprintf("vlog: table %s is in an in-memory or temporary "
          "database: say where its store goes with file='...'", argv[2]);
      rc = SQLITE_ERROR;
      goto out;
    }
    zFile = sqlite3_mprintf("%s.vlog", zDb);
    if( zFile==0 ){ rc = SQLITE_NOMEM; goto out; }
  }
  if( pVS ){
    zPath = sqlite3_mprintf("%s", pVS->zPath);
  }else{
    char *zRel = storePath(db, argv[1], zFile);
    zPath = zRel ? vlogFullPath(zRel) : 0;
    sqlite3_free(zRel);
  }
  p = (VTab*)sqlite3_malloc(sizeof(VTab));
  if( zPath==0 || p==0 ){
    vlogVStoreRelease(pVS);
    rc = SQLITE_NOMEM;
    goto out;
  }
  memset(p, 0, sizeof(*p));
  p->pVS = pVS;
  p->bShared = pVS!=0;
  p->db = db;
  p->eKey = eKey;
  p->zName = sqlite3_mprintf("%s", argv[2]);
  p->zSchema = sqlite3_mprintf("%s", argv[1]);
  if( p->zName==0 || p->zSchema==0 ){ rc = SQLITE_NOMEM; goto out; }
  if( p->pVS==0 ){
    rc = vlogVStoreAcquire(db, argv[1], zPath, bCreate, &p->pVS, pzErr);
    if( rc ) goto out;
  }
  if( o.nMmap>=0 ){
    rc = vlogStoreSetMmapSize(p->pVS->pStore, o.nMmap);
    if( rc ){
      *pzErr = vlogVStoreErr(p->pVS, rc);
      rc &= 0xff;
      goto out;
    }
  }

  if( bCreate ){
    unsigned int iTree;
    int eOld;
    int bAuto = vlogTxnState(p->pVS->pStore)!=2;
    /* Inside BEGIN ... COMMIT, SQLite lists the new table in the
    ** transaction without calling its xBegin: the engine's write
    ** transaction starts here and stays open, so that the catalog entry
    ** and the rows written next commit or roll back with SQLite's
    ** transaction (xSync/xCommit, xRollback), as xBegin's would. */
    int bKeep = bAuto && (!sqlite3_get_autocommit(db) || p->bShared);
    /* cannot fail: connectionSync() gives a level that exists */
    if( bKeep ) (void)vlogStoreSetSync(p->pVS->pStore, connectionSync(db, argv[1]));
    rc = bAuto ? vlogBegin(p->pVS->pStore, 1) : VLOG_OK;
    if( rc==VLOG_OK ){
      rc = catalogGet(p->pVS, p->zName, &iTree, &eOld);
      if( rc==VLOG_OK ){
        *pzErr = sqlite3_mprintf("vlog: store %s already has a table named %s",
                                 zPath, p->zName);
        rc = SQLITE_ERROR;
      }else if( rc==VLOG_NOTFOUND ){
        /* the engine gives the id and keeps the value policy with it */
        VlogTreePolicy pol;
        pol.nInlineMax = o.nInline;
        pol.iZstdLevel = o.iLevel;
        pol.bCompressInline = o.bZInline;
        rc = vlogTreeCreate(p->pVS->pStore, &pol, &p->iTree);
        if( rc==VLOG_OK ) rc = catalogPut(p->pVS, p->zName, p->iTree, eKey);
        if( rc && rc!=SQLITE_ERROR ){
          *pzErr = vlogVStoreErr(p->pVS, rc);
        }
      }else{
        *pzErr = vlogVStoreErr(p->pVS, rc);
      }
    }else{
      *pzErr = vlogVStoreErr(p->pVS, rc);
    }
    if( rc==VLOG_OK ){
      rc = schemaTxnEnd(p, bAuto, bKeep, rc);
      if( rc ) *pzErr = vlogVStoreErr(p->pVS, rc);
    }else{
      (void)schemaTxnEnd(p, bAuto, bKeep, rc);  /* rc says what failed */
    }
    rc &= 0xff;
    if( rc ) goto out;
  }else{
    int eOld = 0;
    rc = catalogGet(p->pVS, p->zName, &p->iTree, &eOld);
    if( rc==VLOG_NOTFOUND ){
      *pzErr = sqlite3_mprintf("vlog: store %s has no table named %s (was the "
                               "store file replaced or removed?)", zPath, p->zName);
      rc = SQLITE_CORRUPT;
      goto out;
    }
    if( rc ){
      *pzErr = vlogVStoreErr(p->pVS, rc);
      rc &= 0xff;
      goto out;
    }
    if( eOld==KEY_BLOB_UNTYPED ){
      *pzErr = sqlite3_mprintf("vlog: table %s in store %s was made by vlog 0.1, "
          "whose blob keys did not keep their type; this version cannot read "
          "it: copy its rows out with vlog 0.1", p->zName, zPath);
      rc = SQLITE_ERROR;
      goto out;
    }
    if( eOld!=eKey ){
      *pzErr = sqlite3_mprintf("vlog: table %s in store %s was made with another "
                               "key type", p->zName, zPath);
      rc = SQLITE_CORRUPT;
      goto out;
    }
  }

  p->bUtf8 = databaseIsUtf8(db, p->zSchema);
  zType = eKey==KEY_INTEGER ? "INTEGER" : eKey==KEY_TEXT ? "TEXT" : "BLOB";
  {
    char *zSql = sqlite3_mprintf("CREATE TABLE x(key %s PRIMARY KEY NOT NULL, value)"
                                 " WITHOUT ROWID", zType);
    if( zSql==0 ){ rc = SQLITE_NOMEM; goto out; }
    rc = sqlite3_declare_vtab(db, zSql);
    sqlite3_free(zSql);
  }
  if( rc==SQLITE_OK ){
    sqlite3_vtab_config(db, SQLITE_VTAB_CONSTRAINT_SUPPORT, 1);
  }

 out:
  sqlite3_free(zFile);
  sqlite3_free(zPath);
  if( rc ){
    if( p ){
      vlogVStoreRelease(p->pVS);
      sqlite3_free(p->zName);
      sqlite3_free(p->zSchema);
      sqlite3_free(p);
    }
    return rc;
  }
  *ppVtab = &p->base;
  return SQLITE_OK;
}

static int vtabCreate(sqlite3 *db, void *pAux, int argc, const char *const *argv,
                      sqlite3_vtab **ppVtab, char **pzErr){
  return vtabInit(db, pAux, argc, argv, ppVtab, pzErr, 1);
}
static int vtabConnect(sqlite3 *db, void *pAux, int argc, const char *const *argv,
                       sqlite3_vtab **ppVtab, char **pzErr){
  return vtabInit(db, pAux, argc, argv, ppVtab, pzErr, 0);
}

static int vtabDisconnect(sqlite3_vtab *pVtab){
  VTab *p = (VTab*)pVtab;
  vlogVStoreRelease(p->pVS);
  sqlite3_free(p->zName);
  sqlite3_free(p->zSchema);
  sqlite3_free(p->key.a);
  sqlite3_free(p->val.a);
  sqlite3_free(p);
  return SQLITE_OK;
}

/* DROP TABLE: the tree goes whole (vlogTreeDrop: nothing per key until
** the commit frees its nodes and makes its values stale), then the
** catalog entry. */
static int vtabDestroy(sqlite3_vtab *pVtab){
  VTab *p = (VTab*)pVtab;
  VlogStore *pS = p->pVS->pStore;
  int bAuto = vlogTxnState(pS)!=2;
  int rc = bAuto ? vlogBegin(pS, 1) : VLOG_OK;
  if( rc==VLOG_OK ) rc = vlogTreeDrop(pS, p->iTree);
  if( rc==VLOG_OK ) rc = vlogDelete(pS, CATALOG_TREE, p->zName, (int)strlen(p->zName));
  rc = schemaTxnEnd(p, bAuto, 0, rc);
  if( rc ) return vtabErr(p, rc);
  return vtabDisconnect(pVtab);
}

static int vtabRename(sqlite3_vtab *pVtab, const char *zNew){
  VTab *p = (VTab*)pVtab;
  VlogStore *pS = p->pVS->pStore;
  unsigned int iTree;
  int eKey;
  int bAuto = vlogTxnState(pS)!=2;
  char *zNewName = sqlite3_mprintf("%s", zNew);
  int rc;
  if( zNewName==0 ) return SQLITE_NOMEM;
  rc = bAuto ? vlogBegin(pS, 1) : VLOG_OK;
  if( rc==VLOG_OK ){
    rc = catalogGet(p->pVS, zNew, &iTree, &eKey);
    if( rc==VLOG_OK ){
      sqlite3_free(p->base.zErrMsg);
      p->base.zErrMsg = sqlite3_mprintf("vlog: store %s already has a table named %s",
                                        p->pVS->zPath, zNew);
      (void)schemaTxnEnd(p, bAuto, 0, VLOG_ERROR);  /* the name clash is the error */
      sqlite3_free(zNewName);
      return SQLITE_ERROR;
    }
    if( rc==VLOG_NOTFOUND ) rc = VLOG_OK;
  }
  if( rc==VLOG_OK ) rc = vlogDelete(pS, CATALOG_TREE, p->zName, (int)strlen(p->zName));
  if( rc==VLOG_OK ) rc = catalogPut(p->pVS, zNew, p->iTree, p->eKey);
  rc = schemaTxnEnd(p, bAuto, 0, rc);
  if( rc ){
    sqlite3_free(zNewName);
    return vtabErr(p, rc);
  }
  sqlite3_free(p->zName);
  p->zName = zNewName;
  return SQLITE_OK;
}

/* idxNum bits */
#define IDX_EQ     0x01       /* key = ? or key IS ? */
#define IDX_GT     0x02
#define IDX_GE     0x04
#define IDX_LT     0x08
#define IDX_LE     0x10
#define IDX_DESC   0x20
#define IDX_IN     0x40       /* the = is an IN list, all of it in one xFilter */

/*
** The plan.  A constraint is used only where the engine's key order is
** the comparison SQLite will make: on a text or blob table, only with the
** BINARY collation (a NOCASE, RTRIM or application collation is left to
** SQLite), and ranges and ORDER BY only in a UTF-8 database (BINARY
** compares UTF-16 text as UTF-16 bytes, in another order), and no ranges
** beside a LIKE or GLOB (see below).  No constraint
** is omitted: SQLite checks every row again, so xFilter returns a superset
** of the matching rows.
*/
static int vtabBestIndex(sqlite3_vtab *pVtab, sqlite3_index_info *pInfo){
  VTab *p = (VTab*)pVtab;
  int i, iEq = -1, iLo = -1, iHi = -1;
  int idxNum = 0, nArg = 0;
  int bText = p->eKey!=KEY_INTEGER;
  int bOrdered = !bText || p->bUtf8;    /* byte order is SQLite's order */
  int bRanges = bOrdered;
  double rRows = 1000000.0;
  for(i=0; i<pInfo->nConstraint; i++){
    const struct sqlite3_index_constraint *c = &pInfo->aConstraint[i];
    if( c->iColumn==0 && (c->op==SQLITE_INDEX_CONSTRAINT_LIKE
                          || c->op==SQLITE_INDEX_CONSTRAINT_GLOB) ){
      /* SQLite 3.40 adds key>='a' AND key<'b' for key GLOB 'a*' as if the
      ** key were always text; but GLOB and LIKE match numbers and blobs
      ** too (as their text), which sort outside that range.  Those
      ** ranges cannot be told from the user's own: use none. */
      bRanges = 0;
    }
  }
  for(i=0; i<pInfo->nConstraint; i++){
    const struct sqlite3_index_constraint *c = &pInfo->aConstraint[i];
    if( !c->usable || c->iColumn!=0 ) continue;
    if( bText ){
      const char *zColl = sqlite3_vtab_collation(pInfo, i);
      if( zColl && sqlite3_stricmp(zColl, "BINARY")!=0 ) continue;
    }
    switch( c->op ){
      case SQLITE_INDEX_CONSTRAINT_EQ:
      case SQLITE_INDEX_CONSTRAINT_IS:
        /* a single value beats an IN list */
        if( iEq<0 || (c->op==SQLITE_INDEX_CONSTRAINT_EQ
                      && sqlite3_vtab_in(pInfo, iEq, -1)
                      && !sqlite3_vtab_in(pInfo, i, -1)) ){
          iEq = i;
        }
        break;
      case SQLITE_INDEX_CONSTRAINT_GT:
      case SQLITE_INDEX_CONSTRAINT_GE: if( bRanges && iLo<0 ) iLo = i; break;
      case SQLITE_INDEX_CONSTRAINT_LT:
      case SQLITE_INDEX_CONSTRAINT_LE: if( bRanges && iHi<0 ) iHi = i; break;
    }
  }
  if( iEq>=0 ){
    idxNum = IDX_EQ;
    pInfo->aConstraintUsage[iEq].argvIndex = ++nArg;
    if( pInfo->aConstraint[iEq].op==SQLITE_INDEX_CONSTRAINT_EQ
     && sqlite3_vtab_in(pInfo, iEq, -1) ){
      /* every value of the list at once, so that xFilter can return the
      ** rows in key order (and ORDER BY needs no sort) */
      sqlite3_vtab_in(pInfo, iEq, 1);
      idxNum |= IDX_IN;
      rRows = 10.0;
    }else{
      rRows = 1.0;
      pInfo->idxFlags |= SQLITE_INDEX_SCAN_UNIQUE;
    }
  }else{
    if( iLo>=0 ){
      idxNum |= pInfo->aConstraint[iLo].op==SQLITE_INDEX_CONSTRAINT_GT ? IDX_GT : IDX_GE;
      pInfo->aConstraintUsage[iLo].argvIndex = ++nArg;
      rRows /= 4;
    }
    if( iHi>=0 ){
      idxNum |= pInfo->aConstraint[iHi].op==SQLITE_INDEX_CONSTRAINT_LT ? IDX_LT : IDX_LE;
      pInfo->aConstraintUsage[iHi].argvIndex = ++nArg;
      rRows /= 4;
    }
  }
  if( pInfo->nOrderBy==1 && pInfo->aOrderBy[0].iColumn==0
   && (bOrdered || idxNum==IDX_EQ) ){
    if( pInfo->aOrderBy[0].desc ) idxNum |= IDX_DESC;
    pInfo->orderByConsumed = 1;
  }
  pInfo->idxNum = idxNum;
  pInfo->estimatedRows = (sqlite3_int64)rRows;
  /* a seek costs a descent (about 20); each row about 1 */
  pInfo->estimatedCost = 20.0*(idxNum & IDX_IN ? 10 : 1) + rRows;
  return SQLITE_OK;
}

static int vtabOpen(sqlite3_vtab *pVtab, sqlite3_vtab_cursor **ppCsr){
  VTab *p = (VTab*)pVtab;
  VCsr *pC = (VCsr*)sqlite3_malloc(sizeof(VCsr));
  int rc;
  if( pC==0 ) return SQLITE_NOMEM;
  memset(pC, 0, sizeof(*pC));
  rc = vlogCursorOpen(p->pVS->pStore, p->iTree, &pC->pCsr);
  if( rc ){
    sqlite3_free(pC);
    return vtabErr(p, rc);
  }
  pC->bEof = 1;
  *ppCsr = &pC->base;
  return SQLITE_OK;
}

static void csrFreePoints(VCsr *pC){
  int i;
  for(i=0; i<pC->nPointAlloc; i++) sqlite3_free(pC->aPoint[i].a);
  sqlite3_free(pC->aPoint);
  pC->aPoint = 0;
  pC->nPoint = pC->nPointAlloc = 0;
}

/* End the read transaction this cursor holds, if it is the last holder. */
static void csrEndRead(VTab *p, VCsr *pC){
  if( pC->bReadTxn ){
    pC->bReadTxn = 0;
    if( --p->pVS->nReadCsr==0 && vlogTxnState(p->pVS->pStore)==1 ){
      /* xClose cannot report it; an unlock that failed leaves what it
      ** held to the next transaction's unlock */
      (void)vlogCommit(p->pVS->pStore);
    }
  }
}

static int vtabClose(sqlite3_vtab_cursor *pCur){
  VCsr *pC = (VCsr*)pCur;
  VTab *p = (VTab*)pCur->pVtab;
  vlogCursorClose(pC->pCsr);
  csrEndRead(p, pC);
  sqlite3_free(pC->lo.a);
  sqlite3_free(pC->hi.a);
  csrFreePoints(pC);
  sqlite3_free(pC);
  return SQLITE_OK;
}

/*
** A bound for a range scan from constraint value pVal: 0 no bound (the
** constraint cannot narrow the scan soundly), 1 a bound in pBuf (with
** *pbOpen meaning the bound itself is excluded), -1 nothing can match.
** SQLite compares after the key column's affinity, which encodeKey()
** applies; the tags order the types as SQLite does.
*/
static int rangeBound(VTab *p, sqlite3_value *pVal, int bLower, int bStrict,
                      VBuf *pBuf, int *pbOpen){
  int eType = sqlite3_value_type(pVal);
  int rc;
  *pbOpen = bStrict;
  if( eType==SQLITE_NULL ) return -1;          /* comparisons with NULL fail */
  if( p->eKey==KEY_INTEGER ){
    sqlite3_value *pNum;
    sqlite3_int64 i;
    double r;
    if( vbufReserve(pBuf, 8) ) return 0;
    if( integerOf(pVal, 1, &i) ){
      encodeInt(pBuf, i);
      return 1;
    }
    /* a real, maybe from text under INTEGER affinity; else text or a blob,
    ** which sort after every integer */
    pNum = sqlite3_value_dup(pVal);
    if( pNum==0 ) return 0;
    eType = sqlite3_value_numeric_type(pNum);
    r = sqlite3_value_double(pNum);
    sqlite3_value_free(pNum);
    if( eType!=SQLITE_FLOAT ) return bLower ? -1 : 0;
    if( r>=9223372036854775808.0 ) return bLower ? -1 : 0;
    if( r<-9223372036854775808.0 ) return bLower ? 0 : -1;
    /* between two integers: the bound is the nearer one, inclusive */
    i = (sqlite3_int64)r;                      /* toward zero */
    if( bLower && r>0 ) i++;
    if( !bLower && r<0 ) i--;
    *pbOpen = 0;
    encodeInt(pBuf, i);
    return 1;
  }
  rc = encodeKey(p->eKey, pVal, 1, pBuf);
  if( rc ) return 0;                           /* too long a key: no bound */
  if( isNumKey(pBuf->a, pBuf->n) ){
    /* take in both types of an equal number: from its identity, or to
    ** past it (SQLite checks the strictness on each row) */
    *pbOpen = 0;
    if( bLower ) pBuf->n = NUM_ID;
    else pBuf->a[NUM_ID] = 0xff;
  }
  return 1;
}

static int csrSettle(VTab *p, VCsr *pC, int rc){
  if( rc ) return vtabErr(p, rc);
  pC->bEof = !vlogCursorValid(pC->pCsr);
  return SQLITE_OK;
}

static int pointCmp(const void *pA, const void *pB){
  const VBuf *a = (const VBuf*)pA, *b = (const VBuf*)pB;
  int c = memcmp(a->a, b->a, a->n<b->n ? a->n : b->n);
  return c ? c : a->n - b->n;
}

/* Add the key value pVal of an = or IN to the cursor's points, unless no
** key can equal it. */
static int csrAddPoint(VTab *p, VCsr *pC, sqlite3_value *pVal){
  VBuf *pPt;
  int rc;
  if( pC->nPoint==pC->nPointAlloc ){
    int nNew = pC->nPointAlloc ? pC->nPointAlloc*2 : 4;
    VBuf *aNew = (VBuf*)sqlite3_realloc64(pC->aPoint, sizeof(VBuf)*nNew);
    if( aNew==0 ) return SQLITE_NOMEM;
    memset(&aNew[pC->nPointAlloc], 0, sizeof(VBuf)*(nNew-pC->nPointAlloc));
    pC->aPoint = aNew;
    pC->nPointAlloc = nNew;
  }
  pPt = &pC->aPoint[pC->nPoint];
  rc = encodeKey(p->eKey, pVal, 1, pPt);
  if( rc==SQLITE_OK ){
    if( isNumKey(pPt->a, pPt->n) ) pPt->a[NUM_ID] = 0;   /* the identity */
    pC->nPoint++;
  }else if( rc==SQLITE_CONSTRAINT || rc==SQLITE_MISMATCH || rc==SQLITE_TOOBIG ){
    rc = SQLITE_OK;               /* NULL, or nothing a key can be */
  }
  return rc;
}

/* Position the cursor on the row of point pC->iPoint, or past the last
** point.  A number's point takes in both types of its identity. */
static int csrSeekPoint(VTab *p, VCsr *pC){
  int rc = VLOG_OK;
  while( pC->iPoint<pC->nPoint ){
    int i = pC->bDesc ? pC->nPoint-1-pC->iPoint : pC->iPoint;
    const VBuf *pPt = &pC->aPoint[i];
    if( isNumKey(pPt->a, pPt->n) ){
      if( vbufReserve(&pC->hi, NUM_KEY) ) return SQLITE_NOMEM;
      memcpy(pC->hi.a, pPt->a, NUM_KEY);
      pC->hi.a[NUM_ID] = 1;
      rc = vlogCursorBounds(pC->pCsr, pPt->a, NUM_KEY, 0, pC->hi.a, NUM_KEY, 0);
      if( rc==VLOG_OK ) rc = vlogCursorFirst(pC->pCsr);
    }else{
      rc = vlogCursorBounds(pC->pCsr, 0, 0, 0, 0, 0, 0);
      if( rc==VLOG_OK ) rc = vlogCursorSeek(pC->pCsr, pPt->a, pPt->n, VLOG_SEEK_EQ);
    }
    if( rc || vlogCursorValid(pC->pCsr) ) break;
    pC->iPoint++;
  }
  if( pC->iPoint>=pC->nPoint ){
    pC->bEof = 1;
    return rc ? vtabErr(p, rc) : SQLITE_OK;
  }
  return csrSettle(p, pC, rc);
}

/* The points of an = (one value) or an IN (its list): sorted, once each. */
static int csrPoints(VTab *p, VCsr *pC, int idxNum, sqlite3_value *pArg){
  int rc = SQLITE_OK, i, n;
  pC->nPoint = pC->iPoint = 0;
  if( idxNum & IDX_IN ){
    sqlite3_value *pVal = 0;
    for(rc=sqlite3_vtab_in_first(pArg, &pVal); rc==SQLITE_OK && pVal;
        rc=sqlite3_vtab_in_next(pArg, &pVal)){
      rc = csrAddPoint(p, pC, pVal);
      if( rc ) break;
    }
    if( rc==SQLITE_DONE ) rc = SQLITE_OK;
  }else{
    rc = csrAddPoint(p, pC, pArg);
  }
  if( rc ) return rc;
  if( pC->nPoint>1 ){
    qsort(pC->aPoint, pC->nPoint, sizeof(VBuf), pointCmp);
    for(i=n=1; i<pC->nPoint; i++){
      if( pointCmp(&pC->aPoint[i], &pC->aPoint[n-1])!=0 ){
        VBuf t = pC->aPoint[n];
        pC->aPoint[n++] = pC->aPoint[i];
        pC->aPoint[i] = t;
      }
    }
    pC->nPoint = n;
  }
  return csrSeekPoint(p, pC);
}

static int vtabFilter(sqlite3_vtab_cursor *pCur, int idxNum, const char *idxStr,
                      int argc, sqlite3_value **argv){
  VCsr *pC = (VCsr*)pCur;
  VTab *p = (VTab*)pCur->pVtab;
  VlogStore *pS = p->pVS->pStore;
  int rc, iArg = 0, bBegan = 0;
  int bLo = 0, bHi = 0, bLoOpen = 0, bHiOpen = 0;
  (void)idxStr; (void)argc;

  pC->bEof = 1;
  pC->bDesc = (idxNum & IDX_DESC)!=0;
  pC->bEq = (idxNum & IDX_EQ)!=0;
  if( vlogTxnState(pS)==0 ){
    rc = vlogBegin(pS, 0);
    if( rc ) return vtabErr(p, rc);
    bBegan = 1;
  }
  /* The VFS's read transaction (SQLite's SHARED lock) is the VFS's to end */
  if( !pC->bReadTxn && vlogTxnState(pS)==1
   && (bBegan || !p->bShared || p->pVS->nReadCsr>0) ){
    pC->bReadTxn = 1;
    p->pVS->nReadCsr++;
  }

  if( idxNum & IDX_EQ ){
    return csrPoints(p, pC, idxNum, argv[0]);
  }
  if( idxNum & (IDX_GT|IDX_GE) ){
    int r = rangeBound(p, argv[iArg++], 1, (idxNum & IDX_GT)!=0, &pC->lo, &bLoOpen);
    if( r<0 ) return SQLITE_OK;
    bLo = r;
  }
  if( idxNum & (IDX_LT|IDX_LE) ){
    int r = rangeBound(p, argv[iArg++], 0, (idxNum & IDX_LT)!=0, &pC->hi, &bHiOpen);
    if( r<0 ) return SQLITE_OK;
    bHi = r;
  }
  rc = vlogCursorBounds(pC->pCsr, bLo ? pC->lo.a : 0, pC->lo.n, bLoOpen,
                        bHi ? pC->hi.a : 0, pC->hi.n, bHiOpen);
  if( rc==VLOG_OK ){
    rc = pC->bDesc ? vlogCursorLast(pC->pCsr) : vlogCursorFirst(pC->pCsr);
  }
  return csrSettle(p, pC, rc);
}

static int vtabNext(sqlite3_vtab_cursor *pCur){
  VCsr *pC = (VCsr*)pCur;
  VTab *p = (VTab*)pCur->pVtab;
  int rc;
  if( pC->bEq ){
    pC->iPoint++;              /* keys are unique: one row per point */
    return csrSeekPoint(p, pC);
  }
  rc = pC->bDesc ? vlogCursorPrev(pC->pCsr) : vlogCursorNext(pC->pCsr);
  return csrSettle(p, pC, rc);
}

static int vtabEof(sqlite3_vtab_cursor *pCur){
  return ((VCsr*)pCur)->bEof;
}

static int vtabColumn(sqlite3_vtab_cursor *pCur, sqlite3_context *ctx, int iCol){
  VCsr *pC = (VCsr*)pCur;
  VTab *p = (VTab*)pCur->pVtab;
  const void *a;
  int n, rc;
  if( iCol==0 ){
    rc = vlogCursorKey(pC->pCsr, &a, &n);
    if( rc==VLOG_OK ) resultKey(ctx, p->eKey, (const unsigned char*)a, n);
  }else{
    rc = vlogCursorValue(pC->pCsr, &a, &n);
    if( rc==VLOG_OK ) resultValue(ctx, (const unsigned char*)a, n);
  }
  if( rc ){
    char *z = vlogVStoreErr(p->pVS, rc);
    sqlite3_result_error(ctx, z ? z : "vlog: error", -1);
    sqlite3_free(z);
    sqlite3_result_error_code(ctx, rc & 0xff);
  }
  return SQLITE_OK;
}

static int vtabRowid(sqlite3_vtab_cursor *pCur, sqlite3_int64 *pRowid){
  (void)pCur;
  *pRowid = 0;
  return SQLITE_ERROR;           /* a WITHOUT ROWID table has no rowid */
}

/* VLOG_OK if key (a, n) is not in the table, else VLOG_CONSTRAINT or an
** error. */
static int keyFree(VTab *p, const unsigned char *a, int n){
  int rc = vlogHas(p->pVS->pStore, p->iTree, a, n);
  return rc==VLOG_OK ? VLOG_CONSTRAINT : rc==VLOG_NOTFOUND ? VLOG_OK : rc;
}

/*
** Before number key p->key is written: the same number of the other type
** (its twin) is the same key.  It is a UNIQUE conflict, or under OR
** REPLACE it goes; unless it is pOld, the key that this UPDATE replaces.
*/
static int numTwin(VTab *p, const VBuf *pOld){
  unsigned char *a = p->key.a;
  int rc = VLOG_OK;
  a[NUM_ID] ^= 1;
  if( pOld==0 || pOld->n!=NUM_KEY || memcmp(pOld->a, a, NUM_KEY)!=0 ){
    if( sqlite3_vtab_on_conflict(p->db)!=SQLITE_REPLACE ){
      rc = keyFree(p, a, NUM_KEY);
    }else{
      rc = vlogHas(p->pVS->pStore, p->iTree, a, NUM_KEY);
      if( rc==VLOG_OK ) rc = vlogDelete(p->pVS->pStore, p->iTree, a, NUM_KEY);
      if( rc==VLOG_NOTFOUND ) rc = VLOG_OK;
    }
  }
  a[NUM_ID] ^= 1;
  return rc;
}

/*
** INSERT, UPDATE, DELETE.  For a WITHOUT ROWID virtual table argv[0] is
** the old key (NULL for an INSERT) and argv[1] the new key.
*/
static int vtabUpdate(sqlite3_vtab *pVtab, int argc, sqlite3_value **argv,
                      sqlite3_int64 *pRowid){
  VTab *p = (VTab*)pVtab;
  VlogStore *pS = p->pVS->pStore;
  int rc = SQLITE_OK, bAuto = vlogTxnState(pS)!=2;
  (void)pRowid;

  if( bAuto ){
    rc = vlogBegin(pS, 1);
    if( rc ) return vtabErr(p, rc);
  }
  if( argc==1 ){
    /* DELETE */
    rc = encodeKey(p->eKey, argv[0], 0, &p->key);
    if( rc==SQLITE_OK ) rc = vlogDelete(pS, p->iTree, p->key.a, p->key.n);
  }else{
    int bInsert = sqlite3_value_type(argv[0])==SQLITE_NULL;
    int bKeyChange = 0;
    VBuf old = {0, 0, 0};
    rc = encodeKey(p->eKey, argv[2], 0, &p->key);
    if( rc==SQLITE_CONSTRAINT ){
      sqlite3_free(pVtab->zErrMsg);
      pVtab->zErrMsg = sqlite3_mprintf("vlog: %s.key may not be NULL", p->zName);
      rc = SQLITE_CONSTRAINT_NOTNULL;
    }else if( rc==SQLITE_MISMATCH ){
      sqlite3_free(pVtab->zErrMsg);
      pVtab->zErrMsg = sqlite3_mprintf("vlog: %s.key must be an integer", p->zName);
    }else if( rc==SQLITE_TOOBIG ){
      sqlite3_free(pVtab->zErrMsg);
      pVtab->zErrMsg = sqlite3_mprintf("vlog: %s: key longer than %d bytes",
                                       p->zName, VLOG_MAX_KEY-1);
    }
    if( rc==SQLITE_OK && !bInsert ){
      /* an UPDATE: is the key changing? */
      rc = encodeKey(p->eKey, argv[0], 0, &old);
      if( rc==SQLITE_OK ){
        bKeyChange = old.n!=p->key.n || memcmp(old.a, p->key.a, old.n)!=0;
      }
    }
    if( rc==SQLITE_OK && bKeyChange
     && sqlite3_vtab_on_conflict(p->db)!=SQLITE_REPLACE ){
      /* the new key must be free before the old one goes */
      rc = keyFree(p, p->key.a, p->key.n);
    }
    if( rc==SQLITE_OK && (bInsert || bKeyChange) && isNumKey(p->key.a, p->key.n) ){
      /* the same number of the other type (1 and 1.0) is the same key */
      rc = numTwin(p, bInsert ? 0 : &old);
    }
    if( rc==SQLITE_OK && bKeyChange ) rc = vlogDelete(pS, p->iTree, old.a, old.n);
    sqlite3_free(old.a);
    if( rc==SQLITE_OK ) rc = encodeValue(argv[3], &p->val);
    if( rc==SQLITE_OK ){
      if( (bInsert || bKeyChange) && sqlite3_vtab_on_conflict(p->db)!=SQLITE_REPLACE ){
        /* a duplicate key is a constraint error unless OR REPLACE */
        rc = vlogInsert(pS, p->iTree, p->key.a, p->key.n, p->val.a, p->val.n);
      }else{
        rc = vlogPut(pS, p->iTree, p->key.a, p->key.n, p->val.a, p->val.n);
      }
    }
    if( rc==VLOG_CONSTRAINT ){
      sqlite3_free(pVtab->zErrMsg);
      pVtab->zErrMsg = sqlite3_mprintf("UNIQUE constraint failed: %s.key", p->zName);
      rc = SQLITE_CONSTRAINT_PRIMARYKEY;
    }
  }
  if( bAuto && !p->bShared ){
    if( rc==SQLITE_OK ) rc = vlogCommit(pS);
    else (void)vlogRollback(pS);                  /* rc says what failed */
  }
  if( rc && rc!=SQLITE_NOMEM && pVtab->zErrMsg==0 ) rc = vtabErr(p, rc);
  return rc;
}

/* The connection's PRAGMA synchronous for schema zSchema, as an engine
** level. */
static int connectionSync(sqlite3 *db, const char *zSchema){
  sqlite3_stmt *pStmt = 0;
  int eSync = VLOG_SYNC_FULL;
  char *zSql = sqlite3_mprintf("PRAGMA \"%w\".synchronous", zSchema);
  if( zSql && sqlite3_prepare_v2(db, zSql, -1, &pStmt, 0)==SQLITE_OK
   && sqlite3_step(pStmt)==SQLITE_ROW ){
    int v = sqlite3_column_int(pStmt, 0);
    eSync = v<=0 ? VLOG_SYNC_OFF : v==1 ? VLOG_SYNC_NORMAL : VLOG_SYNC_FULL;
  }
  sqlite3_finalize(pStmt);
  sqlite3_free(zSql);
  return eSync;
}

static int vtabBegin(sqlite3_vtab *pVtab){
  VTab *p = (VTab*)pVtab;
  VlogStore *pS = p->pVS->pStore;
  int rc;
  if( vlogTxnState(pS)==2 ) return SQLITE_OK;   /* another table of the store */
  /* cannot fail: connectionSync() gives a level that exists */
  (void)vlogStoreSetSync(pS, connectionSync(p->db, p->zSchema));
  vlogVStoreSetBusyTimeout(p->pVS);
  rc = vlogBegin(pS, 1);
  if( rc==VLOG_BUSY && p->bShared && vlogTxnState(pS)==1
   && sqlite3_get_autocommit(p->db) ){
    /* In WAL mode the VFS pins SQLite's read transaction's snapshot; a
    ** commit since (a checkpoint's, say) makes it too old to write from.
    ** A statement outside BEGIN has read nothing of the table yet: it
    ** writes from the newest. */
    (void)vlogCommit(pS);                   /* a read transaction's end */
    rc = vlogBegin(pS, 1);
  }
  return rc ? vtabErr(p, rc) : SQLITE_OK;
}

static int vtabSync(sqlite3_vtab *pVtab){
  VTab *p = (VTab*)pVtab;
  VlogStore *pS = p->pVS->pStore;
  int rc;
  if( vlogTxnState(pS)!=2 ) return SQLITE_OK;   /* another table's */
  if( p->bShared ){
    /* In the database's store, SQLite's commit commits it: at the
    ** journal's end, the database's sync, or SQLITE_FCNTL_COMMIT_PHASETWO
    ** (vfs.c).  Prepared here only when no page can come (a rollback
    ** journal is open and has not started), so that an error is told. */
    int ePart = vtabPart(p);
    if( (ePart & VLOG_VFS_PART) || !(ePart & VLOG_VFS_JOURNAL) ) return SQLITE_OK;
  }
  rc = vlogCommitPrepare(pS);
  return rc ? vtabErr(p, rc) : SQLITE_OK;
}

static int vtabCommit(sqlite3_vtab *pVtab){
  VTab *p = (VTab*)pVtab;
  VlogStore *pS = p->pVS->pStore;
  if( vlogTxnState(pS)!=2 ) return SQLITE_OK;   /* another table's */
  if( p->bShared && (vtabPart(p) & VLOG_VFS_PART) ) return SQLITE_OK;
  /* Prepared in xSync: this publishes it, and can fail only to unlock
  ** (SQLite ignores xCommit's result anyway).  In the database's store
  ** the VFS has committed it unless SQLite's commit never reached the
  ** file (locking_mode=EXCLUSIVE, journal_mode=PERSIST, no page
  ** changed, no journal open yet): it commits here, and an error can
  ** only be logged. */
  {
    int rc = vlogCommit(pS);
    if( rc ){
      sqlite3_log(rc, "vlog: %s: the commit of table %s failed: %s",
                  p->pVS->zPath, p->zName, vlogStoreErrMsg(pS));
    }
  }
  if( p->pVS->nReadCsr>0 ){
    /* cursors still open: keep them a read transaction; if it cannot
    ** begin, each of their calls begins one of its own */
    (void)vlogBegin(pS, 0);
  }
  return SQLITE_OK;
}

static int vtabRollback(sqlite3_vtab *pVtab){
  VTab *p = (VTab*)pVtab;
  VlogStore *pS = p->pVS->pStore;
  int rc = SQLITE_OK;
  /* in the database's store, a VFS with a part rolls back both */
  if( vlogTxnState(pS)==2 && !(vtabPart(p) & VLOG_VFS_PART) ){
    rc = vlogRollback(pS);
    /* as in vtabCommit: cursors' calls begin their own if this fails */
    if( p->pVS->nReadCsr>0 ) (void)vlogBegin(pS, 0);
  }
  return rc;
}

static int vtabSavepoint(sqlite3_vtab *pVtab, int iSave){
  VTab *p = (VTab*)pVtab;
  int rc = vlogSavepoint(p->pVS->pStore, iSave+1);
  return rc ? vtabErr(p, rc) : SQLITE_OK;
}

static int vtabRelease(sqlite3_vtab *pVtab, int iSave){
  VTab *p = (VTab*)pVtab;
  int rc = vlogRelease(p->pVS->pStore, iSave+1);
  return rc ? vtabErr(p, rc) : SQLITE_OK;
}

static int vtabRollbackTo(sqlite3_vtab *pVtab, int iSave){
  VTab *p = (VTab*)pVtab;
  VlogStore *pS = p->pVS->pStore;
  int rc;
  if( vlogTxnState(pS)!=2 ) return SQLITE_OK;
  rc = vlogRollbackTo(pS, iSave+1);
  return rc ? vtabErr(p, rc) : SQLITE_OK;
}

static int vtabShadowName(const char *zName){
  (void)zName;
  return 0;
}

static sqlite3_module vlogModule = {
  3,                    /* iVersion */
  vtabCreate,           /* xCreate: CREATE VIRTUAL TABLE */
  vtabConnect,          /* xConnect: a connection opens the schema */
  vtabBestIndex,        /* xBestIndex */
  vtabDisconnect,       /* xDisconnect */
  vtabDestroy,          /* xDestroy: DROP TABLE */
  vtabOpen,             /* xOpen: a cursor */
  vtabClose,            /* xClose */
  vtabFilter,           /* xFilter: position for a plan */
  vtabNext,             /* xNext */
  vtabEof,              /* xEof */
  vtabColumn,           /* xColumn: key or value */
  vtabRowid,            /* xRowid: none (WITHOUT ROWID) */
  vtabUpdate,           /* xUpdate: INSERT, UPDATE, DELETE */
  vtabBegin,            /* xBegin */
  vtabSync,             /* xSync: the store commits */
  vtabCommit,           /* xCommit */
  vtabRollback,         /* xRollback */
  0,                    /* xFindFunction */
  vtabRename,           /* xRename: ALTER TABLE RENAME */
  vtabSavepoint,        /* xSavepoint */
  vtabRelease,          /* xRelease */
  vtabRollbackTo,       /* xRollbackTo */
  vtabShadowName        /* xShadowName */
};

int vlogVtabRegister(sqlite3 *db){
  return sqlite3_create_module_v2(db, "vlog", &vlogModule, 0, 0);
}

/*
** The store of vlog table zTab of the main schema, found among the stores
** db has open (connecting the table opens it).  *pzErr says why not: the
** error of connecting the table (the store's open failing, with the
** system's reason), when that is what went wrong.
*/
static int resolveTable(sqlite3 *db, const char *zTab, VStore **ppVS, char **pzErr){
  char *zSql = sqlite3_mprintf("SELECT 1 FROM main.\"%w\" LIMIT 0", zTab);
  char *zWhy = 0;
  sqlite3_stmt *pStmt = 0;
  VStore **apVS = 0;
  int nVS = 0, i, rc;
  if( zSql==0 ) return SQLITE_NOMEM;
  if( sqlite3_prepare_v2(db, zSql, -1, &pStmt, 0)==SQLITE_OK ){
    sqlite3_step(pStmt);
  }else{
    zWhy = sqlite3_mprintf("%s", sqlite3_errmsg(db));
  }
  sqlite3_finalize(pStmt);
  sqlite3_free(zSql);
  /* the VTab is not reachable through the API: find the store by the
  ** table's catalog entry in the stores this connection opened */
  rc = vlogVStoreList(db, &apVS, &nVS);
  if( rc ){
    sqlite3_free(zWhy);
    return rc;
  }
  for(i=0; i<nVS; i++){
    unsigned int iTree;
    int eKey;
    if( *ppVS==0 && catalogGet(apVS[i], zTab, &iTree, &eKey)==VLOG_OK ){
      *ppVS = apVS[i];                 /* its reference goes to the caller */
    }else{
      vlogVStoreRelease(apVS[i]);
    }
  }
  sqlite3_free(apVS);
  if( *ppVS==0 ){
    *pzErr = sqlite3_mprintf("vlog: cannot find the store of table %s: %s", zTab,
        zWhy ? zWhy : "no store open in this connection has it in its catalog");
  }
  sqlite3_free(zWhy);
  return *ppVS ? SQLITE_OK : SQLITE_ERROR;
}

int vlogVStoreResolve(sqlite3 *db, const char *zArg, VStore **ppVS, char **pzErr){
  sqlite3_stmt *pStmt = 0;
  char *zPath = 0;
  int rc;
  *ppVS = 0;
  if( zArg==0 ){
    *pzErr = sqlite3_mprintf("vlog: name a vlog table or a store file");
    return SQLITE_ERROR;
  }
  /* a table of the main schema? */
  rc = sqlite3_prepare_v2(db,
      "SELECT sql FROM main.sqlite_schema WHERE type='table' AND name=?1",
      -1, &pStmt, 0);
  if( rc==SQLITE_OK ){
    sqlite3_bind_text(pStmt, 1, zArg, -1, SQLITE_STATIC);
    if( sqlite3_step(pStmt)==SQLITE_ROW ){
      const char *zSql = (const char*)sqlite3_column_text(pStmt, 0);
      if( zSql && sqlite3_strlike("CREATE VIRTUAL TABLE%USING vlog%", zSql, 0)==0 ){
        sqlite3_finalize(pStmt);
        return resolveTable(db, zArg, ppVS, pzErr);
      }
      *pzErr = sqlite3_mprintf("vlog: %s is not a vlog table (it is %s)", zArg,
          zSql && sqlite3_strlike("CREATE VIRTUAL TABLE%", zSql, 0)==0 ?
          "a virtual table of another module" : "an ordinary table");
      sqlite3_finalize(pStmt);
      return SQLITE_ERROR;
    }
  }
  sqlite3_finalize(pStmt);
  /* a database of the connection on the vlog VFS ('main')? */
  rc = vlogVStoreBorrow(db, zArg, ppVS);
  if( rc!=SQLITE_NOTFOUND ) return rc;
  if( sqlite3_db_filename(db, zArg) ){
    *pzErr = sqlite3_mprintf("vlog: database %s is not a vlog store (not on the "
        "vlog VFS, or a plain SQLite database opened through it); convert it "
        "with VACUUM INTO 'file:NEW.db?vfs=vlog'", zArg);
    return SQLITE_ERROR;
  }
  /* a store file */
  zPath = vlogFullPath(zArg);
  if( zPath==0 ) return SQLITE_NOMEM;
  rc = vlogVStoreAcquire(db, "main", zPath, 0, ppVS, pzErr);
  if( rc && rc!=SQLITE_NOMEM ){
    const char *zWhy = *pzErr ? *pzErr : "";
    char *zMsg;
    if( strncmp(zWhy, "vlog: ", 6)==0 ) zWhy += 6;
    zMsg = sqlite3_mprintf("vlog: %s is neither a vlog table nor a store file "
                           "(%s)", zArg, zWhy);
    sqlite3_free(*pzErr);
    *pzErr = zMsg;
  }
  sqlite3_free(zPath);
  return rc;
}
