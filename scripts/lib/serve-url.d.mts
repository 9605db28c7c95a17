import type { ChildProcess } from 'node:child_process';

/** The URL a spawned `dreamdb serve` prints once it listens; rejects when it exits first. */
export declare function serveUrl(child: ChildProcess): Promise<string>;
