/*
** util.h: small services every engine module uses.
**
** The engine links zstd and xxhash from the system (Debian's libzstd and
** libxxhash); it never carries its own copy of either.  This header reports
** the versions actually running, for vlog_version() and vlogtool.
*/
#ifndef VLOG_UTIL_H
#define VLOG_UTIL_H

/* Version string of the libzstd the process runs with ("1.5.4").  Static
** storage owned by libzstd. */
const char *vlogZstdVersion(void);

/* Version of the libxxhash the process runs with, as "X.Y.Z" written into
** zBuf (nBuf bytes, at least 16).  Returns zBuf. */
char *vlogXxhashVersion(char *zBuf, int nBuf);

#endif /* VLOG_UTIL_H */
