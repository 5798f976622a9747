#!/usr/bin/env bash
# Prepares the kernel-IPIP VM: installs qemu/busybox/cpio/kmod when missing, fetches Debian's
# linux-image-*-amd64 package (apt-get download, no system install), extracts it, extracts the
# uncompressed vmlinux (PVH entry, boots faster than the bzImage), and builds a tiny initramfs
# (static busybox, /init, the virtio/9p/veth/ipip modules in insmod order).
#
# Everything is cached under CACHE (default: <repo>/target/vm-cache); the initramfs is keyed by
# the kernel version and the hash of this script and the guest init.
#
# Usage: prepare.sh [CACHE]   -> prints KERNEL=..., INITRD=..., KVERSION=... on stdout
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${1:-$repo/target/vm-cache}
mkdir -p "$cache"
log() { printf 'vm-prepare: %s\n' "$*" >&2; }

# 1. host tools
need=()
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
for package in qemu-system-x86 busybox-static cpio kmod xz-utils; do
    installed "$package" || need+=("$package")
done
if [ ${#need[@]} -gt 0 ]; then
    log "installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
fi

# 2. the kernel package: linux-image-amd64 depends on the real linux-image-<abi>-amd64
package=$(apt-cache depends linux-image-amd64 2>/dev/null \
    | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
if [ -z "$package" ]; then
    apt-get update -qq >&2
    package=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
fi
[ -n "$package" ] || { log "cannot resolve linux-image-amd64's kernel package"; exit 1; }
kversion=${package#linux-image-}
kdir=$cache/kernel-$kversion
if [ ! -e "$kdir/.extracted" ]; then
    log "fetching $package"
    rm -rf "$kdir" "$cache"/"$package"_*.deb
    (cd "$cache" && apt-get download "$package" >&2 2>/dev/null) \
        || (cd "$cache" && apt-get update -qq >&2 && apt-get download "$package" >&2)
    deb=$(ls "$cache"/"$package"_*.deb)
    dpkg-deb -x "$deb" "$kdir"
    depmod -b "$kdir" "$kversion"
    rm -f "$deb"
    touch "$kdir/.extracted"
fi
vmlinuz=$kdir/boot/vmlinuz-$kversion

# 3. the uncompressed vmlinux (qemu boots its PVH entry directly): find the xz stream in the
# bzImage, as the kernel's scripts/extract-vmlinux does. Fall back to the bzImage.
kernel=$vmlinuz
vmlinux=$kdir/vmlinux
if [ ! -s "$vmlinux" ]; then
    offset=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$vmlinuz" | head -1 | cut -d: -f1 || true)
    if [ -n "$offset" ]; then
        # xz complains about the data after the stream; the output is complete.
        tail -c +"$((offset + 1))" "$vmlinuz" | xz -dc > "$vmlinux.tmp" 2>/dev/null || true
        if [ "$(head -c 4 "$vmlinux.tmp" | od -An -tx1 | tr -d ' \n')" = 7f454c46 ]; then
            mv "$vmlinux.tmp" "$vmlinux"
        else
            rm -f "$vmlinux.tmp"
        fi
    fi
fi
[ -s "$vmlinux" ] && kernel=$vmlinux

# 4. the initramfs
modules=(virtio_pci 9pnet_virtio 9p veth ipip)
key=$(cat "$0" "$here/init" | sha256sum | cut -c1-16)
initrd=$cache/initramfs-$kversion-$key.cpio.gz
if [ ! -s "$initrd" ]; then
    log "building $initrd"
    root=$(mktemp -d "$cache/initramfs.XXXXXX")
    trap 'rm -rf "$root"' EXIT
    mkdir -p "$root"/{bin,sbin,proc,sys,dev,host,modules}
    cp /bin/busybox "$root/bin/busybox"
    cp "$here/init" "$root/init"
    chmod 755 "$root/init"
    : > "$root/modules/order"
    for module in "${modules[@]}"; do
        while read -r _ path _; do
            name=$(basename "$path")
            grep -qx "$name" "$root/modules/order" && continue
            cp "$path" "$root/modules/$name"
            echo "$name" >> "$root/modules/order"
        done < <(modprobe -d "$kdir" -S "$kversion" --show-depends "$module" | grep '^insmod ')
    done
    (cd "$root" && find . -print0 | cpio --null -o -H newc --quiet | gzip -1) > "$initrd.tmp"
    mv "$initrd.tmp" "$initrd"
    find "$cache" -maxdepth 1 -name 'initramfs-*.cpio.gz' ! -path "$initrd" -delete
fi

echo "KVERSION=$kversion"
echo "KERNEL=$kernel"
echo "INITRD=$initrd"
