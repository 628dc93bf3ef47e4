'use strict';

const test = require('node:test');
const assert = require('node:assert');
const { evaluateLoadSignalSample } = require('@crawlee/core');
const { SseParser } = require('../lib/sse');
const { refPath, exactGlob } = require('../lib/cgroup');
const { cgsnapLoadSignals } = require('..');
const { FakeAgent } = require('./fake_agent');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** a log that keeps what it is told */
function memoryLog() {
    const lines = { warning: [], info: [] };
    return { lines, warning: (m) => lines.warning.push(m), info: (m) => lines.info.push(m) };
}

const byName = (signals) => Object.fromEntries(signals.map((s) => [s.name, s]));
const overloaded = (s) => evaluateLoadSignalSample(s.getSample(), s.overloadedRatio).isOverloaded;

async function until(pred, ms, what) {
    const end = Date.now() + ms;
    while (!pred()) {
        if (Date.now() > end) assert.fail(`not within ${ms} ms: ${what}`);
        await sleep(20);
    }
}

test('SSE: events split anywhere, CRLF, comments, multi-line data, ids', () => {
    const events = [];
    const comments = [];
    const p = new SseParser((e) => events.push(e), (c) => comments.push(c));
    const text = ': heartbeat\r\n\r\nid: 7\r\ndata: {"a":\r\ndata: 1}\r\n\r\nevent: lost\ndata: {"first":1}\n\n';
    for (const ch of text) p.push(ch); // one byte at a time
    assert.deepStrictEqual(comments, ['heartbeat']);
    assert.deepStrictEqual(events, [
        { type: 'message', data: '{"a":\n1}', id: '7' },
        { type: 'lost', data: '{"first":1}', id: undefined },
    ]);
});

test('paths: URL segments escaped, globs that match one path only', () => {
    assert.strictEqual(refPath('/kubepods.slice/a b/c'), 'kubepods.slice/a%20b/c');
    assert.strictEqual(refPath('12345'), '12345');
    assert.strictEqual(exactGlob('/a*b/[c]?\\'), '/a\\*b/\\[c]\\?\\\\');
});

test('options are checked', () => {
    assert.throws(() => cgsnapLoadSignals({ kinds: ['disk'] }), /unknown kind "disk"/);
    assert.throws(() => cgsnapLoadSignals({ overloadedRatio: 1.5 }), /overloadedRatio/);
    const s = cgsnapLoadSignals({ overloadedRatio: { runq: 0.3 } });
    assert.deepStrictEqual(s.map((x) => [x.name, x.overloadedRatio]),
        [['cgsnap_runq', 0.3], ['cgsnap_cpu', 0.1], ['cgsnap_memory', 0.1]]);
});

test('follows the verdict per kind, weighted in time as Crawlee weighs', async () => {
    const agent = await new FakeAgent().listen();
    const log = memoryLog();
    const signals = cgsnapLoadSignals({ url: agent.url, cgroup: '/crawler', log, historyMillis: 2000 });
    const s = byName(signals);
    try {
        await Promise.all(signals.map((x) => x.start()));
        await until(() => agent.lastGlob, 1000, 'subscribed');
        assert.strictEqual(agent.lastGlob, '/crawler');
        await sleep(2200); // the 2 s kept are all quiet
        assert.ok(!overloaded(s.cgsnap_runq) && !overloaded(s.cgsnap_cpu));
        const onset = Date.now();
        agent.set(true, ['runq']);
        // more than 0.1 of the 2 s kept: 200 ms of it overloaded
        await until(() => overloaded(s.cgsnap_runq), 1000, 'cgsnap_runq overloaded');
        const took = Date.now() - onset;
        assert.ok(took >= 150, `overloaded after ${took} ms: the quiet time before must weigh`);
        assert.ok(!overloaded(s.cgsnap_cpu), 'cpu did not make the verdict');
        agent.set(true, ['cpu', 'runq']);
        await until(() => overloaded(s.cgsnap_cpu), 1000, 'cgsnap_cpu overloaded');
        agent.set(false);
        await until(() => !overloaded(s.cgsnap_runq) && !overloaded(s.cgsnap_cpu), 3000, 'idle again');
        assert.ok(!overloaded(s.cgsnap_memory));
        assert.deepStrictEqual(log.lines.warning, []);
    } finally {
        await Promise.all(signals.map((x) => x.stop()));
        await agent.close();
    }
});

test('an unreachable agent: not overloaded, one warning, then followed once it is up', async () => {
    const probe = await new FakeAgent().listen();
    const { port } = probe;
    await probe.close();
    const log = memoryLog();
    const signals = cgsnapLoadSignals({ url: `http://127.0.0.1:${port}`, cgroup: '/crawler', log });
    const t0 = Date.now();
    try {
        await Promise.all(signals.map((x) => x.start()));
        assert.ok(Date.now() - t0 < 2000, 'start() waited for an agent that is not there');
        await sleep(2000); // several tries, backing off
        assert.strictEqual(log.lines.warning.length, 1, log.lines.warning.join('\n'));
        assert.match(log.lines.warning[0], /cannot be reached/);
        assert.ok(signals.every((x) => !overloaded(x)));
        const agent = await new FakeAgent().listen(port);
        agent.set(true, ['runq']);
        try {
            await until(() => overloaded(signals[0]), 10000, 'followed after the agent came up');
            assert.strictEqual(log.lines.info.length, 1);
            assert.match(log.lines.info[0], /again/);
            // the agent goes away mid-run: not overloaded, one more warning
            await agent.close();
            await until(() => !overloaded(signals[0]), 6000, 'not overloaded once the agent is gone');
            assert.strictEqual(log.lines.warning.length, 2, log.lines.warning.join('\n'));
        } finally {
            await agent.close().catch(() => {});
        }
    } finally {
        await Promise.all(signals.map((x) => x.stop()));
    }
});

for (const code of [404, 503]) {
    test(`no event stream (${code}): the status is polled`, async () => {
        const agent = await new FakeAgent({ stream: code }).listen();
        const log = memoryLog();
        const signals = cgsnapLoadSignals({ url: agent.url, cgroup: 4242, log, pollIntervalMillis: 100, historyMillis: 1000 });
        try {
            await Promise.all(signals.map((x) => x.start()));
            agent.set(true, ['memory']);
            await until(() => overloaded(byName(signals).cgsnap_memory), 2000, 'memory overloaded by polling');
            assert.ok(agent.requests.some((r) => r.path === '/v1/events'), 'the stream was not tried');
            assert.ok(agent.requests.some((r) => r.path === '/v1/cgroups/crawler/status'),
                'not polled by the path the id named');
            assert.deepStrictEqual(log.lines.warning, []);
        } finally {
            await Promise.all(signals.map((x) => x.stop()));
            await agent.close();
        }
    });
}

test('a token is sent; a refused one is named', async () => {
    const agent = await new FakeAgent({ token: 's3cret' }).listen();
    const log = memoryLog();
    let signals = cgsnapLoadSignals({ url: agent.url, cgroup: '/crawler', token: 's3cret', log });
    try {
        await Promise.all(signals.map((x) => x.start()));
        agent.set(true, ['runq']);
        await until(() => overloaded(signals[0]), 2000, 'followed with the token');
        assert.ok(agent.requests.every((r) => r.auth === 'Bearer s3cret'));
        await Promise.all(signals.map((x) => x.stop()));
        signals = cgsnapLoadSignals({ url: agent.url, cgroup: '/crawler', token: 'wrong', log });
        await Promise.all(signals.map((x) => x.start()));
        assert.strictEqual(log.lines.warning.length, 1);
        assert.match(log.lines.warning[0], /refused the token \(HTTP 401/);
        assert.ok(signals.every((x) => !overloaded(x)));
    } finally {
        await Promise.all(signals.map((x) => x.stop()));
        await agent.close();
    }
});

test('a cgroup the agent does not watch is named, with the flag that would', async () => {
    const agent = await new FakeAgent({ watched: false }).listen();
    const log = memoryLog();
    const signals = cgsnapLoadSignals({ url: agent.url, cgroup: '/crawler', log });
    try {
        await Promise.all(signals.map((x) => x.start()));
        assert.strictEqual(log.lines.warning.length, 1);
        assert.match(log.lines.warning[0], /does not watch cgroup \/crawler \(run it with --cgroup/);
    } finally {
        await Promise.all(signals.map((x) => x.stop()));
        await agent.close();
    }
});

test('no cgroup of its own to find: a warning, not overloaded, the crawler goes on', async () => {
    const fs = require('fs');
    const read = fs.readFileSync;
    const log = memoryLog();
    const signals = cgsnapLoadSignals({ url: 'http://127.0.0.1:1', log });
    fs.readFileSync = (f, ...rest) => (f === '/proc/self/cgroup' ? '12:cpu:/x\n' : read(f, ...rest));
    try {
        await Promise.all(signals.map((x) => x.start()));
    } finally {
        fs.readFileSync = read;
    }
    try {
        assert.strictEqual(log.lines.warning.length, 1);
        assert.match(log.lines.warning[0], /cannot find this process's cgroup .*no cgroup v2 line/);
        assert.ok(signals.every((x) => !overloaded(x)));
    } finally {
        await Promise.all(signals.map((x) => x.stop()));
    }
});
