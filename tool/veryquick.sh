#!/bin/bash
# veryquick.sh SQLITE_SRC: the names of SQLite's "veryquick" test files
# (test/permutations.test: every test/*.test but the slow ones and those
# of malloc and I/O-error injection), one per line, for make test-vfs.
# The exclusion lists are read from permutations.test itself, so they
# follow the SQLite version unpacked.
set -eu
src=$1
tclsh <<TCL
set f [open $src/test/permutations.test]
set text [read \$f]
close \$f
# test_set LIST -exclude PATTERNS...: LIST without the names matching
proc test_set {list args} {
  set ex {}
  foreach a \$args { if {\$a ne "-exclude"} { lappend ex {*}\$a } }
  set res {}
  foreach t \$list {
    set keep 1
    foreach p \$ex { if {[string match \$p [file tail \$t]]} { set keep 0; break } }
    if {\$keep} { lappend res \$t }
  }
  return \$res
}
set testdir $src/test
set a [string first "set alltests \[list\]" \$text]
set b [string first "if {\[info exists ::env(QUICKTEST_INCLUDE)\]}" \$text]
eval [string range \$text \$a [expr {\$b-1}]]
# the veryquick suite's own exclusions
regexp {test_suite "veryquick".*?test_set \\\$allquicktests -exclude ([^\]]*)\]} \$text -> ex
set ex [string map [list "\\\\\n" " "] \$ex]
foreach t [test_set \$allquicktests -exclude \$ex] {
  if {[file dirname \$t] eq "."} { puts [file rootname \$t] }
}
TCL
