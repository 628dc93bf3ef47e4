// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* libFuzzer: cgroup names and paths, whatever bytes they hold: the
 * printable form, path checks, the lookups' normalisation, and the
 * Kubernetes identity read from a path. */
#include <stdlib.h>
#include <string.h>

#include "cgroupfs.h"
#include "escape.h"
#include "identity.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	char *name = malloc(size + 1), *once, *twice;

	if (!name)
		return 0;
	memcpy(name, data, size);
	name[size] = '\0';
	struct k8s_identity id;

	cgroup_path_valid(name);
	/* a match is whole: a uid in the API's form, a QoS class, an id if a container */
	if (k8s_identify(name, &id) != K8S_NONE &&
	    (strlen(id.pod_uid) != 36 || !*id.qos ||
	     (id.kind != K8S_POD && strlen(id.container_id) != 64)))
		__builtin_trap();
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
