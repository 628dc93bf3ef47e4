// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "report.h"

static const char *prog = "cgsnap";

void report_set_prog(const char *p)
{
	prog = p;
}

const char *report_prog(void)
{
	return prog;
}

static enum report_level shown = REPORT_INFO;

void report_set_level(enum report_level level)
{
	shown = level;
}

/* one line, whole: other threads (the kubelet's, the HTTP server's) log too */
static void vreport(enum report_level level, int err, const char *fmt, va_list ap)
{
	static const char *const names[] = {
		[REPORT_ERROR] = "", [REPORT_WARN] = "warning: ", [REPORT_INFO] = "info: ",
		[REPORT_DEBUG] = "debug: ",
	};
	char msg[1024];

	if (level > shown)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	flockfile(stderr);
	if (err)
		fprintf(stderr, "%s: %s%s: %s\n", prog, names[level], msg,
			strerror(err < 0 ? -err : err));
	else
		fprintf(stderr, "%s: %s%s\n", prog, names[level], msg);
	funlockfile(stderr);
}

void report_log(enum report_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(level, 0, fmt, ap);
	va_end(ap);
}

void report(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(REPORT_ERROR, 0, fmt, ap);
	va_end(ap);
}

void report_err(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(REPORT_ERROR, err, fmt, ap);
	va_end(ap);
}
