/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The one sink of a process's messages: a line on stderr each, whole even
 * with threads, prefixed by the command ("cgsnap run: "), then the level
 * for what is not an error ("cgsnap run: warning: "), naming the object,
 * with strerror() where there is an errno. Library code never calls these;
 * commands and the agent do.
 */
#ifndef __CGSNAP_REPORT_H
#define __CGSNAP_REPORT_H

/* the prefix of every line, e.g. "cgsnap run" (the string is kept) */
void report_set_prog(const char *prog);
const char *report_prog(void);

enum report_level { REPORT_ERROR, REPORT_WARN, REPORT_INFO, REPORT_DEBUG };

/* lines above @level are dropped (default REPORT_INFO); errors never are */
void report_set_level(enum report_level level);

/* "PROG: LEVEL: MESSAGE" */
__attribute__((format(printf, 2, 3)))
void report_log(enum report_level level, const char *fmt, ...);

/* "PROG: MESSAGE", an error */
__attribute__((format(printf, 1, 2)))
void report(const char *fmt, ...);

/* "PROG: MESSAGE: strerror(-err)" for a negative errno @err */
__attribute__((format(printf, 2, 3)))
void report_err(int err, const char *fmt, ...);

#endif /* __CGSNAP_REPORT_H */
