/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The bucket of an id in a hash table: one definition for every table keyed
 * by cgroup id (the registry, the verdicts, the memory iterator's). */
#ifndef __CGSNAP_IDHASH_H
#define __CGSNAP_IDHASH_H

#include <stdint.h>

/* @id's bucket among @nbuckets (a power of two): Fibonacci hashing, even
 * however the ids run */
static inline uint32_t id_bucket(uint64_t id, uint32_t nbuckets)
{
	return (uint32_t)((id * 0x9E3779B97F4A7C15ULL) >> 32) & (nbuckets - 1);
}

#endif /* __CGSNAP_IDHASH_H */
