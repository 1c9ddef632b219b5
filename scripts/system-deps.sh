#!/bin/sh
# Installs the Debian packages that the tests drive for real: chromium for the HTML pages and a
# Java runtime for Spark's local mode. Skips what is already there; needs root (or sudo) otherwise.
set -e
need=""
command -v chromium >/dev/null 2>&1 || need="$need chromium"
command -v java >/dev/null 2>&1 || need="$need openjdk-17-jre-headless"
[ -z "$need" ] && exit 0
echo "installing Debian packages:$need"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq $need >/dev/null
