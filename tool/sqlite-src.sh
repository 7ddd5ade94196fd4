#!/bin/sh
# sqlite-src.sh VERSION DIR
#
# Unpack SQLite's full source tree (test/, ext/lsm1, tester.tcl, ...) for
# upstream VERSION into DIR, from Debian's `sqlite3` source package, without
# Debian's patches (one of them changes SQLITE_MAX_DEFAULT_PAGE_SIZE and makes
# SQLite's own io-5.5 fail).
#
# The machine's apt configuration is not touched.  apt-get runs with a
# private source list and a private package-list directory under
# DIR.apt/ (and a private cache there too): the source list holds one deb-src line for each Debian archive the
# machine already uses for binary packages (from `apt-get indextargets`).
# The upstream version must match the installed libsqlite3-dev; the Debian
# revision may differ (security updates change it).
set -eu

version=${1:?usage: sqlite-src.sh VERSION DIR}
dir=${2:?usage: sqlite-src.sh VERSION DIR}
work=$dir.apt

say() { printf 'sqlite-src: %s\n' "$*"; }
die() { printf 'sqlite-src: error: %s\n' "$*" >&2; exit 1; }

command -v apt-get >/dev/null 2>&1 || die "apt-get not found: unpack SQLite $version's source by hand and pass ./configure --with-sqlite-src=DIR"
command -v dpkg-source >/dev/null 2>&1 || die "dpkg-source not found: apt-get install dpkg-dev"

rm -rf "$work" "$dir"
mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/download"

# One deb-src line per Debian archive already configured for binaries.
apt-get indextargets --format '$(REPO_URI) $(RELEASE) $(COMPONENT) $(IDENTIFIER)' 2>/dev/null |
  awk '$4 == "Packages" && $1 ~ /debian/ { print "deb-src " $1 " " $2 " " $3 }' |
  sort -u > "$work/sources.list"
if [ ! -s "$work/sources.list" ]; then
  # No package lists yet on this machine: fall back to Debian's archive for
  # the running release.
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
  {
    echo "deb-src http://deb.debian.org/debian $codename main"
    echo "deb-src http://deb.debian.org/debian $codename-updates main"
    echo "deb-src http://deb.debian.org/debian-security $codename-security main"
  } > "$work/sources.list"
fi
say "fetching Debian's sqlite3 source package (upstream $version) with a private apt"
say "source list ($work/sources.list); the system's apt configuration is unchanged:"
sed 's/^/  /' "$work/sources.list"

OPTS="-o Dir::Etc::SourceList=$work/sources.list -o Dir::Etc::SourceParts=/dev/null
  -o Dir::State::Lists=$work/lists -o Dir::Cache=$work/cache
  -o Debug::NoLocking=1 -o APT::Sandbox::User=root"
APT="apt-get -q $OPTS"
$APT update >"$work/update.log" 2>&1 || { cat "$work/update.log"; die "apt-get update failed"; }

# Pick the newest Debian revision of the wanted upstream version.
debver=$(apt-cache $OPTS showsrc sqlite3 2>/dev/null | awk '/^Version:/ { print $2 }' |
  grep "^$version-" | sort -V | tail -n 1)
[ -n "$debver" ] || die "no sqlite3 source package for upstream $version in: $(cat "$work/sources.list")"

(cd "$work/download" && $APT source --download-only "sqlite3=$debver") \
  >"$work/source.log" 2>&1 || { cat "$work/source.log"; die "apt-get source failed"; }
dpkg-source -x --skip-patches "$work/download/sqlite3_$debver.dsc" "$dir" \
  >"$work/unpack.log" 2>&1 || { cat "$work/unpack.log"; die "dpkg-source -x failed"; }
[ -f "$dir/test/tester.tcl" ] || die "$dir has no test/tester.tcl"
got=$(cat "$dir/VERSION")
[ "$got" = "$version" ] || die "unpacked SQLite $got, wanted $version"
rm -rf "$work/lists" "$work/cache" "$work/download"
say "SQLite $version source (Debian $debver, unpatched) in $dir"
