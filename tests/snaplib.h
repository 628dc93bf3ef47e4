/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * One started snapshotter per test (test_snapshotter.c, test_ratio.c): @s
 * with @settings, made by snaplib_setup() and freed by snaplib_teardown()
 * (a suite's .init and .fini); helpers that fail the test on an error.
 */
#ifndef __SNAPLIB_H
#define __SNAPLIB_H

#include <stdbool.h>

#include "snap_helpers.h"

extern struct cgsnap_snapshotter *s;
extern struct cgsnap_settings settings;

void snaplib_setup(void);
void snaplib_teardown(void);
/* restart with settings changed by @fn */
void reconfigure(void (*fn)(struct cgsnap_settings *));
void add(struct cgsnap_snapshot snap);
struct cgsnap_sample sample(enum cgsnap_kind kind, int64_t duration);
/* a copy of snapshot @i of @h */
struct cgsnap_snapshot at(const struct cgsnap_sample *h, uint32_t i);
bool overloaded(struct cgsnap_snapshot snap);

#endif /* __SNAPLIB_H */
