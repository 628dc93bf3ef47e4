/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* BPF-only map helpers. */
#ifndef __MAPS_BPF_H
#define __MAPS_BPF_H

#include <bpf/bpf_helpers.h>

/* Look @key up in @map, inserting @init first if it is missing. Returns the
 * value, or NULL if the map is full (or the insert failed otherwise). */
static __always_inline void *bpf_map_lookup_or_try_init(void *map, const void *key,
							const void *init)
{
	void *val;
	long err;

	val = bpf_map_lookup_elem(map, key);
	if (val)
		return val;
	err = bpf_map_update_elem(map, key, init, BPF_NOEXIST);
	if (err && err != -17 /* EEXIST: another CPU inserted it */)
		return NULL;
	return bpf_map_lookup_elem(map, key);
}

#endif /* __MAPS_BPF_H */
