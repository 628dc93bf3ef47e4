// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* libFuzzer: what cgsnap run decodes of a request: the route and its
 * {path-or-id}, query values (durations, counts, kinds), and the error
 * message that quotes them. */
#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "httpd.h"
#include "snapshotter.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	char *url = malloc(size + 1), ref[4096], msg[4 * 4096 + 64];
	int64_t ns;
	int r;

	if (!url)
		return 0;
	memcpy(url, data, size);
	url[size] = '\0';
	r = http_match(url, ref, sizeof(ref));
	if (r >= 0 && strlen(ref) >= sizeof(ref))
		__builtin_trap();
	cgsnap_parse_duration(url, &ns);
	cgsnap_kind_from_name(url);
	/* an error message quoting the URL must be valid UTF-8 for JSON */
	escape_text(url, msg, sizeof(msg));
	if (!text_is_clean(msg))
		__builtin_trap();
	free(url);
	return 0;
}
