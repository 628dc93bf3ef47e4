/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Human-readable figures for text output. */
#ifndef __CGSNAP_FORMAT_H
#define __CGSNAP_FORMAT_H

#include <stddef.h>
#include <stdint.h>

/* "850 ns", "12.3 us", "4.56 ms", "1.234 s"; returns @buf */
char *fmt_ns(uint64_t ns, char *buf, size_t len);
/* "512 B", "12.0 KiB", "1.50 GiB"; returns @buf */
char *fmt_bytes(int64_t bytes, char *buf, size_t len);

#endif /* __CGSNAP_FORMAT_H */
