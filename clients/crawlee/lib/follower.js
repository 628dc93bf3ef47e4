'use strict';

const http = require('http');
const https = require('https');
const { SseParser } = require('./sse');
const { refPath, exactGlob } = require('./cgroup');

const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 30000;
const STALE_MS = 40000; // the agent sends a heartbeat every 15 s

/**
 * Follows one cgroup's verdict on a cgsnap agent: the /v1/events stream
 * (the state as it stands, then each change as the agent decides it), or,
 * where the agent has no stream for us (404: an older agent; 503: its
 * subscribers are at their bound), its /v1/cgroups/{ref}/status polled.
 * onState({ overloaded, kinds }) is called on every change; while the
 * agent cannot be reached the state is "not overloaded".
 */
class Follower {
    constructor(opts) {
        this.url = new URL(opts.url);
        this.ref = opts.cgroup;
        this.token = opts.token;
        this.ca = opts.ca;
        this.pollMs = opts.pollIntervalMillis;
        this.warn = opts.warn;
        this.info = opts.info;
        this.onState = opts.onState;
        this.state = { overloaded: false, kinds: [] };
        this.running = false;
        this.backoff = BACKOFF_MIN_MS;
        this.problem = null; // what is wrong now, told once
        this.path = null; // the cgroup's path as the agent lists it
        this.req = null;
        this.timer = null;
    }

    /** Resolves once the state is known, or after @waitMs whatever happens. */
    start(waitMs = 1000) {
        this.running = true;
        const first = new Promise((resolve) => {
            this.firstKnown = resolve;
            setTimeout(resolve, waitMs).unref();
        });
        this.connect();
        return first;
    }

    stop() {
        this.running = false;
        clearTimeout(this.timer);
        clearTimeout(this.staleTimer);
        const req = this.req;
        this.req = null;
        if (req) req.destroy();
    }

    set(overloaded, kinds) {
        const prev = this.state;
        this.state = { overloaded, kinds: overloaded ? kinds : [] };
        if (this.firstKnown) this.firstKnown();
        if (prev.overloaded !== this.state.overloaded || prev.kinds.join() !== this.state.kinds.join()) {
            this.onState(this.state, prev);
        }
    }

    /** Something is wrong: not overloaded, tell once, try again later. */
    fail(why, retryMs) {
        if (!this.running) return;
        const req = this.req;
        this.req = null; // what it still says is not heard
        if (req) req.destroy();
        clearTimeout(this.staleTimer);
        this.set(false, []);
        // one warning an outage, whatever it goes through until it ends
        if (!this.problem) this.warn(`cgsnap: ${why}; the cgsnap_* signals report "not overloaded" until it is back`);
        this.problem = why;
        const wait = retryMs ?? this.backoff;
        this.backoff = Math.min(this.backoff * 2, BACKOFF_MAX_MS);
        this.timer = setTimeout(() => this.connect(), wait);
        this.timer.unref();
    }

    ok() {
        if (this.problem) this.info(`cgsnap: following ${this.path} at ${this.url.origin} again`);
        this.problem = null;
        this.backoff = BACKOFF_MIN_MS;
    }

    request(path, onResponse) {
        const mod = this.url.protocol === 'https:' ? https : http;
        const headers = { Accept: path.startsWith('/v1/events') ? 'text/event-stream' : 'application/json' };
        if (this.token) headers.Authorization = `Bearer ${this.token}`;
        const req = mod.get(new URL(path, this.url), { headers, ca: this.ca }, (res) => {
            if (this.req === req) onResponse(res, () => this.req === req);
            else res.destroy();
        });
        req.on('error', (e) => {
            if (this.req === req) this.fail(`the agent at ${this.url.origin} cannot be reached (${e.code || e.message})`);
        });
        req.setTimeout(5000, () => req.destroy(new Error('no answer in 5 s')));
        this.req = req;
        return req;
    }

    /** GET @path as JSON: (status, body) */
    getJson(path, cb) {
        this.request(path, (res, live) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (c) => {
                body += c;
            });
            res.on('end', () => {
                if (!live()) return;
                this.req = null;
                let json = null;
                try {
                    json = JSON.parse(body);
                } catch {
                    // an error page: the status tells
                }
                cb(res.statusCode, json);
            });
        });
    }

    connect() {
        if (!this.running) return;
        // the status first: the path to follow, and whether it is watched
        this.getJson(`/v1/cgroups/${refPath(this.ref)}/status`, (code, st) => {
            if (!this.running) return;
            if (code === 401 || code === 403) {
                this.fail(`the agent at ${this.url.origin} refused the token (HTTP ${code}; set token or CGSNAP_TOKEN)`, BACKOFF_MAX_MS);
                return;
            }
            if (code === 404) {
                this.fail(`the agent at ${this.url.origin} does not watch cgroup ${this.ref} (run it with --cgroup ${this.ref}, or --all)`, 5000);
                return;
            }
            if (code !== 200 || !st || typeof st.path !== 'string') {
                this.fail(`the agent at ${this.url.origin} answered HTTP ${code} for cgroup ${this.ref}`);
                return;
            }
            this.path = st.path;
            this.applyStatus(st);
            this.follow();
        });
    }

    applyStatus(st) {
        const kinds = (st.overloaded_kinds && st.overloaded_kinds.current) || [];
        this.set(st.idle === false, kinds);
    }

    follow() {
        const glob = encodeURIComponent(exactGlob(this.path));
        this.request(`/v1/events?cgroup=${glob}`, (res, live) => {
            if (res.statusCode === 404 || res.statusCode === 503) {
                res.resume();
                this.req = null;
                this.ok();
                this.poll();
                return;
            }
            if (res.statusCode !== 200) {
                res.resume();
                this.fail(`the agent's event stream answered HTTP ${res.statusCode}`);
                return;
            }
            res.socket.setTimeout(0);
            this.ok();
            const parser = new SseParser(
                (ev) => this.onEvent(ev),
                () => this.alive(),
            );
            this.alive();
            res.setEncoding('utf8');
            res.on('data', (c) => {
                if (!live()) return;
                this.alive();
                parser.push(c);
            });
            res.on('end', () => {
                if (live()) this.fail(`the agent at ${this.url.origin} closed the event stream`);
            });
            res.on('error', () => {
                if (live()) this.fail(`the agent at ${this.url.origin} broke the event stream`);
            });
        });
    }

    /** the stream said something: it is not stale */
    alive() {
        clearTimeout(this.staleTimer);
        this.staleTimer = setTimeout(() => this.fail(`the event stream from ${this.url.origin} went quiet for ${STALE_MS / 1000} s`), STALE_MS);
        this.staleTimer.unref();
    }

    onEvent(ev) {
        if (ev.type === 'lost') {
            // missed changes: read the state again
            const req = this.req;
            this.req = null;
            if (req) req.destroy();
            this.connect();
            return;
        }
        if (ev.type !== 'message') return;
        let e;
        try {
            e = JSON.parse(ev.data);
        } catch {
            return;
        }
        if (e.cgroup !== this.path) return;
        this.set(e.overloaded === true, Array.isArray(e.kinds) ? e.kinds : []);
    }

    /** no stream: the status, every pollIntervalMillis */
    poll() {
        if (!this.running) return;
        this.timer = setTimeout(() => {
            this.getJson(`/v1/cgroups/${refPath(this.path)}/status`, (code, st) => {
                if (!this.running) return;
                if (code !== 200 || !st) {
                    this.fail(`the agent at ${this.url.origin} answered HTTP ${code} for cgroup ${this.path}`);
                    return;
                }
                this.ok();
                this.applyStatus(st);
                this.poll();
            });
        }, this.pollMs);
        this.timer.unref();
    }
}

module.exports = { Follower };
