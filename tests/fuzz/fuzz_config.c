// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* libFuzzer: cgsnap run's JSON config file, and the settings it sets. */
#include <string.h>

#include "run_options.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct run_options o = {};
	char err[1024];
	const char *why;

	cgsnap_settings__init(&o.agent.settings);
	if (config_parse((const char *)data, size, "fuzz", &o, err, sizeof(err)) == 0 &&
	    cgsnap_settings__validate(&o.agent.settings, &why))
		__builtin_trap();	/* a setting parsed but out of its range */
	run_options_free(&o);
	return 0;
}
