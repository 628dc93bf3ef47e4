// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>

#include "psi.h"

struct trigger {
	uint64_t id;
	int fd[2];		/* cpu.pressure, memory.pressure */
};

struct psi_triggers {
	char *root;
	int epfd;
	uint64_t tag;
	unsigned int max, n;
	struct trigger *v;
};

struct psi_triggers *psi_triggers__new(const char *v2root, unsigned int max, int epfd,
				       uint64_t tag)
{
	struct psi_triggers *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->root = strdup(v2root);
	p->v = calloc(max ? max : 1, sizeof(*p->v));
	if (!p->root || !p->v) {
		psi_triggers__free(p);
		errno = ENOMEM;
		return NULL;
	}
	p->epfd = epfd;
	p->tag = tag;
	p->max = max;
	return p;
}

static void close_trigger(struct psi_triggers *p, struct trigger *t)
{
	for (int i = 0; i < 2; i++)
		if (t->fd[i] >= 0) {
			epoll_ctl(p->epfd, EPOLL_CTL_DEL, t->fd[i], NULL);
			close(t->fd[i]);
		}
}

void psi_triggers__free(struct psi_triggers *p)
{
	if (!p)
		return;
	for (unsigned int i = 0; i < p->n; i++)
		close_trigger(p, &p->v[i]);
	free(p->v);
	free(p->root);
	free(p);
}

/* one trigger on @file of cgroup @path: its fd, or -errno */
static int arm(struct psi_triggers *p, const char *path, const char *file)
{
	struct epoll_event ev = { .events = EPOLLPRI, .data.u64 = p->tag };
	char full[4096];
	int fd, err = 0;

	if (snprintf(full, sizeof(full), "%s/%s%s%s", p->root, path, *path ? "/" : "", file) >=
	    (int)sizeof(full))
		return -ENAMETOOLONG;
	fd = open(full, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* the terminating NUL is written too: the kernel's parser wants it */
	if (write(fd, PSI_TRIGGER, sizeof(PSI_TRIGGER)) < 0 &&
	    write(fd, PSI_TRIGGER_UNPRIVILEGED, sizeof(PSI_TRIGGER_UNPRIVILEGED)) < 0)
		err = -errno;
	if (!err && epoll_ctl(p->epfd, EPOLL_CTL_ADD, fd, &ev))
		err = -errno;
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

int psi_triggers__add(struct psi_triggers *p, uint64_t id, const char *path)
{
	struct trigger *t;

	if (p->n >= p->max)
		return -ENOSPC;
	t = &p->v[p->n];
	t->id = id;
	t->fd[0] = arm(p, path, "cpu.pressure");
	if (t->fd[0] < 0)
		return t->fd[0];
	t->fd[1] = arm(p, path, "memory.pressure");
	if (t->fd[1] < 0) {
		int err = t->fd[1];

		t->fd[1] = -1;
		close_trigger(p, t);
		return err;
	}
	p->n++;
	return 0;
}

void psi_triggers__remove(struct psi_triggers *p, uint64_t id)
{
	for (unsigned int i = 0; i < p->n; i++) {
		if (p->v[i].id != id)
			continue;
		close_trigger(p, &p->v[i]);
		p->v[i] = p->v[--p->n];
		return;
	}
}

unsigned int psi_triggers__count(const struct psi_triggers *p)
{
	return p->n;
}
