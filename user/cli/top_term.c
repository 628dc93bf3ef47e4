// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* cgsnap top's terminal (top_term.h). */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "top_term.h"

static struct termios saved;
static bool raw;

void term_restore(void)
{
	static const char leave[] = "\033[?25h\033[?1049l";

	if (!raw)
		return;
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
	if (write(STDOUT_FILENO, leave, sizeof(leave) - 1) < 0) {
		/* the terminal is gone: nothing to restore */
	}
	raw = false;
}

int term_raw(void)
{
	static const char enter[] = "\033[?1049h\033[?25l";
	struct termios t;

	if (tcgetattr(STDIN_FILENO, &saved))
		return -errno;
	t = saved;
	t.c_lflag &= ~(ICANON | ECHO);	/* ISIG kept: Ctrl-C still interrupts */
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &t))
		return -errno;
	raw = true;
	atexit(term_restore);
	if (write(STDOUT_FILENO, enter, sizeof(enter) - 1) < 0)
		return -errno;
	return 0;
}

void term_size(unsigned int *rows, unsigned int *cols)
{
	struct winsize ws;

	if (!ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) && ws.ws_row && ws.ws_col) {
		*rows = ws.ws_row;
		*cols = ws.ws_col;
		return;
	}
	*rows = 24;
	*cols = 80;
}

int term_key(int timeout_ms, int wakefd)
{
	struct pollfd p[2] = { { STDIN_FILENO, POLLIN, 0 }, { wakefd, POLLIN, 0 } };
	unsigned char c;
	char drain[64];
	int n;

	n = poll(p, wakefd >= 0 ? 2 : 1, timeout_ms < 0 ? 0 : timeout_ms);
	if (n < 0)
		return TERM_INTR;
	if (!n)
		return TERM_TIMEOUT;
	if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
		if (read(STDIN_FILENO, &c, 1) != 1)
			return TERM_INTR;	/* the terminal closed */
		return c;
	}
	while (read(wakefd, drain, sizeof(drain)) > 0)
		;
	return TERM_WAKE;
}

void term_show(const char *text, size_t len)
{
	static const char home[] = "\033[H";
	const char *line, *end = text + len;
	char *out, *o;

	size_t lines = 1;

	for (line = text; (line = memchr(line, '\n', end - line)); line++)
		lines++;
	/* each line cleared to its end, and the rest of the screen below */
	out = malloc(len + 6 * lines + 64);
	if (!out)
		return;
	o = out + sprintf(out, "%s", home);
	for (line = text; line < end;) {
		const char *nl = memchr(line, '\n', end - line);
		size_t n = nl ? (size_t)(nl - line) : (size_t)(end - line);

		memcpy(o, line, n);
		o += n;
		o += sprintf(o, "\033[K%s", nl && nl + 1 < end ? "\r\n" : "");
		line += n + (nl != NULL);
	}
	o += sprintf(o, "\033[J");
	if (write(STDOUT_FILENO, out, o - out) < 0) {
		/* the terminal is gone: the next key read ends it */
	}
	free(out);
}
