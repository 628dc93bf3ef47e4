// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"

/* Length of the valid, printable UTF-8 character at @s (1 to 4), or 0 if
 * the byte there must be escaped. */
static size_t char_len(const unsigned char *s)
{
	uint32_t cp;
	size_t n, i;

	if (*s < 0x80)
		return *s >= 0x20 && *s != 0x7f ? 1 : 0;
	if (*s >= 0xc2 && *s <= 0xdf)
		n = 2, cp = *s & 0x1f;
	else if (*s >= 0xe0 && *s <= 0xef)
		n = 3, cp = *s & 0x0f;
	else if (*s >= 0xf0 && *s <= 0xf4)
		n = 4, cp = *s & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* overlong forms, surrogates, beyond U+10FFFF; C1 controls */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp <= 0x9f))
		return 0;
	return n;
}

bool text_is_clean(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n;

	while (*p) {
		n = char_len(p);
		if (!n)
			return false;
		p += n;
	}
	return true;
}

char *escape_text(const char *s, char *buf, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0, n;

	if (!len)
		return buf;
	while (*p) {
		n = char_len(p);
		if (n) {
			if (o + n >= len)
				break;
			memcpy(buf + o, p, n);
			o += n;
			p += n;
			continue;
		}
		if (o + 4 >= len)
			break;
		snprintf(buf + o, 5, "\\x%02x", *p++);
		o += 4;
	}
	buf[o] = '\0';
	return buf;
}

char *escape_text_dup(const char *s)
{
	size_t len = strlen(s) * 4 + 1;
	char *buf = malloc(len);

	return buf ? escape_text(s, buf, len) : NULL;
}
