/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Whole small files (a config, a certificate) read into memory. */
#ifndef __CGSNAP_READFILE_H
#define __CGSNAP_READFILE_H

#include <stddef.h>

/*
 * The contents of @path, NUL-terminated, malloc'ed in *@out and their length
 * in *@len. Returns 0, -EFBIG if the file holds more than @max bytes (never
 * a silently cut copy), or -errno.
 */
int read_file(const char *path, size_t max, char **out, size_t *len);

#endif /* __CGSNAP_READFILE_H */
