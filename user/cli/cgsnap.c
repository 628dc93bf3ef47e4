// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* cgsnap: per-cgroup load monitor for autoscalers. Command dispatch. */
#include <argp.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "report.h"

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{ "run", cmd_run, "the agent: watch cgroups, serve /metrics and the JSON API, log verdicts" },
	{ "status", cmd_status, "ask a running agent for the verdict of its cgroups" },
	{ "top", cmd_top, "the watched cgroups live: verdicts, CPU, memory, run-queue waits" },
	{ "stat", cmd_stat, "measure run-queue waits and memory pressure per cgroup, then print them" },
	{ "replay", cmd_replay, "feed recorded snapshots (JSON Lines) through the snapshotter" },
};

#define NR_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "Usage: cgsnap COMMAND [OPTION...] [ARG...]\n"
		   "Per-cgroup load monitor: tells an autoscaler, for every cgroup, whether it is\n"
		   "overloaded or has headroom, and why.\n\nCommands:\n");
	for (i = 0; i < NR_COMMANDS; i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n`cgsnap COMMAND --help` describes a command's options.\n"
		   "  -h, --help     give this help list\n"
		   "  -V, --version  print the program version\n");
}

int main(int argc, char **argv)
{
	char prog[64];
	size_t i;

	argp_err_exit_status = 2;
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("cgsnap %s\n", CGSNAP_VERSION);
		return 0;
	}
	for (i = 0; i < NR_COMMANDS; i++) {
		if (strcmp(argv[1], commands[i].name))
			continue;
		/* argp names the program after argv[0]: "cgsnap replay: ..." */
		snprintf(prog, sizeof(prog), "cgsnap %s", commands[i].name);
		argv[1] = prog;
		report_set_prog(prog);
		return commands[i].fn(argc - 1, argv + 1);
	}
	fprintf(stderr, "cgsnap: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
