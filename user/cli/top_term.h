/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The terminal of cgsnap top: raw keys, the alternate screen, its size, a
 * frame written at once. Plain ANSI (ECMA-48), no curses: what every
 * terminal emulator and tmux understand.
 */
#ifndef __CGSNAP_TOP_TERM_H
#define __CGSNAP_TOP_TERM_H

#include <stddef.h>

/* keys come one at a time, unechoed, on the alternate screen; undone by
 * term_restore() (also at exit): 0 or -errno */
int term_raw(void);
void term_restore(void);
/* rows and columns, 24 x 80 when the terminal does not say */
void term_size(unsigned int *rows, unsigned int *cols);
/* a key within @timeout_ms: its byte; TERM_TIMEOUT; TERM_WAKE when @wakefd
 * became readable first (drained); TERM_INTR on a signal or an error */
enum { TERM_TIMEOUT = -1, TERM_WAKE = -2, TERM_INTR = -3 };
int term_key(int timeout_ms, int wakefd);
/* the screen becomes @text (lines ending in \n), cursor home first */
void term_show(const char *text, size_t len);

#endif /* __CGSNAP_TOP_TERM_H */
