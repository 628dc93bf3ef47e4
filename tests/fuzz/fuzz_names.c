// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* libFuzzer: cgroup names and paths, whatever bytes they hold: the
 * printable form, path checks, and the lookups' normalisation. */
#include <stdlib.h>
#include <string.h>

#include "cgroupfs.h"
#include "escape.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	char *name = malloc(size + 1), *once, *twice;

	if (!name)
		return 0;
	memcpy(name, data, size);
	name[size] = '\0';
	cgroup_path_valid(name);
	once = escape_text_dup(name);
	twice = once ? escape_text_dup(once) : NULL;
	/* printable, and printable forms are left alone */
	if (once && (!text_is_clean(once) || !twice || strcmp(once, twice)))
		__builtin_trap();
	if (text_is_clean(name) && once && strcmp(name, once))
		__builtin_trap();
	free(twice);
	free(once);
	free(name);
	return 0;
}
