/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Errors at the command edge: one line on stderr, prefixed by the command
 * ("cgsnap run: "), naming the object, with strerror() where there is an
 * errno. Library code never calls these; commands and the agent do.
 */
#ifndef __CGSNAP_REPORT_H
#define __CGSNAP_REPORT_H

/* the prefix of every line, e.g. "cgsnap run" (the string is kept) */
void report_set_prog(const char *prog);
const char *report_prog(void);

/* "PROG: MESSAGE" */
__attribute__((format(printf, 1, 2)))
void report(const char *fmt, ...);

/* "PROG: MESSAGE: strerror(-err)" for a negative errno @err */
__attribute__((format(printf, 2, 3)))
void report_err(int err, const char *fmt, ...);

#endif /* __CGSNAP_REPORT_H */
