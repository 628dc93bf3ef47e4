import type { LoadSignal, LoadSnapshot } from '@crawlee/core';

/** The kinds cgsnap judges that a crawler's pool can act on. */
export type CgsnapKind = 'runq' | 'cpu' | 'memory';

export interface CgsnapLoadSignalsOptions {
    /** The agent: default `CGSNAP_URL`, else `http://127.0.0.1:9465`. */
    url?: string;
    /** A cgroup path as the agent lists it (`/kubepods.slice/...`) or a cgroup id;
     * default: this process's own cgroup. */
    cgroup?: string | number;
    /** Bearer token of an agent run with `--auth all`; default `CGSNAP_TOKEN`. */
    token?: string;
    /** CA certificate (PEM) of an agent run with `--tls-cert`. */
    ca?: string | Buffer;
    /** Which signals; default all three. */
    kinds?: CgsnapKind[];
    /** Share of the sample overloaded above which the signal is; default 0.1. */
    overloadedRatio?: number | Partial<Record<CgsnapKind, number>>;
    /** How long each signal keeps its snapshots; default 5000 ms. */
    historyMillis?: number;
    /** Status poll interval where the agent has no event stream; default 500 ms. */
    pollIntervalMillis?: number;
    /** Where warnings go; default `@crawlee/core`'s `log`. */
    log?: { warning(message: string): void; info(message: string): void };
}

export interface CgsnapLoadSignal extends LoadSignal {
    readonly name: `cgsnap_${CgsnapKind}`;
    readonly kind: CgsnapKind;
    getSample(sampleDurationMillis?: number): LoadSnapshot[];
}

/** One Crawlee `LoadSignal` per kind, for `systemStatusOptions.loadSignals`. */
export declare function cgsnapLoadSignals(options?: CgsnapLoadSignalsOptions): CgsnapLoadSignal[];

export declare const KINDS: readonly CgsnapKind[];
