/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Names of the kernel side's enums (bpf/cgsnap.h), for metrics, JSON and
 * text: one table each. */
#ifndef __CGSNAP_NAMES_H
#define __CGSNAP_NAMES_H

/* enum cgsnap_holder: "same_cgroup", ... (labels and JSON keys) */
const char *holder_name(int holder);
/* the same for people: "same cgroup", "kernel thread", ... */
const char *holder_label(int holder);
/* enum cgsnap_reclaim: "direct", "memcg" */
const char *reclaim_name(int kind);
/* enum cgsnap_drop: "slots_full", ... */
const char *drop_name(int reason);

#endif /* __CGSNAP_NAMES_H */
