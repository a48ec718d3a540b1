# Sourced by scripts/test.sh and scripts/demo.sh: installs the Debian
# packages weir needs to build and test, if any is missing.
WEIR_BUILD_PACKAGES="meson ninja-build pkg-config gcc clang libclang-rt-14-dev
 libsqlite3-dev libjansson-dev libmicrohttpd-dev libcurl4-openssl-dev
 libxml2-dev libarchive-dev libssl-dev libcmocka-dev unixodbc-dev libpq-dev"
WEIR_TEST_PACKAGES="curl jq sqlite3 procps iproute2 beanstalkd libarchive-tools
 libsqliteodbc odbc-postgresql postgresql miller"

deps_install() {
    missing=""
    for p in $WEIR_BUILD_PACKAGES $*; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
            grep -q "install ok installed" || missing="$missing $p"
    done
    [ -z "$missing" ] && return 0
    echo "installing:$missing" >&2
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
}
