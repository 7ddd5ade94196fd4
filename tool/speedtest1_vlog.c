/*
** speedtest1_vlog.c: SQLite's speedtest1 (test/speedtest1.c of the SQLite
** source tree, compiled as it is with its main() renamed) with the vlog
** VFS registered first, for make bench-vfs: "--vfs vlog" then runs the
** same workload on a store.  speedtest1 is SQLite's; this file only
** registers vlog (statically linked) and hands over.
*/
#include "sqlite3.h"
#include "vlog.h"

int speedtest1_main(int argc, char **argv);

int main(int argc, char **argv){
  sqlite3_config(SQLITE_CONFIG_URI, 1);    /* file:...?dirty_max= and such */
  if( sqlite3_vlog_vfs_register(0, 0, 0)!=SQLITE_OK ) return 1;
  sqlite3_auto_extension((void(*)(void))sqlite3_vlog_init);
  return speedtest1_main(argc, argv);
}
