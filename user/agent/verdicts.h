/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The agent's verdict table: per cgroup id, the verdict last announced, the
 * kinds that made it, and since when, so that a change is announced once,
 * and (--verdict-hold) not before the one it replaces has held long
 * enough. Pure: no I/O.
 */
#ifndef __CGSNAP_VERDICTS_H
#define __CGSNAP_VERDICTS_H

#include <stdbool.h>
#include <stdint.h>

#include "policy.h"

struct verdicts;

/* NULL with errno ENOMEM */
struct verdicts *verdicts__new(void);
void verdicts__free(struct verdicts *t);

/*
 * Cgroup @id's verdict is @v at @now, made by the kinds in bit mask @kinds
 * (1 << enum cgsnap_kind). Returns whether to announce it: it or its kinds
 * differ from the one announced, and that one (unless none was) was
 * announced at least @hold_ns ago, or a kind joined an unchanged verdict;
 * then it is the announced one, and the verdict it replaces is in *@prev.
 * Out of memory is "not announced".
 */
bool verdicts__update(struct verdicts *t, uint64_t id, enum verdict v, unsigned int kinds,
		      int64_t now, int64_t hold_ns, enum verdict *prev);
/* the verdict announced for @id, VERDICT_NONE if none */
enum verdict verdicts__get(const struct verdicts *t, uint64_t id);
/* @id is gone */
void verdicts__forget(struct verdicts *t, uint64_t id);
unsigned int verdicts__count(const struct verdicts *t);

#endif /* __CGSNAP_VERDICTS_H */
