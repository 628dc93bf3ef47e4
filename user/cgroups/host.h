/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The host's own figures: its memory, CPU lists. Library code: -errno. */
#ifndef __CGSNAP_HOST_H
#define __CGSNAP_HOST_H

#include <stdint.h>

/* MemTotal and MemAvailable of @meminfo (normally /proc/meminfo), in bytes. */
int meminfo_read(const char *meminfo, int64_t *total, int64_t *available);

/* Number of CPUs in a cpulist such as "0-3,8,10-11"; -EINVAL if malformed. */
int cpulist_count(const char *list);

#endif /* __CGSNAP_HOST_H */
