// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* libFuzzer: a cgroup name as it reaches a Prometheus label (its printable
 * form, then the label escaper). Whatever the name, the value written is
 * valid UTF-8, on one line, and every quote and backslash is escaped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "metrics.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	char *name = malloc(size + 1), *printable, *out = NULL;
	size_t len = 0, i;
	FILE *f;

	if (!name)
		return 0;
	memcpy(name, data, size);
	name[size] = '\0';
	printable = escape_text_dup(name);
	f = printable ? open_memstream(&out, &len) : NULL;
	if (f) {
		metrics_label(f, printable);
		fclose(f);
		if (!text_is_clean(out))
			__builtin_trap();
		for (i = 0; i < len; i++) {
			if (out[i] == '\\' && i + 1 < len && (out[i + 1] == '\\' || out[i + 1] == '"'))
				i++;	/* an escape */
			else if (out[i] == '"' || out[i] == '\\')
				__builtin_trap();	/* a bare quote or backslash */
		}
	}
	free(out);
	free(printable);
	free(name);
	return 0;
}
