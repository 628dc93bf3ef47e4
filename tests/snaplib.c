// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* One started snapshotter per test, for the snapshotter's suites. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "snaplib.h"

struct cgsnap_snapshotter *s;
struct cgsnap_settings settings;

void snaplib_setup(void)
{
	cgsnap_settings__init(&settings);
	s = cgsnap_snapshotter__new(&settings);
	cr_assert(ne(ptr, s, NULL));
	cr_assert(eq(int, cgsnap_snapshotter__start(s), 0));
}

void snaplib_teardown(void)
{
	cgsnap_snapshotter__free(s);
}

/* restart with settings changed by @fn */
void reconfigure(void (*fn)(struct cgsnap_settings *))
{
	cgsnap_snapshotter__free(s);
	cgsnap_settings__init(&settings);
	fn(&settings);
	s = cgsnap_snapshotter__new(&settings);
	cr_assert(ne(ptr, s, NULL));
	cr_assert(eq(int, cgsnap_snapshotter__start(s), 0));
}

void add(struct cgsnap_snapshot snap)
{
	const char *why = NULL;

	cgsnap_snapshot__validate(&snap, &why);
	cr_assert(ge(int, cgsnap_snapshotter__add(s, &snap, NULL), 0), "%s", why ? why : "");
}

struct cgsnap_sample sample(enum cgsnap_kind kind, int64_t duration)
{
	struct cgsnap_sample out;

	cr_assert(eq(int, cgsnap_snapshotter__sample(s, kind, duration, &out), 0));
	return out;
}

struct cgsnap_snapshot at(const struct cgsnap_sample *h, uint32_t i)
{
	struct cgsnap_snapshot out;

	cr_assert(eq(u32, cgsnap_sample__copy(h, i, 1, &out), 1), "no snapshot %u of %u", i, h->len);
	return out;
}

bool overloaded(struct cgsnap_snapshot snap)
{
	return cgsnap_snapshot__is_overloaded(&snap);
}

