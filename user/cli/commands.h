/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The cgsnap subcommands; each returns the process exit status. */
#ifndef __CGSNAP_COMMANDS_H
#define __CGSNAP_COMMANDS_H

int cmd_replay(int argc, char **argv);
int cmd_stat(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_top(int argc, char **argv);

#endif /* __CGSNAP_COMMANDS_H */
