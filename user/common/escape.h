/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Names are data: a cgroup path (or any text from outside) may hold any
 * byte. Its printable form is valid UTF-8 without control characters: every
 * byte of an invalid UTF-8 sequence, and every control character, becomes
 * "\xNN"; everything else is kept. The form is what JSON, Prometheus labels
 * and logs show, and what the HTTP API accepts besides the raw path.
 */
#ifndef __CGSNAP_ESCAPE_H
#define __CGSNAP_ESCAPE_H

#include <stdbool.h>
#include <stddef.h>

/* whether @s is printable as is (escape_text() would not change it) */
bool text_is_clean(const char *s);

/* The printable form of @s in @buf (truncated at a character boundary to
 * @len - 1 bytes); returns @buf. */
char *escape_text(const char *s, char *buf, size_t len);

/* The printable form of @s, malloc'ed; NULL on ENOMEM. */
char *escape_text_dup(const char *s);

#endif /* __CGSNAP_ESCAPE_H */
