'use strict';

const http = require('http');

/**
 * A stand-in cgsnap agent: /v1/cgroups/{ref}/status and /v1/events for
 * one cgroup whose verdict a test sets (set()), with switches for what a
 * real agent may do: require a token, have no stream (404), refuse a
 * subscriber (503), not watch the cgroup.
 */
class FakeAgent {
    constructor({ path = '/crawler', id = 4242, token, stream = 200, watched = true } = {}) {
        Object.assign(this, { path, id, token, stream, watched });
        this.state = { overloaded: false, kinds: [] };
        this.subs = new Set();
        this.requests = [];
        this.nextId = 1;
        this.server = http.createServer((req, res) => this.handle(req, res));
    }

    listen(port = 0) {
        return new Promise((resolve) => {
            this.server.listen(port, '127.0.0.1', () => {
                this.port = this.server.address().port;
                this.url = `http://127.0.0.1:${this.port}`;
                resolve(this);
            });
        });
    }

    close() {
        for (const s of this.subs) s.destroy();
        this.subs.clear();
        this.server.closeAllConnections?.();
        return new Promise((resolve) => this.server.close(() => resolve()));
    }

    status() {
        return {
            path: this.path,
            id: this.id,
            idle: !this.state.overloaded,
            overloaded_kinds: { current: this.state.kinds, historical: this.state.kinds },
        };
    }

    event(initial) {
        const e = { cgroup: this.path, id: this.id, overloaded: this.state.overloaded, kinds: this.state.kinds, t_ns: 1 };
        if (initial) return `data: ${JSON.stringify({ ...e, initial: true })}\n\n`;
        return `id: ${this.nextId++}\ndata: ${JSON.stringify(e)}\n\n`;
    }

    set(overloaded, kinds = []) {
        this.state = { overloaded, kinds: overloaded ? kinds : [] };
        for (const s of this.subs) s.write(this.event(false));
    }

    handle(req, res) {
        const url = new URL(req.url, 'http://x');
        this.requests.push({ path: url.pathname, query: url.search, auth: req.headers.authorization });
        if (this.token && req.headers.authorization !== `Bearer ${this.token}`) {
            res.writeHead(401, { 'Content-Type': 'application/json' });
            res.end('{"error":"a bearer token is required"}');
            return;
        }
        const refs = [`/v1/cgroups${this.path}/status`, `/v1/cgroups/${this.id}/status`];
        if (refs.includes(url.pathname)) {
            if (!this.watched) {
                res.writeHead(404, { 'Content-Type': 'application/json' });
                res.end('{"error":"not watched"}');
                return;
            }
            res.writeHead(200, { 'Content-Type': 'application/json' });
            res.end(JSON.stringify(this.status()));
            return;
        }
        if (url.pathname === '/v1/events') {
            if (this.stream !== 200) {
                res.writeHead(this.stream, { 'Content-Type': 'application/json' });
                res.end('{"error":"no stream"}');
                return;
            }
            this.lastGlob = url.searchParams.get('cgroup');
            res.writeHead(200, { 'Content-Type': 'text/event-stream' });
            res.write(this.event(true));
            this.subs.add(res);
            res.on('close', () => this.subs.delete(res));
            return;
        }
        res.writeHead(404);
        res.end();
    }
}

module.exports = { FakeAgent };
