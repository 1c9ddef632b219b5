#!/bin/sh
# Installs what the one compiled part needs (the Twitter v1.1 scanner, see setup.py): a C++
# compiler and Debian's libsimdjson-dev. It is optional: where they cannot be installed (no
# apt, no root or sudo) tidings still installs, and that reader takes its Python path.
need=""
command -v g++ >/dev/null 2>&1 || need="$need g++"
[ -f /usr/include/simdjson.h ] || need="$need libsimdjson-dev"
[ -z "$need" ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
    echo "note: no apt-get; without$need the v1.1 reader runs its (slower) Python path"
    exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo -n"
echo "installing Debian packages:$need"
if ! { $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq &&
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq $need >/dev/null; }; then
    echo "note: could not install$need; the v1.1 reader will run its (slower) Python path"
fi
exit 0
