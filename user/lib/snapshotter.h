/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * libcgsnap: per-cgroup autoscaling snapshotter.
 *
 * Windowed histories of cpu, memory, run-queue delay and client-error
 * snapshots, pruned to a history window, sampled by duration and judged by
 * time-weighted overload ratios, as cgsnap's docs/SPEC.md (sections 1-6) states.
 *
 * Pure logic: no I/O, no logging, no clock. Every time is a signed 64-bit
 * nanosecond count supplied by the caller; every size is integer bytes.
 * Commands return 0 or a negative errno; constructors return a pointer or
 * NULL with errno set; destructors accept NULL.
 */
#ifndef __CGSNAP_SNAPSHOTTER_H
#define __CGSNAP_SNAPSHOTTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CGSNAP_NSEC_PER_USEC	1000LL
#define CGSNAP_NSEC_PER_MSEC	1000000LL
#define CGSNAP_NSEC_PER_SEC	1000000000LL

/* Upper bound of snapshots one history keeps; older ones are dropped (and
 * counted) when a burst of snapshots exceeds it. */
#define CGSNAP_HISTORY_MAX	(1U << 16)

enum cgsnap_kind {
	CGSNAP_KIND_CPU = 0,
	CGSNAP_KIND_MEMORY,
	CGSNAP_KIND_RUNQ,
	CGSNAP_KIND_CLIENT,
	CGSNAP_KIND_COUNT,
};

/* which statistic of an interval's run-queue waits is a runq snapshot's delay */
enum cgsnap_runq_stat {
	CGSNAP_RUNQ_P50 = 0,
	CGSNAP_RUNQ_P90,
	CGSNAP_RUNQ_P99,
	CGSNAP_RUNQ_MAX,
	CGSNAP_RUNQ_MEAN,
};

/* docs/SPEC.md section 2; all durations in ns. A size or ratio of -1 means "none". */
struct cgsnap_settings {
	int64_t runq_interval_ns;
	int64_t client_interval_ns;
	int64_t system_info_interval_ns;
	double max_used_cpu_ratio;
	int64_t max_memory_size;
	double available_memory_ratio;
	double max_used_memory_ratio;
	int64_t max_runq_delay_ns;
	enum cgsnap_runq_stat runq_statistic;
	double max_memory_stall_ratio;
	int64_t max_client_errors;
	int64_t client_rate_limit_error_retry_count;
	int64_t snapshot_history_ns;
	double reserve_memory_ratio;
	int64_t memory_warning_cooldown_ns;
	int64_t max_snapshot_age_ns;
	double overload_threshold[CGSNAP_KIND_COUNT];
	/* cgsnap run's, beside the Snapshotter's (the library does not use them) */
	int64_t fast;			/* 1: decisions in under a second (--fast) */
	int64_t verdict_hold_ns;	/* a verdict holds this long before it flips back */
};

/*
 * Optional fields present in a snapshot (struct cgsnap_snapshot.present).
 * The library reads the value bits; the others record how a snapshot was
 * given, so that it can be echoed as it came (cgsnap replay).
 */
enum cgsnap_field {
	CGSNAP_F_SYSTEM_USED	= 1U << 0,
	CGSNAP_F_SYSTEM_TOTAL	= 1U << 1,
	CGSNAP_F_STALL		= 1U << 2,
	CGSNAP_F_RUNQ_COUNT	= 1U << 3,
	CGSNAP_F_RUNQ_MEAN	= 1U << 4,
	CGSNAP_F_RUNQ_P50	= 1U << 5,
	CGSNAP_F_RUNQ_P90	= 1U << 6,
	CGSNAP_F_RUNQ_P99	= 1U << 7,
	CGSNAP_F_RUNQ_MAX	= 1U << 8,
	CGSNAP_F_NEW_ERRORS	= 1U << 9,	/* client: new_error_count given, not computed */
	CGSNAP_F_MAX_STALL	= 1U << 10,	/* memory: max_stall_ratio given (else 0.1) */
	CGSNAP_F_CGROUP		= 1U << 11,	/* the input named its cgroup */
};

/* the bit saying that optional field @f was given as null (no value) */
#define CGSNAP_F_NULL(f) ((uint32_t)(f) << 16)

struct cgsnap_cpu_snapshot {
	double used_ratio;
	double max_used_ratio;
};

struct cgsnap_memory_snapshot {
	int64_t current_bytes;
	int64_t max_bytes;
	double max_used_ratio;
	int64_t system_used_bytes;	/* valid with CGSNAP_F_SYSTEM_USED */
	int64_t system_total_bytes;	/* valid with CGSNAP_F_SYSTEM_TOTAL */
	double stall_ratio;		/* valid with CGSNAP_F_STALL */
	double max_stall_ratio;
};

struct cgsnap_runq_snapshot {
	int64_t delay_ns;
	int64_t max_delay_ns;
	int64_t count;
	int64_t mean_ns;
	int64_t p50_ns;
	int64_t p90_ns;
	int64_t p99_ns;
	int64_t max_ns;
};

struct cgsnap_client_snapshot {
	int64_t error_count;
	int64_t new_error_count;
	int64_t max_error_count;
};

struct cgsnap_snapshot {
	int64_t t_ns;
	uint32_t kind;		/* enum cgsnap_kind */
	uint32_t present;	/* enum cgsnap_field bits */
	bool overloaded;	/* filled in by cgsnap_snapshotter__add() */
	union {
		struct cgsnap_cpu_snapshot cpu;
		struct cgsnap_memory_snapshot memory;
		struct cgsnap_runq_snapshot runq;
		struct cgsnap_client_snapshot client;
	};
};

/* A critical-memory warning (docs/SPEC.md section 5). */
struct cgsnap_memory_warning {
	int64_t t_ns;
	int64_t current_bytes;
	int64_t threshold_bytes;
	int64_t budget_bytes;
};

struct cgsnap_load_ratio {
	double limit_ratio;	/* the kind's overload threshold */
	double actual_ratio;	/* time-weighted overloaded ratio, 3 decimals */
	bool overloaded;	/* actual_ratio > limit_ratio */
};

struct cgsnap_status {
	struct cgsnap_load_ratio kind[CGSNAP_KIND_COUNT];
	bool idle;		/* no kind overloaded */
};

/*
 * A window of one history: @len snapshots, oldest first, read with
 * cgsnap_sample__copy(). The history keeps its snapshots compact, not as
 * struct cgsnap_snapshot: a sample points at none of them. Valid until the
 * next call that changes the snapshotter.
 */
struct cgsnap_sample {
	const void *hist;	/* private */
	uint32_t first;		/* private */
	uint32_t len;
};

struct cgsnap_snapshotter;

/* Fill @s with docs/SPEC.md section 2's defaults. */
void cgsnap_settings__init(struct cgsnap_settings *s);

/* Returns 0 if @s is valid, else -EINVAL and, if @why is non-NULL, a static
 * description of the first bad setting. */
int cgsnap_settings__validate(const struct cgsnap_settings *s, const char **why);

/* Parse "<non-negative integer><unit>" with unit ns, us, ms, s, m or h.
 * Returns 0, -EINVAL if malformed, -ERANGE if it does not fit in int64 ns. */
int cgsnap_parse_duration(const char *str, int64_t *ns);

const char *cgsnap_kind_name(enum cgsnap_kind kind);
/* Returns the kind named @name, or -EINVAL. */
int cgsnap_kind_from_name(const char *name);
const char *cgsnap_runq_stat_name(enum cgsnap_runq_stat stat);
int cgsnap_runq_stat_from_name(const char *name);

/* Describe an error returned by this library (covers the lifecycle errors
 * "snapshotter is already active" / "snapshotter is not active"). */
const char *cgsnap_strerror(int err);

/* Returns whether @snap is overloaded by its own thresholds (docs/SPEC.md section 3). */
bool cgsnap_snapshot__is_overloaded(const struct cgsnap_snapshot *snap);

/* Returns 0 if @snap's values are finite and in range, else -EINVAL and, if
 * @why is non-NULL, a static description of the first bad field. */
int cgsnap_snapshot__validate(const struct cgsnap_snapshot *snap, const char **why);

/* Create a snapshotter with a copy of @settings (NULL: defaults). Returns
 * NULL with errno EINVAL for invalid settings or ENOMEM. */
struct cgsnap_snapshotter *cgsnap_snapshotter__new(const struct cgsnap_settings *settings);
void cgsnap_snapshotter__free(struct cgsnap_snapshotter *s);
const struct cgsnap_settings *cgsnap_snapshotter__settings(const struct cgsnap_snapshotter *s);

/* Lifecycle (docs/SPEC.md section 4). start() returns -EALREADY if already active;
 * stop() returns -ENOTCONN if not active. */
int cgsnap_snapshotter__start(struct cgsnap_snapshotter *s);
int cgsnap_snapshotter__stop(struct cgsnap_snapshotter *s);
bool cgsnap_snapshotter__is_active(const struct cgsnap_snapshotter *s);

/*
 * Add one snapshot: computes a client snapshot's new_error_count unless
 * CGSNAP_F_NEW_ERRORS is set, computes .overloaded, inserts in time order
 * (after equal timestamps), prunes to snapshot_history and, for a memory
 * snapshot, applies the critical-memory warning rule.
 * Returns 1 if a warning was raised (stored in *@warning if non-NULL), 0 if
 * not, -ENOTCONN if not active, -EINVAL if the snapshot is invalid.
 * Amortised O(1) for in-order snapshots; allocates only while a history grows.
 */
int cgsnap_snapshotter__add(struct cgsnap_snapshotter *s, const struct cgsnap_snapshot *snap,
			    struct cgsnap_memory_warning *warning);

/*
 * SPEC sample(kind, duration): the snapshots with newest - t <= @duration_ns,
 * oldest first; @duration_ns <= 0 means the whole history.
 * Returns 0, -ENOTCONN if not active, -EINVAL for a bad kind.
 */
int cgsnap_snapshotter__sample(const struct cgsnap_snapshotter *s, enum cgsnap_kind kind,
			       int64_t duration_ns, struct cgsnap_sample *out);

/*
 * Copy snapshots [@from, @from + @n) of @sample (as far as it goes) to @out,
 * oldest first; returns how many. O(first + from + n): the copies are
 * decoded in order from the history's oldest snapshot.
 */
uint32_t cgsnap_sample__copy(const struct cgsnap_sample *sample, uint32_t from, uint32_t n,
			     struct cgsnap_snapshot *out);

/* Copy the newest snapshot of @kind to @out; false if its history is empty
 * or @kind is not a kind. */
bool cgsnap_snapshotter__latest(const struct cgsnap_snapshotter *s, enum cgsnap_kind kind,
				struct cgsnap_snapshot *out);

/* Bytes @s holds on the heap: itself and its histories. */
size_t cgsnap_snapshotter__heap_bytes(const struct cgsnap_snapshotter *s);

/* Snapshots dropped from @kind's history because it hit CGSNAP_HISTORY_MAX. */
uint64_t cgsnap_snapshotter__dropped(const struct cgsnap_snapshotter *s, enum cgsnap_kind kind);

/* Time-weighted overloaded ratio of a sample (docs/SPEC.md section 6), rounded to 3
 * decimals as Python's round(x, 3). */
double cgsnap_sample__overload_ratio(const struct cgsnap_sample *sample);

/* Python's round(x, 3): correctly rounded, ties to even on the exact value. */
double cgsnap_round3(double x);

/* Current (sample(max_snapshot_age)) and historical (whole history) status.
 * Return 0 or -ENOTCONN if not active. */
int cgsnap_snapshotter__current_status(const struct cgsnap_snapshotter *s,
				       struct cgsnap_status *out);
int cgsnap_snapshotter__historical_status(const struct cgsnap_snapshotter *s,
					  struct cgsnap_status *out);

/*
 * Client errors reported by the workload (docs/SPEC.md section 3): only errors on
 * retry attempt client_rate_limit_error_retry_count are counted, and the count
 * saturates at INT64_MAX. Returns 1 if counted, 0 if ignored, -EINVAL for a
 * negative @retry or @count.
 */
int cgsnap_snapshotter__report_client_errors(struct cgsnap_snapshotter *s, int64_t retry,
					     int64_t count);
int64_t cgsnap_snapshotter__client_error_count(const struct cgsnap_snapshotter *s);

/* Take a client snapshot at @t_ns from the errors reported so far.
 * Returns as cgsnap_snapshotter__add(). */
int cgsnap_snapshotter__take_client_snapshot(struct cgsnap_snapshotter *s, int64_t t_ns);

/*
 * Memory budget (docs/SPEC.md section 2): max_memory_size; else
 * trunc(available_memory_ratio x limit); else @limit_bytes; else
 * @host_total_bytes. @limit_bytes < 0 means the cgroup is unlimited.
 */
int64_t cgsnap_settings__memory_budget(const struct cgsnap_settings *s, int64_t limit_bytes,
				       int64_t host_total_bytes);

/* docs/SPEC.md section 5 threshold for @budget and @max_used_ratio. */
int64_t cgsnap_memory_warning_threshold(int64_t budget, double max_used_ratio,
					double reserve_memory_ratio);

#ifdef __cplusplus
}
#endif

#endif /* __CGSNAP_SNAPSHOTTER_H */
