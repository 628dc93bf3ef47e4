// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* libFuzzer: cgsnap replay's input, JSON Lines through the snapshotter. */
#include <stdio.h>
#include <stdlib.h>
#include <jansson.h>

#include "replay.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct replay_opts opts = { .sample = true, .sample_ns = 1000000000 };
	FILE *in = fmemopen((void *)data, size, "r");
	json_t *result = NULL, *back;
	char err[512], *text;

	if (!in)
		return 0;
	cgsnap_settings__init(&opts.settings);
	if (replay_stream(in, &opts, &result, err, sizeof(err)) == 0) {
		/* whatever went in, what comes out is JSON that reads back */
		text = json_dumps(result, JSON_COMPACT);
		back = text ? json_loads(text, 0, NULL) : NULL;
		if (!back)
			abort();
		json_decref(back);
		free(text);
	}
	json_decref(result);
	fclose(in);
	return 0;
}
