/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* CO-RE flavours for kernel fields that changed name or type. */
#ifndef __CORE_FIXES_BPF_H
#define __CORE_FIXES_BPF_H

#include <vmlinux.h>
#include <bpf/bpf_core_read.h>

/*
 * commit 2f064a59a11f ("sched: Change task_struct::state") renamed
 * task_struct::state to __state (v5.14) and made it unsigned int.
 */
struct task_struct___o {
	volatile long int state;
} __attribute__((preserve_access_index));

struct task_struct___x {
	unsigned int __state;
} __attribute__((preserve_access_index));

static __always_inline __s64 get_task_state(void *task)
{
	struct task_struct___x *t = task;

	/* a BTF pointer in tp_btf programs: direct loads, see cgsnap.bpf.c */
	if (bpf_core_field_exists(t->__state))
		return t->__state;
	return ((struct task_struct___o *)task)->state;
}

#endif /* __CORE_FIXES_BPF_H */
