'use strict';

const fs = require('fs');

/**
 * This process's cgroup v2: its path from /proc/self/cgroup (the "0::"
 * line, which hybrid hosts have beside the v1 controllers' lines), and its
 * id where the path says nothing (in a cgroup namespace a container sees
 * "0::/"): the inode number of the cgroup v2 directory it sees, which is
 * the kernel's cgroup id.
 */
function ownCgroup({ procFile = '/proc/self/cgroup', mounts = '/proc/self/mountinfo' } = {}) {
    const text = fs.readFileSync(procFile, 'utf8');
    const line = text.split('\n').find((l) => l.startsWith('0::'));
    if (!line) {
        throw new Error(`${procFile} has no cgroup v2 line ("0::"): is cgroup v2 mounted?`);
    }
    const path = line.slice(3) || '/';
    if (path !== '/') return { path };
    const dir = v2Mount(mounts);
    if (!dir) throw new Error('in the root of a cgroup namespace, and no cgroup2 mount to find its id by');
    return { id: String(fs.statSync(dir, { bigint: true }).ino) };
}

/** where cgroup2 is mounted, as this process sees it, or undefined */
function v2Mount(mounts) {
    let text;
    try {
        text = fs.readFileSync(mounts, 'utf8');
    } catch {
        return undefined;
    }
    for (const l of text.split('\n')) {
        const [pre, post] = l.split(' - ');
        if (post && post.startsWith('cgroup2 ')) return pre.split(' ')[4];
    }
    return undefined;
}

/** @ref (a path or an id) as the agent's URL takes it: /v1/cgroups/{ref}/status */
function refPath(ref) {
    if (/^\d+$/.test(ref)) return ref;
    return ref.split('/').filter(Boolean).map(encodeURIComponent).join('/');
}

/** an fnmatch(3) pattern that matches @path alone */
function exactGlob(path) {
    return path.replace(/[\\*?[]/g, (c) => `\\${c}`);
}

module.exports = { ownCgroup, refPath, exactGlob };
