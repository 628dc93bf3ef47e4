'use strict';

/**
 * cgsnap-crawlee: Crawlee LoadSignals from a cgsnap agent's kernel-measured
 * verdicts. One signal per kind (cgsnap_runq, cgsnap_cpu, cgsnap_memory):
 * its snapshots say whether cgsnap's verdict for this crawler's cgroup is
 * overloaded by that kind, kept in a Crawlee SnapshotStore, so that
 * SystemStatus weighs them in time as it weighs its own.
 */
const { Follower } = require('./lib/follower');
const { ownCgroup } = require('./lib/cgroup');

const KINDS = ['runq', 'cpu', 'memory'];
const PUSH_MS = 250; // a snapshot at least this often, so the weights track time

/** a SnapshotStore: @crawlee/core's own where it is installed */
function snapshotStore(historyMillis) {
    try {
        // eslint-disable-next-line global-require
        const { SnapshotStore } = require('@crawlee/core');
        if (SnapshotStore) return new SnapshotStore(historyMillis);
    } catch {
        // no @crawlee/core: the same pruning, here
    }
    const snapshots = [];
    return {
        push(s, now = s.createdAt) {
            let old = 0;
            while (old < snapshots.length && now - snapshots[old].createdAt > historyMillis) old++;
            snapshots.splice(0, old);
            snapshots.push(s);
        },
        getSample(ms) {
            if (!ms) return snapshots;
            const last = snapshots.length ? +snapshots[snapshots.length - 1].createdAt : 0;
            return snapshots.filter((s) => last - +s.createdAt <= ms);
        },
        getAll: () => snapshots,
    };
}

function defaultLog() {
    try {
        // eslint-disable-next-line global-require
        return require('@crawlee/core').log;
    } catch {
        return { warning: (m) => console.warn(m), info: (m) => console.info(m) };
    }
}

/**
 * The signals. Options (all optional):
 * - url: the agent (CGSNAP_URL, else http://127.0.0.1:9465)
 * - cgroup: a cgroup path as the agent lists it, or an id (default: this
 *   process's own cgroup)
 * - token: the bearer token of an agent run with --auth all (CGSNAP_TOKEN)
 * - ca: the CA certificate (PEM) of an agent run with --tls-cert
 * - kinds: which signals (default ['runq', 'cpu', 'memory'])
 * - overloadedRatio: a number, or one per kind ({ runq: 0.1, ... }); 0.1
 * - historyMillis: how long the store keeps snapshots (5000)
 * - pollIntervalMillis: the status poll where no event stream is (500)
 * - log: a Crawlee Log (default @crawlee/core's log)
 */
function cgsnapLoadSignals(options = {}) {
    const kinds = options.kinds || KINDS;
    for (const k of kinds) {
        if (!KINDS.includes(k)) throw new Error(`cgsnapLoadSignals: unknown kind "${k}" (one of ${KINDS.join(', ')})`);
    }
    const ratioOf = (k) => {
        const r = typeof options.overloadedRatio === 'object' ? options.overloadedRatio[k] : options.overloadedRatio;
        const v = r ?? 0.1;
        if (typeof v !== 'number' || !(v >= 0 && v < 1)) throw new Error(`cgsnapLoadSignals: overloadedRatio for ${k} must be in [0, 1): ${v}`);
        return v;
    };
    const historyMillis = options.historyMillis ?? 5000;
    const log = options.log || defaultLog();
    const cgroup = options.cgroup !== undefined ? String(options.cgroup) : null;
    const url = options.url || process.env.CGSNAP_URL || 'http://127.0.0.1:9465';
    const token = options.token || process.env.CGSNAP_TOKEN;
    const signals = [];
    let follower = null;
    let started = 0;
    let pusher = null;

    const overloadedBy = (state, kind) => state.overloaded && state.kinds.includes(kind);
    const pushAll = (state, at = new Date()) => {
        for (const s of signals) s.store.push({ createdAt: at, isOverloaded: overloadedBy(state, s.kind) });
    };

    const start = async () => {
        if (started++) return;
        let ref = cgroup;
        if (ref === null) {
            try {
                const own = ownCgroup();
                ref = own.path ?? own.id;
            } catch (e) {
                // no cgroup to follow: the crawler runs on without these signals
                log.warning(`cgsnap: cannot find this process's cgroup (${e.message}); the cgsnap_* signals report "not overloaded" (pass options.cgroup)`);
                return;
            }
        }
        follower = new Follower({
            url,
            cgroup: ref,
            token,
            ca: options.ca,
            pollIntervalMillis: options.pollIntervalMillis ?? 500,
            warn: (m) => log.warning(m),
            info: (m) => log.info(m),
            onState: (state, prev) => {
                // the old state lasted until now, the new one starts now
                const now = new Date();
                pushAll(prev, now);
                pushAll(state, new Date(now.getTime() + 1));
            },
        });
        pushAll(follower.state);
        pusher = setInterval(() => pushAll(follower.state), PUSH_MS);
        pusher.unref();
        await follower.start();
    };
    const stop = async () => {
        if (!started || --started) return;
        clearInterval(pusher);
        if (follower) follower.stop();
        follower = null;
    };

    for (const kind of kinds) {
        const store = snapshotStore(historyMillis);
        signals.push({
            name: `cgsnap_${kind}`,
            overloadedRatio: ratioOf(kind),
            kind,
            store,
            start,
            stop,
            getSample(sampleDurationMillis) {
                // the state as it is now closes the sample
                if (follower) {
                    const all = store.getAll();
                    const last = all.length ? +all[all.length - 1].createdAt : 0;
                    if (Date.now() - last >= 50) store.push({ createdAt: new Date(), isOverloaded: overloadedBy(follower.state, kind) });
                }
                return store.getSample(sampleDurationMillis);
            },
        });
    }
    return signals;
}

module.exports = { cgsnapLoadSignals, KINDS };
