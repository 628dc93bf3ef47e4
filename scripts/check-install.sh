#!/usr/bin/env bash
# make test: install into a staging directory and build the README's library
# example against it with pkg-config, as an application would.
set -euo pipefail
stage=$(mktemp -d /tmp/cgsnap-install-XXXXXX)
trap 'rm -rf "$stage"' EXIT
make --no-print-directory -s install DESTDIR="$stage" PREFIX=/usr >/dev/null
export PKG_CONFIG_SYSROOT_DIR=$stage PKG_CONFIG_PATH=$stage/usr/lib/pkgconfig
cat > "$stage/app.c" <<'C'
#include <stdio.h>
#include <snapshotter.h>

int main(void)
{
	struct cgsnap_snapshotter *s = cgsnap_snapshotter__new(NULL);
	struct cgsnap_snapshot cpu = { .t_ns = 1, .kind = CGSNAP_KIND_CPU,
				       .cpu = { .used_ratio = 0.97, .max_used_ratio = 0.95 } };
	struct cgsnap_snapshot copy;
	struct cgsnap_sample sample;
	struct cgsnap_status st;

	if (!s || cgsnap_snapshotter__start(s) || cgsnap_snapshotter__add(s, &cpu, NULL) ||
	    cgsnap_snapshotter__current_status(s, &st) ||
	    cgsnap_snapshotter__sample(s, CGSNAP_KIND_CPU, 0, &sample) ||
	    cgsnap_sample__copy(&sample, 0, 1, &copy) != 1 || copy.cpu.used_ratio != 0.97)
		return 1;
	printf("idle=%d cpu=%.3f\n", st.idle, st.kind[CGSNAP_KIND_CPU].actual_ratio);
	cgsnap_snapshotter__free(s);
	return st.idle || st.kind[CGSNAP_KIND_CPU].actual_ratio != 1.0;
}
C
for link in shared static; do
	flags=$(pkg-config --cflags --libs cgsnap)
	[ "$link" = static ] && flags="$(pkg-config --cflags cgsnap) $stage/usr/lib/libcgsnap.a"
	cc -Wall -Wextra -Werror "$stage/app.c" $flags -o "$stage/app-$link"
	out=$(LD_LIBRARY_PATH=$stage/usr/lib "$stage/app-$link")
	[ "$out" = "idle=0 cpu=1.000" ] || { echo "check-install: $link: got '$out'" >&2; exit 1; }
done
soname=$(readelf -d "$stage/usr/lib/libcgsnap.so" | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')
[ "$soname" = libcgsnap.so.1 ] || { echo "check-install: soname '$soname', not libcgsnap.so.1" >&2; exit 1; }
echo "check-install: libcgsnap installs and links (shared and static) with pkg-config"
