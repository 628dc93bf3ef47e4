// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "auth.h"
#include "report.h"

#define TOKEN_MAX 4096

struct auth {
	char *path;		/* NULL: no token */
	bool all_routes;
	bool loopback;
	pthread_mutex_t lock;	/* the token and what it was read from */
	char token[TOKEN_MAX];
	size_t len;
	struct stat st;		/* of the file the token was read from */
	bool reload_failed;	/* logged once until it works again */
};

/* read the token file into @a (under its lock); 0 or -errno with @err */
static int load(struct auth *a, char *err, size_t errlen)
{
	char buf[TOKEN_MAX + 1];
	struct stat st;
	ssize_t n;
	int fd;

	fd = open(a->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		snprintf(err, errlen, "cannot read the token file %s: %s", a->path,
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0 || n > TOKEN_MAX) {
		snprintf(err, errlen, "cannot read the token file %s: %s", a->path,
			 n < 0 ? strerror(errno) : "larger than 4 KiB");
		return -EINVAL;
	}
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
		n--;	/* files usually end in a newline */
	if (!n || memchr(buf, '\n', n)) {
		snprintf(err, errlen, "the token file %s must hold one token on one line", a->path);
		return -EINVAL;
	}
	memcpy(a->token, buf, n);
	a->len = n;
	a->st = st;
	return 0;
}

/* read the file again if it changed since (rotation) */
static void reload_if_changed(struct auth *a)
{
	char err[512];
	struct stat st;

	if (stat(a->path, &st) == 0 && st.st_ino == a->st.st_ino && st.st_size == a->st.st_size &&
	    st.st_mtim.tv_sec == a->st.st_mtim.tv_sec && st.st_mtim.tv_nsec == a->st.st_mtim.tv_nsec)
		return;
	if (load(a, err, sizeof(err))) {
		/* keep the last good token; say so once */
		if (!a->reload_failed)
			report_log(REPORT_WARN, "%s; keeping the token read before", err);
		a->reload_failed = true;
		return;
	}
	if (a->reload_failed)
		report_log(REPORT_INFO, "the token file %s is readable again", a->path);
	a->reload_failed = false;
}

/* compare in time that depends on the expected token's length only */
static bool token_equal(const char *expected, size_t len, const char *given)
{
	size_t glen = strlen(given), i;
	unsigned char diff = glen != len;

	for (i = 0; i < len; i++)
		diff |= (unsigned char)expected[i] ^ (unsigned char)(i < glen ? given[i] : 0);
	return !diff;
}

unsigned int auth_check(struct auth *a, bool write, bool open, const char *authorization,
			const char **why)
{
	const char *given;
	bool ok;

	if (open)
		return 0;
	if (!a->path) {
		if (!write || a->loopback)
			return 0;
		*why = "writes are refused: cgsnap listens beyond loopback without --token-file";
		return 403;
	}
	if (!write && !a->all_routes)
		return 0;
	if (!authorization || strncasecmp(authorization, "Bearer ", 7)) {
		*why = "this needs an Authorization: Bearer token";
		return 401;
	}
	given = authorization + 7;
	pthread_mutex_lock(&a->lock);
	reload_if_changed(a);
	ok = token_equal(a->token, a->len, given);
	pthread_mutex_unlock(&a->lock);
	if (ok)
		return 0;
	*why = "invalid token";
	return 401;
}

const char *auth_describe(const struct auth *a)
{
	if (!a->path)
		return a->loopback ? "reads and writes open to local clients (no --token-file)" :
				     "reads open, writes refused (no --token-file, listening beyond "
				     "loopback)";
	return a->all_routes ? "every route but /healthz needs the bearer token" :
			       "reads open, writes need the bearer token";
}

struct auth *auth_new(const char *token_file, bool all_routes, bool loopback, char *err,
		      size_t errlen)
{
	struct auth *a = calloc(1, sizeof(*a));

	if (!a) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	a->all_routes = all_routes;
	a->loopback = loopback;
	pthread_mutex_init(&a->lock, NULL);
	if (!token_file)
		return a;
	a->path = strdup(token_file);
	if (!a->path || load(a, err, errlen)) {
		if (!a->path)
			snprintf(err, errlen, "out of memory");
		auth_free(a);
		return NULL;
	}
	return a;
}

void auth_free(struct auth *a)
{
	if (!a)
		return;
	explicit_bzero(a->token, sizeof(a->token));
	pthread_mutex_destroy(&a->lock);
	free(a->path);
	free(a);
}
