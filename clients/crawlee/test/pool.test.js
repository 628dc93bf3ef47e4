'use strict';

/*
 * A real Crawlee AutoscaledPool in a cgroup of its own, a real `cgsnap run
 * --fast` watching that cgroup, real CPU spinners (cgsnap-workload) started
 * in it. Needs root and BPF (CGSNAP_BIN, CGSNAP_WORKLOAD: the binaries);
 * skipped with the reason otherwise, and never under CI.
 */
const test = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const net = require('net');
const path = require('path');
const { spawn } = require('child_process');
const { AutoscaledPool, evaluateLoadSignalSample, log: crawleeLog } = require('@crawlee/core');
const { cgsnapLoadSignals } = require('..');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const overloaded = (s) => evaluateLoadSignalSample(s.getSample(), s.overloadedRatio).isOverloaded;

function why() {
    if (process.getuid() !== 0) return 'needs root (creates a cgroup, loads BPF programs)';
    for (const v of ['CGSNAP_BIN', 'CGSNAP_WORKLOAD']) {
        if (!process.env[v] || !fs.existsSync(process.env[v])) return `${v} does not name the binary (make test sets it)`;
    }
    return null;
}

function v2Root() {
    for (const l of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
        const [pre, post] = l.split(' - ');
        if (post && post.startsWith('cgroup2 ')) return pre.split(' ')[4];
    }
    throw new Error('no cgroup2 mount');
}

function freePort() {
    return new Promise((resolve, reject) => {
        const s = net.createServer();
        s.on('error', reject);
        s.listen(0, '127.0.0.1', () => {
            const { port } = s.address();
            s.close(() => resolve(port));
        });
    });
}

async function until(pred, ms) {
    const end = Date.now() + ms;
    while (!(await pred())) {
        if (Date.now() > end) return false;
        await sleep(25);
    }
    return true;
}

const skip = why();
if (skip && process.env.CI) throw new Error(`the Crawlee pool test cannot run under CI: ${skip}`);

test('an AutoscaledPool scales down on kernel-measured contention and outlives the agent', { skip: skip || false, timeout: 120000 }, async (t) => {
    const root = v2Root();
    const rel = `cgsnap-test-${process.pid}-crawlee`;
    const dir = path.join(root, rel);
    const home = fs.readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => l.startsWith('0::')).slice(3);
    const port = await freePort();
    const children = [];
    const log = { warning: [], info: [] };
    let agent = null;

    crawleeLog.setLevel(crawleeLog.LEVELS.WARNING);
    fs.mkdirSync(dir);
    t.after(async () => {
        for (const c of children) c.kill('SIGKILL');
        if (agent) agent.kill('SIGKILL');
        fs.writeFileSync(path.join(root, home, 'cgroup.procs'), String(process.pid));
        await until(() => {
            try {
                fs.rmdirSync(dir);
                return true;
            } catch {
                return false;
            }
        }, 5000);
    });
    // the agent first, so that it is not in the crawler's cgroup. A wait of
    // 20 ms for a CPU is what this crawler calls overloaded: more than work
    // in other cgroups (apt, a build) makes it wait on a busy 2-CPU machine,
    // where the cgroups share the CPUs fairly; 12 spinners in its own cgroup
    // are 12 tasks ahead of it
    agent = spawn(process.env.CGSNAP_BIN, ['run', '--fast', '--max-runq-delay', '20ms', '--cgroup', rel, '--listen', `127.0.0.1:${port}`],
        { stdio: ['ignore', 'ignore', 'inherit'] });
    const url = `http://127.0.0.1:${port}`;
    assert.ok(await until(async () => {
        try {
            return (await fetch(`${url}/v1/cgroups/${rel}/status`)).ok;
        } catch {
            return false;
        }
    }, 30000), 'the agent did not come up');
    fs.writeFileSync(path.join(dir, 'cgroup.procs'), String(process.pid));

    const signals = cgsnapLoadSignals({
        url,
        log: { warning: (m) => log.warning.push(m), info: (m) => log.info.push(m) },
    });
    let stopping = false;
    let done = 0;
    const pool = new AutoscaledPool({
        // I/O-like tasks: they wait, as a crawler's requests do
        runTaskFunction: async () => {
            await sleep(100);
            done++;
        },
        isTaskReadyFunction: async () => !stopping,
        isFinishedFunction: async () => stopping,
        minConcurrency: 1,
        maxConcurrency: 40,
        desiredConcurrency: 4,
        autoscaleIntervalSecs: 1,
        maybeRunIntervalSecs: 0.05,
        loggingIntervalSecs: null,
        systemStatusOptions: { loadSignals: signals, currentHistorySecs: 1 },
    });
    const running = pool.run();
    try {
        // the crawler's own start (the pool's first tasks, the JIT) can wait
        // longer than that for a CPU of a busy 2-CPU machine, and the agent
        // rightly says so; quiet begins once that has passed
        assert.ok(await until(() => done >= 40 && signals.every((s) => s.getSample().length > 0 && !overloaded(s)), 10000),
            'the crawler never settled: no sample, or a cgsnap signal overloaded, for 10 s');
        // quiet: the pool scales up, no cgsnap signal is overloaded
        for (let i = 0; i < 6; i++) {
            await sleep(1000);
            for (const s of signals) assert.ok(!overloaded(s), `${s.name} overloaded while quiet`);
        }
        const quiet = pool.desiredConcurrency;
        assert.ok(quiet > 4, `desired concurrency ${quiet} after 6 quiet seconds: it did not scale up`);

        // twelve spinners in the crawler's own cgroup
        const onset = Date.now();
        children.push(spawn(process.env.CGSNAP_WORKLOAD, ['--spinners', '12', '--duration-ms', '60000'],
            { stdio: 'ignore' }));
        assert.ok(await until(() => signals.some(overloaded), 2000),
            'no cgsnap signal overloaded within 2 s of the spinners');
        const detected = Date.now() - onset;
        const top = pool.desiredConcurrency;
        assert.ok(await until(() => pool.desiredConcurrency < top, 5000),
            `desired concurrency stayed at ${top}`);
        t.diagnostic(`overloaded ${detected} ms after the onset (${signals.filter(overloaded).map((s) => s.name)}); `
            + `desired concurrency ${quiet} -> ${top} -> ${pool.desiredConcurrency}`);
        children.pop().kill('SIGKILL');

        // the agent goes away: the crawler goes on, the signals let go
        agent.kill('SIGTERM');
        await new Promise((r) => agent.on('exit', r));
        agent = null;
        const before = done;
        assert.ok(await until(() => signals.every((s) => !overloaded(s)), 10000),
            'a cgsnap signal still overloaded 10 s after the agent went away');
        assert.ok(done > before + 10, `only ${done - before} tasks ran after the agent went away`);
        assert.strictEqual(log.warning.length, 1, log.warning.join('\n'));
        // as the agent went: a refused connection, the stream's end, or a
        // reset (an agent killed while it wrote)
        assert.match(log.warning[0], /cannot be reached|closed the event stream|broke the event stream/);
    } finally {
        stopping = true;
        await running;
    }
});
