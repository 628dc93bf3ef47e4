/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * PSI triggers (fast mode): "some" thresholds written to the cpu.pressure
 * and memory.pressure of at most a bounded number of watched cgroups, each
 * fd then polled (EPOLLPRI) in the agent's epoll set: the kernel says when a
 * cgroup stalls, and the agent reads it at once. Every cgroup with a
 * privileged trigger costs the kernel a thread (psimon): hence the bound.
 * A trigger the kernel refuses (no PSI, no privilege for a 1 s window) is
 * retried with the unprivileged 2 s window, then left to the fast ticks.
 * Library code: no logging, -errno.
 */
#ifndef __CGSNAP_PSI_H
#define __CGSNAP_PSI_H

#include <stdint.h>

/* stall 100 ms in 1 s (10%, the default max_memory_stall_ratio), or, where
 * only unprivileged triggers may be made, 200 ms in 2 s */
#define PSI_TRIGGER		"some 100000 1000000"
#define PSI_TRIGGER_UNPRIVILEGED "some 200000 2000000"

struct psi_triggers;

/* At most @max cgroups under @v2root, their fds added to @epfd with
 * @tag as their epoll data. NULL with errno ENOMEM. */
struct psi_triggers *psi_triggers__new(const char *v2root, unsigned int max, int epfd,
				       uint64_t tag);
void psi_triggers__free(struct psi_triggers *p);

/* Triggers for cgroup @id at @path: 0, -ENOSPC (the bound is reached), or
 * the kernel's refusal (-EPERM, -EINVAL, -ENOENT, -EOPNOTSUPP). */
int psi_triggers__add(struct psi_triggers *p, uint64_t id, const char *path);
void psi_triggers__remove(struct psi_triggers *p, uint64_t id);
unsigned int psi_triggers__count(const struct psi_triggers *p);

#endif /* __CGSNAP_PSI_H */
