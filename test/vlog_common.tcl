# vlog_common.tcl: what the project's test files share.
#
# A test file starts with
#
#     source [file join [file dirname [info script]] vlog_common.tcl]
#     set testprefix NAME
#
# make test (tool/runtests.sh) sets the environment this file reads:
#   SQLITE_SRC   SQLite's source tree (tester.tcl lives in its test/)
#   VLOG_TOP     the project's top folder (vlog.so, vlogtool, Makefile)
#   VLOG_BUILD   the build folder (build/)
#   VLOG_MAKEDIR where make ran: vlog.so, libvlog.a, vlogtool, Makefile
#   VLOG_ASAN_FLAGS  the sanitizer flags of this build, if any

foreach v {SQLITE_SRC VLOG_TOP VLOG_BUILD VLOG_MAKEDIR} {
  if {![info exists ::env($v)]} {
    puts stderr "vlog_common.tcl: \$$v is not set; run the tests with make test"
    exit 1
  }
}
set testdir [file join $::env(SQLITE_SRC) test]
source [file join $testdir tester.tcl]

# The project's Tcl test commands (test/test_vlog.c) exist in
# testfixture-vlog only.
catch { load {} Vlogtest }

set ::vlog_top   $::env(VLOG_TOP)
set ::vlog_build $::env(VLOG_BUILD)
set ::vlog_makedir $::env(VLOG_MAKEDIR)
set ::vlog_so    [file join $::vlog_makedir vlog.so]
set ::vlogtool   [file join $::vlog_makedir vlogtool]

# vlog_load DB ?SO?: load the loadable extension SO (default vlog.so) into
# connection DB the way a user does, with load_extension().
proc vlog_load {db {so ""}} {
  if {$so eq ""} { set so $::vlog_so }
  $db enable_load_extension 1
  $db eval { SELECT load_extension($so) }
}

# vlog_exec ARGS: run a program; return {exitcode output} with stdout and
# stderr together, never raising a Tcl error for a non-zero exit.
proc vlog_exec {args} {
  set rc [catch { exec {*}$args 2>@1 } out opts]
  if {$rc} {
    set ec [lindex [dict get $opts -errorcode] 0]
    if {$ec eq "CHILDSTATUS"} {
      return [list [lindex [dict get $opts -errorcode] 2] $out]
    }
    return [list -1 $out]
  }
  return [list 0 $out]
}

#-------------------------------------------------------------------------
# Helpers for the engine's Tcl commands (vlog_store, test/test_vlog.c).

# vlog_catch SCRIPT: run SCRIPT in the caller's scope.  Returns {0 RESULT},
# or {1 CODENAME} for an error "CODENAME message" (the engine's code only,
# so that tests do not depend on the wording of messages).
proc vlog_catch {script} {
  set rc [catch { uplevel 1 $script } msg]
  if {$rc} { return [list 1 [lindex [split $msg " "] 0]] }
  list 0 $msg
}

# vlog_walk CSR DIR: from the cursor's position, the keys in direction DIR
# (next or prev) while the cursor is valid.
proc vlog_walk {csr dir} {
  set res [list]
  while {[$csr valid]} {
    lappend res [$csr key]
    $csr $dir
  }
  set res
}

# vlog_keys STORE TREE ?DIR? ?LO LOOPEN HI HIOPEN?: every key of TREE within
# the bounds (as for "CSR bounds": {} or {KEY}), in order (DIR next) or in
# reverse order (DIR prev), through a cursor.
proc vlog_keys {store tree {dir next} {lo {}} {loopen 0} {hi {}} {hiopen 0}} {
  set csr [$store cursor vlog_keys_csr $tree]
  $csr bounds $lo $loopen $hi $hiopen
  if {$dir eq "next"} { $csr first } else { $csr last }
  set res [vlog_walk $csr $dir]
  $csr close
  set res
}

# vlog_dump STORE TREE: every key and value of TREE, in key order, as a
# flat list {KEY VALUE KEY VALUE ...}.
proc vlog_dump {store tree} {
  set csr [$store cursor vlog_dump_csr $tree]
  set res [list]
  $csr first
  while {[$csr valid]} {
    lappend res [$csr key] [$csr value]
    $csr next
  }
  $csr close
  set res
}

#-------------------------------------------------------------------------
# Helpers for the differential tests (vtab_diff.test, vtab_txn.test): a
# vlog table checked against an ordinary SQLite table holding the same rows.

# vlog_diff_seed DEFAULT: the PRNG seed of a random test: $VLOG_DIFF_SEED
# when set, else DEFAULT.  Prints it, so that a failing run can be repeated.
proc vlog_diff_seed {default} {
  set seed $default
  if {[info exists ::env(VLOG_DIFF_SEED)] && $::env(VLOG_DIFF_SEED) ne ""} {
    set seed $::env(VLOG_DIFF_SEED)
  }
  set ::vlog_rng [expr {$seed & 0xFFFFFFFF}]
  puts "[file tail [info script]]: seed $seed (set VLOG_DIFF_SEED to repeat another)"
  set seed
}

# vlog_rand N: a pseudo-random integer from 0 to N-1 (a 32-bit LCG of its
# own, so that nothing else that calls rand() changes the sequence).
proc vlog_rand {n} {
  set ::vlog_rng [expr {($::vlog_rng * 1103515245 + 12345) & 0x7FFFFFFF}]
  expr {($::vlog_rng >> 8) % $n}
}

# vlog_pick LIST: a random element of LIST.
proc vlog_pick {list} {
  lindex $list [vlog_rand [llength $list]]
}

# vlog_try DB SQL: run SQL in DB; {0 ROWS} or {1 MESSAGE}.  Variables
# named in SQL ($p1 ...) are bound from the global scope.
proc vlog_try {db sql} {
  global p1 p2 p3
  set rc [catch { $db eval $sql } res]
  list $rc $res
}

# vlog_contents DB TBL: every row of TBL, typed, in key order.
proc vlog_contents {db tbl} {
  $db eval "SELECT typeof(key), quote(key), typeof(value), quote(value)
            FROM $tbl ORDER BY key"
}

# vlog_report_cap: how many failing cases of a file describe their
# mismatch in full (VLOG_DIFF_VERBOSE=1: all of them).
proc vlog_report_cap {} {
  if {[info exists ::env(VLOG_DIFF_VERBOSE)] && $::env(VLOG_DIFF_VERBOSE)} {
    return 1000000
  }
  return 5
}
